// Kafka's rules for one partition's replica list in a manual assignment (CreateTopics and
// CreatePartitions): not empty, no broker twice, only registered brokers (on this single-node
// broker, only this node). How many replicas a list must have differs between the two requests
// and stays with each caller. Pure functions, any thread.
#pragma once

#include "protocol/kafka_ids.h"

#include <optional>
#include <span>
#include <string>

namespace samsa::broker {

// Why `replicas` is not a valid replica list for a manual assignment on the broker `registered`
// (Kafka's INVALID_REPLICA_ASSIGNMENT message), or nullopt when it is.
[[nodiscard]] std::optional<std::string> replica_list_problem(std::span<const protocol::node_id> replicas,
                                                              protocol::node_id registered);

} // namespace samsa::broker
