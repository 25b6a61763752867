// Which old segments a retention pass deletes. A pure function over a summary of the log, so the
// rules are tested without files; log::delete_old_segments applies the answer on the loop thread.
// Kafka's rules:
//
//   - only a prefix of the segments goes, whole segments only;
//   - a segment goes only when every offset in it is below the high watermark (the log start
//     offset must never pass it) and it is not an empty last segment;
//   - it goes when the next segment starts at or below the log start offset (DeleteRecords), or,
//     under cleanup.policy=delete, when its largest timestamp is more than retention.ms old, or
//     while the log without it is still at least retention.bytes.
//
// When every segment goes, the caller first rolls, so a log always keeps one (empty) segment.
#pragma once

#include "protocol/kafka_ids.h"
#include "storage/log_config.h"

#include <cstdint>
#include <span>

namespace samsa::storage {

struct segment_summary {
    protocol::offset base_offset;
    uint64_t size = 0;
    int64_t retention_timestamp = -1;   // segment::retention_timestamp()
};

enum class retention_reason : uint8_t { none, log_start_offset, time, size };

struct retention_decision {
    size_t count = 0;                    // how many leading segments to delete
    retention_reason first_reason = retention_reason::none;
};

[[nodiscard]] retention_decision plan_retention(std::span<const segment_summary> segments,
                                                protocol::offset log_end_offset, protocol::offset high_watermark,
                                                protocol::offset log_start_offset,
                                                const log_config& config, int64_t now_ms) noexcept;

} // namespace samsa::storage
