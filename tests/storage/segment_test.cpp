// storage/segment: the windowed walk over batch headers (walk_batch_headers) that
// segment::walk_headers, the producer-state replay and the loader's look at a swapped-in file share.
#include "storage/segment.h"

#include "protocol/record_batch.h"
#include "storage/batch_validator.h"
#include "storage/file_handle.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <fcntl.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace samsa::storage;
using namespace samsa::storage::test;
namespace batch = samsa::protocol::batch;

// The batch-header mirrors hold offsets and epochs as their own types: a raw integer read from
// the bytes has to be converted where it is read.
static_assert(!std::is_convertible_v<int64_t, decltype(batch_location::base_offset)>);
static_assert(!std::is_convertible_v<int64_t, decltype(batch_location::last_offset)>);
static_assert(!std::is_convertible_v<int32_t, decltype(batch_location::leader_epoch)>);
static_assert(!std::is_convertible_v<int64_t, decltype(batch_info::base_offset)>);
static_assert(!std::is_convertible_v<int64_t, decltype(batch_info::last_offset)>);
static_assert(!std::is_convertible_v<int32_t, decltype(batch_info::leader_epoch)>);
// So do the segment's own offsets.
static_assert(std::is_same_v<decltype(std::declval<const segment&>().base_offset()), samsa::protocol::offset>);
static_assert(std::is_same_v<decltype(std::declval<const segment&>().offset_of_max_timestamp()), samsa::protocol::offset>);

namespace {

struct written_file {
    std::string path;
    std::vector<batch_location> batches;  // as written, in order
    std::vector<uint8_t> bytes;
};

// Batches of 1 to 12 records with values of a few hundred bytes, offsets following on from 100.
written_file write_batches(const temp_dir& dir, int count) {
    written_file out;
    out.path = dir / "walk.log";
    int64_t next = 100;
    for (int i = 0; i < count; ++i) {
        std::vector<test_record> recs;
        const int n = 1 + (i * 5) % 12;
        for (int r = 0; r < n; ++r)
            recs.push_back({std::nullopt, std::string(static_cast<size_t>(40 + (i * 37 + r * 11) % 300), 'v'), 1000 + i});
        batch_options o;
        o.base_offset = next;
        auto b = make_batch(recs, o);
        batch_location loc;
        loc.position = static_cast<uint32_t>(out.bytes.size());
        loc.size = static_cast<uint32_t>(b.size());
        loc.base_offset = samsa::protocol::offset(next);
        loc.last_offset = samsa::protocol::offset(next + n - 1);
        out.batches.push_back(loc);
        out.bytes.insert(out.bytes.end(), b.begin(), b.end());
        next += n;
    }
    write_file(out.path, out.bytes);
    return out;
}

std::vector<batch_location> walk_all(const std::string& path, size_t window) {
    int err = 0;
    auto file = samsa::storage::file_handle::open(path, O_RDONLY, 0, &err);
    REQUIRE(file);
    const auto bytes = read_file(path);
    std::vector<batch_location> seen;
    walk_batch_headers(*file, static_cast<uint32_t>(file->size()), 0, window,
                       [&](const batch_location& b, std::span<const uint8_t> header) {
                           REQUIRE(header.size() == batch::header_size);
                           CHECK(std::equal(header.begin(), header.end(), bytes.begin() + b.position));
                           seen.push_back(b);
                           return true;
                       });
    return seen;
}

bool same(const std::vector<batch_location>& a, const std::vector<batch_location>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].position != b[i].position || a[i].size != b[i].size || a[i].base_offset != b[i].base_offset ||
            a[i].last_offset != b[i].last_offset)
            return false;
    return true;
}

} // namespace

TEST_CASE("segment: a header walk visits every batch once, in order, whatever the read window") {
    temp_dir dir;
    const auto w = write_batches(dir, 60);
    REQUIRE(w.bytes.size() > 20000);
    // One header per read, windows that end inside headers and batches, and one read for all.
    for (size_t window : {size_t{0}, size_t{100}, size_t{1000}, size_t{4096}, size_t{1} << 20}) {
        CAPTURE(window);
        CHECK(same(walk_all(w.path, window), w.batches));
    }
}

TEST_CASE("segment: a header walk stops at a zero-filled tail and before a torn last batch") {
    temp_dir dir;
    const auto w = write_batches(dir, 20);
    SUBCASE("zeros after the last batch") {
        append_zeros(w.path, 5000);
        CHECK(same(walk_all(w.path, 1000), w.batches));
    }
    SUBCASE("the last batch cut short") {
        cut_file(w.path, w.bytes.size() - 10);
        const std::vector<batch_location> whole(w.batches.begin(), w.batches.end() - 1);
        CHECK(same(walk_all(w.path, 1000), whole));
    }
    SUBCASE("the visitor stops the walk") {
        int visited = 0;
        int err = 0;
        auto file = samsa::storage::file_handle::open(w.path, O_RDONLY, 0, &err);
        REQUIRE(file);
        walk_batch_headers(*file, static_cast<uint32_t>(w.bytes.size()), w.batches[3].position, 512,
                           [&](const batch_location& b, std::span<const uint8_t>) {
                               CHECK(b.base_offset == w.batches[3 + static_cast<size_t>(visited)].base_offset);
                               return ++visited < 2;
                           });
        CHECK(visited == 2);
    }
}
