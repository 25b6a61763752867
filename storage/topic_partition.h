// The name of one partition: a topic and a partition index (protocol::partition_id, so it cannot
// be mixed up with an offset, an epoch or a node id). A plain value, any thread.
#pragma once

#include "protocol/kafka_ids.h"

#include <compare>
#include <cstdint>
#include <string>

namespace samsa::storage {

struct topic_partition {
    std::string topic;
    protocol::partition_id partition{0};

    // "<topic>-<partition>", the partition's directory name.
    [[nodiscard]] std::string dir_name() const { return topic + "-" + std::to_string(partition.value()); }
    auto operator<=>(const topic_partition&) const = default;
};

} // namespace samsa::storage
