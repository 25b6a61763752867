// The per-topic storage settings, under Kafka's topic-level key names and with Kafka's defaults
// (docs/storage.md lists them). A plain value: the broker builds one per topic from its defaults
// and the topic's overrides, hands a copy to log_manager, and may replace it later with
// log::set_config. No thread affinity; parsing allocates and is meant for start-up and admin
// requests, never for the produce path.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa::storage {

inline constexpr int64_t no_limit = std::numeric_limits<int64_t>::max();

enum class timestamp_type : uint8_t { create_time, log_append_time };

struct log_config {
    // Segments and indexes.
    int32_t segment_bytes = 1024 * 1024 * 1024;        // segment.bytes
    int64_t segment_ms = 7LL * 24 * 3600 * 1000;       // segment.ms
    int64_t segment_jitter_ms = 0;                     // segment.jitter.ms
    int32_t segment_index_bytes = 10 * 1024 * 1024;    // segment.index.bytes
    int32_t index_interval_bytes = 4096;               // index.interval.bytes
    bool preallocate = false;                          // preallocate

    // Appends.
    int32_t max_message_bytes = 1024 * 1024 + 12;      // max.message.bytes
    timestamp_type message_timestamp_type = timestamp_type::create_time;  // message.timestamp.type
    int64_t message_timestamp_before_max_ms = no_limit;                  // message.timestamp.before.max.ms
    int64_t message_timestamp_after_max_ms = 3600 * 1000;                // message.timestamp.after.max.ms
    int64_t message_timestamp_difference_max_ms = no_limit;              // message.timestamp.difference.max.ms

    // Retention and compaction.
    bool cleanup_delete = true;                        // cleanup.policy contains "delete"
    bool cleanup_compact = false;                      // cleanup.policy contains "compact"
    int64_t retention_ms = 7LL * 24 * 3600 * 1000;     // retention.ms (-1: unlimited)
    int64_t retention_bytes = -1;                      // retention.bytes (-1: unlimited)
    int64_t file_delete_delay_ms = 60 * 1000;          // file.delete.delay.ms
    double min_cleanable_dirty_ratio = 0.5;            // min.cleanable.dirty.ratio
    int64_t min_compaction_lag_ms = 0;                 // min.compaction.lag.ms
    int64_t max_compaction_lag_ms = no_limit;          // max.compaction.lag.ms
    int64_t delete_retention_ms = 24LL * 3600 * 1000;  // delete.retention.ms

    // Flushing: by default the operating system decides when dirty pages reach the disk.
    int64_t flush_messages = no_limit;                 // flush.messages
    int64_t flush_ms = no_limit;                       // flush.ms

    // Sets one key from its text form. Returns an empty string, or why the value was refused
    // (unknown key, malformed number, out of range). Only storage's keys are known here; the
    // broker handles the rest (min.insync.replicas, compression.type, ...).
    [[nodiscard]] std::string set(std::string_view key, std::string_view value);
    // Every key this struct knows with its current value in Kafka's text form, in a fixed order
    // (DescribeConfigs).
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> to_properties() const;
    [[nodiscard]] static bool is_known_key(std::string_view key) noexcept;

    // How far before / after the append time a CreateTime timestamp may be. As in Kafka 3.6-3.9,
    // a bound left at no limit falls back to the older message.timestamp.difference.max.ms.
    [[nodiscard]] int64_t timestamp_before_bound() const noexcept {
        return message_timestamp_before_max_ms != no_limit ? message_timestamp_before_max_ms : message_timestamp_difference_max_ms;
    }
    [[nodiscard]] int64_t timestamp_after_bound() const noexcept {
        return message_timestamp_after_max_ms != no_limit ? message_timestamp_after_max_ms : message_timestamp_difference_max_ms;
    }

    // The age at which a segment rolls, before its jitter: segment.ms, or max.compaction.lag.ms
    // when that is shorter on a compacted topic (a segment must be sealed to be cleaned).
    [[nodiscard]] int64_t max_segment_ms() const noexcept {
        return cleanup_compact && max_compaction_lag_ms > 0 ? std::min(max_compaction_lag_ms, segment_ms) : segment_ms;
    }
    // A new segment's roll jitter, as Kafka draws it: a non-negative 32-bit random number modulo
    // min(segment.jitter.ms, segment.ms); 0 when segment.jitter.ms is 0. `random` is the draw
    // (tests pass their own); random_segment_jitter() draws from a per-thread generator.
    [[nodiscard]] int64_t segment_jitter_from(uint32_t random) const noexcept;
    [[nodiscard]] int64_t random_segment_jitter() const noexcept;
};

} // namespace samsa::storage
