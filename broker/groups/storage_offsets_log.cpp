#include "broker/groups/storage_offsets_log.h"

namespace samsa::broker {

int32_t storage_offsets_log::partitions() const { return topic_.partitions(); }

std::string storage_offsets_log::create(int32_t count, int32_t segment_bytes) { return topic_.create(count, segment_bytes); }

protocol::error_code storage_offsets_log::append(protocol::partition_id partition, std::span<uint8_t> batches, int64_t now_ms) {
    return topic_.append(partition, batches, now_ms);
}

offsets_chunk storage_offsets_log::read(protocol::partition_id partition, protocol::offset offset, int32_t max_bytes) const {
    return topic_.read(partition, offset, max_bytes);
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
