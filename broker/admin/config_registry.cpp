#include "broker/admin/config_registry.h"

#include "broker/logger.h"

#include <algorithm>
#include <stdexcept>

namespace samsa::broker {

namespace {

using protocol::error_code;

config_result failed(error_code e, std::string message) {
    config_result r;
    r.error = e;
    r.message = std::move(message);
    return r;
}

constexpr std::string_view root_logger = "root";
constexpr std::string_view valid_log_levels[] = {"OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

log_level to_log_level(std::string_view kafka_level) {
    if (kafka_level == "TRACE" || kafka_level == "DEBUG") return log_level::debug;
    if (kafka_level == "INFO") return log_level::info;
    if (kafka_level == "WARN") return log_level::warn;
    return log_level::error;  // ERROR, FATAL, OFF: errors are always written
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

std::string set_text(const std::vector<std::string>& names) {
    std::string out = "Set(";
    for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
    return out + ")";
}

} // namespace

config_registry::config_registry(broker_config& live, metadata_service& metadata, partition_storage& storage,
                                 std::filesystem::path dir)
    : live_(live), start_(live), metadata_(metadata), storage_(storage), store_(std::move(dir)), root_log_level_(upper(live.log_level)) {
    for (const auto& [k, v] : live.given.values) layers_.static_values[k] = v;
}

void config_registry::load() {
    auto stored = store_.load();
    layers_.cluster_dynamic = std::move(stored.cluster_dynamic);
    layers_.node_dynamic = std::move(stored.node_dynamic);
    quotas_.replace_all(std::move(stored.client_quotas));
    try {
        live_ = layers_.build(start_);
    } catch (const config_error& e) {
        throw std::runtime_error("the dynamic configuration in " + store_.path().string() + " is invalid: " + e.what());
    }
    if (!layers_.cluster_dynamic.empty() || !layers_.node_dynamic.empty() || !quotas_.all().empty())
        log_info("dynamic configuration: ", layers_.cluster_dynamic.size(), " cluster default(s), ", layers_.node_dynamic.size(),
                 " node setting(s), ", quotas_.all().size(), " client quota entit(ies)");
}

dynamic_config_image config_registry::image() const {
    return {layers_.cluster_dynamic, layers_.node_dynamic, quotas_.all()};
}

config_result config_registry::check_broker_name(const std::string& name, bool allow_empty) const {
    if (name.empty()) {
        if (allow_empty) return {};
        return failed(error_code::invalid_request, "Broker id must not be empty");
    }
    const bool numeric = std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); }) && name.size() < 10;
    if (!numeric) return failed(error_code::invalid_request, "Broker id must be an integer, but it is: " + name);
    if (protocol::node_id(std::stoi(name)) != metadata_.node_id())
        return failed(error_code::invalid_request, "Unexpected broker id, expected " + std::to_string(metadata_.node_id().value()) +
                                                       (allow_empty ? " or empty string, but received " : " but received ") + name);
    return {};
}

config_result config_registry::describe(int8_t resource_type, const std::string& name,
                                        const std::optional<std::vector<std::string>>& keys) const {
    config_result r;
    switch (static_cast<config_resource_type>(resource_type)) {
        case config_resource_type::topic: {
            const topic_info* t = metadata_.topics().find(name);
            if (t == nullptr) return failed(error_code::unknown_topic_or_partition, "The topic '" + name + "' does not exist.");
            r.entries = describe_topic_configs(t->configs, live_, layers_);
            break;
        }
        case config_resource_type::broker:
            if (r = check_broker_name(name, true); r.error != error_code::none) return r;
            r.entries = describe_broker_configs(layers_, !name.empty());
            break;
        case config_resource_type::broker_logger: {
            if (r = check_broker_name(name, false); r.error != error_code::none) return r;
            config_entry e;
            e.name = std::string(root_logger);
            e.value = root_log_level_;
            e.source = config_source::dynamic_broker_logger;
            e.type = config_value_type::unknown;
            r.entries.push_back(std::move(e));
            break;
        }
        default:
            return failed(error_code::invalid_request, "Unsupported resource type: " + std::to_string(resource_type));
    }
    keep_requested(r.entries, keys);
    return r;
}

