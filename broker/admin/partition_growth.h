// Kafka's rules for CreatePartitions: a topic may only grow, manual assignments must name one
// list of replicas per new partition, each as long as the topic's replication factor and naming
// registered brokers (only this node) once each. A pure function, so the rules are tested
// without a broker; the handler applies what passes through metadata_service::add_partitions.
#pragma once

#include "broker/topic_table.h"
#include "protocol/errors.h"
#include "protocol/kafka_ids.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace samsa::broker {

struct growth_check {
    protocol::error_code error = protocol::error_code::none;
    std::optional<std::string> message;
};

// `topic` is null when the topic does not exist; `assignments` (null: automatic) holds one
// broker list per new partition.
[[nodiscard]] growth_check check_partition_growth(const topic_info* topic, int32_t count,
                                                  const std::optional<std::vector<std::vector<protocol::node_id>>>& assignments,
                                                  protocol::node_id node_id);

} // namespace samsa::broker
