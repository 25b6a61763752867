#include "broker/config.h"

#include "broker/logger.h"
#include "broker/properties_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace samsa::broker {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

int64_t parse_integer(std::string_view v, int64_t min, int64_t max) {
    int64_t out = 0;
    const auto* end = v.data() + v.size();
    const auto [ptr, ec] = std::from_chars(v.data(), end, out);
    if (ec == std::errc::result_out_of_range) throw config_error("the number is out of range");
    if (ec != std::errc{} || ptr != end || v.empty()) throw config_error("expected an integer");
    if (out < min || out > max) {
        std::ostringstream os;
        os << "must be ";
        if (max == INT64_MAX || max == INT32_MAX || max == INT16_MAX) os << "at least " << min;
        else os << "between " << min << " and " << max;
        throw config_error(os.str());
    }
    return out;
}

bool parse_boolean(std::string_view v) {
    const std::string l = lower(v);
    if (l == "true") return true;
    if (l == "false") return false;
    throw config_error("expected true or false");
}

std::vector<std::string> parse_list(std::string_view v) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= v.size()) {
        size_t comma = v.find(',', pos);
        if (comma == std::string_view::npos) comma = v.size();
        const auto item = trim(v.substr(pos, comma - pos));
        if (!item.empty()) out.emplace_back(item);
        pos = comma + 1;
    }
    return out;
}

template <auto Member, int64_t Min, int64_t Max>
void set_int(broker_config& c, std::string_view v) {
    using T = std::remove_reference_t<decltype(c.*Member)>;
    c.*Member = static_cast<T>(parse_integer(v, Min, Max));
}

template <auto Member, int64_t Min, int64_t Max>
void set_optional_int(broker_config& c, std::string_view v) {
    c.*Member = parse_integer(v, Min, Max);
}

template <auto Member>
void set_bool(broker_config& c, std::string_view v) {
    c.*Member = parse_boolean(v);
}

template <auto Member>
void set_ratio(broker_config& c, std::string_view v) {
    std::string text(v);
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) throw config_error("expected a number");
    if (d < 0.0 || d > 1.0) throw config_error("must be between 0 and 1");
    c.*Member = d;
}

void ignore(broker_config&, std::string_view) {}

void set_node_id(broker_config& c, std::string_view v) {
    c.node_id_setting = static_cast<int32_t>(parse_integer(v, 0, INT32_MAX));
}
void set_broker_id(broker_config& c, std::string_view v) {
    c.broker_id_setting = static_cast<int32_t>(parse_integer(v, 0, INT32_MAX));
}

void set_listeners(broker_config& c, std::string_view v) {
    c.listeners = parse_listeners("listeners", v);
    if (c.listeners.empty()) throw config_error("at least one listener is required");
}
void set_advertised(broker_config& c, std::string_view v) {
    c.advertised_listeners = parse_listeners("advertised.listeners", v);
    for (const auto& l : c.advertised_listeners)
        if (l.port == 0) throw config_error("an advertised listener needs a port");
}
void set_controller_names(broker_config& c, std::string_view v) { c.controller_listener_names = parse_list(v); }
// Kafka's "host:limit,host:limit" (the limit after the last colon, so IPv6 addresses work).
void set_ip_overrides(broker_config& c, std::string_view v) {
    std::vector<std::pair<std::string, int32_t>> out;
    for (const auto& item : parse_list(v)) {
        const auto colon = item.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
            throw config_error("expected host:limit entries, got '" + item + "'");
        const std::string host(trim(std::string_view(item).substr(0, colon)));
        const bool valid_host = !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char ch) {
            return std::isalnum(ch) || ch == '.' || ch == '-' || ch == ':' || ch == '_';
        });
        if (!valid_host) throw config_error("max.connections.per.ip.overrides contains invalid addresses : " + host);
        out.emplace_back(host, static_cast<int32_t>(parse_integer(trim(std::string_view(item).substr(colon + 1)), 0, INT32_MAX)));
    }
    c.max_connections_per_ip_overrides = std::move(out);
}

