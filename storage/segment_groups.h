// Which sealed segments the log cleaner merges into one (Kafka's groupSegmentsBySize). Pure
// function over a snapshot of segment sizes, run on the log cleaner's thread; it borrows its
// input for the call only.
//
// Consecutive segments join a group while the group stays within every limit of a single
// segment: its .log bytes <= segment.bytes, its offset index and its time index each <=
// segment.index.bytes, and its offsets within 2^31 - 1 of the group's base offset (a segment's
// indexes store offsets relative to its base in 32 bits). An empty segment always fits the
// offset rule. Sizes are those before cleaning, so a merged segment never outgrows the limits.
#pragma once

#include "protocol/kafka_ids.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace samsa::storage {

struct segment_footprint {
    protocol::offset base_offset;
    protocol::offset next_base_offset;   // where the next segment starts: this one ends below it
    uint64_t log_bytes = 0;
    size_t offset_index_entries = 0;
    size_t time_index_entries = 0;
};

struct segment_group_limits {
    uint64_t max_log_bytes = 0;     // segment.bytes
    uint64_t max_index_bytes = 0;   // segment.index.bytes, for each index
};

// Segments [begin, end) of the input.
struct segment_group {
    size_t begin = 0;
    size_t end = 0;
    bool operator==(const segment_group&) const = default;
};

// Every input segment lands in exactly one group, in order; a segment that alone exceeds a
// limit forms a group by itself.
[[nodiscard]] std::vector<segment_group> group_segments_by_size(std::span<const segment_footprint> segments,
                                                                const segment_group_limits& limits);

} // namespace samsa::storage
