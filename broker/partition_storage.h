// The seam between topic metadata and the partition logs on disk: the metadata_service calls
// it when a topic is created or deleted, and the node calls close() once at shutdown. The
// broker's implementation is log_storage (storage::log_manager); metadata_only_storage keeps
// topics in metadata alone, for tests of the metadata path. Loop thread only.
#pragma once

#include "broker/topic_table.h"

#include <optional>
#include <string>

namespace samsa::broker {

class partition_storage {
public:
    virtual ~partition_storage() = default;
    // Creates the logs of every partition of `topic` that has none. Returns why it failed, or
    // nullopt; a failure removes again the logs this call made, so a topic never half exists.
    [[nodiscard]] virtual std::optional<std::string> create_partitions(const topic_info& topic) = 0;
    // Removes the logs of partitions `first` and up of `topic`. Returns why it failed, or nullopt.
    [[nodiscard]] virtual std::optional<std::string> delete_partitions(const topic_info& topic, int32_t first) = 0;
    // Flushes and closes every log (shutdown). Returns why it failed, or nullopt.
    [[nodiscard]] virtual std::optional<std::string> close() = 0;
    // Hands the topic's current settings (overrides over the broker defaults, which may have
    // changed too) to every partition log of `topic`. Returns why it failed, or nullopt.
    // Stores without per-topic settings need not override it.
    [[nodiscard]] virtual std::optional<std::string> apply_config(const topic_info& topic) {
        (void)topic;
        return std::nullopt;
    }
};

// Not a log store: topics exist in the metadata only (tests).
class metadata_only_storage final : public partition_storage {
public:
    [[nodiscard]] std::optional<std::string> create_partitions(const topic_info&) override { return std::nullopt; }
    [[nodiscard]] std::optional<std::string> delete_partitions(const topic_info&, int32_t) override { return std::nullopt; }
    [[nodiscard]] std::optional<std::string> close() override { return std::nullopt; }
};

} // namespace samsa::broker
