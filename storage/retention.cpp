#include "storage/retention.h"

namespace samsa::storage {

retention_decision plan_retention(std::span<const segment_summary> segments, protocol::offset log_end_offset,
                                  protocol::offset high_watermark, protocol::offset log_start_offset, const log_config& config,
                                  int64_t now_ms) noexcept {
    retention_decision d;
    uint64_t total = 0;
    for (const auto& s : segments) total += s.size;
    for (size_t i = 0; i < segments.size(); ++i) {
        const auto& s = segments[i];
        bool last = i + 1 == segments.size();
        protocol::offset upper = last ? log_end_offset : segments[i + 1].base_offset;
        if (high_watermark < upper || (last && s.size == 0)) break;
        retention_reason why = retention_reason::none;
        if (!last && segments[i + 1].base_offset <= log_start_offset) {
            why = retention_reason::log_start_offset;
        } else if (config.cleanup_delete) {
            if (config.retention_ms >= 0 && now_ms - s.retention_timestamp > config.retention_ms)
                why = retention_reason::time;
            else if (config.retention_bytes >= 0 && total - s.size >= static_cast<uint64_t>(config.retention_bytes))
                why = retention_reason::size;
        }
        if (why == retention_reason::none) break;
        if (d.count == 0) d.first_reason = why;
        total -= s.size;
        ++d.count;
    }
    return d;
}

} // namespace samsa::storage
