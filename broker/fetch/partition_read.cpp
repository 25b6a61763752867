#include "broker/fetch/partition_read.h"

#include "broker/partition_manager.h"
#include "protocol/kafka_ids.h"
#include "protocol/legacy_message_set.h"

#include <algorithm>

namespace samsa::broker {

using protocol::error_code;

size_t partition_read_result::records_bytes() const noexcept {
    size_t n = converted.size();
    for (const auto& r : ranges) n += static_cast<size_t>(r.length);
    return n;
}

fetch_partition_summary partition_read_result::summary() const noexcept {
    return fetch_partition_summary{records_bytes(), high_watermark, log_start_offset, error};
}

partition_handle find_fetch_partition(partition_manager& partitions, const fetch_partition_key& key,
                                      bool by_topic_id) {
    return by_topic_id ? partitions.find(key.topic_id, key.partition) : partitions.find(key.topic, key.partition);
}

partition_read_result read_partition(partition_manager& partitions, const fetch_partition_request& p,
                                     const partition_read_options& options) {
    partition_read_result out;
    const partition_handle h = find_fetch_partition(partitions, p.key, options.by_topic_id);
    if (!h.ok()) {
        out.error = h.error;
        return out;
    }
    if (options.version >= 9) {
        if (auto e = partition_manager::check_leader_epoch(*h.topic, p.params.current_leader_epoch); e != error_code::none) {
            out.error = e;
            return out;
        }
    }
    const storage::log& log = *h.log;
    out.high_watermark = log.high_watermark();
    out.last_stable_offset = log.last_stable_offset();
    out.log_start_offset = log.log_start_offset();

    // KIP-320: a consumer whose last fetched epoch ends before its fetch offset has data this log
    // never had (or no longer has); it must truncate to the epoch's end first.
    const protocol::leader_epoch last_fetched = p.params.last_fetched_epoch;
    if (options.version >= 12 && last_fetched >= protocol::leader_epoch(0) &&
        log.latest_epoch() >= protocol::leader_epoch(0)) {
        const storage::epoch_end_offset e = log.end_offset_for_epoch(last_fetched);
        if (e.epoch < last_fetched || e.end_offset < p.params.fetch_offset) {
            out.diverging_epoch = e;
            return out;
        }
    }

    const int32_t limit = std::max(0, std::min(options.max_bytes, p.params.max_bytes));
    // read_committed (v4+) stops at the first open transaction.
    const bool read_committed = options.isolation_level == 1 && options.version >= 4;
    const protocol::offset upper = read_committed ? out.last_stable_offset : out.high_watermark;
    const int8_t magic = fetch_magic(options.version);
    if (magic >= 2) {
        storage::read_result r = log.read(p.params.fetch_offset, limit, upper, options.min_one_batch);
        out.error = r.error;
        out.ranges = std::move(r.ranges);
        // Up to the LSO rather than the end of what was read: a few more entries than Kafka
        // sends, which consumers ignore (they apply an entry only on reaching its first offset).
        if (read_committed && !out.ranges.empty()) out.aborted = log.aborted_transactions(p.params.fetch_offset, upper);
        return out;
    }
    storage::copy_read_result r = log.read_copy(p.params.fetch_offset, limit, upper, options.min_one_batch);
    out.error = r.error;
    if (r.error != error_code::none || r.bytes.empty()) return out;
    protocol::conversion_result c = protocol::v2_to_legacy(r.bytes, magic);
    if (c.codec == protocol::codec_status::unsupported_codec) {
        out.error = error_code::unsupported_compression_type;
        return out;
    }
    if (!c.ok()) {
        out.error = error_code::corrupt_message;
        return out;
    }
    out.converted = std::move(c.bytes);
    return out;
}

} // namespace samsa::broker
