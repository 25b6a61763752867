#include "broker/admin/config_layers.h"

namespace samsa::broker {

broker_config config_layers::build(const broker_config& start) const {
    broker_config out = start;
    for (const auto* layer : {&cluster_dynamic, &node_dynamic}) {
        for (const auto& [k, v] : *layer) {
            const config_key* key = find_config_key(k);
            if (key == nullptr) throw config_error("Unknown broker config name: " + k);
            try {
                key->apply(out, v);
            } catch (const config_error& e) {
                throw config_error("Invalid value '" + v + "' for configuration '" + k + "': " + e.what());
            }
        }
    }
    check_connection_limits(out);
    return out;
}

config_synonym config_layers::lookup(const config_key& key) const {
    if (auto it = node_dynamic.find(key.name); it != node_dynamic.end())
        return {std::string(key.name), it->second, config_source::dynamic_broker};
    if (auto it = cluster_dynamic.find(key.name); it != cluster_dynamic.end())
        return {std::string(key.name), it->second, config_source::dynamic_default_broker};
    if (auto it = static_values.find(key.name); it != static_values.end())
        return {std::string(key.name), it->second, config_source::static_broker};
    if (key.default_text.empty()) return {std::string(key.name), std::nullopt, config_source::default_config};
    return {std::string(key.name), std::string(key.default_text), config_source::default_config};
}

std::vector<std::string_view> fallback_chain(std::string_view name) {
    std::vector<std::string_view> out;
    for (const config_key* k = find_config_key(name); k != nullptr && out.size() < 8;) {
        out.push_back(k->name);
        if (k->fallback.empty()) break;
        k = find_config_key(k->fallback);
    }
    return out;
}

std::vector<config_synonym> config_layers::synonyms(std::string_view name) const {
    const auto chain = fallback_chain(name);
    std::vector<config_synonym> out;
    auto add_from = [&](const config_map& layer, config_source source) {
        for (const auto key : chain)
            if (auto it = layer.find(key); it != layer.end()) out.push_back({std::string(key), it->second, source});
    };
    add_from(node_dynamic, config_source::dynamic_broker);
    add_from(cluster_dynamic, config_source::dynamic_default_broker);
    add_from(static_values, config_source::static_broker);
    for (const auto key : chain) {
        const auto* k = find_config_key(key);
        if (k != nullptr && !k->default_text.empty())
            out.push_back({std::string(key), std::string(k->default_text), config_source::default_config});
    }
    // As Kafka does, the list starts at the described key: a more specific layer holding only a
    // lower-priority synonym does not come first.
    size_t first = 0;
    while (first < out.size() && out[first].name != name) ++first;
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(first));
    return out;
}

config_value_type value_type_of(config_type t) noexcept {
    switch (t) {
        case config_type::boolean: return config_value_type::boolean;
        case config_type::int16: return config_value_type::int16;
        case config_type::int32: return config_value_type::int32;
        case config_type::int64: return config_value_type::int64;
        case config_type::float64: return config_value_type::float64;
        case config_type::string: return config_value_type::string;
        case config_type::list: return config_value_type::list;
    }
    return config_value_type::unknown;
}

} // namespace samsa::broker