void set_protocol_map(broker_config& c, std::string_view v) {
    c.listener_security_protocols.clear();
    for (const auto& item : parse_list(v)) {
        const auto colon = item.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
            throw config_error("expected NAME:PROTOCOL entries, got '" + item + "'");
        c.listener_security_protocols.emplace_back(item.substr(0, colon), item.substr(colon + 1));
    }
}
void set_log_dir(broker_config& c, std::string_view v) {
    if (v.empty()) throw config_error("must not be empty");
    c.log_dir = std::string(v);
}
void set_log_dirs(broker_config& c, std::string_view v) {
    c.log_dirs_setting = parse_list(v);
    if (c.log_dirs_setting.empty()) throw config_error("must name at least one directory");
}
void set_cleanup_policy(broker_config& c, std::string_view v) {
    const auto items = parse_list(v);
    if (items.empty()) throw config_error("expected delete, compact or both");
    for (const auto& i : items)
        if (i != "delete" && i != "compact") throw config_error("expected delete, compact or both");
    std::string joined;
    for (const auto& i : items) joined += (joined.empty() ? "" : ",") + i;
    c.log_cleanup_policy = joined;
}
void set_compression(broker_config& c, std::string_view v) {
    static constexpr std::string_view allowed[] = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"};
    const std::string l = lower(v);
    if (std::find(std::begin(allowed), std::end(allowed), l) == std::end(allowed))
        throw config_error("expected one of uncompressed, zstd, lz4, snappy, gzip, producer");
    c.compression_type = l;
}
void set_timestamp_type(broker_config& c, std::string_view v) {
    if (v != "CreateTime" && v != "LogAppendTime") throw config_error("expected CreateTime or LogAppendTime");
    c.log_message_timestamp_type = std::string(v);
}
void set_log_level(broker_config& c, std::string_view v) {
    const std::string l = lower(v);
    if (l != "debug" && l != "info" && l != "warn" && l != "error") throw config_error("expected debug, info, warn or error");
    c.log_level = l;
}

void set_assignors(broker_config& c, std::string_view v) {
    c.group_consumer_assignors.clear();
    for (const auto& item : parse_list(v)) {
        // Kafka names the built-in assignors by class; the short names are what clients send.
        std::string name = item;
        if (name == "org.apache.kafka.coordinator.group.assignor.UniformAssignor") name = "uniform";
        if (name == "org.apache.kafka.coordinator.group.assignor.RangeAssignor") name = "range";
        if (name != "uniform" && name != "range") throw config_error("unknown assignor '" + item + "' (uniform and range exist)");
        if (std::find(c.group_consumer_assignors.begin(), c.group_consumer_assignors.end(), name) == c.group_consumer_assignors.end())
            c.group_consumer_assignors.push_back(name);
    }
    if (c.group_consumer_assignors.empty()) throw config_error("name at least one assignor");
}

void set_migration_policy(broker_config& c, std::string_view v) {
    static constexpr std::pair<std::string_view, migration_policy> policies[] = {{"disabled", migration_policy::disabled},
                                                                                  {"upgrade", migration_policy::upgrade},
                                                                                  {"downgrade", migration_policy::downgrade},
                                                                                  {"bidirectional", migration_policy::bidirectional}};
    const std::string l = lower(v);
    for (const auto& [name, policy] : policies)
        if (l == name) {
            c.group_consumer_migration_policy = policy;
            return;
        }
    throw config_error("expected disabled, upgrade, downgrade or bidirectional");
}

constexpr int64_t i32max = INT32_MAX;
constexpr int64_t i64max = INT64_MAX;

using B = broker_config;
using T = config_type;
constexpr auto cluster = config_update_mode::cluster_wide;

