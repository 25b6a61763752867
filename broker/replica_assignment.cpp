#include "broker/replica_assignment.h"

#include <set>

namespace samsa::broker {

std::optional<std::string> replica_list_problem(std::span<const protocol::node_id> replicas, protocol::node_id registered) {
    if (replicas.empty()) return "The manual partition assignment includes an empty replica list.";
    std::set<protocol::node_id> seen;
    for (const protocol::node_id b : replicas) {
        if (!seen.insert(b).second)
            return "The manual partition assignment includes the broker " + std::to_string(b.value()) + " more than once.";
        if (b != registered)
            return "The manual partition assignment includes broker " + std::to_string(b.value()) +
                   ", but no such broker is registered.";
    }
    return std::nullopt;
}

} // namespace samsa::broker
