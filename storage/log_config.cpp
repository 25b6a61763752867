#include "storage/log_config.h"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <random>

namespace samsa::storage {
namespace {

constexpr std::array<std::string_view, 21> known_keys = {
    "segment.bytes", "segment.ms", "segment.index.bytes", "index.interval.bytes", "preallocate",
    "max.message.bytes", "message.timestamp.type", "message.timestamp.before.max.ms",
    "message.timestamp.after.max.ms", "cleanup.policy", "retention.ms", "retention.bytes",
    "file.delete.delay.ms", "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "max.compaction.lag.ms",
    "delete.retention.ms", "flush.messages", "flush.ms", "segment.jitter.ms", "message.timestamp.difference.max.ms",
};

template <typename T>
std::string parse_int(std::string_view text, T min, T* out) {
    T v{};
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) return "not an integer: " + std::string(text);
    if (v < min) return "below the minimum " + std::to_string(min) + ": " + std::string(text);
    *out = v;
    return {};
}

std::string trim_list_item(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return std::string(s);
}

} // namespace

bool log_config::is_known_key(std::string_view key) noexcept {
    for (auto k : known_keys)
        if (k == key) return true;
    return false;
}

std::string log_config::set(std::string_view key, std::string_view value) {
    // Minimums follow Kafka's validators (segment.bytes >= 14, segment.index.bytes >= 4, ...).
    if (key == "segment.bytes") return parse_int<int32_t>(value, 14, &segment_bytes);
    if (key == "segment.ms") return parse_int<int64_t>(value, 1, &segment_ms);
    if (key == "segment.index.bytes") return parse_int<int32_t>(value, 4, &segment_index_bytes);
    if (key == "index.interval.bytes") return parse_int<int32_t>(value, 0, &index_interval_bytes);
    if (key == "max.message.bytes") return parse_int<int32_t>(value, 0, &max_message_bytes);
    if (key == "message.timestamp.before.max.ms") return parse_int<int64_t>(value, 0, &message_timestamp_before_max_ms);
    if (key == "message.timestamp.after.max.ms") return parse_int<int64_t>(value, 0, &message_timestamp_after_max_ms);
    if (key == "message.timestamp.difference.max.ms")
        return parse_int<int64_t>(value, 0, &message_timestamp_difference_max_ms);
    if (key == "retention.ms") return parse_int<int64_t>(value, -1, &retention_ms);
    if (key == "retention.bytes") return parse_int<int64_t>(value, -1, &retention_bytes);
    if (key == "file.delete.delay.ms") return parse_int<int64_t>(value, 0, &file_delete_delay_ms);
    if (key == "min.compaction.lag.ms") return parse_int<int64_t>(value, 0, &min_compaction_lag_ms);
    if (key == "max.compaction.lag.ms") return parse_int<int64_t>(value, 1, &max_compaction_lag_ms);
    if (key == "delete.retention.ms") return parse_int<int64_t>(value, 0, &delete_retention_ms);
    if (key == "flush.messages") return parse_int<int64_t>(value, 1, &flush_messages);
    if (key == "flush.ms") return parse_int<int64_t>(value, 0, &flush_ms);
    if (key == "segment.jitter.ms") return parse_int<int64_t>(value, 0, &segment_jitter_ms);
    if (key == "preallocate") {
        if (value == "true") preallocate = true;
        else if (value == "false") preallocate = false;
        else return "not a boolean: " + std::string(value);
        return {};
    }
    if (key == "message.timestamp.type") {
        if (value == "CreateTime") message_timestamp_type = timestamp_type::create_time;
        else if (value == "LogAppendTime") message_timestamp_type = timestamp_type::log_append_time;
        else return "not CreateTime or LogAppendTime: " + std::string(value);
        return {};
    }
    if (key == "cleanup.policy") {
        bool del = false, compact = false;
        std::string_view rest = value;
        while (true) {
            size_t comma = rest.find(',');
            std::string item = trim_list_item(rest.substr(0, comma));
            if (item == "delete") del = true;
            else if (item == "compact") compact = true;
            else if (!(item.empty() && value.empty())) return "unknown cleanup.policy: " + item;
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
        cleanup_delete = del;
        cleanup_compact = compact;
        return {};
    }
    if (key == "min.cleanable.dirty.ratio") {
        double v = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || p != value.data() + value.size()) return "not a number: " + std::string(value);
        if (v < 0 || v > 1) return "not between 0 and 1: " + std::string(value);
        min_cleanable_dirty_ratio = v;
        return {};
    }
    return "unknown storage key: " + std::string(key);
}

int64_t log_config::segment_jitter_from(uint32_t random) const noexcept {
    if (segment_jitter_ms <= 0) return 0;
    // Kafka draws a non-negative Java int (0 to 2^31 - 1): the same range without the sign bit.
    const auto draw = static_cast<int64_t>(random & 0x7fffffffu);
    return draw % std::min(segment_jitter_ms, segment_ms);
}

int64_t log_config::random_segment_jitter() const noexcept {
    if (segment_jitter_ms <= 0) return 0;
    // Segments are created on the loop thread, where nothing may throw: without an entropy
    // source the clock seeds the generator (the jitter only has to differ between segments).
    thread_local std::mt19937 generator{[]() noexcept -> uint32_t {
        try {
            return std::random_device{}();
        } catch (...) {
            return static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        }
    }()};
    return segment_jitter_from(static_cast<uint32_t>(generator()));
}

std::vector<std::pair<std::string, std::string>> log_config::to_properties() const {
    auto i = [](int64_t v) { return std::to_string(v); };
    std::string policy;
    if (cleanup_compact) policy = "compact";
    if (cleanup_delete) policy += policy.empty() ? "delete" : ",delete";
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%g", min_cleanable_dirty_ratio);
    return {
        {"segment.bytes", i(segment_bytes)},
        {"segment.ms", i(segment_ms)},
        {"segment.index.bytes", i(segment_index_bytes)},
        {"index.interval.bytes", i(index_interval_bytes)},
        {"preallocate", preallocate ? "true" : "false"},
        {"max.message.bytes", i(max_message_bytes)},
        {"message.timestamp.type",
         message_timestamp_type == timestamp_type::log_append_time ? "LogAppendTime" : "CreateTime"},
        {"message.timestamp.before.max.ms", i(message_timestamp_before_max_ms)},
        {"message.timestamp.after.max.ms", i(message_timestamp_after_max_ms)},
        {"message.timestamp.difference.max.ms", i(message_timestamp_difference_max_ms)},
        {"cleanup.policy", policy},
        {"retention.ms", i(retention_ms)},
        {"retention.bytes", i(retention_bytes)},
        {"file.delete.delay.ms", i(file_delete_delay_ms)},
        {"min.cleanable.dirty.ratio", ratio},
        {"min.compaction.lag.ms", i(min_compaction_lag_ms)},
        {"max.compaction.lag.ms", i(max_compaction_lag_ms)},
        {"delete.retention.ms", i(delete_retention_ms)},
        {"flush.messages", i(flush_messages)},
        {"flush.ms", i(flush_ms)},
        {"segment.jitter.ms", i(segment_jitter_ms)},
    };
}

} // namespace samsa::storage
