// Kafka's check of one partition's replica list in a manual assignment (CreateTopics and
// CreatePartitions), in Kafka's order and words: not empty; then, over the broker ids sorted,
// only registered brokers (on this single-node broker, only this node) and none twice; then the
// replica count the partitions before it set. Pure functions, any thread.
#pragma once

#include "protocol/kafka_ids.h"

#include <cstddef>
#include <optional>
#include <span>
#include <string>

namespace samsa::broker {

// Why `replicas` is not a valid replica list for a manual assignment on the broker `registered`
// (Kafka's INVALID_REPLICA_ASSIGNMENT message), or nullopt when it is. `replication_factor` is the
// count the topic's other partitions have, when there are any.
[[nodiscard]] std::optional<std::string> replica_list_problem(std::span<const protocol::node_id> replicas,
                                                              protocol::node_id registered,
                                                              std::optional<size_t> replication_factor);

} // namespace samsa::broker
