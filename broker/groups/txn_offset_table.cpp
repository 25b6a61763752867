#include "broker/groups/txn_offset_table.h"

namespace samsa::broker {

void txn_offset_table::add(protocol::producer_id producer, std::string group, std::string topic, protocol::partition_id partition,
                           committed_offset value) {
    by_producer_[producer].insert_or_assign(key{std::move(group), std::move(topic), partition}, std::move(value));
}

std::vector<txn_offset_table::entry> txn_offset_table::take(protocol::producer_id producer) {
    std::vector<entry> out;
    const auto it = by_producer_.find(producer);
    if (it == by_producer_.end()) return out;
    for (auto& [k, v] : it->second) out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::move(v)});
    by_producer_.erase(it);
    return out;
}

bool txn_offset_table::pending(std::string_view group, std::string_view topic, protocol::partition_id partition) const {
    // Few producers have a transaction open at once: a scan is cheaper than a second index.
    const key k{std::string(group), std::string(topic), partition};
    for (const auto& [producer, offsets] : by_producer_)
        if (offsets.contains(k)) return true;
    return false;
}

} // namespace samsa::broker
