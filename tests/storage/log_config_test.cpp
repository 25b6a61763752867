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
    CHECK(props.size() == 20);
}
