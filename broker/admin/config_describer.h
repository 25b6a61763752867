// Renders configurations the way DescribeConfigs reports them: every key with its value, its
// source (the most specific layer that sets it), read-only flag, type, documentation and
// synonyms, following Kafka's rules for TOPIC, BROKER (this node, or the cluster defaults under
// the empty name) and BROKER_LOGGER resources. Pure functions over the configuration model;
// loop thread (they read the live broker_config). Results own their strings.
#pragma once

#include "broker/admin/config_layers.h"
#include "broker/topic_config.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

struct config_entry {
    std::string name;
    std::optional<std::string> value;
    config_source source = config_source::default_config;
    bool read_only = false;
    bool sensitive = false;
    config_value_type type = config_value_type::unknown;
    std::string_view doc;
    std::vector<config_synonym> synonyms;  // most specific first; the first one gives the source
};

// Every topic key of a topic with `overrides`; `live` is the effective broker configuration.
[[nodiscard]] std::vector<config_entry> describe_topic_configs(const topic_configs& overrides, const broker_config& live,
                                                               const config_layers& layers);

// This node's keys (`per_node`), or the cluster-wide dynamic defaults that are set.
[[nodiscard]] std::vector<config_entry> describe_broker_configs(const config_layers& layers, bool per_node);

// Keeps the entries named in `keys` (all when `keys` is null or empty), in their order.
void keep_requested(std::vector<config_entry>& entries, const std::optional<std::vector<std::string>>& keys);

} // namespace samsa::broker
