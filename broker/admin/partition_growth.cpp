#include "broker/admin/partition_growth.h"

#include "broker/replica_assignment.h"

namespace samsa::broker {

namespace {

using protocol::error_code;

growth_check fail(error_code e, std::string message) { return {e, std::move(message)}; }

} // namespace

growth_check check_partition_growth(const topic_info* topic, int32_t count,
                                    const std::optional<std::vector<std::vector<protocol::node_id>>>& assignments,
                                    protocol::node_id node_id) {
    if (topic == nullptr) return fail(error_code::unknown_topic_or_partition, "This server does not host this topic-partition.");
    const int32_t current = topic->partitions;
    if (count < current)
        return fail(error_code::invalid_partitions, "The topic " + topic->name + " currently has " + std::to_string(current) +
                                                        " partition(s); " + std::to_string(count) + " would not be an increase.");
    if (count == current)
        return fail(error_code::invalid_partitions, "Topic already has " + std::to_string(current) + " partition(s).");
    if (count > max_partitions_per_topic)
        return fail(error_code::invalid_partitions, "Number of partitions " + std::to_string(count) +
                                                        " is over this broker's limit of " + std::to_string(max_partitions_per_topic) + ".");
    if (!assignments) return {};
    const auto added = static_cast<size_t>(count - current);
    if (assignments->size() != added)
        return fail(error_code::invalid_replica_assignment, "Attempted to add " + std::to_string(added) +
                                                                " additional partition(s), but only " +
                                                                std::to_string(assignments->size()) + " assignment(s) were specified.");
    for (const auto& brokers : *assignments)
        if (auto problem = replica_list_problem(brokers, node_id, static_cast<size_t>(topic->replication_factor)))
            return fail(error_code::invalid_replica_assignment, std::move(*problem));
    return {};
}

} // namespace samsa::broker
