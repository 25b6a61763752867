#include "broker/groups/partition_assignor.h"

#include <algorithm>
#include <utility>

namespace samsa::broker {

member_assignments assign_uniform(const std::vector<assignor_member>& members,
                                  const std::map<std::string, assignor_topic>& topics) {
    member_assignments out;
    std::map<std::string, size_t> load;
    std::map<protocol::uuid, std::string> name_of;
    for (const auto& [name, t] : topics) name_of[t.id] = name;
    for (const auto& m : members) {
        out[m.member_id];
        load[m.member_id] = 0;
    }
    auto subscribed = [&](const assignor_member& m, const std::string& topic) { return m.topics.contains(topic); };

    // 1. Keep what each member already had, where it is still valid and not claimed twice.
    std::map<std::pair<protocol::uuid, protocol::partition_id>, std::string> owner;
    for (const auto& m : members) {
        if (m.previous == nullptr) continue;
        for (const auto& [id, parts] : *m.previous) {
            const auto n = name_of.find(id);
            if (n == name_of.end() || !subscribed(m, n->second)) continue;
            for (const protocol::partition_id p : parts) {
                if (p.value() >= topics.at(n->second).partitions || owner.contains({id, p})) continue;
                owner[{id, p}] = m.member_id;
                out[m.member_id][id].insert(p);
                ++load[m.member_id];
            }
        }
    }

    // 2. Give every unowned partition to the least-loaded member that subscribes to its topic.
    for (const auto& [name, t] : topics) {
        for (int32_t i = 0; i < t.partitions; ++i) {
            const protocol::partition_id p(i);
            if (owner.contains({t.id, p})) continue;
            const assignor_member* best = nullptr;
            for (const auto& m : members)
                if (subscribed(m, name) && (best == nullptr || load[m.member_id] < load[best->member_id])) best = &m;
            if (best == nullptr) continue;
            owner[{t.id, p}] = best->member_id;
            out[best->member_id][t.id].insert(p);
            ++load[best->member_id];
        }
    }

    // 3. Balance: move a partition from a member to an eligible one holding at least two fewer,
    //    until no such move is left. Each move lowers the sum of squared loads, so this ends.
    bool moved = true;
    while (moved) {
        moved = false;
        for (auto& [key, from] : owner) {
            const auto& [id, p] = key;
            const std::string& topic = name_of[id];
            const assignor_member* to = nullptr;
            for (const auto& m : members)
                if (subscribed(m, topic) && load[m.member_id] + 1 < load[from] &&
                    (to == nullptr || load[m.member_id] < load[to->member_id]))
                    to = &m;
            if (to == nullptr) continue;
            auto& src = out[from][id];
            src.erase(p);
            if (src.empty()) out[from].erase(id);
            out[to->member_id][id].insert(p);
            --load[from];
            ++load[to->member_id];
            from = to->member_id;
            moved = true;
        }
    }
    return out;
}

} // namespace samsa::broker
