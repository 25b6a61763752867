// The configuration model at run time: describes and changes topic configs, dynamic broker
// configs (this node's and the cluster-wide defaults) and logger levels as DescribeConfigs,
// AlterConfigs and IncrementalAlterConfigs ask, and holds the client quotas. Changes are
// validated as Kafka validates them, persisted (topic overrides through the metadata service,
// the rest through the dynamic_config_store) and applied live: the broker configuration every
// service reads is rebuilt in place and partition logs get their new settings at once.
//
// Owned by the node, which lends it the live broker_config, the metadata service and the
// partition storage (all outlive it). Loop thread only.
#pragma once

#include "broker/admin/client_quota_table.h"
#include "broker/admin/config_describer.h"
#include "broker/admin/config_ops.h"
#include "broker/admin/dynamic_config_store.h"
#include "broker/metadata_service.h"
#include "broker/partition_storage.h"
#include "protocol/errors.h"

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace samsa::broker {

// ConfigResource types as the Admin APIs number them.
enum class config_resource_type : int8_t { unknown = 0, topic = 2, broker = 4, broker_logger = 8 };

struct config_result {
    protocol::error_code error = protocol::error_code::none;
    std::optional<std::string> message;  // null on success
    std::vector<config_entry> entries;   // Describe only
};

class config_registry {
public:
    config_registry(broker_config& live, metadata_service& metadata, partition_storage& storage, std::filesystem::path dir);

    // Start-up: reads the stored dynamic configs and quotas and rebuilds the live configuration
    // with them. Throws std::runtime_error when the file is corrupt or holds an invalid value.
    void load();

    [[nodiscard]] config_result describe(int8_t resource_type, const std::string& name,
                                         const std::optional<std::vector<std::string>>& keys) const;
    // AlterConfigs: the resource's settings become exactly `configs`.
    [[nodiscard]] config_result alter(int8_t resource_type, const std::string& name,
                                      const std::vector<std::pair<std::string, std::optional<std::string>>>& configs,
                                      bool validate_only);
    // IncrementalAlterConfigs: SET, DELETE, APPEND, SUBTRACT.
    [[nodiscard]] config_result incremental_alter(int8_t resource_type, const std::string& name,
                                                  std::span<const config_change> changes, bool validate_only);

    // One save for a request's topic overrides. While a batch is open, the topic changes alter()
    // and incremental_alter() accept (checked, answered with no error) are kept back; commit()
    // saves them together and returns why that failed (none of them changed then). A batch that
    // ends without commit() drops what it held. Each topic may be held once per batch.
    class topic_change_batch {
    public:
        explicit topic_change_batch(config_registry& registry) noexcept : registry_(registry) { registry_.holding_ = true; }
        ~topic_change_batch() {
            registry_.holding_ = false;
            registry_.held_.clear();
        }
        topic_change_batch(const topic_change_batch&) = delete;
        topic_change_batch& operator=(const topic_change_batch&) = delete;
        [[nodiscard]] std::optional<std::string> commit();

    private:
        config_registry& registry_;
    };

    [[nodiscard]] const client_quota_table& quotas() const noexcept { return quotas_; }
    // AlterClientQuotas: checks every entry, applies the valid ones (unless validate_only) and
    // persists once. One result per entry, in order.
    [[nodiscard]] std::vector<quota_error> alter_quotas(std::span<const quota_alteration> entries, bool validate_only);

    [[nodiscard]] const config_layers& layers() const noexcept { return layers_; }

private:
    [[nodiscard]] config_result set_topic(const std::string& name, topic_configs values, bool validate_only);
    [[nodiscard]] config_result set_broker(const std::string& name, config_map values, bool validate_only);
    [[nodiscard]] config_result set_loggers(const std::string& name, std::span<const config_change> changes, bool validate_only);
    // The dynamic layer a BROKER resource name selects ("" or this node's id), or an error.
    [[nodiscard]] config_result check_broker_name(const std::string& name, bool allow_empty) const;
    [[nodiscard]] dynamic_config_image image() const;
    void apply_to_all_topics();

    broker_config& live_;
    const broker_config start_;  // as configured at start-up: the base the dynamic layers apply to
    metadata_service& metadata_;
    partition_storage& storage_;
    dynamic_config_store store_;
    config_layers layers_;
    client_quota_table quotas_;
    std::string root_log_level_;
    bool holding_ = false;
    std::vector<std::pair<std::string, topic_configs>> held_;
};

} // namespace samsa::broker
