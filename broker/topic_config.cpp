#include "broker/topic_config.h"

#include "storage/log_config.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace samsa::broker {

namespace {

std::optional<int64_t> to_long(std::string_view v) {
    int64_t out = 0;
    const auto* end = v.data() + v.size();
    const auto [ptr, ec] = std::from_chars(v.data(), end, out);
    if (ec != std::errc{} || ptr != end || v.empty()) return std::nullopt;
    return out;
}

template <int64_t Min, int64_t Max>
std::optional<std::string> long_in(std::string_view v) {
    const auto n = to_long(v);
    if (!n) return "expected an integer";
    if (*n < Min || *n > Max) return "value " + std::string(v) + " is out of range [" + std::to_string(Min) + ", " + std::to_string(Max) + "]";
    return std::nullopt;
}

std::optional<std::string> boolean(std::string_view v) {
    std::string l(v);
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (l == "true" || l == "false") return std::nullopt;
    return "expected true or false";
}

std::optional<std::string> ratio(std::string_view v) {
    std::string s(v);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) return "expected a number";
    if (d < 0.0 || d > 1.0) return "must be between 0 and 1";
    return std::nullopt;
}

std::optional<std::string> cleanup_policy(std::string_view v) {
    size_t pos = 0;
    bool any = false;
    while (pos <= v.size()) {
        size_t comma = v.find(',', pos);
        if (comma == std::string_view::npos) comma = v.size();
        auto item = v.substr(pos, comma - pos);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item != "delete" && item != "compact") return "expected delete, compact or both";
        any = true;
        pos = comma + 1;
    }
    if (!any) return "expected delete, compact or both";
    return std::nullopt;
}

