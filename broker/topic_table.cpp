#include "broker/topic_table.h"

namespace samsa::broker {

const topic_info* topic_table::find(std::string_view name) const noexcept {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &it->second;
}

const topic_info* topic_table::find(const protocol::uuid& id) const noexcept {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : find(it->second);
}

bool topic_table::insert(topic_info t) {
    if (by_name_.contains(t.name) || by_id_.contains(t.id)) return false;
    by_id_.emplace(t.id, t.name);
    auto name = t.name;
    by_name_.emplace(std::move(name), std::move(t));
    return true;
}

bool topic_table::erase(std::string_view name) {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) return false;
    by_id_.erase(it->second.id);
    by_name_.erase(it);
    return true;
}

std::vector<const topic_info*> topic_table::all() const {
    std::vector<const topic_info*> out;
    out.reserve(by_name_.size());
    for (const auto& [name, t] : by_name_) out.push_back(&t);
    return out;
}

} // namespace samsa::broker
