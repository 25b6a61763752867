#include "broker/admin/config_describer.h"

#include <algorithm>

namespace samsa::broker {

std::vector<config_entry> describe_topic_configs(const topic_configs& overrides, const broker_config& live,
                                                 const config_layers& layers) {
    std::vector<config_entry> out;
    out.reserve(topic_config_keys().size());
    for (const auto& k : topic_config_keys()) {
        config_entry e;
        e.name = std::string(k.name);
        e.type = value_type_of(k.type);
        e.doc = k.doc;
        const auto it = overrides.find(e.name);
        if (it != overrides.end()) {
            e.value = it->second;
            e.synonyms.push_back({e.name, it->second, config_source::dynamic_topic});
        } else {
            e.value = k.broker_default(live);
        }
        if (!k.broker_synonym.empty())
            for (auto& s : layers.synonyms(k.broker_synonym)) e.synonyms.push_back(std::move(s));
        e.source = e.synonyms.empty() ? config_source::default_config : e.synonyms.front().source;
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<config_entry> describe_broker_configs(const config_layers& layers, bool per_node) {
    std::vector<config_entry> out;
    for (const auto& k : config_keys()) {
        if (!per_node && !layers.cluster_dynamic.contains(k.name)) continue;
        config_entry e;
        e.name = std::string(k.name);
        e.type = value_type_of(k.type);
        e.doc = k.doc;
        e.read_only = k.update_mode == config_update_mode::read_only;
        e.synonyms = layers.synonyms(k.name);
        if (per_node) {
            e.value = layers.lookup(k).value;
        } else {
            e.value = layers.cluster_dynamic.find(k.name)->second;
            std::erase_if(e.synonyms, [](const config_synonym& s) { return s.source != config_source::dynamic_default_broker; });
        }
        e.source = e.synonyms.empty() ? config_source::default_config : e.synonyms.front().source;
        out.push_back(std::move(e));
    }
    return out;
}

void keep_requested(std::vector<config_entry>& entries, const std::optional<std::vector<std::string>>& keys) {
    if (!keys || keys->empty()) return;
    std::erase_if(entries, [&](const config_entry& e) { return std::find(keys->begin(), keys->end(), e.name) == keys->end(); });
}

} // namespace samsa::broker
