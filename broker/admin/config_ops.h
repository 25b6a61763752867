// IncrementalAlterConfigs' operations (KIP-339) applied to a resource's current settings:
// SET a value, DELETE it (back to the default), APPEND to or SUBTRACT from a LIST value (the
// default when unset), with Kafka's checks on the request (duplicate keys, null values, unknown
// operations, lists only for APPEND/SUBTRACT). A pure function; the caller validates the
// resulting values. Any thread.
#pragma once

#include "broker/admin/config_layers.h"
#include "protocol/errors.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

namespace samsa::broker {

enum class config_op : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };

struct config_change {
    std::string name;
    int8_t op = 0;  // as sent: a config_op, or an unknown number
    std::optional<std::string> value;
};

struct config_ops_result {
    protocol::error_code error = protocol::error_code::none;
    std::string message;
    config_map values;  // the settings after the operations
};

// What APPEND and SUBTRACT need to know of a key: whether it is a LIST, and its default text.
struct list_key_info {
    bool is_list = false;
    std::string default_text;
};
using list_key_lookup = std::function<std::optional<list_key_info>(std::string_view name)>;

[[nodiscard]] config_ops_result apply_config_ops(const config_map& current, std::span<const config_change> changes,
                                                 const list_key_lookup& key_info);

} // namespace samsa::broker