// The one table. Keep defaults here equal to broker_config's initialisers (a test checks it).
const config_key keys[] = {
    // Identity and network.
    {"node.id", T::int32, "1", "[0,...]", "The id of this node in metadata responses (Kafka's node.id).", true, set_node_id},
    {"broker.id", T::int32, "1", "[0,...]", "Older name of node.id; when both are set they must agree.", true, set_broker_id},
    {"listeners", T::list, "PLAINTEXT://localhost:9092", "NAME://host:port,...",
     "Addresses to listen on. An empty host listens on every interface; port 0 picks a free port.", true, set_listeners},
    {"advertised.listeners", T::list, "", "NAME://host:port,...",
     "Addresses given to clients in metadata responses, per listener name. Unset: the listeners, with an empty host replaced by this machine's host name.",
     true, set_advertised},
    {"controller.listener.names", T::list, "", "names",
     "Listeners reserved for a controller quorum. Samsa has none, so these listeners are not opened.", true, set_controller_names},
    {"listener.security.protocol.map", T::list, "", "NAME:PROTOCOL,...",
     "Security protocol per listener name. Only PLAINTEXT is served; a listener mapped to anything else stops start-up.", true, set_protocol_map},
    {"socket.request.max.bytes", T::int32, "104857600", "[1,...]",
     "The largest request frame accepted; a larger size prefix closes the connection before anything is allocated.", true,
     set_int<&B::socket_request_max_bytes, 1, i32max>},
    {"socket.send.buffer.bytes", T::int32, "-1", "[-1,...]", "SO_SNDBUF for client sockets; -1 leaves the OS default (Kafka's default is 102400).", true,
     set_int<&B::socket_send_buffer_bytes, -1, i32max>},
    {"socket.receive.buffer.bytes", T::int32, "-1", "[-1,...]", "SO_RCVBUF for client sockets; -1 leaves the OS default (Kafka's default is 102400).", true,
     set_int<&B::socket_receive_buffer_bytes, -1, i32max>},
    {"connections.max.idle.ms", T::int64, "600000", "[-1,...]",
     "Close a connection with no traffic and no request in progress for this long; -1 never does.", true,
     set_int<&B::connections_max_idle_ms, -1, i64max>},
    {"queued.max.requests", T::int32, "500", "[1,...]",
     "Requests one connection may have in flight (pipelined) before the broker stops reading from it.", true,
     set_int<&B::queued_max_requests, 1, i32max>},
    {"queued.max.request.bytes", T::int64, "536870912", "[-1,...]",
     "Memory for requests being read and responses waiting to be written, across all connections; over it, the broker stops reading. -1: no limit (Kafka's default).",
     true, set_int<&B::queued_max_request_bytes, -1, i64max>},
    {"max.connections", T::int32, "2147483647", "[0,...]",
     "Connections the broker keeps open at once. At the limit it stops accepting (new connections wait in the listen queue) until one closes.",
     true, set_int<&B::max_connections, 0, i32max>, cluster},
    {"max.connections.per.ip", T::int32, "2147483647", "[0,...]",
     "Connections one IP address may have open; a connection over it is closed at once. 0 only with max.connections.per.ip.overrides.", true,
     set_int<&B::max_connections_per_ip, 0, i32max>, cluster},
    {"max.connections.per.ip.overrides", T::string, "", "host:limit,...",
     "Per-IP (or host name) exceptions to max.connections.per.ip.", true, set_ip_overrides, cluster},
    {"max.connection.creation.rate", T::int32, "2147483647", "[0,...]",
     "New connections per second the broker accepts, measured over the quota windows; over it, accepting waits until the rate is back within it.",
     true, set_int<&B::max_connection_creation_rate, 0, i32max>, cluster},
    {"message.max.bytes", T::int32, "1048588", "[0,...]", "The largest record batch a produce request may append.", true,
     set_int<&B::message_max_bytes, 0, i32max>, cluster},
    {"fetch.max.bytes", T::int32, "57671680", "[1024,...]",
     "The most record bytes one fetch response carries: a request's max_bytes above it is lowered to it, at every version (KIP-541).",
     true, set_int<&B::fetch_max_bytes, 1024, i32max>},

    // Topics.
    {"num.partitions", T::int32, "1", "[1,...]", "Partitions of a topic created without a partition count (auto-created or -1).", true,
     set_int<&B::num_partitions, 1, i32max>},
    {"default.replication.factor", T::int16, "1", "[1,...]",
     "Replication factor of a topic created without one. A single node can only host 1.", true,
     set_int<&B::default_replication_factor, 1, INT16_MAX>},
    {"auto.create.topics.enable", T::boolean, "true", "true, false",
     "Create a topic a metadata request names when it does not exist (and the request allows it).", true,
     set_bool<&B::auto_create_topics_enable>},
    {"delete.topic.enable", T::boolean, "true", "true, false", "Whether DeleteTopics deletes topics.", true,
     set_bool<&B::delete_topic_enable>},

    // Logs.
    {"log.dir", T::string, "./samsa-data", "a path", "The data directory, used when log.dirs is not set. Created if missing.", true, set_log_dir},
    {"log.dirs", T::list, "", "paths", "Data directories. The first one holds the broker metadata.", true, set_log_dirs},
    {"log.segment.bytes", T::int32, "1073741824", "[14,...]", "Size at which a partition's active segment is rolled.", true,
     set_int<&B::log_segment_bytes, 14, i32max>, cluster},
    {"log.roll.ms", T::int64, "", "[1,...]", "Age at which a segment is rolled; wins over log.roll.hours.", true,
     set_optional_int<&B::log_roll_ms_setting, 1, i64max>, cluster, "log.roll.hours"},
    {"log.roll.hours", T::int32, "168", "[1,...]", "Age in hours at which a segment is rolled.", true,
     set_int<&B::log_roll_hours_setting, 1, i32max>, cluster},
    {"log.roll.jitter.ms", T::int64, "", "[0,...]", "Largest random amount taken off each new segment's roll age; wins over log.roll.jitter.hours.",
     true, set_optional_int<&B::log_roll_jitter_ms_setting, 0, i64max>, cluster, "log.roll.jitter.hours"},
    {"log.roll.jitter.hours", T::int32, "0", "[0,...]", "Largest random amount, in hours, taken off each new segment's roll age.",
     true, set_int<&B::log_roll_jitter_hours_setting, 0, i32max>, cluster},
    {"log.retention.ms", T::int64, "", "[-1,...]", "How long to keep a segment; -1 forever. Wins over minutes and hours.", true,
     set_optional_int<&B::log_retention_ms_setting, -1, i64max>, cluster, "log.retention.minutes"},
    {"log.retention.minutes", T::int32, "", "[-1,...]", "How long to keep a segment, in minutes; wins over hours.", true,
     set_optional_int<&B::log_retention_minutes_setting, -1, i32max>, cluster, "log.retention.hours"},
    {"log.retention.hours", T::int32, "168", "[-1,...]", "How long to keep a segment, in hours.", true,
     set_int<&B::log_retention_hours_setting, -1, i32max>, cluster},
    {"log.retention.bytes", T::int64, "-1", "[-1,...]", "Largest size of a partition before old segments are deleted; -1 no limit.", true,
     set_int<&B::log_retention_bytes, -1, i64max>, cluster},
    {"log.retention.check.interval.ms", T::int64, "300000", "[1,...]", "How often retention is checked.", true,
     set_int<&B::log_retention_check_interval_ms, 1, i64max>},
    {"log.segment.delete.delay.ms", T::int64, "60000", "[0,...]", "Delay before a deleted segment's files are removed.", true,
     set_int<&B::log_segment_delete_delay_ms, 0, i64max>, cluster},
    {"log.index.size.max.bytes", T::int32, "10485760", "[4,...]", "Largest size of an offset index file.", true,
     set_int<&B::log_index_size_max_bytes, 4, i32max>, cluster},
    {"log.index.interval.bytes", T::int32, "4096", "[0,...]", "Bytes between offset index entries.", true,
     set_int<&B::log_index_interval_bytes, 0, i32max>, cluster},
    {"log.flush.interval.messages", T::int64, "9223372036854775807", "[1,...]",
     "Messages appended to a partition before it is fsynced.", true, set_int<&B::log_flush_interval_messages, 1, i64max>, cluster},
    {"log.flush.interval.ms", T::int64, "", "[0,...]", "Longest time data stays unsynced; unset: log.flush.scheduler.interval.ms.", true,
     set_optional_int<&B::log_flush_interval_ms, 0, i64max>, cluster, "log.flush.scheduler.interval.ms"},
    {"log.flush.scheduler.interval.ms", T::int64, "9223372036854775807", "[0,...]", "How often the flusher checks for logs to sync.", true,
     set_int<&B::log_flush_scheduler_interval_ms, 0, i64max>},
    {"log.cleanup.policy", T::list, "delete", "delete,compact", "Default cleanup policy of topics.", true, set_cleanup_policy, cluster},
    {"compression.type", T::string, "producer", "uncompressed, zstd, lz4, snappy, gzip, producer", "Default compression of topics.", true,
     set_compression, cluster},
    {"log.message.timestamp.type", T::string, "CreateTime", "CreateTime, LogAppendTime", "Default timestamp type of topics.", true,
     set_timestamp_type, cluster},
    {"log.message.timestamp.before.max.ms", T::int64, "9223372036854775807", "[0,...]",
     "Default of topics: how far in the past a record's CreateTime may be.", true,
     set_int<&B::log_message_timestamp_before_max_ms, 0, i64max>, cluster},
    {"log.message.timestamp.after.max.ms", T::int64, "3600000", "[0,...]",
     "Default of topics: how far in the future a record's CreateTime may be.", true,
     set_int<&B::log_message_timestamp_after_max_ms, 0, i64max>, cluster},
    {"log.message.timestamp.difference.max.ms", T::int64, "9223372036854775807", "[0,...]",
     "Default of topics; Kafka's older bound on CreateTime, used where the before/after key is unlimited.", true,
     set_int<&B::log_message_timestamp_difference_max_ms, 0, i64max>, cluster},
    {"log.cleaner.delete.retention.ms", T::int64, "86400000", "[0,...]",
     "Default of topics: how long delete markers (tombstones) survive compaction.", true,
     set_int<&B::log_cleaner_delete_retention_ms, 0, i64max>, cluster},
    {"log.cleaner.min.cleanable.ratio", T::float64, "0.5", "[0,...,1]",
     "Default of topics: the share of uncompacted bytes at which a log is compacted.", true,
     set_ratio<&B::log_cleaner_min_cleanable_ratio>, cluster},
    {"log.cleaner.min.compaction.lag.ms", T::int64, "0", "[0,...]",
     "Default of topics: the least age of a record before compaction may remove it.", true,
     set_int<&B::log_cleaner_min_compaction_lag_ms, 0, i64max>, cluster},
    {"log.cleaner.max.compaction.lag.ms", T::int64, "9223372036854775807", "[1,...]",
     "Default of topics: the greatest age of an uncompacted record.", true,
     set_int<&B::log_cleaner_max_compaction_lag_ms, 1, i64max>, cluster},
    {"log.preallocate", T::boolean, "false", "true, false", "Default of topics: preallocate segment files.", true,
     set_bool<&B::log_preallocate>, cluster},
    {"min.insync.replicas", T::int32, "1", "[1,...]",
     "Default of topics. Every partition here has exactly one replica, so only 1 lets acks=all produce succeed.", true,
     set_int<&B::min_insync_replicas, 1, i32max>, cluster},
    {"unclean.leader.election.enable", T::boolean, "false", "true, false",
     "Default of topics. Reported for compatibility: with one replica there is no election.", true,
     set_bool<&B::unclean_leader_election_enable>, cluster},

    // Client quotas.
    {"quota.window.num", T::int32, "11", "[1,...]", "How many windows a client's byte and request rates are measured over.", true,
     set_int<&B::quota_window_num, 1, i32max>},
    {"quota.window.size.seconds", T::int32, "1", "[1,...]", "The length of one quota window.", true,
     set_int<&B::quota_window_size_seconds, 1, i32max>},

    // Consumer groups and committed offsets.
    {"offsets.topic.num.partitions", T::int32, "50", "[1,...]",
     "Partitions of the internal __consumer_offsets topic, created (compacted) on first use. Changing it later does not move groups.",
     true, set_int<&B::offsets_topic_num_partitions, 1, i32max>},
    {"offsets.topic.segment.bytes", T::int32, "104857600", "[14,...]", "Segment size of the __consumer_offsets partitions.", true,
     set_int<&B::offsets_topic_segment_bytes, 14, i32max>},
    {"offsets.retention.minutes", T::int32, "10080", "[1,...]",
     "How long committed offsets are kept after their group became empty (or, for a group without members, after the commit).", true,
     set_int<&B::offsets_retention_minutes, 1, i32max>},
    {"offsets.retention.check.interval.ms", T::int64, "600000", "[1,...]", "How often expired offsets are looked for.", true,
     set_int<&B::offsets_retention_check_interval_ms, 1, i64max>},
    {"offset.metadata.max.bytes", T::int32, "4096", "[0,...]", "The longest metadata string an offset commit may carry.", true,
     set_int<&B::offset_metadata_max_bytes, 0, i32max>},
    {"group.initial.rebalance.delay.ms", T::int32, "3000", "[0,...]",
     "How long the first rebalance of an empty classic group waits for more members, extended by each new member up to the rebalance timeout.",
     true, set_int<&B::group_initial_rebalance_delay_ms, 0, i32max>},
    {"group.min.session.timeout.ms", T::int32, "6000", "[0,...]", "The shortest session timeout a classic group member may ask for.", true,
     set_int<&B::group_min_session_timeout_ms, 0, i32max>},
    {"group.max.session.timeout.ms", T::int32, "1800000", "[0,...]", "The longest session timeout a classic group member may ask for.", true,
     set_int<&B::group_max_session_timeout_ms, 0, i32max>},
    {"group.max.size", T::int32, "2147483647", "[1,...]", "The most members a classic group may have.", true,
     set_int<&B::group_max_size, 1, i32max>},
    {"group.consumer.heartbeat.interval.ms", T::int32, "5000", "[1,...]",
     "How often members of a consumer (KIP-848) group are told to heartbeat.", true,
     set_int<&B::group_consumer_heartbeat_interval_ms, 1, i32max>},
    {"group.consumer.session.timeout.ms", T::int32, "45000", "[1,...]",
     "How long a consumer (KIP-848) group member may go without a heartbeat before it is fenced.", true,
     set_int<&B::group_consumer_session_timeout_ms, 1, i32max>},
    {"group.consumer.max.size", T::int32, "2147483647", "[1,...]", "The most members a consumer (KIP-848) group may have.", true,
     set_int<&B::group_consumer_max_size, 1, i32max>},
    {"group.consumer.assignors", T::list, "uniform,range", "uniform,range",
     "Server-side assignors of consumer (KIP-848) groups, the first being the default. Kafka's class names are accepted too.", true,
     set_assignors},
    {"group.consumer.migration.policy", T::string, "bidirectional", "disabled, upgrade, downgrade, bidirectional",
     "Whether a non-empty group changes protocol while its members run: upgrade turns a classic group of the consumer "
     "protocol into a consumer (KIP-848) group when a KIP-848 member joins it, downgrade turns a consumer group back "
     "into a classic group when its last KIP-848 member leaves and classic members remain.",
     true, set_migration_policy},

    // Transactions.
    {"transaction.max.timeout.ms", T::int32, "900000", "[1,...]",
     "The longest transaction.timeout.ms a producer may ask for; longer ones get INVALID_TRANSACTION_TIMEOUT.", true,
     set_int<&B::transaction_max_timeout_ms, 1, i32max>},
    {"transactional.id.expiration.ms", T::int32, "604800000", "[1,...]",
     "How long a transactional id with no transaction under way is kept after its last change.", true,
     set_int<&B::transactional_id_expiration_ms, 1, i32max>},
    {"transaction.abort.timed.out.transaction.cleanup.interval.ms", T::int32, "10000", "[1,...]",
     "How often transactions past their timeout are looked for and aborted.", true,
     set_int<&B::transaction_abort_timed_out_transaction_cleanup_interval_ms, 1, i32max>},
    {"transaction.remove.expired.transaction.cleanup.interval.ms", T::int32, "3600000", "[1,...]",
     "How often expired transactional ids are looked for and removed.", true,
     set_int<&B::transaction_remove_expired_transaction_cleanup_interval_ms, 1, i32max>},
    {"transaction.state.log.num.partitions", T::int32, "50", "[1,...]",
     "Partitions of the internal __transaction_state topic, created (compacted) on first use.", true,
     set_int<&B::transaction_state_log_num_partitions, 1, i32max>},
    {"transaction.state.log.segment.bytes", T::int32, "104857600", "[14,...]", "Segment size of the __transaction_state partitions.",
     true, set_int<&B::transaction_state_log_segment_bytes, 14, i32max>},
    {"producer.id.expiration.ms", T::int32, "86400000", "[1,...]",
     "How long a partition keeps an idle producer's state (sequences, epoch) after its last write; a producer with a transaction open is kept.",
     true, set_int<&B::producer_id_expiration_ms, 1, i32max>},
    {"producer.id.expiration.check.interval.ms", T::int32, "600000", "[1,...]", "How often expired producer state is looked for.", true,
     set_int<&B::producer_id_expiration_check_interval_ms, 1, i32max>},

    // Samsa's own keys (no Kafka equivalent).
    {"samsa.log.level", T::string, "info", "debug, info, warn, error", "Least severe event written to stderr.", true, set_log_level},
    {"samsa.shutdown.timeout.ms", T::int64, "5000", "[0,...]",
     "On SIGTERM/SIGINT, how long requests in flight may take to finish before their connections are closed.", true,
     set_int<&B::shutdown_timeout_ms, 0, i64max>},

    // Accepted so that a Kafka server.properties starts unchanged; they change nothing on one node.
    {"process.roles", T::list, "", "broker,controller", "No effect: Samsa is always a single combined node.", false, ignore},
    {"controller.quorum.voters", T::list, "", "", "No effect: no controller quorum.", false, ignore},
    {"controller.quorum.bootstrap.servers", T::list, "", "", "No effect: no controller quorum.", false, ignore},
    {"inter.broker.listener.name", T::string, "", "", "No effect: no other brokers.", false, ignore},
    {"num.network.threads", T::int32, "", "", "No effect: one event loop serves every connection.", false, ignore},
    {"num.io.threads", T::int32, "", "", "No effect: requests are handled on the event loop.", false, ignore},
    {"num.recovery.threads.per.data.dir", T::int32, "", "", "No effect.", false, ignore},
    {"num.replica.fetchers", T::int32, "", "", "No effect: no replication.", false, ignore},
    {"offsets.topic.replication.factor", T::int16, "", "", "No effect: no replication.", false, ignore},
    {"transaction.state.log.replication.factor", T::int16, "", "", "No effect: no replication.", false, ignore},
    {"transaction.state.log.min.isr", T::int32, "", "", "No effect: no replication.", false, ignore},
    {"zookeeper.connect", T::string, "", "", "No effect: Samsa needs nothing external.", false, ignore},
    {"zookeeper.connection.timeout.ms", T::int32, "", "", "No effect.", false, ignore},
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error("cannot read the configuration file '" + path + "'");
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

// Checks between keys, after every key was applied.
void finish(broker_config& c) {
    if (c.node_id_setting && c.broker_id_setting && *c.node_id_setting != *c.broker_id_setting)
        throw config_error("Invalid configuration 'broker.id': " + std::to_string(*c.broker_id_setting) +
                           " differs from node.id " + std::to_string(*c.node_id_setting));
    if (c.node_id_setting) c.node_id = protocol::node_id(*c.node_id_setting);
    else if (c.broker_id_setting) c.node_id = protocol::node_id(*c.broker_id_setting);

    check_connection_limits(c);

    std::set<std::string> names;
    for (const auto& l : c.listeners)
        if (!names.insert(l.name).second)
            throw config_error("Invalid configuration 'listeners': the name " + l.name + " is used twice");
    const auto served = c.served_listeners();
    if (served.empty())
        throw config_error("Invalid configuration 'listeners': every listener is a controller listener, none would serve clients");
    for (const auto& l : served) {
        std::string protocol = l.name == "PLAINTEXT" ? "PLAINTEXT" : "";
        for (const auto& [name, proto] : c.listener_security_protocols)
            if (name == l.name) protocol = proto;
        if (protocol.empty())
            throw config_error("Invalid configuration 'listener.security.protocol.map': no security protocol for listener " + l.name);
        if (protocol != "PLAINTEXT")
            throw config_error("Invalid configuration 'listener.security.protocol.map': listener " + l.name + " uses " + protocol +
                               ", only PLAINTEXT is supported");
    }
    for (const auto& a : c.advertised_listeners) {
        const bool known = std::any_of(served.begin(), served.end(), [&](const auto& l) { return l.name == a.name; });
        if (!known)
            throw config_error("Invalid configuration 'advertised.listeners': " + a.name + " is not one of the listeners");
    }
}

} // namespace

