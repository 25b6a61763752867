// The topic-level configuration keys Kafka defines (retention.ms, cleanup.policy, ...): which
// names exist, their types, which values are valid, what they do, and each key's default taken
// from the broker's config (its broker synonym). The one table of topic keys: CreateTopics,
// DescribeConfigs, the Alter APIs and docs/configuration.md all read it.
// One static table, read-only; safe from any thread. Values are plain strings as on the wire.
#pragma once

#include "broker/admin/config_source.h"
#include "broker/config.h"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace samsa::broker {

struct topic_config_key {
    std::string_view name;
    std::string_view broker_synonym;  // the broker key that sets the default ("" if none)
    // The effective default on this broker, as text.
    std::string (*broker_default)(const broker_config& cfg);
    // Why `value` is not valid for this key, or nullopt.
    std::optional<std::string> (*problem)(std::string_view value);
    config_type type = config_type::string;
    std::string_view doc = {};
};

using topic_configs = std::map<std::string, std::string>;

[[nodiscard]] std::span<const topic_config_key> topic_config_keys() noexcept;
[[nodiscard]] const topic_config_key* find_topic_config_key(std::string_view name) noexcept;

// The value a topic with `overrides` has for topic key `name`: its override, else the broker's
// current default (empty for an unknown key).
[[nodiscard]] std::string topic_config_value(const topic_configs& overrides, std::string_view name, const broker_config& cfg);

// Why `name=value` cannot be set on a topic (unknown key, bad value), or nullopt.
[[nodiscard]] std::optional<std::string> topic_config_problem(std::string_view name, std::string_view value);

struct effective_config {
    std::string name;
    std::string value;
    config_source source;
};

// Every topic key with its effective value for a topic with `overrides`, in table order.
[[nodiscard]] std::vector<effective_config> describe_topic_config(const topic_configs& overrides, const broker_config& cfg);

} // namespace samsa::broker
