// Kafka's rules for topic names (what org.apache.kafka.common.internals.Topic enforces): 1 to
// 249 characters from [a-zA-Z0-9._-], and neither "." nor ".."; and which names are internal.
// Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace samsa::broker {

inline constexpr size_t max_topic_name_length = 249;

// Why `name` is not a valid topic name, or nullopt when it is.
[[nodiscard]] std::optional<std::string> topic_name_problem(std::string_view name);

// The topics Kafka marks internal in Metadata (consumer offsets and transaction state), so that
// pattern subscribers skip them.
[[nodiscard]] inline bool is_internal_topic(std::string_view name) noexcept {
    return name == "__consumer_offsets" || name == "__transaction_state";
}

} // namespace samsa::broker