void check_connection_limits(const broker_config& c) {
    if (c.max_connections_per_ip == 0 && c.max_connections_per_ip_overrides.empty())
        throw config_error("Invalid configuration 'max.connections.per.ip': max.connections.per.ip can be set to zero only if "
                           "max.connections.per.ip.overrides property is set.");
}

std::string_view to_string(config_update_mode m) noexcept {
    switch (m) {
        case config_update_mode::read_only: return "read-only";
        case config_update_mode::per_broker: return "per-broker";
        case config_update_mode::cluster_wide: return "cluster-wide";
    }
    return "?";
}

std::string_view to_string(config_type t) noexcept {
    switch (t) {
        case config_type::boolean: return "boolean";
        case config_type::int16: return "short";
        case config_type::int32: return "int";
        case config_type::int64: return "long";
        case config_type::float64: return "double";
        case config_type::string: return "string";
        case config_type::list: return "list";
    }
    return "?";
}

int64_t broker_config::log_retention_ms() const noexcept {
    if (log_retention_ms_setting) return *log_retention_ms_setting;
    if (log_retention_minutes_setting) return *log_retention_minutes_setting < 0 ? -1 : *log_retention_minutes_setting * 60'000;
    return log_retention_hours_setting < 0 ? -1 : log_retention_hours_setting * 3'600'000;
}

