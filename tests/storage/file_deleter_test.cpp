// storage/file_deleter: removals on the background thread, and a removal that ran out of file
// descriptors tried again once there are some.
#include "storage/file_deleter.h"

#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <chrono>
#include <thread>

using namespace samsa::storage;
using namespace samsa::storage::test;

TEST_CASE("file_deleter: a directory tree is removed in the background") {
    temp_dir d;
    REQUIRE(::mkdir((d / "gone").c_str(), 0755) == 0);
    write_file(d / "gone/a", {1, 2, 3});
    file_deleter deleter;
    deleter.schedule({d / "gone"}, 0);
    deleter.drain();
    CHECK_FALSE(file_exists(d / "gone"));
    CHECK(deleter.removed_count() == 1);
}

namespace {

// Waits (up to 10 s) until the deleter has queued a removal again.
bool saw_retry(const file_deleter& deleter) {
    for (int i = 0; i < 1000 && deleter.retried_count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return deleter.retried_count() > 0;
}

} // namespace

TEST_CASE("file_deleter: a removal that runs out of descriptors is tried again") {
    temp_dir d;
    REQUIRE(::mkdir((d / "later").c_str(), 0755) == 0);
    write_file(d / "later/a", {1, 2, 3});
    file_deleter deleter;
    {
        // Listing the directory needs a descriptor: the first attempt fails with EMFILE.
        fd_limit limit(0);
        deleter.schedule({d / "later"}, 0);
        REQUIRE(saw_retry(deleter));
        CHECK(file_exists(d / "later"));
    }
    deleter.drain();
    CHECK_FALSE(file_exists(d / "later"));
    CHECK(deleter.removed_count() == 1);
}

TEST_CASE("file_deleter: drain makes one more attempt and returns while descriptors are still short") {
    temp_dir d;
    REQUIRE(::mkdir((d / "stuck").c_str(), 0755) == 0);
    write_file(d / "stuck/a", {1, 2, 3});
    file_deleter deleter;
    fd_limit limit(0);
    deleter.schedule({d / "stuck"}, 0);
    REQUIRE(saw_retry(deleter));
    deleter.drain();  // retried for ever before: shutdown hung here
    CHECK(file_exists(d / "stuck"));
    CHECK(deleter.removed_count() == 0);
}
