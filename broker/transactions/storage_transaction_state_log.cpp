#include "broker/transactions/storage_transaction_state_log.h"

#include "broker/transactions/transaction_log.h"
#include "protocol/record_batch.h"

#include <algorithm>

namespace samsa::broker {

namespace {

storage::topic_partition tp(int32_t partition) {
    return storage::topic_partition{std::string(transaction_state_topic_name), partition};
}

} // namespace

int32_t storage_transaction_state_log::partitions() const {
    const auto* t = metadata_.topics().find(transaction_state_topic_name);
    return t == nullptr ? 0 : t->partitions;
}

std::string storage_transaction_state_log::create(int32_t count, int32_t segment_bytes) {
    new_topic t;
    t.name = std::string(transaction_state_topic_name);
    t.num_partitions = count;
    t.configs.emplace_back("cleanup.policy", "compact");
    t.configs.emplace_back("segment.bytes", std::to_string(segment_bytes));
    const auto outcomes = metadata_.create_topics(std::span<const new_topic>(&t, 1), false);
    if (outcomes.empty()) return "no outcome";
    const auto e = outcomes.front().error;
    if (e == protocol::error_code::none || e == protocol::error_code::topic_already_exists) return {};
    return outcomes.front().message.value_or("error " + std::to_string(to_int(e)));
}

protocol::error_code storage_transaction_state_log::append(int32_t partition, std::span<uint8_t> batches, int64_t now_ms) {
    auto log = logs_.get(tp(partition));
    if (!log) return protocol::error_code::unknown_topic_or_partition;
    storage::append_options options;
    options.now_ms = now_ms;
    options.origin = storage::append_origin::coordinator;
    const auto result = log->append(batches, options);
    if (result.error != protocol::error_code::none) return result.error;
    // One replica: what is appended is committed, and readers may see it.
    log->set_high_watermark(log->log_end_offset());
    return protocol::error_code::none;
}

transaction_log_chunk storage_transaction_state_log::read(int32_t partition, int64_t offset, int32_t max_bytes) const {
    transaction_log_chunk out;
    auto log = logs_.get(tp(partition));
    if (!log) {
        out.error = protocol::error_code::unknown_topic_or_partition;
        return out;
    }
    const int64_t end = log->log_end_offset();
    const int64_t from = std::max(offset, log->log_start_offset());
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
        out.next_offset = h->last_offset() + 1;
        rest = rest.subspan(h->total_size());
    }
    out.end = out.next_offset >= end;
    return out;
}

} // namespace samsa::broker
