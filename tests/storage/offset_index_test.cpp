// storage/offset_index and storage/index_file: entries, binary search, truncation, sealing.
#include "storage/offset_index.h"

#include "storage/index_file.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <type_traits>

using namespace samsa::storage;
using namespace samsa::storage::test;

namespace {
using samsa::protocol::relative_offset;

constexpr samsa::protocol::offset off(int64_t v) { return samsa::protocol::offset(v); }

offset_index open_index(const std::string& path, int64_t base, bool writable = true, size_t max_bytes = 800) {
    int err = 0;
    auto f = index_file::open(path, offset_index::entry_size, writable, max_bytes, &err);
    REQUIRE(f);
    return offset_index(std::move(f), off(base));
}

template <typename T>
concept lookup_accepts = requires(const offset_index& idx, T target) { idx.lookup(target); };
template <typename T>
concept append_accepts = requires(offset_index& idx, T o) { idx.append(o, uint32_t{0}); };
} // namespace

// The index takes and returns absolute offsets only: a raw integer or a relative offset (what
// the entries hold on disk) does not compile where an absolute one is meant.
static_assert(lookup_accepts<samsa::protocol::offset>);
static_assert(!lookup_accepts<int64_t> && !lookup_accepts<relative_offset>);
static_assert(!append_accepts<int64_t> && !append_accepts<relative_offset>);
static_assert(std::is_same_v<decltype(offset_position{}.offset), samsa::protocol::offset>);

TEST_CASE("offset_index: lookups find the last entry at or below the target") {
    temp_dir dir;
    auto idx = open_index(dir / "a.index", 1000);
    CHECK(idx.lookup(off(5000)).offset == off(1000));
    CHECK(idx.lookup(off(5000)).position == 0);
    for (int i = 1; i <= 50; ++i) REQUIRE(idx.append(off(1000 + 10 * i), static_cast<uint32_t>(100 * i)));
    CHECK(idx.lookup(off(999)).position == 0);
    CHECK(idx.lookup(off(1009)).position == 0);
    CHECK(idx.lookup(off(1010)).position == 100);
    CHECK(idx.lookup(off(1015)).position == 100);
    CHECK(idx.lookup(off(1500)).position == 5000);
    CHECK(idx.lookup(off(99999)).position == 5000);
    CHECK(idx.lookup_position(99).position == 0);
    CHECK(idx.lookup_position(250).offset == off(1020));
    CHECK(idx.validate(6000));
    CHECK_FALSE(idx.validate(5000));  // an entry at or past the end of the log
}

TEST_CASE("offset_index: entries must increase and the index refuses when full") {
    temp_dir dir;
    auto idx = open_index(dir / "a.index", 0, true, 24);
    CHECK(idx.append(off(5), 10));
    CHECK_FALSE(idx.append(off(5), 20));   // same offset
    CHECK_FALSE(idx.append(off(6), 10));   // same position
    CHECK(idx.append(off(6), 11));
    CHECK(idx.append(off(7), 12));
    CHECK(idx.free_slots() == 0);
    CHECK_FALSE(idx.append(off(8), 13));
    CHECK_FALSE(idx.append(off(int64_t{1} << 40), 14));  // relative offset beyond 32 bits
}

TEST_CASE("offset_index: an offset below the base is refused, not stored as a wrapped relative offset") {
    temp_dir dir;
    auto idx = open_index(dir / "a.index", 100);
    CHECK_FALSE(idx.append(off(99), 10));
    CHECK(idx.entries() == 0);
    CHECK(idx.append(off(int64_t{100} + std::numeric_limits<int32_t>::max()), 10));
    CHECK(idx.last_entry()->offset == off(int64_t{100} + std::numeric_limits<int32_t>::max()));
}

TEST_CASE("offset_index: truncation drops entries at or past a position") {
    temp_dir dir;
    auto idx = open_index(dir / "a.index", 0);
    for (int i = 1; i <= 10; ++i) REQUIRE(idx.append(off(i * 2), static_cast<uint32_t>(i * 100)));
    idx.truncate_to_position(500);
    CHECK(idx.entries() == 4);
    CHECK(idx.last_entry()->position == 400);
    CHECK(idx.append(off(9), 450));
}

TEST_CASE("offset_index: sealing trims the file to its entries and reopening finds them") {
    temp_dir dir;
    std::string path = dir / "a.index";
    {
        auto idx = open_index(path, 100);
        CHECK(file_size(path) == 800);  // preallocated
        for (int i = 1; i <= 3; ++i) REQUIRE(idx.append(off(100 + i), static_cast<uint32_t>(i * 64)));
        REQUIRE(idx.file().seal() == 0);
        CHECK(file_size(path) == 24);
        CHECK(idx.lookup(off(102)).position == 128);
        CHECK_FALSE(idx.append(off(200), 1000));  // sealed
    }
    // Big-endian on disk: entry 0 is relative offset 1, position 64.
    auto bytes = read_file(path);
    CHECK(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 8) == std::vector<uint8_t>{0, 0, 0, 1, 0, 0, 0, 64});
    auto again = open_index(path, 100, false);
    CHECK(again.entries() == 3);
    CHECK(again.lookup(off(103)).position == 192);
    REQUIRE(again.file().unseal(800) == 0);
    CHECK(again.append(off(104), 256));
}

TEST_CASE("offset_index: a zero-filled tail or a cut entry fails or is ignored") {
    temp_dir dir;
    std::string path = dir / "a.index";
    {
        auto idx = open_index(path, 0);
        for (int i = 1; i <= 3; ++i) REQUIRE(idx.append(off(i), static_cast<uint32_t>(i * 64)));
    }
    // The preallocated file still holds its zero tail: the zeros do not validate.
    auto untrimmed = open_index(path, 0, false);
    CHECK_FALSE(untrimmed.validate(1000));
    cut_file(path, 3 * 8 + 5);
    auto cut = open_index(path, 0, false);
    CHECK(cut.entries() == 3);
    CHECK(cut.validate(1000));
}
