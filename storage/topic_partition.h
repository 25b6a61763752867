// The name of one partition: a topic and a partition number. A plain value, any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace samsa::storage {

struct topic_partition {
    std::string topic;
    int32_t partition = 0;

    // "<topic>-<partition>", the partition's directory name.
    [[nodiscard]] std::string dir_name() const { return topic + "-" + std::to_string(partition); }
    auto operator<=>(const topic_partition&) const = default;
};

} // namespace samsa::storage