config_result config_registry::alter(int8_t resource_type, const std::string& name,
                                     const std::vector<std::pair<std::string, std::optional<std::string>>>& configs,
                                     bool validate_only) {
    std::string nulls;
    config_map values;
    for (const auto& [k, v] : configs) {
        if (!v) nulls += (nulls.empty() ? "" : ",") + k;
        else values[k] = *v;
    }
    if (!nulls.empty()) return failed(error_code::invalid_request, "Null value not supported for : " + nulls);
    switch (static_cast<config_resource_type>(resource_type)) {
        case config_resource_type::topic: return set_topic(name, topic_configs(values.begin(), values.end()), validate_only);
        case config_resource_type::broker: return set_broker(name, std::move(values), validate_only);
        default:
            return failed(error_code::invalid_request,
                          "AlterConfigs is only supported for topics and brokers, but resource type is " + std::to_string(resource_type));
    }
}

config_result config_registry::incremental_alter(int8_t resource_type, const std::string& name,
                                                 std::span<const config_change> changes, bool validate_only) {
    const auto type = static_cast<config_resource_type>(resource_type);
    if (type == config_resource_type::broker_logger) return set_loggers(name, changes, validate_only);
    config_map current;
    list_key_lookup info;
    if (type == config_resource_type::topic) {
        const topic_info* t = metadata_.topics().find(name);
        if (t == nullptr) return failed(error_code::unknown_topic_or_partition, "The topic '" + name + "' does not exist.");
        current.insert(t->configs.begin(), t->configs.end());
        info = [this](std::string_view key) -> std::optional<list_key_info> {
            const auto* k = find_topic_config_key(key);
            if (k == nullptr) return std::nullopt;
            return list_key_info{k->type == config_type::list, k->broker_default(live_)};
        };
    } else if (type == config_resource_type::broker) {
        if (auto r = check_broker_name(name, true); r.error != error_code::none) return r;
        current = name.empty() ? layers_.cluster_dynamic : layers_.node_dynamic;
        info = [](std::string_view key) -> std::optional<list_key_info> {
            const auto* k = find_config_key(key);
            if (k == nullptr) return std::nullopt;
            return list_key_info{k->type == config_type::list, std::string(k->default_text)};
        };
    } else {
        return failed(error_code::invalid_request,
                      "AlterConfigs is only supported for topics and brokers, but resource type is " + std::to_string(resource_type));
    }
    auto applied = apply_config_ops(current, changes, info);
    if (applied.error != error_code::none) return failed(applied.error, applied.message);
    if (type == config_resource_type::topic)
        return set_topic(name, topic_configs(applied.values.begin(), applied.values.end()), validate_only);
    return set_broker(name, std::move(applied.values), validate_only);
}

config_result config_registry::set_topic(const std::string& name, topic_configs values, bool validate_only) {
    if (metadata_.topics().find(name) == nullptr)
        return failed(error_code::unknown_topic_or_partition, "The topic '" + name + "' does not exist.");
    for (const auto& [k, v] : values)
        if (auto problem = topic_config_problem(k, v)) return failed(error_code::invalid_config, *problem);
    if (validate_only) return {};
    if (holding_) {
        held_.emplace_back(name, std::move(values));
        return {};
    }
    if (auto err = metadata_.set_topic_configs(name, std::move(values))) return failed(error_code::unknown_server_error, *err);
    return {};
}

std::optional<std::string> config_registry::topic_change_batch::commit() {
    registry_.holding_ = false;
    auto held = std::move(registry_.held_);
    registry_.held_.clear();
    if (held.empty()) return std::nullopt;
    return registry_.metadata_.set_topic_configs(std::span(held));
}

