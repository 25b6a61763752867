// Where a configuration value comes from, numbered as DescribeConfigs (v1+) and CreateTopics
// (v5+) report it, and the value types DescribeConfigs (v3+) reports. Plain enums, usable
// from any thread.
#pragma once

#include <cstdint>

namespace samsa::broker {

// Kafka's ConfigSource ids. Precedence, most specific first: a topic override, this node's
// dynamic setting, the cluster-wide dynamic default, the static (start-up) setting, the default.
enum class config_source : int8_t {
    unknown = 0,
    dynamic_topic = 1,
    dynamic_broker = 2,
    dynamic_default_broker = 3,
    static_broker = 4,
    default_config = 5,
    dynamic_broker_logger = 6,
};

// Kafka's ConfigType ids (DescribeConfigs v3+).
enum class config_value_type : int8_t {
    unknown = 0,
    boolean = 1,
    string = 2,
    int32 = 3,
    int16 = 4,
    int64 = 5,
    float64 = 6,
    list = 7,
    class_name = 8,
    password = 9,
};

} // namespace samsa::broker
