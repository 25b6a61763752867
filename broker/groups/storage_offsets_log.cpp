#include "broker/groups/storage_offsets_log.h"

#include "protocol/record_batch.h"

namespace samsa::broker {

int32_t storage_offsets_log::partitions() const {
    const auto* t = metadata_.topics().find(offsets_topic_name);
    return t == nullptr ? 0 : t->partitions;
}

std::string storage_offsets_log::create(int32_t count, int32_t segment_bytes) {
    new_topic t;
    t.name = std::string(offsets_topic_name);
    t.num_partitions = count;
    t.configs.emplace_back("cleanup.policy", "compact");
    t.configs.emplace_back("segment.bytes", std::to_string(segment_bytes));
    const auto outcomes = metadata_.create_topics(std::span<const new_topic>(&t, 1), false);
    if (outcomes.empty()) return "no outcome";
    if (outcomes.front().error == protocol::error_code::none || outcomes.front().error == protocol::error_code::topic_already_exists)
        return {};
    return outcomes.front().message.value_or("error " + std::to_string(to_int(outcomes.front().error)));
}

protocol::error_code storage_offsets_log::append(int32_t partition, std::span<uint8_t> batches, int64_t now_ms) {
    auto log = logs_.get(storage::topic_partition{std::string(offsets_topic_name), partition});
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

offsets_chunk storage_offsets_log::read(int32_t partition, int64_t offset, int32_t max_bytes) const {
    offsets_chunk out;
    auto log = logs_.get(storage::topic_partition{std::string(offsets_topic_name), partition});
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

namespace {

topic_meta meta_of(const topic_info& t) { return topic_meta{t.name, t.id, t.partitions}; }

} // namespace

std::optional<topic_meta> metadata_topic_source::by_name(std::string_view name) const {
    const auto* t = metadata_.topics().find(name);
    if (t == nullptr) return std::nullopt;
    return meta_of(*t);
}

std::optional<topic_meta> metadata_topic_source::by_id(const protocol::uuid& id) const {
    const auto* t = metadata_.topics().find(id);
    if (t == nullptr) return std::nullopt;
    return meta_of(*t);
}

std::vector<topic_meta> metadata_topic_source::all() const {
    std::vector<topic_meta> out;
    for (const auto* t : metadata_.topics().all()) out.push_back(meta_of(*t));
    return out;
}

} // namespace samsa::broker