config_result config_registry::set_broker(const std::string& name, config_map values, bool validate_only) {
    if (auto r = check_broker_name(name, true); r.error != error_code::none) return r;
    const bool per_node = !name.empty();
    std::vector<std::string> read_only, node_only;
    for (const auto& [k, v] : values) {
        const auto* key = find_config_key(k);
        if (key == nullptr) return failed(error_code::invalid_config, "Unknown broker config name: " + k);
        if (key->update_mode == config_update_mode::read_only) read_only.push_back(k);
        else if (!per_node && key->update_mode == config_update_mode::per_broker) node_only.push_back(k);
    }
    if (!read_only.empty())
        return failed(error_code::invalid_request, "Cannot update these configs dynamically: " + set_text(read_only));
    if (!node_only.empty())
        return failed(error_code::invalid_request,
                      "Cannot update these configs at default cluster level, broker id must be specified: " + set_text(node_only));

    config_layers candidate = layers_;
    (per_node ? candidate.node_dynamic : candidate.cluster_dynamic) = std::move(values);
    broker_config built;
    try {
        built = candidate.build(start_);
    } catch (const config_error& e) {
        return failed(error_code::invalid_config, e.what());
    }
    if (validate_only) return {};
    const config_layers before = layers_;
    layers_ = std::move(candidate);
    if (auto err = store_.save(image())) {
        layers_ = before;
        return failed(error_code::unknown_server_error, "Could not persist the configuration: " + *err);
    }
    live_ = std::move(built);
    log_info("dynamic broker configuration changed (", per_node ? "node " + name : std::string("cluster default"), ")");
    apply_to_all_topics();
    return {};
}

void config_registry::apply_to_all_topics() {
    for (const auto* t : metadata_.topics().all())
        if (auto err = storage_.apply_config(*t)) log_error("cannot apply the configs of ", t->name, ": ", *err);
}

config_result config_registry::set_loggers(const std::string& name, std::span<const config_change> changes, bool validate_only) {
    if (auto r = check_broker_name(name, false); r.error != error_code::none) return r;
    std::optional<std::string> level;
    for (const auto& c : changes) {
        const auto op = static_cast<config_op>(c.op);
        if (op == config_op::append || op == config_op::subtract)
            return failed(error_code::invalid_request, std::string(op == config_op::append ? "APPEND" : "SUBTRACT") +
                                                           " operation is not allowed for the BROKER_LOGGER resource");
        if (c.op < 0 || c.op > 3) return failed(error_code::invalid_request, "Unknown operations type " + std::to_string(c.op));
        if (c.name != root_logger) return failed(error_code::invalid_config, "Logger " + c.name + " does not exist!");
        if (op == config_op::remove)
            return failed(error_code::invalid_request, "Removing the log level of the root logger is not allowed");
        const std::string wanted = c.value.value_or("");
        if (std::find(std::begin(valid_log_levels), std::end(valid_log_levels), wanted) == std::end(valid_log_levels))
            return failed(error_code::invalid_config, "Cannot set the log level of " + c.name + " to " + wanted +
                                                          " as it is not a supported log level. Valid log levels are OFF, "
                                                          "FATAL, ERROR, WARN, INFO, DEBUG, TRACE");
        level = wanted;
    }
    if (validate_only || !level) return {};
    root_log_level_ = *level;
    set_log_level(to_log_level(*level));
    log_info("log level of the root logger set to ", *level);
    return {};
}

std::vector<quota_error> config_registry::alter_quotas(std::span<const quota_alteration> entries, bool validate_only) {
    std::vector<quota_error> out;
    out.reserve(entries.size());
    const auto before = quotas_.all();
    bool changed = false;
    for (const auto& e : entries) {
        out.push_back(client_quota_table::check(e));
        if (out.back().error != error_code::none || validate_only) continue;
        quotas_.apply(e);
        changed = true;
    }
    if (!changed) return out;
    if (auto err = store_.save(image())) {
        quotas_.replace_all(before);
        for (auto& r : out)
            if (r.error == error_code::none) r = {error_code::unknown_server_error, "Could not persist the quotas: " + *err};
        return out;
    }
    log_info("client quotas changed: ", quotas_.all().size(), " entit(ies) with quotas");
    return out;
}

} // namespace samsa::broker
