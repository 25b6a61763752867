// Persists the single node's metadata (cluster id, node id, metadata epoch, topics with their
// ids, partition counts and config overrides) as one JSON file in the first data directory,
// replaced atomically: write a temp file, fsync it, rename it over the old one, fsync the
// directory. Used on the event loop thread (start-up, CreateTopics, DeleteTopics); the caller
// owns the image it passes. The layout is described in docs/architecture.md.
#pragma once

#include "broker/topic_table.h"
#include "protocol/kafka_ids.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace samsa::broker {

inline constexpr std::string_view metadata_file_name = "samsa-metadata.json";
inline constexpr int metadata_format_version = 1;

struct metadata_image {
    std::string cluster_id;
    protocol::node_id node_id = protocol::no_node_id;
    int64_t epoch = 0;  // bumped on every change; the finalized-features epoch
    std::vector<topic_info> topics;
    bool persisted = false;  // read from the store (not compared, not stored)
    bool operator==(const metadata_image& o) const {
        return cluster_id == o.cluster_id && node_id == o.node_id && epoch == o.epoch && topics == o.topics;
    }
};

class metadata_store {
public:
    explicit metadata_store(std::filesystem::path dir) : dir_(std::move(dir)) {}

    // The stored image, or nullopt for a directory that has none yet. Throws std::runtime_error
    // on an unreadable or corrupt file: start-up stops rather than forgetting every topic.
    [[nodiscard]] std::optional<metadata_image> load() const;

    // Replaces the stored image atomically. On failure returns why; the old file is intact.
    [[nodiscard]] std::optional<std::string> save(const metadata_image& image) const;

    [[nodiscard]] std::filesystem::path path() const { return dir_ / metadata_file_name; }

private:
    std::filesystem::path dir_;
};

} // namespace samsa::broker
