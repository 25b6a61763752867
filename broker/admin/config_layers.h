// The layers a broker setting can come from, least specific first: the built-in default, the
// static setting (file and --override at start-up), the cluster-wide dynamic default (BROKER
// resource with the empty name) and this node's dynamic setting (BROKER resource named by
// node.id). The effective configuration is every layer applied in that order, so a later layer
// wins for the same key and Kafka's key precedence (log.retention.ms over .minutes over .hours)
// still holds across layers. A plain value owned by the config_registry; loop thread.
#pragma once

#include "broker/admin/config_source.h"
#include "broker/config.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

using config_map = std::map<std::string, std::string, std::less<>>;

struct config_synonym {
    std::string name;
    std::optional<std::string> value;
    config_source source = config_source::default_config;
};

struct config_layers {
    config_map static_values;   // STATIC_BROKER_CONFIG
    config_map cluster_dynamic; // DYNAMIC_DEFAULT_BROKER_CONFIG
    config_map node_dynamic;    // DYNAMIC_BROKER_CONFIG

    // The effective configuration: the dynamic layers applied over `start`, the configuration
    // the broker started with (which holds the static layer). Throws config_error naming the
    // key when a dynamic layer holds an invalid value.
    [[nodiscard]] broker_config build(const broker_config& start) const;

    // The value of broker key `name` and the layer it comes from; nullopt value when the key
    // is unset everywhere and has no default (log.retention.ms).
    [[nodiscard]] config_synonym lookup(const config_key& key) const;

    // Kafka's synonyms of broker key `name`: its fallback chain (log.retention.ms, .minutes,
    // .hours) looked up in every layer, most specific layer first, starting at `name` itself.
    [[nodiscard]] std::vector<config_synonym> synonyms(std::string_view name) const;
};

// `name` and the keys it falls back to, in order (log.roll.ms, log.roll.hours).
[[nodiscard]] std::vector<std::string_view> fallback_chain(std::string_view name);

// DescribeConfigs' type of a table type.
[[nodiscard]] config_value_type value_type_of(config_type t) noexcept;

} // namespace samsa::broker
