#include "broker/groups/group_table.h"

#include "broker/groups/consumer_group.h"
#include "broker/groups/consumer_group_records.h"

namespace samsa::broker {

std::string_view to_string(group_type t) noexcept { return t == group_type::consumer ? "consumer" : "classic"; }

group_slot::group_slot(std::string group_id, protocol::partition_id p, uint64_t now_ms)
    : id(std::move(group_id)), partition(p), classic(std::make_unique<classic_group>(id, now_ms)) {}

group_slot::~group_slot() = default;

bool group_slot::has_no_members() const noexcept {
    if (consumer) return consumer->members().empty();
    return classic->empty() && classic->pending_count() == 0 &&
           (classic->is(classic_group_state::empty) || classic->is(classic_group_state::dead));
}

void group_slot::become(group_type t, uint64_t now_ms) {
    consumer_log.reset();
    if (t == group_type::consumer) {
        classic.reset();
        consumer = std::make_unique<consumer_group>(id, now_ms);
    } else {
        consumer.reset();
        classic = std::make_unique<classic_group>(id, now_ms);
    }
}

group_slot* group_table::find(std::string_view group_id) const noexcept {
    const auto it = groups_.find(group_id);
    return it == groups_.end() ? nullptr : it->second.get();
}

group_slot& group_table::get_or_create(std::string_view group_id, protocol::partition_id partition, uint64_t now_ms) {
    auto it = groups_.find(group_id);
    if (it == groups_.end())
        it = groups_.emplace(std::string(group_id), std::make_unique<group_slot>(std::string(group_id), partition, now_ms)).first;
    return *it->second;
}

bool group_table::erase(std::string_view group_id) {
    const auto it = groups_.find(group_id);
    if (it == groups_.end()) return false;
    groups_.erase(it);
    return true;
}

void group_table::for_each(const std::function<void(group_slot&)>& fn) const {
    for (const auto& [id, slot] : groups_) fn(*slot);
}

std::vector<group_slot*> group_table::in_partition(protocol::partition_id partition) const {
    std::vector<group_slot*> out;
    for (const auto& [id, slot] : groups_)
        if (slot->partition == partition) out.push_back(slot.get());
    return out;
}

} // namespace samsa::broker
