// The settings of the transaction coordinator, taken once from the broker configuration
// (Kafka's key names in the comments). A plain value owned by the transaction_coordinator;
// tests build their own.
#pragma once

#include "broker/config.h"

#include <cstdint>

namespace samsa::broker {

struct transaction_config {
    int32_t max_timeout_ms = 900000;               // transaction.max.timeout.ms
    int64_t id_expiration_ms = 604800000;          // transactional.id.expiration.ms
    int64_t abort_check_interval_ms = 10000;       // transaction.abort.timed.out.transaction.cleanup.interval.ms
    int64_t expiration_check_interval_ms = 3600000; // transaction.remove.expired.transaction.cleanup.interval.ms
    int32_t log_partitions = 50;                   // transaction.state.log.num.partitions
    int32_t log_segment_bytes = 104857600;         // transaction.state.log.segment.bytes
    // How long a marker write that failed waits before it is tried again (Kafka's marker
    // channel retries on its next poll).
    int64_t marker_retry_backoff_ms = 100;

    [[nodiscard]] static transaction_config from(const broker_config& c) {
        transaction_config t;
        t.max_timeout_ms = c.transaction_max_timeout_ms;
        t.id_expiration_ms = c.transactional_id_expiration_ms;
        t.abort_check_interval_ms = c.transaction_abort_timed_out_transaction_cleanup_interval_ms;
        t.expiration_check_interval_ms = c.transaction_remove_expired_transaction_cleanup_interval_ms;
        t.log_partitions = c.transaction_state_log_num_partitions;
        t.log_segment_bytes = c.transaction_state_log_segment_bytes;
        return t;
    }
};

} // namespace samsa::broker
