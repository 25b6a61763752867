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

TEST_CASE("file_deleter: a removal that runs out of descriptors is tried again") {
    temp_dir d;
    REQUIRE(::mkdir((d / "later").c_str(), 0755) == 0);
    write_file(d / "later/a", {1, 2, 3});
    file_deleter deleter;
    {
        // Listing the directory needs a descriptor: the first attempt fails with EMFILE.
        fd_limit limit(0);
        deleter.schedule({d / "later"}, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK(file_exists(d / "later"));
    }
    deleter.drain();
    CHECK_FALSE(file_exists(d / "later"));
    CHECK(deleter.removed_count() == 1);
}
