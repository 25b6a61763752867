// The broker's configuration: the values every part of the broker reads, and the one table of
// keys (Kafka's names, type, default, validation, dynamic update mode, documentation) they are
// parsed from. The table is the single source for parsing, validation, DescribeConfigs and the
// configuration reference page (`samsa --print-config-docs`).
// Built at start-up on the main thread and shared by const reference. Afterwards only the
// config_registry (broker/admin/) changes it, on the loop thread between requests, and only
// keys whose update mode is not read_only: everything that caches a value at start-up reads
// read-only keys. Parsing throws config_error naming the key.
#pragma once

#include "protocol/kafka_ids.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa::broker {

class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One `NAME://host:port` entry of `listeners` or `advertised.listeners`.
struct listener_endpoint {
    std::string name;  // e.g. PLAINTEXT
    std::string host;  // empty: every interface (listeners) or the host name (advertised)
    uint16_t port = 0; // 0 (listeners only): any free port, chosen when the socket is bound
    bool operator==(const listener_endpoint&) const = default;
};

// group.consumer.migration.policy: which way a non-empty group may change protocol.
enum class migration_policy : uint8_t { disabled, upgrade, downgrade, bidirectional };

struct broker_config {
    protocol::node_id node_id{1};                // node.id, or broker.id (they must agree)
    std::optional<int32_t> broker_id_setting;    // broker.id as given, to check it against node.id
    std::optional<int32_t> node_id_setting;
    std::vector<listener_endpoint> listeners{{"PLAINTEXT", "localhost", 9092}};
    std::vector<listener_endpoint> advertised_listeners;  // empty: same as listeners
    std::vector<std::string> controller_listener_names;   // not served: no controller quorum
    std::vector<std::pair<std::string, std::string>> listener_security_protocols;
    std::string log_dir = "./samsa-data";
    std::vector<std::string> log_dirs_setting;   // log.dirs; wins over log.dir when set

    int32_t num_partitions = 1;
    int16_t default_replication_factor = 1;
    bool auto_create_topics_enable = true;
    bool delete_topic_enable = true;

    std::optional<int64_t> log_retention_ms_setting;
    std::optional<int64_t> log_retention_minutes_setting;
    int64_t log_retention_hours_setting = 168;
    int64_t log_retention_bytes = -1;
    int64_t log_retention_check_interval_ms = 300000;
    int32_t log_segment_bytes = 1073741824;
    std::optional<int64_t> log_roll_ms_setting;
    int64_t log_roll_hours_setting = 168;
    std::optional<int64_t> log_roll_jitter_ms_setting;
    int64_t log_roll_jitter_hours_setting = 0;
    int64_t log_segment_delete_delay_ms = 60000;
    int32_t log_index_size_max_bytes = 10485760;
    int32_t log_index_interval_bytes = 4096;
    int64_t log_flush_interval_messages = INT64_MAX;
    std::optional<int64_t> log_flush_interval_ms;  // unset: the scheduler interval decides
    int64_t log_flush_scheduler_interval_ms = INT64_MAX;
    std::string log_cleanup_policy = "delete";
    std::string compression_type = "producer";
    std::string log_message_timestamp_type = "CreateTime";
    int64_t log_message_timestamp_before_max_ms = INT64_MAX;
    int64_t log_message_timestamp_after_max_ms = 3600000;
    int64_t log_message_timestamp_difference_max_ms = INT64_MAX;
    int64_t log_cleaner_delete_retention_ms = 86400000;
    double log_cleaner_min_cleanable_ratio = 0.5;
    int64_t log_cleaner_min_compaction_lag_ms = 0;
    int64_t log_cleaner_max_compaction_lag_ms = INT64_MAX;
    bool log_preallocate = false;
    int32_t min_insync_replicas = 1;
    bool unclean_leader_election_enable = false;

    // Client quotas (broker/admin/quota_manager.h): rates are measured over
    // quota_window_num windows of quota_window_size_seconds.
    int32_t quota_window_num = 11;
    int32_t quota_window_size_seconds = 1;

    // Connection limits, as Kafka's acceptor enforces them (broker/admin/connection_quotas.h).
    int32_t max_connections = INT32_MAX;
    int32_t max_connections_per_ip = INT32_MAX;
    std::vector<std::pair<std::string, int32_t>> max_connections_per_ip_overrides;  // host -> limit
    int32_t max_connection_creation_rate = INT32_MAX;

    int32_t message_max_bytes = 1048588;
    int32_t fetch_max_bytes = 57671680;  // 55 MiB
    int32_t socket_request_max_bytes = 104857600;
    int32_t socket_send_buffer_bytes = -1;
    int32_t socket_receive_buffer_bytes = -1;
    int64_t connections_max_idle_ms = 600000;
    int32_t queued_max_requests = 500;
    int64_t queued_max_request_bytes = 536870912;
    int64_t shutdown_timeout_ms = 5000;
    std::string log_level = "info";

