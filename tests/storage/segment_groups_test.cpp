// storage/segment_groups: which consecutive segments the log cleaner merges into one.
#include "storage/segment_groups.h"

#include "storage/offset_index.h"
#include "storage/time_index.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using namespace samsa::storage;
using samsa::protocol::offset;

namespace {

// Segments of the given sizes, back to back, `offsets_each` offsets apart.
std::vector<segment_footprint> segments_of(const std::vector<uint64_t>& sizes, int64_t offsets_each = 10) {
    std::vector<segment_footprint> out;
    int64_t base = 0;
    for (uint64_t size : sizes) {
        out.push_back({offset(base), offset(base + offsets_each), size, 1, 1});
        base += offsets_each;
    }
    return out;
}

std::vector<segment_group> groups(const std::vector<segment_footprint>& s, uint64_t max_bytes, uint64_t max_index = 1 << 20) {
    return group_segments_by_size(s, {max_bytes, max_index});
}

} // namespace

TEST_CASE("segment_groups: consecutive segments join while their bytes fit segment.bytes") {
    auto s = segments_of({300, 300, 300, 500, 100, 1000, 50});
    CHECK(groups(s, 1000) == std::vector<segment_group>{{0, 3}, {3, 5}, {5, 6}, {6, 7}});
    // Exactly the limit still fits; one byte less does not.
    CHECK(groups(segments_of({500, 500}), 1000) == std::vector<segment_group>{{0, 2}});
    CHECK(groups(segments_of({500, 500}), 999) == std::vector<segment_group>{{0, 1}, {1, 2}});
}

TEST_CASE("segment_groups: a segment larger than segment.bytes forms a group alone") {
    auto s = segments_of({5000, 10, 10});
    CHECK(groups(s, 1000) == std::vector<segment_group>{{0, 1}, {1, 3}});
}

TEST_CASE("segment_groups: the offset index and the time index each bound a group") {
    std::vector<segment_footprint> s = segments_of({10, 10, 10, 10});
    // 4 offset-index entries each (32 bytes), 1 time-index entry each (12 bytes).
    for (auto& f : s) f.offset_index_entries = 4;
    CHECK(groups(s, 1 << 20, 64) == std::vector<segment_group>{{0, 2}, {2, 4}});
    CHECK(groups(s, 1 << 20, 4 * 4 * offset_index::entry_size) == std::vector<segment_group>{{0, 4}});
    // Now the time index is the larger one: 3 entries of 12 bytes each.
    for (auto& f : s) {
        f.offset_index_entries = 0;
        f.time_index_entries = 3;
    }
    CHECK(groups(s, 1 << 20, 2 * 3 * time_index::entry_size) == std::vector<segment_group>{{0, 2}, {2, 4}});
    CHECK(groups(s, 1 << 20, 2 * 3 * time_index::entry_size - 1) ==
          std::vector<segment_group>{{0, 1}, {1, 2}, {2, 3}, {3, 4}});
}

TEST_CASE("segment_groups: a group's offsets stay within 32 bits of its base offset") {
    constexpr int64_t max_rel = std::numeric_limits<int32_t>::max();
    std::vector<segment_footprint> s = {
        {offset(0), offset(100), 10, 1, 1},
        {offset(100), offset(max_rel + 1), 10, 1, 1},      // its last offset is max_rel: fits relative to 0
        {offset(max_rel + 1), offset(max_rel + 50), 10, 1, 1},  // would need max_rel + 49: a new group
        {offset(max_rel + 50), offset(max_rel + 60), 10, 1, 1},
    };
    CHECK(groups(s, 1 << 20) == std::vector<segment_group>{{0, 2}, {2, 4}});
    // An empty segment never breaks the offset rule (it adds no offsets).
    s[2].log_bytes = 0;
    CHECK(groups(s, 1 << 20) == std::vector<segment_group>{{0, 3}, {3, 4}});
}

TEST_CASE("segment_groups: random inputs are covered in order and every multi-segment group fits the limits") {
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
        std::vector<segment_footprint> s;
        int64_t base = 0;
        size_t n = rng() % 20;
        for (size_t i = 0; i < n; ++i) {
            int64_t span = 1 + static_cast<int64_t>(rng() % 1000);
            if (rng() % 10 == 0) span = static_cast<int64_t>(rng() % 3) * (int64_t{1} << 30) + 1;
            s.push_back({offset(base), offset(base + span), rng() % 700, rng() % 20, rng() % 20});
            base += span;
        }
        const uint64_t max_bytes = 500 + rng() % 1000, max_index = 40 + rng() % 200;
        auto g = groups(s, max_bytes, max_index);
        size_t next = 0;
        for (const auto& grp : g) {
            REQUIRE(grp.begin == next);
            REQUIRE(grp.end > grp.begin);
            next = grp.end;
            if (grp.end - grp.begin == 1) continue;
            uint64_t bytes = 0, offsets = 0, times = 0;
            for (size_t i = grp.begin; i < grp.end; ++i) {
                bytes += s[i].log_bytes;
                offsets += s[i].offset_index_entries * offset_index::entry_size;
                times += s[i].time_index_entries * time_index::entry_size;
                if (s[i].log_bytes) CHECK(s[i].next_base_offset - 1 - s[grp.begin].base_offset <= std::numeric_limits<int32_t>::max());
            }
            CHECK(bytes <= max_bytes);
            CHECK(offsets <= max_index);
            CHECK(times <= max_index);
            // Maximal: the next segment would not have fitted.
            if (grp.end < s.size()) {
                const auto& nx = s[grp.end];
                bool fits = bytes + nx.log_bytes <= max_bytes &&
                            offsets + nx.offset_index_entries * offset_index::entry_size <= max_index &&
                            times + nx.time_index_entries * time_index::entry_size <= max_index &&
                            (nx.log_bytes == 0 || nx.next_base_offset - 1 - s[grp.begin].base_offset <= std::numeric_limits<int32_t>::max());
                CHECK_FALSE(fits);
            }
        }
        CHECK(next == s.size());
    }
}
