#include "storage/segment_groups.h"

#include "storage/offset_index.h"
#include "storage/time_index.h"

namespace samsa::storage {

std::vector<segment_group> group_segments_by_size(std::span<const segment_footprint> segments,
                                                  const segment_group_limits& limits) {
    std::vector<segment_group> out;
    size_t i = 0;
    while (i < segments.size()) {
        segment_group g{i, i + 1};
        const protocol::offset base = segments[i].base_offset;
        uint64_t log_bytes = segments[i].log_bytes;
        uint64_t offset_index_bytes = segments[i].offset_index_entries * offset_index::entry_size;
        uint64_t time_index_bytes = segments[i].time_index_entries * time_index::entry_size;
        while (g.end < segments.size()) {
            const segment_footprint& next = segments[g.end];
            const uint64_t more_offsets = next.offset_index_entries * offset_index::entry_size;
            const uint64_t more_times = next.time_index_entries * time_index::entry_size;
            if (log_bytes + next.log_bytes > limits.max_log_bytes) break;
            if (offset_index_bytes + more_offsets > limits.max_index_bytes) break;
            if (time_index_bytes + more_times > limits.max_index_bytes) break;
            // The last offset the group would hold must fit a relative offset from its base.
            if (next.log_bytes != 0 &&
                !protocol::relative_to(base, next.next_base_offset - 1))
                break;
            log_bytes += next.log_bytes;
            offset_index_bytes += more_offsets;
            time_index_bytes += more_times;
            ++g.end;
        }
        out.push_back(g);
        i = g.end;
    }
    return out;
}

} // namespace samsa::storage
