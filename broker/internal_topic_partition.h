// Where Kafka puts a group id in __consumer_offsets and a transactional id in
// __transaction_state: Utils.abs(String.hashCode()) modulo the partition count. Matching Kafka's
// choice keeps tools that compute the coordinator partition themselves right. Pure functions,
// any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace samsa::broker {

// Java's String.hashCode over the UTF-16 code units of a UTF-8 string.
[[nodiscard]] int32_t java_string_hash(std::string_view s) noexcept;

// The partition (of `partitions`, > 0) that Kafka gives `key`.
[[nodiscard]] int32_t internal_topic_partition(std::string_view key, int32_t partitions) noexcept;

} // namespace samsa::broker
