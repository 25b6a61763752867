#include "broker/metadata_store.h"

#include "broker/json_state_file.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace samsa::broker {

namespace {

using json = nlohmann::json;

json to_json(const metadata_image& m) {
    json topics = json::array();
    for (const auto& t : m.topics) {
        topics.push_back({{"name", t.name},
                          {"id", t.id.to_base64()},
                          {"partitions", t.partitions},
                          {"replication_factor", t.replication_factor},
                          {"leader_epoch", t.leader_epoch.value()},
                          {"configs", t.configs}});
    }
    return {{"format", metadata_format_version},
            {"cluster_id", m.cluster_id},
            {"node_id", m.node_id.value()},
            {"epoch", m.epoch},
            {"topics", std::move(topics)}};
}

metadata_image from_json(const json& j) {
    if (j.at("format").get<int>() != metadata_format_version)
        throw std::runtime_error("unsupported metadata format " + j.at("format").dump());
    metadata_image m;
    m.persisted = true;
    m.cluster_id = j.at("cluster_id").get<std::string>();
    m.node_id = protocol::node_id(j.at("node_id").get<int32_t>());
    m.epoch = j.at("epoch").get<int64_t>();
    for (const auto& t : j.at("topics")) {
        topic_info info;
        info.name = t.at("name").get<std::string>();
        const auto id = protocol::uuid::from_base64(t.at("id").get<std::string>());
        if (!id) throw std::runtime_error("topic " + info.name + " has a malformed id");
        info.id = *id;
        info.partitions = t.at("partitions").get<int32_t>();
        info.replication_factor = t.at("replication_factor").get<int16_t>();
        info.leader_epoch = protocol::leader_epoch(t.at("leader_epoch").get<int32_t>());
        info.configs = t.at("configs").get<topic_configs>();
        if (info.partitions <= 0) throw std::runtime_error("topic " + info.name + " has no partitions");
        m.topics.push_back(std::move(info));
    }
    return m;
}

} // namespace

std::optional<metadata_image> metadata_store::load() const { return load_json_file(path(), "metadata", from_json); }

std::optional<std::string> metadata_store::save(const metadata_image& image) const {
    return save_json_file(path(), "metadata", to_json(image));
}

} // namespace samsa::broker
