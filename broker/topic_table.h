// The in-memory table of topics on this node: name, topic id, partition count, replication
// factor, leader epoch and config overrides, looked up by name or by id. Owned by the
// metadata_service and used on the event loop thread only; pointers it returns stay valid
// until the topic is erased.
#pragma once

#include "broker/topic_config.h"
#include "protocol/kafka_ids.h"
#include "protocol/wire.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

// More partitions than this in one topic are refused, by CreateTopics and CreatePartitions alike:
// every metadata response lists them all.
inline constexpr int32_t max_partitions_per_topic = 100000;

// More new partitions than this in one request are refused: Kafka's controller writes at most
// this many records for one user operation, one per new partition. CreateTopics refuses the
// whole request (POLICY_VIOLATION), CreatePartitions the topic that would go past it and every
// later one (UNKNOWN_SERVER_ERROR); Metadata's auto-creation counts as a CreateTopics.
inline constexpr int64_t max_partitions_per_request = 10000;
inline constexpr std::string_view too_many_partitions_message = "Excessively large number of partitions per request.";

struct topic_info {
    std::string name;
    protocol::uuid id;
    int32_t partitions = 0;
    int16_t replication_factor = 1;
    // Every partition of a topic shares one leader epoch: leadership never moves on one node.
    protocol::leader_epoch leader_epoch{0};
    topic_configs configs;  // overrides only; defaults come from the broker config
    bool operator==(const topic_info&) const = default;
};

class topic_table {
public:
    [[nodiscard]] const topic_info* find(std::string_view name) const noexcept;
    [[nodiscard]] const topic_info* find(const protocol::uuid& id) const noexcept;
    // False (and no change) when the name or the id is already taken.
    [[nodiscard]] bool insert(topic_info t);
    // False when there is no such topic.
    [[nodiscard]] bool erase(std::string_view name);
    // Every topic, ordered by name.
    [[nodiscard]] std::vector<const topic_info*> all() const;
    [[nodiscard]] size_t size() const noexcept { return by_name_.size(); }

private:
    std::map<std::string, topic_info, std::less<>> by_name_;
    std::map<protocol::uuid, std::string> by_id_;
};

} // namespace samsa::broker
