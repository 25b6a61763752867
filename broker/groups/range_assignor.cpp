#include "broker/groups/partition_assignor.h"

#include <algorithm>

namespace samsa::broker {

member_assignments assign_range(const std::vector<assignor_member>& members,
                                const std::map<std::string, assignor_topic>& topics) {
    member_assignments out;
    for (const auto& m : members) out[m.member_id];
    for (const auto& [name, topic] : topics) {
        std::vector<std::string> subscribers;
        for (const auto& m : members)
            if (m.topics.contains(name)) subscribers.push_back(m.member_id);
        if (subscribers.empty() || topic.partitions <= 0) continue;
        std::sort(subscribers.begin(), subscribers.end());
        const auto n = static_cast<int32_t>(subscribers.size());
        const int32_t per = topic.partitions / n;
        const int32_t extra = topic.partitions % n;
        int32_t next = 0;
        for (int32_t i = 0; i < n; ++i) {
            const int32_t count = per + (i < extra ? 1 : 0);
            for (int32_t p = next; p < next + count; ++p)
                out[subscribers[static_cast<size_t>(i)]][topic.id].emplace(p);
            next += count;
        }
    }
    return out;
}

assignor_fn find_assignor(std::string_view name) noexcept {
    if (name == "uniform") return assign_uniform;
    if (name == "range") return assign_range;
    return nullptr;
}

} // namespace samsa::broker