    // Consumer groups and committed offsets (broker/groups/).
    int32_t offsets_topic_num_partitions = 50;
    int32_t offsets_topic_segment_bytes = 104857600;
    int32_t offsets_retention_minutes = 10080;
    int64_t offsets_retention_check_interval_ms = 600000;
    int32_t offset_metadata_max_bytes = 4096;
    int32_t group_initial_rebalance_delay_ms = 3000;
    int32_t group_min_session_timeout_ms = 6000;
    int32_t group_max_session_timeout_ms = 1800000;
    int32_t group_max_size = INT32_MAX;
    int32_t group_consumer_heartbeat_interval_ms = 5000;
    int32_t group_consumer_session_timeout_ms = 45000;
    int32_t group_consumer_max_size = INT32_MAX;
    std::vector<std::string> group_consumer_assignors{"uniform", "range"};
    migration_policy group_consumer_migration_policy = migration_policy::bidirectional;

    // The transaction coordinator (broker/transactions/).
    int32_t transaction_max_timeout_ms = 900000;
    int32_t transactional_id_expiration_ms = 604800000;
    int32_t transaction_abort_timed_out_transaction_cleanup_interval_ms = 10000;
    int32_t transaction_remove_expired_transaction_cleanup_interval_ms = 3600000;
    int32_t transaction_state_log_num_partitions = 50;
    int32_t transaction_state_log_segment_bytes = 104857600;
    // Idempotent producers: per-partition producer state (storage/producer_state_table.h).
    int32_t producer_id_expiration_ms = 86400000;
    int32_t producer_id_expiration_check_interval_ms = 600000;

    // The known keys as they were given at start-up (file, then overrides; the last one wins),
    // so DescribeConfigs can say which values are STATIC_BROKER_CONFIG. Where a value came from
    // does not make two configurations different, so this never takes part in ==.
    struct given_settings {
        std::map<std::string, std::string> values;
        bool operator==(const given_settings&) const noexcept { return true; }
    };
    given_settings given;

    // The data directories: log.dirs, else log.dir. The first also holds the broker metadata.
    [[nodiscard]] std::vector<std::string> data_dirs() const;
    bool operator==(const broker_config&) const = default;

    // Kafka's precedence: log.retention.ms, else .minutes, else .hours. -1 keeps forever.
    [[nodiscard]] int64_t log_retention_ms() const noexcept;
    // log.roll.ms, else log.roll.hours.
    [[nodiscard]] int64_t log_roll_ms() const noexcept;
    // log.roll.jitter.ms, else log.roll.jitter.hours.
    [[nodiscard]] int64_t log_roll_jitter_ms() const noexcept;
    // advertised.listeners with listeners as the fallback, for the listener called `name`.
    [[nodiscard]] std::optional<listener_endpoint> advertised_for(std::string_view name) const;
    // The listeners the broker binds: `listeners` minus controller listeners.
    [[nodiscard]] std::vector<listener_endpoint> served_listeners() const;
};

enum class config_type { boolean, int16, int32, int64, float64, string, list };

// Whether a key may change while the broker runs (IncrementalAlterConfigs/AlterConfigs on a
// BROKER resource), as Kafka's "dynamic update mode": read_only keys only at start-up,
// per_broker keys for this node only, cluster_wide keys for this node or as the cluster default.
enum class config_update_mode { read_only, per_broker, cluster_wide };

[[nodiscard]] std::string_view to_string(config_update_mode m) noexcept;

[[nodiscard]] std::string_view to_string(config_type t) noexcept;

// One row of the key table.
struct config_key {
    std::string_view name;
    config_type type;
    std::string_view default_text;  // as a user would write it; "" when unset by default
    std::string_view valid;         // the accepted values, in words (for the docs)
    std::string_view doc;
    bool has_effect = true;         // false: accepted for Kafka compatibility, changes nothing
    // Parses `value` (already trimmed) into `cfg`, throwing config_error with the reason.
    void (*apply)(broker_config& cfg, std::string_view value);
    config_update_mode update_mode = config_update_mode::read_only;
    // The key that decides when this one is unset (log.retention.ms -> log.retention.minutes);
    // the chain is what DescribeConfigs lists as synonyms.
    std::string_view fallback = {};
};

[[nodiscard]] std::span<const config_key> config_keys() noexcept;
[[nodiscard]] const config_key* find_config_key(std::string_view name) noexcept;

// Called once for each key Samsa does not know.
using unknown_key_handler = std::function<void(std::string_view key)>;

// Applies `key=value` settings in order (later wins) on top of the defaults, then checks
// values that depend on each other. Throws config_error naming the key.
[[nodiscard]] broker_config build_config(const std::vector<std::pair<std::string, std::string>>& settings,
                                         const unknown_key_handler& on_unknown);

// Reads a server.properties file and then `overrides` ("key=value"), as `samsa` does.
[[nodiscard]] broker_config load_config(const std::optional<std::string>& file,
                                        const std::vector<std::string>& overrides,
                                        const unknown_key_handler& on_unknown);

// Kafka's check between the connection limits (max.connections.per.ip may be 0 only with
// overrides), also run on dynamic changes. Throws config_error.
void check_connection_limits(const broker_config& c);

// Parses "NAME://host:port,..." (listeners syntax). Throws config_error mentioning `key`.
[[nodiscard]] std::vector<listener_endpoint> parse_listeners(std::string_view key, std::string_view text);

} // namespace samsa::broker
