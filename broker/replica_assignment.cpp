#include "broker/replica_assignment.h"

#include <algorithm>
#include <vector>

namespace samsa::broker {

std::optional<std::string> replica_list_problem(std::span<const protocol::node_id> replicas, protocol::node_id registered,
                                                std::optional<size_t> replication_factor) {
    if (replicas.empty()) return "The manual partition assignment includes an empty replica list.";
    std::vector<protocol::node_id> sorted(replicas.begin(), replicas.end());
    std::ranges::sort(sorted);
    for (size_t i = 0; i < sorted.size(); ++i) {
        const protocol::node_id b = sorted[i];
        if (b != registered)
            return "The manual partition assignment includes broker " + std::to_string(b.value()) +
                   ", but no such broker is registered.";
        if (i > 0 && sorted[i - 1] == b)
            return "The manual partition assignment includes the broker " + std::to_string(b.value()) + " more than once.";
    }
    if (replication_factor && sorted.size() != *replication_factor)
        return "The manual partition assignment includes a partition with " + std::to_string(sorted.size()) +
               " replica(s), but this is not consistent with previous partitions, which have " +
               std::to_string(*replication_factor) + " replica(s).";
    return std::nullopt;
}

} // namespace samsa::broker
