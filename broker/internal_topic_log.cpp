#include "broker/internal_topic_log.h"

#include "broker/produce/produce_completion.h"
#include "storage/completion_queue.h"
#include "protocol/record_batch.h"

#include <algorithm>

namespace samsa::broker {

int32_t internal_topic_log::partitions() const {
    const auto* t = metadata_.topics().find(topic_);
    return t == nullptr ? 0 : t->partitions;
}

std::string internal_topic_log::create(int32_t count, int32_t segment_bytes) {
    new_topic t;
    t.name = topic_;
    t.num_partitions = count;
    t.configs.emplace_back("cleanup.policy", "compact");
    t.configs.emplace_back("segment.bytes", std::to_string(segment_bytes));
    const auto outcomes = metadata_.create_topics(std::span<const new_topic>(&t, 1), false);
    if (outcomes.empty()) return "no outcome";
    if (outcomes.front().error == protocol::error_code::none || outcomes.front().error == protocol::error_code::topic_already_exists)
        return {};
    return outcomes.front().message.value_or("error " + std::to_string(to_int(outcomes.front().error)));
}

protocol::error_code internal_topic_log::append(protocol::partition_id partition, std::span<uint8_t> batches, int64_t now_ms) {
    auto log = logs_.get(tp(partition));
    if (!log) return protocol::error_code::unknown_topic_or_partition;
    storage::append_options options;
    options.now_ms = now_ms;
    options.origin = storage::append_origin::coordinator;
    const auto result = log->append(batches, options);
    if (result.error != protocol::error_code::none) return result.error;
    // One replica: what is appended is committed, and readers (Fetch) may see it.
    log->set_high_watermark(log->log_end_offset());
    return protocol::error_code::none;
}

bool internal_topic_log::waits_for_fsync(protocol::partition_id partition) const {
    const auto log = logs_.get(tp(partition));
    return log != nullptr && acks_all_waits_for_fsync(log->config());
}

void internal_topic_log::when_durable(protocol::partition_id partition, std::function<void(protocol::error_code)> done) {
    if (auto log = logs_.get(tp(partition))) {
        log->flush(std::move(done));
        return;
    }
    // The partition is gone: what was appended to it cannot be made durable.
    logs_.completions().post([done = std::move(done)] { done(protocol::error_code::kafka_storage_error); });
}

bool internal_topic_log::has_pending_writes(protocol::partition_id partition) const {
    auto log = logs_.get(tp(partition));
    return log != nullptr && acks_all_waits_for_fsync(log->config()) && log->recovery_point() < log->log_end_offset();
}

internal_log_chunk internal_topic_log::read(protocol::partition_id partition, protocol::offset offset, int32_t max_bytes) const {
    internal_log_chunk out;
    auto log = logs_.get(tp(partition));
    if (!log) {
        out.error = protocol::error_code::unknown_topic_or_partition;
        return out;
    }
    const protocol::offset end = log->log_end_offset();
    const protocol::offset from = std::max(offset, log->log_start_offset());
    if (from >= end) {
        out.next_offset = end;
        out.end = true;
        return out;
    }
    auto copy = log->read_copy(from, max_bytes, end);
    if (copy.error != protocol::error_code::none) {
        out.error = copy.error;
        return out;
    }
    out.batches = std::move(copy.bytes);
    out.next_offset = from;
    protocol::bytes_view rest(out.batches);
    while (rest.size() >= protocol::batch::log_overhead) {
        const auto h = protocol::batch::header_view::parse(rest);
        if (!h) break;
        out.next_offset = protocol::offset(h->last_offset()) + 1;
        rest = rest.subspan(h->total_size());
    }
    out.end = out.next_offset >= end;
    return out;
}

} // namespace samsa::broker
