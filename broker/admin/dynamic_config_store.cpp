#include "broker/admin/dynamic_config_store.h"

#include "broker/json_state_file.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace samsa::broker {

namespace {

using json = nlohmann::json;

json to_json(const dynamic_config_image& m) {
    json quotas = json::array();
    for (const auto& [entity, values] : m.client_quotas) {
        json e = json::object();
        for (const auto& [type, name] : entity) e[type] = name ? json(*name) : json(nullptr);
        quotas.push_back({{"entity", e}, {"values", values}});
    }
    return {{"format", dynamic_config_format_version},
            {"cluster_default", m.cluster_dynamic},
            {"node", m.node_dynamic},
            {"client_quotas", quotas}};
}

dynamic_config_image from_json(const json& j) {
    if (j.at("format").get<int>() != dynamic_config_format_version)
        throw std::runtime_error("unsupported format " + j.at("format").dump());
    dynamic_config_image m;
    for (const auto& [k, v] : j.at("cluster_default").items()) m.cluster_dynamic[k] = v.get<std::string>();
    for (const auto& [k, v] : j.at("node").items()) m.node_dynamic[k] = v.get<std::string>();
    for (const auto& q : j.at("client_quotas")) {
        quota_entity entity;
        for (const auto& [type, name] : q.at("entity").items())
            entity[type] = name.is_null() ? std::nullopt : std::optional<std::string>(name.get<std::string>());
        m.client_quotas[entity] = q.at("values").get<quota_values>();
    }
    return m;
}

} // namespace

dynamic_config_image dynamic_config_store::load() const {
    return load_json_file(path(), "dynamic configuration", from_json).value_or(dynamic_config_image{});
}

std::optional<std::string> dynamic_config_store::save(const dynamic_config_image& image) const {
    return save_json_file(path(), "dynamic configuration", to_json(image));
}

} // namespace samsa::broker
