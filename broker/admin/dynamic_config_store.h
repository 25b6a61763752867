// Persists what administrators change at run time besides topics: dynamic broker configs (the
// cluster-wide defaults and this node's) and client quotas, as one JSON file next to the
// metadata in the first data directory, replaced atomically (temp file, fsync, rename, fsync
// of the directory). Topic config overrides live with the topics in samsa-metadata.json.
// Used by the config_registry on the loop thread; the layout is in docs/configuration.md.
#pragma once

#include "broker/admin/client_quota_table.h"
#include "broker/admin/config_layers.h"

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace samsa::broker {

inline constexpr std::string_view dynamic_config_file_name = "samsa-dynamic-config.json";
inline constexpr int dynamic_config_format_version = 1;

struct dynamic_config_image {
    config_map cluster_dynamic;
    config_map node_dynamic;
    std::map<quota_entity, quota_values> client_quotas;
    bool operator==(const dynamic_config_image&) const = default;
};

class dynamic_config_store {
public:
    explicit dynamic_config_store(std::filesystem::path dir) : dir_(std::move(dir)) {}

    // The stored image, or an empty one when there is no file. Throws std::runtime_error on an
    // unreadable or corrupt file (start-up stops rather than silently dropping settings).
    [[nodiscard]] dynamic_config_image load() const;
    // Replaces the stored image atomically. On failure returns why; the old file is intact.
    [[nodiscard]] std::optional<std::string> save(const dynamic_config_image& image) const;

    [[nodiscard]] std::filesystem::path path() const { return dir_ / dynamic_config_file_name; }

private:
    std::filesystem::path dir_;
};

} // namespace samsa::broker
