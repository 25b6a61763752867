// The settings of the group coordinator, taken once from the broker configuration (Kafka's key
// names in the comments). A plain value owned by the group_coordinator; tests build their own.
#pragma once

#include "broker/config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace samsa::broker {

struct group_config {
    int32_t offsets_topic_partitions = 50;           // offsets.topic.num.partitions
    int32_t offsets_topic_segment_bytes = 104857600; // offsets.topic.segment.bytes
    int64_t offsets_retention_ms = 10080LL * 60'000;  // offsets.retention.minutes
    int64_t offsets_retention_check_ms = 600000;     // offsets.retention.check.interval.ms
    int32_t offset_metadata_max_bytes = 4096;        // offset.metadata.max.bytes
    int32_t initial_rebalance_delay_ms = 3000;       // group.initial.rebalance.delay.ms
    int32_t min_session_timeout_ms = 6000;           // group.min.session.timeout.ms
    int32_t max_session_timeout_ms = 1800000;        // group.max.session.timeout.ms
    int32_t max_size = INT32_MAX;                    // group.max.size
    int32_t consumer_heartbeat_interval_ms = 5000;   // group.consumer.heartbeat.interval.ms
    int32_t consumer_session_timeout_ms = 45000;     // group.consumer.session.timeout.ms
    int32_t consumer_max_size = INT32_MAX;           // group.consumer.max.size
    std::vector<std::string> consumer_assignors{"uniform", "range"};  // group.consumer.assignors
    migration_policy consumer_migration = migration_policy::bidirectional;  // group.consumer.migration.policy
    // How long a member that joined for the first time may wait in a rebalance before it is
    // dropped (Kafka's fixed 5 minutes): it has no member id to heartbeat with yet.
    int32_t new_member_join_timeout_ms = 300000;

    [[nodiscard]] bool upgrade_allowed() const noexcept {
        return consumer_migration == migration_policy::upgrade || consumer_migration == migration_policy::bidirectional;
    }
    [[nodiscard]] bool downgrade_allowed() const noexcept {
        return consumer_migration == migration_policy::downgrade || consumer_migration == migration_policy::bidirectional;
    }

    [[nodiscard]] static group_config from(const broker_config& c) {
        group_config g;
        g.offsets_topic_partitions = c.offsets_topic_num_partitions;
        g.offsets_topic_segment_bytes = c.offsets_topic_segment_bytes;
        g.offsets_retention_ms = int64_t{c.offsets_retention_minutes} * 60'000;
        g.offsets_retention_check_ms = c.offsets_retention_check_interval_ms;
        g.offset_metadata_max_bytes = c.offset_metadata_max_bytes;
        g.initial_rebalance_delay_ms = c.group_initial_rebalance_delay_ms;
        g.min_session_timeout_ms = c.group_min_session_timeout_ms;
        g.max_session_timeout_ms = c.group_max_session_timeout_ms;
        g.max_size = c.group_max_size;
        g.consumer_heartbeat_interval_ms = c.group_consumer_heartbeat_interval_ms;
        g.consumer_session_timeout_ms = c.group_consumer_session_timeout_ms;
        g.consumer_max_size = c.group_consumer_max_size;
        g.consumer_assignors = c.group_consumer_assignors;
        g.consumer_migration = c.group_consumer_migration_policy;
        return g;
    }
};

} // namespace samsa::broker
