// storage/log_config: Kafka's keys, defaults and validation.
#include "storage/log_config.h"

#include <doctest/doctest.h>

using namespace samsa::storage;

TEST_CASE("log_config: defaults are Kafka's") {
    log_config c;
    CHECK(c.segment_bytes == 1073741824);
    CHECK(c.segment_index_bytes == 10485760);
    CHECK(c.index_interval_bytes == 4096);
    CHECK(c.retention_ms == 604800000);
    CHECK(c.retention_bytes == -1);
    CHECK(c.max_message_bytes == 1048588);
    CHECK(c.flush_messages == no_limit);
    CHECK(c.cleanup_delete);
    CHECK_FALSE(c.cleanup_compact);
    CHECK(c.min_cleanable_dirty_ratio == 0.5);
}

TEST_CASE("log_config: keys are set from text and refused when malformed") {
    log_config c;
    CHECK(c.set("segment.bytes", "1048576").empty());
    CHECK(c.segment_bytes == 1048576);
    CHECK(c.set("cleanup.policy", "compact,delete").empty());
    CHECK(c.cleanup_compact);
    CHECK(c.cleanup_delete);
    CHECK(c.set("cleanup.policy", "compact").empty());
    CHECK_FALSE(c.cleanup_delete);
    CHECK(c.set("message.timestamp.type", "LogAppendTime").empty());
    CHECK(c.message_timestamp_type == timestamp_type::log_append_time);
    CHECK(c.set("min.cleanable.dirty.ratio", "0.25").empty());
    CHECK(c.min_cleanable_dirty_ratio == 0.25);
    CHECK_FALSE(c.set("segment.bytes", "12").empty());
    CHECK_FALSE(c.set("segment.bytes", "lots").empty());
    CHECK_FALSE(c.set("retention.ms", "-2").empty());
    CHECK_FALSE(c.set("cleanup.policy", "compress").empty());
    CHECK_FALSE(c.set("min.cleanable.dirty.ratio", "1.5").empty());
    CHECK_FALSE(c.set("no.such.key", "1").empty());
    CHECK(c.segment_bytes == 1048576);
}

TEST_CASE("log_config: properties list every known key with its value") {
    log_config c;
    auto props = c.to_properties();
    for (const auto& [k, v] : props) {
        CAPTURE(k);
        CHECK(log_config::is_known_key(k));
        log_config copy;
        CHECK(copy.set(k, v).empty());
    }
    CHECK(props.size() == 21);
}

TEST_CASE("log_config: segment.jitter.ms is kept and a segment's jitter stays below min(jitter, segment.ms)") {
    log_config c;
    CHECK(c.segment_jitter_ms == 0);
    CHECK(c.segment_jitter_from(12345) == 0);
    CHECK(c.random_segment_jitter() == 0);
    CHECK(c.set("segment.ms", "1000").empty());
    CHECK(c.set("segment.jitter.ms", "300").empty());
    CHECK(c.segment_jitter_ms == 300);
    CHECK(c.segment_jitter_from(12345) == 12345 % 300);
    // The draw is a non-negative 31-bit number, as Kafka's.
    CHECK(c.segment_jitter_from(0xffffffffu) == 2147483647 % 300);
    CHECK(c.set("segment.jitter.ms", "5000").empty());
    CHECK(c.segment_jitter_from(1999) == 999);
    for (int i = 0; i < 100; ++i) {
        const int64_t j = c.random_segment_jitter();
        CHECK(j >= 0);
        CHECK(j < 1000);
    }
    CHECK_FALSE(c.set("segment.jitter.ms", "-1").empty());
    bool listed = false;
    for (const auto& [k, v] : c.to_properties())
        if (k == "segment.jitter.ms") listed = v == "5000";
    CHECK(listed);
}

TEST_CASE("log_config: max.compaction.lag.ms shortens the roll age of compacted topics only") {
    log_config c;
    c.segment_ms = 10'000;
    c.max_compaction_lag_ms = 2'000;
    CHECK(c.max_segment_ms() == 10'000);
    c.cleanup_compact = true;
    CHECK(c.max_segment_ms() == 2'000);
    c.max_compaction_lag_ms = no_limit;
    CHECK(c.max_segment_ms() == 10'000);
}

TEST_CASE("log_config: message.timestamp.difference.max.ms bounds only where before/after are unlimited") {
    log_config c;
    CHECK(c.timestamp_before_bound() == no_limit);
    CHECK(c.timestamp_after_bound() == 3600 * 1000);
    REQUIRE(c.set("message.timestamp.difference.max.ms", "5000").empty());
    CHECK(c.timestamp_before_bound() == 5000);         // before is unlimited: the older key applies
    CHECK(c.timestamp_after_bound() == 3600 * 1000);  // after is set: it wins
    REQUIRE(c.set("message.timestamp.after.max.ms", "9223372036854775807").empty());
    CHECK(c.timestamp_after_bound() == 5000);
    REQUIRE(c.set("message.timestamp.before.max.ms", "60000").empty());
    CHECK(c.timestamp_before_bound() == 60000);
    CHECK_FALSE(c.set("message.timestamp.difference.max.ms", "-1").empty());
}