std::optional<std::string> compression(std::string_view v) {
    for (const auto* c : {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"})
        if (v == c) return std::nullopt;
    return "expected one of uncompressed, zstd, lz4, snappy, gzip, producer";
}

std::optional<std::string> timestamp_type(std::string_view v) {
    if (v == "CreateTime" || v == "LogAppendTime") return std::nullopt;
    return "expected CreateTime or LogAppendTime";
}

std::optional<std::string> any(std::string_view) { return std::nullopt; }

constexpr int64_t i32max = INT32_MAX;
constexpr int64_t i64max = INT64_MAX;

// Kafka prints doubles the Java way: 0.5, 1.0.
std::string ratio_text(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    std::string out(buf);
    if (out.find_first_of(".e") == std::string::npos) out += ".0";
    return out;
}

using T = config_type;

std::string no_value(const broker_config&) { return std::string(); }

const topic_config_key keys[] = {
    {"cleanup.policy", "log.cleanup.policy", [](const broker_config& c) { return c.log_cleanup_policy; }, cleanup_policy, T::list,
     "delete: old segments go by retention.ms and retention.bytes; compact: only the latest record of each key is kept; or both."},
    {"compression.type", "compression.type", [](const broker_config& c) { return c.compression_type; }, compression, T::string,
     "The codec batches are stored with: producer keeps the producer's codec, any other value recompresses on write."},
    {"delete.retention.ms", "log.cleaner.delete.retention.ms",
     [](const broker_config& c) { return std::to_string(c.log_cleaner_delete_retention_ms); }, long_in<0, i64max>, T::int64,
     "How long a delete marker (tombstone) stays readable in a compacted topic."},
    {"file.delete.delay.ms", "log.segment.delete.delay.ms",
     [](const broker_config& c) { return std::to_string(c.log_segment_delete_delay_ms); }, long_in<0, i64max>, T::int64,
     "How long a deleted segment's files stay on disk."},
    {"flush.messages", "log.flush.interval.messages",
     [](const broker_config& c) { return std::to_string(c.log_flush_interval_messages); }, long_in<1, i64max>, T::int64,
     "Records appended before the log is fsynced; acks=all waits for that fsync when set."},
    {"flush.ms", "log.flush.interval.ms",
     [](const broker_config& c) { return std::to_string(c.log_flush_interval_ms.value_or(c.log_flush_scheduler_interval_ms)); },
     long_in<0, i64max>, T::int64, "The longest time appended data stays unsynced."},
    {"follower.replication.throttled.replicas", "", no_value, any, T::list,
     "Replicas throttled on the follower side. Accepted; a single node does not replicate."},
    {"index.interval.bytes", "log.index.interval.bytes",
     [](const broker_config& c) { return std::to_string(c.log_index_interval_bytes); }, long_in<0, i32max>, T::int32,
     "Bytes between two entries of the offset index."},
    {"leader.replication.throttled.replicas", "", no_value, any, T::list,
     "Replicas throttled on the leader side. Accepted; a single node does not replicate."},
    {"local.retention.bytes", "", [](const broker_config&) { return std::string("-2"); }, long_in<-2, i64max>, T::int64,
     "Tiered storage's local size limit. Accepted; without tiered storage retention.bytes applies."},
    {"local.retention.ms", "", [](const broker_config&) { return std::string("-2"); }, long_in<-2, i64max>, T::int64,
     "Tiered storage's local time limit. Accepted; without tiered storage retention.ms applies."},
    {"max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms",
     [](const broker_config& c) { return std::to_string(c.log_cleaner_max_compaction_lag_ms); }, long_in<1, i64max>, T::int64,
     "The longest a record may stay uncompacted."},
    {"max.message.bytes", "message.max.bytes", [](const broker_config& c) { return std::to_string(c.message_max_bytes); },
     long_in<0, i32max>, T::int32, "The largest record batch a producer may append to this topic."},
    {"message.downconversion.enable", "", [](const broker_config&) { return std::string("true"); }, boolean, T::boolean,
     "Whether fetches of old versions get batches converted to the old formats."},
    {"message.format.version", "", [](const broker_config&) { return std::string("3.0-IV1"); }, any, T::string,
     "Kafka's deprecated on-disk format version; batches are always stored in format v2."},
    {"message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms",
     [](const broker_config& c) { return std::to_string(c.log_message_timestamp_after_max_ms); }, long_in<0, i64max>, T::int64,
     "How far in the future a record's CreateTime may be."},
    {"message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms",
     [](const broker_config& c) { return std::to_string(c.log_message_timestamp_before_max_ms); }, long_in<0, i64max>, T::int64,
     "How far in the past a record's CreateTime may be."},
    {"message.timestamp.difference.max.ms", "log.message.timestamp.difference.max.ms",
     [](const broker_config& c) { return std::to_string(c.log_message_timestamp_difference_max_ms); }, long_in<0, i64max>,
     T::int64, "Kafka's older bound on CreateTime both ways, used where the before/after key is unlimited."},
    {"message.timestamp.type", "log.message.timestamp.type", [](const broker_config& c) { return c.log_message_timestamp_type; },
     timestamp_type, T::string, "CreateTime keeps the producer's timestamps; LogAppendTime stamps the broker's clock on append."},
    {"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio",
     [](const broker_config& c) { return ratio_text(c.log_cleaner_min_cleanable_ratio); }, ratio, T::float64,
     "The share of uncompacted bytes at which the log is compacted."},
    {"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms",
     [](const broker_config& c) { return std::to_string(c.log_cleaner_min_compaction_lag_ms); }, long_in<0, i64max>, T::int64,
     "The least age of a record before compaction may remove it."},
    {"min.insync.replicas", "min.insync.replicas", [](const broker_config& c) { return std::to_string(c.min_insync_replicas); },
     long_in<1, i32max>, T::int32, "Replicas that must have a record for acks=all; with one replica only 1 can be met."},
    {"preallocate", "log.preallocate", [](const broker_config& c) { return std::string(c.log_preallocate ? "true" : "false"); },
     boolean, T::boolean, "Size new segment files to segment.bytes at once (sparse, as Kafka does: no disk is reserved)."},
    {"remote.storage.enable", "", [](const broker_config&) { return std::string("false"); }, boolean, T::boolean,
     "Tiered storage. Accepted; segments stay local."},
    {"retention.bytes", "log.retention.bytes", [](const broker_config& c) { return std::to_string(c.log_retention_bytes); },
     long_in<-1, i64max>, T::int64, "The largest size a partition keeps before old segments are deleted; -1 no limit."},
    {"retention.ms", "log.retention.ms", [](const broker_config& c) { return std::to_string(c.log_retention_ms()); },
     long_in<-1, i64max>, T::int64, "How long a segment is kept after its newest record; -1 forever."},
    {"segment.bytes", "log.segment.bytes", [](const broker_config& c) { return std::to_string(c.log_segment_bytes); },
     long_in<14, i32max>, T::int32, "The size at which the active segment is rolled."},
    {"segment.index.bytes", "log.index.size.max.bytes",
     [](const broker_config& c) { return std::to_string(c.log_index_size_max_bytes); }, long_in<4, i32max>, T::int32,
     "The largest size of a segment's offset index."},
    {"segment.jitter.ms", "log.roll.jitter.ms", [](const broker_config& c) { return std::to_string(c.log_roll_jitter_ms()); },
     long_in<0, i64max>, T::int64, "Largest random amount taken off segment.ms for each new segment, so segments do not all roll at once."},
    {"segment.ms", "log.roll.ms", [](const broker_config& c) { return std::to_string(c.log_roll_ms()); }, long_in<1, i64max>,
     T::int64, "The age at which the active segment is rolled."},
    {"unclean.leader.election.enable", "unclean.leader.election.enable",
     [](const broker_config& c) { return std::string(c.unclean_leader_election_enable ? "true" : "false"); }, boolean,
     T::boolean, "Whether an out-of-sync replica may become leader; with one replica there is no election."},
};

} // namespace

std::span<const topic_config_key> topic_config_keys() noexcept { return keys; }

const topic_config_key* find_topic_config_key(std::string_view name) noexcept {
    for (const auto& k : keys)
        if (k.name == name) return &k;
    return nullptr;
}

std::string topic_config_value(const topic_configs& overrides, std::string_view name, const broker_config& cfg) {
    if (auto it = overrides.find(std::string(name)); it != overrides.end()) return it->second;
    const auto* k = find_topic_config_key(name);
    return k == nullptr ? std::string() : k->broker_default(cfg);
}

std::optional<std::string> topic_config_problem(std::string_view name, std::string_view value) {
    const auto* k = find_topic_config_key(name);
    if (k == nullptr) return "Unknown topic config name: " + std::string(name);
    if (auto p = k->problem(value)) return "Invalid value " + std::string(value) + " for configuration " + std::string(name) + ": " + *p;
    // Storage parses its own keys when a log is opened; it must accept what is accepted here.
    if (storage::log_config::is_known_key(name)) {
        storage::log_config probe;
        if (auto err = probe.set(name, value); !err.empty())
            return "Invalid value " + std::string(value) + " for configuration " + std::string(name) + ": " + err;
    }
    return std::nullopt;
}

std::vector<effective_config> describe_topic_config(const topic_configs& overrides, const broker_config& cfg) {
    static const broker_config defaults{};
    std::vector<effective_config> out;
    out.reserve(std::size(keys));
    for (const auto& k : keys) {
        if (auto it = overrides.find(std::string(k.name)); it != overrides.end()) {
            out.push_back({std::string(k.name), it->second, config_source::dynamic_topic});
            continue;
        }
        std::string value = k.broker_default(cfg);
        const bool from_broker = !k.broker_synonym.empty() && value != k.broker_default(defaults);
        out.push_back({std::string(k.name), std::move(value), from_broker ? config_source::static_broker : config_source::default_config});
    }
    return out;
}

} // namespace samsa::broker