int64_t broker_config::log_roll_ms() const noexcept {
    if (log_roll_ms_setting) return *log_roll_ms_setting;
    return log_roll_hours_setting * 3'600'000;
}

int64_t broker_config::log_roll_jitter_ms() const noexcept {
    if (log_roll_jitter_ms_setting) return *log_roll_jitter_ms_setting;
    return log_roll_jitter_hours_setting * 3'600'000;
}

std::vector<std::string> broker_config::data_dirs() const {
    if (!log_dirs_setting.empty()) return log_dirs_setting;
    return {log_dir};
}

std::vector<listener_endpoint> broker_config::served_listeners() const {
    std::vector<listener_endpoint> out;
    for (const auto& l : listeners)
        if (std::find(controller_listener_names.begin(), controller_listener_names.end(), l.name) ==
            controller_listener_names.end())
            out.push_back(l);
    return out;
}

std::optional<listener_endpoint> broker_config::advertised_for(std::string_view name) const {
    for (const auto& a : advertised_listeners)
        if (a.name == name) return a;
    for (const auto& l : listeners)
        if (l.name == name) return l;
    return std::nullopt;
}

std::span<const config_key> config_keys() noexcept { return keys; }

const config_key* find_config_key(std::string_view name) noexcept {
    for (const auto& k : keys)
        if (k.name == name) return &k;
    return nullptr;
}

