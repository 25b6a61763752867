// storage/time_index: entries only when the timestamp grows, lookups, truncation, validation.
#include "storage/time_index.h"

#include "storage/index_file.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

using namespace samsa::storage;
using namespace samsa::storage::test;

namespace {
constexpr samsa::protocol::offset off(int64_t v) { return samsa::protocol::offset(v); }

time_index open_index(const std::string& path, int64_t base, size_t max_bytes = 1200) {
    int err = 0;
    auto f = index_file::open(path, time_index::entry_size, true, max_bytes, &err);
    REQUIRE(f);
    return time_index(std::move(f), off(base));
}

template <typename T>
concept truncate_accepts = requires(time_index& idx, T o) { idx.truncate_to(o); };
} // namespace

// Truncation points and entry offsets are absolute; the relative form stays in the file.
static_assert(truncate_accepts<samsa::protocol::offset>);
static_assert(!truncate_accepts<int64_t> && !truncate_accepts<samsa::protocol::relative_offset>);

TEST_CASE("time_index: only growing, positive timestamps are recorded") {
    temp_dir dir;
    auto idx = open_index(dir / "a.timeindex", 50);
    CHECK_FALSE(idx.maybe_append(-1, off(50)));
    CHECK_FALSE(idx.maybe_append(0, off(50)));
    CHECK(idx.maybe_append(1000, off(55)));
    CHECK_FALSE(idx.maybe_append(1000, off(60)));
    CHECK_FALSE(idx.maybe_append(900, off(60)));
    CHECK(idx.maybe_append(2000, off(60)));
    CHECK(idx.entries() == 2);
    CHECK(idx.validate());
}

TEST_CASE("time_index: lookups return the last entry at or below a timestamp") {
    temp_dir dir;
    auto idx = open_index(dir / "a.timeindex", 0);
    for (int i = 1; i <= 20; ++i) REQUIRE(idx.maybe_append(i * 100, off(i * 10)));
    CHECK(idx.lookup(50).timestamp == -1);
    CHECK(idx.lookup(50).offset == off(0));
    CHECK(idx.lookup(100).offset == off(10));
    CHECK(idx.lookup(199).offset == off(10));
    CHECK(idx.lookup(5000).offset == off(200));
    idx.truncate_to(off(100));
    CHECK(idx.last_entry()->offset == off(90));
}

TEST_CASE("time_index: the last slot is kept for the final entry of a roll") {
    temp_dir dir;
    auto idx = open_index(dir / "a.timeindex", 0, 36);  // three slots
    CHECK(idx.maybe_append(10, off(1)));
    CHECK(idx.maybe_append(20, off(2)));
    CHECK(idx.full());
    CHECK_FALSE(idx.maybe_append(30, off(3)));
    CHECK(idx.maybe_append(30, off(3), true));
}

TEST_CASE("time_index: garbage and zero tails do not validate") {
    temp_dir dir;
    std::string path = dir / "a.timeindex";
    {
        auto idx = open_index(path, 0);
        REQUIRE(idx.maybe_append(10, off(1)));
        REQUIRE(idx.maybe_append(20, off(2)));
    }
    int err = 0;
    time_index zeros(index_file::open(path, time_index::entry_size, false, 0, &err), off(0));
    CHECK_FALSE(zeros.validate());
    auto bytes = read_file(path);
    bytes.resize(24);
    bytes[9] = 0x80;  // a negative relative offset
    write_file(path, bytes);
    time_index bad(index_file::open(path, time_index::entry_size, false, 0, &err), off(0));
    CHECK_FALSE(bad.validate());
}
