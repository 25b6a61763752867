#include "broker/groups/metadata_topic_source.h"

namespace samsa::broker {

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