std::vector<listener_endpoint> parse_listeners(std::string_view key, std::string_view text) {
    std::vector<listener_endpoint> out;
    for (const auto& item : parse_list(text)) {
        const auto sep = item.find("://");
        if (sep == std::string::npos || sep == 0)
            throw config_error("expected NAME://host:port, got '" + item + "'");
        listener_endpoint l;
        l.name = item.substr(0, sep);
        std::string_view rest = std::string_view(item).substr(sep + 3);
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) throw config_error("no port in '" + item + "'");
        std::string_view host = rest.substr(0, colon);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        l.host = std::string(host);
        try {
            l.port = static_cast<uint16_t>(parse_integer(rest.substr(colon + 1), 0, 65535));
        } catch (const config_error& e) {
            throw config_error("bad port in '" + item + "': " + e.what());
        }
        out.push_back(std::move(l));
    }
    (void)key;
    return out;
}

broker_config build_config(const std::vector<std::pair<std::string, std::string>>& settings,
                           const unknown_key_handler& on_unknown) {
    broker_config cfg;
    std::set<std::string> warned;
    for (const auto& [raw_key, raw_value] : settings) {
        const std::string key(trim(raw_key));
        const auto* k = find_config_key(key);
        if (k == nullptr) {
            if (warned.insert(key).second && on_unknown) on_unknown(key);
            continue;
        }
        const auto value = trim(raw_value);
        try {
            k->apply(cfg, value);
            cfg.given.values[key] = std::string(value);
        } catch (const config_error& e) {
            throw config_error("Invalid value '" + std::string(value) + "' for configuration '" + key + "': " + e.what());
        }
    }
    finish(cfg);
    return cfg;
}

broker_config load_config(const std::optional<std::string>& file, const std::vector<std::string>& overrides,
                          const unknown_key_handler& on_unknown) {
    std::vector<std::pair<std::string, std::string>> settings;
    if (file) {
        for (auto& p : parse_properties(read_file(*file))) settings.emplace_back(std::move(p.key), std::move(p.value));
    }
    for (const auto& o : overrides) {
        const auto eq = o.find('=');
        if (eq == std::string::npos || eq == 0) throw config_error("--override expects key=value, got '" + o + "'");
        settings.emplace_back(o.substr(0, eq), o.substr(eq + 1));
    }
    return build_config(settings, on_unknown);
}

} // namespace samsa::broker
