#include "broker/admin/dynamic_config_store.h"

#include "storage/file_handle.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <sstream>
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
    const auto file = path();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        if (ec) throw std::runtime_error("cannot inspect " + file.string() + ": " + ec.message());
        return {};
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::ostringstream os;
    os << in.rdbuf();
    try {
        return from_json(json::parse(os.str()));
    } catch (const std::exception& e) {
        throw std::runtime_error("corrupt dynamic configuration file " + file.string() + ": " + e.what());
    }
}

std::optional<std::string> dynamic_config_store::save(const dynamic_config_image& image) const {
    std::string text;
    try {
        text = to_json(image).dump(2) + "\n";
    } catch (const std::exception& e) {
        return std::string("cannot encode the dynamic configuration: ") + e.what();
    }
    const auto final_path = path();
    if (const int err = storage::write_file_atomically(final_path.string(), text); err != 0) {
        return "cannot write " + final_path.string() + " atomically: " + std::strerror(err);
    }
    return std::nullopt;
}

} // namespace samsa::broker
