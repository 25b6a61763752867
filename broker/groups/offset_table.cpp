#include "broker/groups/offset_table.h"

namespace samsa::broker {

const committed_offset* offset_table::find(std::string_view topic, protocol::partition_id partition) const {
    const auto it = offsets_.find(key{std::string(topic), partition});
    return it == offsets_.end() ? nullptr : &it->second;
}

void offset_table::put(std::string topic, protocol::partition_id partition, committed_offset value) {
    offsets_.insert_or_assign(key{std::move(topic), partition}, std::move(value));
}

bool offset_table::erase(std::string_view topic, protocol::partition_id partition) {
    return offsets_.erase(key{std::string(topic), partition}) > 0;
}

bool offset_table::has_topic(std::string_view topic) const {
    const auto it = offsets_.lower_bound(key{std::string(topic), protocol::partition_id(INT32_MIN)});
    return it != offsets_.end() && it->first.first == topic;
}

std::set<std::string> offset_table::topics() const {
    std::set<std::string> out;
    for (const auto& [k, v] : offsets_) out.insert(k.first);
    return out;
}

} // namespace samsa::broker
