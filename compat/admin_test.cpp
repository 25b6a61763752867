// Administration against the real `samsa` binary: librdkafka's Admin API (DescribeConfigs,
// AlterConfigs, CreatePartitions, DeleteRecords, CreateTopics), librdkafka's producer and
// consumer to see the changes take effect, and, for the APIs librdkafka 2.0 cannot send
// (IncrementalAlterConfigs, DescribeLogDirs, DescribeCluster, ElectLeaders, DescribeProducers,
// the client quota APIs), requests encoded at Kafka's versions over a plain socket.
#include "compat/admin_client.h"
#include "compat/broker_process.h"
#include "compat/rdkafka_client.h"
#include "protocol/messages/alter_client_quotas.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/delete_records.h"
#include "protocol/messages/describe_client_quotas.h"
#include "protocol/messages/describe_cluster.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/describe_log_dirs.h"
#include "protocol/messages/describe_producers.h"
#include "protocol/messages/elect_leaders.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/record_batch.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <fstream>
#include <thread>

using namespace samsa;
using namespace samsa::compat;
using broker::test::wire_client;
using namespace std::chrono_literals;

namespace {

const std::string samsa_binary = SAMSA_BINARY;

// One request on a connection of its own, as an admin tool sends it.
template <typename Request>
typename Request::response_type call(uint16_t port, const Request& req, int16_t version) {
    return wire_client(port, "admin-compat").call(req, version);
}

// IncrementalAlterConfigs of one resource: its error code.
int16_t incremental(uint16_t port, int8_t type, const std::string& name,
                    std::vector<std::tuple<std::string, int8_t, std::optional<std::string>>> ops) {
    protocol::incremental_alter_configs_request req;
    protocol::incremental_alter_configs_request::alter_configs_resource r;
    r.resource_type = type;
    r.resource_name = name;
    for (auto& [k, op, v] : ops) r.configs.push_back({k, op, v});
    req.resources.push_back(std::move(r));
    const auto resp = call(port, req, 1);
    REQUIRE(resp.responses.size() == 1);
    return resp.responses[0].error_code;
}

// Batches stay under 2 KB, so topics with small segments take them.
void produce(const std::string& bootstrap, const std::string& topic, int32_t partition, int count, size_t value_size = 100) {
    producer p({{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}, {"batch.size", std::to_string(std::max<size_t>(2048, value_size + 200))}});
    const std::string value(value_size, 'v');
    for (int i = 0; i < count; ++i) p.produce(topic, partition, std::nullopt, value);
    REQUIRE(p.flush());
    for (const auto& d : p.deliveries()) REQUIRE(d.error == RD_KAFKA_RESP_ERR_NO_ERROR);
}

uint64_t log_bytes_on_disk(const std::filesystem::path& partition_dir) {
    uint64_t total = 0;
    for (const auto& f : std::filesystem::directory_iterator(partition_dir))
        if (f.path().extension() == ".log") total += std::filesystem::file_size(f.path());
    return total;
}

constexpr int8_t topic_type = 2, broker_type = 4;
constexpr int8_t op_set = 0, op_delete = 1, op_append = 2, op_subtract = 3;

} // namespace

TEST_CASE("admin: a topic created with configs is described with Kafka's answer shape") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", {"log.retention.check.interval.ms=1000"});
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("described", 2, {{"retention.ms", "3600000"}, {"cleanup.policy", "compact"}}) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);

    const auto t = admin.describe(RD_KAFKA_RESOURCE_TOPIC, "described");
    REQUIRE(t.error == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(t.entries.size() >= 30);
    const auto& retention = t.entries.at("retention.ms");
    CHECK(retention.value == "3600000");
    CHECK(retention.source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
    CHECK_FALSE(retention.read_only);
    CHECK_FALSE(retention.is_default);
    const auto& segment = t.entries.at("segment.bytes");
    CHECK(segment.value == "1073741824");
    CHECK(segment.source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
    CHECK(segment.is_default);
    REQUIRE_FALSE(segment.synonyms.empty());
    CHECK(segment.synonyms[0].first == "log.segment.bytes");
    CHECK(t.entries.at("cleanup.policy").value == "compact");
    CHECK(t.entries.at("compression.type").value == "producer");
    CHECK(t.entries.at("message.timestamp.type").value == "CreateTime");
    CHECK(t.entries.at("min.insync.replicas").value == "1");

    const auto b = admin.describe(RD_KAFKA_RESOURCE_BROKER, "1");
    REQUIRE(b.error == RD_KAFKA_RESP_ERR_NO_ERROR);
    const auto& check = b.entries.at("log.retention.check.interval.ms");
    CHECK(check.value == "1000");
    CHECK(check.source == RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG);
    CHECK(check.read_only);
    CHECK(b.entries.at("log.retention.hours").source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
    CHECK_FALSE(b.entries.at("log.retention.hours").read_only);
    // librdkafka sends a BROKER resource to the broker it names, so another id goes on the wire.
    protocol::describe_configs_request other;
    other.resources.push_back({broker_type, "2", std::nullopt});
    const auto refused = call(broker.port(), other, 1);
    REQUIRE(refused.results.size() == 1);
    CHECK(refused.results[0].error_code == 42);  // INVALID_REQUEST
    CHECK(refused.results[0].error_message == "Unexpected broker id, expected 1 or empty string, but received 2");
    CHECK(admin.describe(RD_KAFKA_RESOURCE_TOPIC, "missing").error == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);

    // Documentation and types (v3+), which librdkafka 2.0 does not ask for.
    protocol::describe_configs_request req;
    req.resources.push_back({topic_type, "described", std::vector<std::string>{"retention.ms", "cleanup.policy"}});
    req.include_synonyms = true;
    req.include_documentation = true;
    const auto resp = call(broker.port(), req, 4);
    REQUIRE(resp.results.size() == 1);
    REQUIRE(resp.results[0].configs.size() == 2);
    for (const auto& c : resp.results[0].configs) {
        CHECK(c.documentation.has_value());
        CHECK(c.config_type == (c.name == "cleanup.policy" ? 7 : 5));  // LIST, LONG
    }
}

TEST_CASE("admin: alter and incrementally alter topic configs, and retention follows at once") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", {"log.retention.check.interval.ms=200"});
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("kept", 1, {{"segment.bytes", "4096"}, {"cleanup.policy", "delete"}}) == RD_KAFKA_RESP_ERR_NO_ERROR);

    // Legacy AlterConfigs replaces every override.
    REQUIRE(admin.alter(RD_KAFKA_RESOURCE_TOPIC, "kept", {{"segment.bytes", "4096"}, {"retention.ms", "86400000"}}) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
    auto d = admin.describe(RD_KAFKA_RESOURCE_TOPIC, "kept");
    CHECK(d.entries.at("retention.ms").value == "86400000");
    CHECK(d.entries.at("cleanup.policy").source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);

    // IncrementalAlterConfigs: SET, DELETE, APPEND, SUBTRACT.
    CHECK(incremental(broker.port(), topic_type, "kept", {{"max.message.bytes", op_set, "2000000"}}) == 0);
    CHECK(incremental(broker.port(), topic_type, "kept", {{"cleanup.policy", op_append, "compact"}}) == 0);
    d = admin.describe(RD_KAFKA_RESOURCE_TOPIC, "kept");
    CHECK(d.entries.at("cleanup.policy").value == "delete,compact");
    CHECK(d.entries.at("max.message.bytes").value == "2000000");
    CHECK(incremental(broker.port(), topic_type, "kept", {{"cleanup.policy", op_subtract, "compact"}}) == 0);
    CHECK(incremental(broker.port(), topic_type, "kept", {{"max.message.bytes", op_delete, std::nullopt}}) == 0);
    d = admin.describe(RD_KAFKA_RESOURCE_TOPIC, "kept");
    CHECK(d.entries.at("cleanup.policy").value == "delete");
    CHECK(d.entries.at("max.message.bytes").source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
    CHECK(incremental(broker.port(), topic_type, "kept", {{"retention.ms", op_append, "5"}}) == 40);  // INVALID_CONFIG

    // Many small segments, kept for a day: nothing goes.
    produce(broker.bootstrap(), "kept", 0, 400, 200);
    std::this_thread::sleep_for(1500ms);
    auto [low, high] = admin.watermarks("kept", 0);
    CHECK(low == 0);
    CHECK(high == 400);

    // One second of retention: the next retention pass deletes every closed segment.
    std::this_thread::sleep_for(1000ms);
    REQUIRE(incremental(broker.port(), topic_type, "kept", {{"retention.ms", op_set, "1000"}}) == 0);
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
        std::tie(low, high) = admin.watermarks("kept", 0);
        if (low > 300) break;
        std::this_thread::sleep_for(200ms);
    }
    CHECK(low > 300);
    CHECK(high == 400);
}

TEST_CASE("admin: grown partitions take produced records") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("grown", 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(admin.create_partitions("grown", 3, true) == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(admin.create_partitions("grown", 1) == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);  // no increase (validate_only changed nothing)
    REQUIRE(admin.create_partitions("grown", 3) == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(admin.create_partitions("grown", 2) == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
    CHECK(admin.create_partitions("absent", 2) == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    produce(broker.bootstrap(), "grown", 2, 10);
    CHECK(admin.watermarks("grown", 2).second == 10);
    CHECK(std::filesystem::exists(dir.path() / "data" / "grown-2"));

    // The new count survives a restart.
    REQUIRE(broker.stop() == 0);
    broker.restart();
    admin_client again(broker.bootstrap());
    CHECK(again.watermarks("grown", 2).second == 10);
    CHECK(again.create_partitions("grown", 3) == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
}

TEST_CASE("admin: deleted records move the log start offset consumers see") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("trimmed", 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    produce(broker.bootstrap(), "trimmed", 0, 100);
    const auto [err, low] = admin.delete_records("trimmed", 0, 40);
    INFO(admin.last_error_);
    REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(low == 40);
    CHECK(admin.watermarks("trimmed", 0) == std::pair<int64_t, int64_t>{40, 100});
    consumer c({{"bootstrap.servers", broker.bootstrap()}});
    c.assign("trimmed", 1);
    const auto read = c.read_all(60);
    REQUIRE(read.size() == 60);
    CHECK(read.front().offset == 40);
    // Beyond the high watermark: OFFSET_OUT_OF_RANGE, nothing moves.
    CHECK(admin.delete_records("trimmed", 0, 1000).first == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE);
    CHECK(admin.watermarks("trimmed", 0).first == 40);
    // librdkafka looks up leaders first and fails an unknown topic itself; the broker's answer:
    protocol::delete_records_request absent;
    absent.topics.push_back({"absent", {{0, 1}}});
    const auto resp = call(broker.port(), absent, 2);
    REQUIRE(resp.topics.size() == 1);
    CHECK(resp.topics[0].partitions[0].error_code == 3);  // UNKNOWN_TOPIC_OR_PARTITION
    CHECK(resp.topics[0].partitions[0].low_watermark == -1);
}

TEST_CASE("admin: log dirs report partition sizes that match the disk") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("sized", 2) == RD_KAFKA_RESP_ERR_NO_ERROR);
    produce(broker.bootstrap(), "sized", 0, 50, 1000);
    protocol::describe_log_dirs_request req;
    req.topics = std::nullopt;
    const auto resp = call(broker.port(), req, 4);
    REQUIRE(resp.results.size() == 1);
    const auto& d = resp.results[0];
    CHECK(d.error_code == 0);
    CHECK(d.log_dir == std::filesystem::absolute(dir.path() / "data").lexically_normal().string());
    CHECK(d.total_bytes > 0);
    CHECK(d.usable_bytes > 0);
    CHECK(d.usable_bytes <= d.total_bytes);
    int found = 0;
    for (const auto& t : d.topics) {
        if (t.name != "sized") continue;
        for (const auto& p : t.partitions) {
            ++found;
            const auto on_disk = log_bytes_on_disk(dir.path() / "data" / ("sized-" + std::to_string(p.partition_index)));
            CHECK(static_cast<uint64_t>(p.partition_size) == on_disk);
            if (p.partition_index == 0) CHECK(p.partition_size > 50 * 1000);
        }
    }
    CHECK(found == 2);
    // A filter names partitions; unknown ones are left out.
    protocol::describe_log_dirs_request one;
    one.topics = std::vector<protocol::describe_log_dirs_request::describable_log_dir_topic>{{"sized", {1, 7}}};
    const auto filtered = call(broker.port(), one, 1);
    REQUIRE(filtered.results.size() == 1);
    REQUIRE(filtered.results[0].topics.size() == 1);
    CHECK(filtered.results[0].topics[0].partitions.size() == 1);
}

TEST_CASE("admin: cluster, leader elections and producer state on one node") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("solo", 2) == RD_KAFKA_RESP_ERR_NO_ERROR);

    protocol::describe_cluster_request cluster;
    cluster.include_cluster_authorized_operations = true;
    const auto c = call(broker.port(), cluster, 1);
    CHECK(c.error_code == 0);
    CHECK(c.cluster_id.size() == 22);
    CHECK(c.controller_id == 1);
    REQUIRE(c.brokers.size() == 1);
    CHECK(c.brokers[0].port == broker.port());
    CHECK(c.cluster_authorized_operations != INT32_MIN);
    cluster.endpoint_type = 2;
    CHECK(call(broker.port(), cluster, 1).error_code == 114);  // MISMATCHED_ENDPOINT_TYPE

    protocol::elect_leaders_request elect;
    elect.election_type = 0;
    elect.topic_partitions = std::vector<protocol::elect_leaders_request::topic_partitions_data>{{"solo", {0, 5}}};
    const auto e = call(broker.port(), elect, 2);
    REQUIRE(e.replica_election_results.size() == 1);
    REQUIRE(e.replica_election_results[0].partition_result.size() == 2);
    CHECK(e.replica_election_results[0].partition_result[0].error_code == 84);  // ELECTION_NOT_NEEDED
    CHECK(e.replica_election_results[0].partition_result[1].error_code == 3);
    elect.topic_partitions = std::nullopt;
    CHECK(call(broker.port(), elect, 2).replica_election_results.empty());

    protocol::describe_producers_request producers;
    producers.topics.push_back({"solo", {0, 9}});
    const auto p = call(broker.port(), producers, 0);
    REQUIRE(p.topics.size() == 1);
    REQUIRE(p.topics[0].partitions.size() == 2);
    CHECK(p.topics[0].partitions[0].error_code == 0);
    CHECK(p.topics[0].partitions[0].active_producers.empty());
    CHECK(p.topics[0].partitions[1].error_code == 3);
}

TEST_CASE("admin: dynamic broker configs and client quotas persist and apply to topics") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("inherits", 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(incremental(broker.port(), broker_type, "", {{"log.retention.bytes", op_set, "1048576"}}) == 0);
    CHECK(incremental(broker.port(), broker_type, "1", {{"num.partitions", op_set, "4"}}) == 42);  // read-only
    CHECK(incremental(broker.port(), broker_type, "1", {{"log.retention.bytes", op_set, "-9"}}) == 40);
    auto t = admin.describe(RD_KAFKA_RESOURCE_TOPIC, "inherits");
    CHECK(t.entries.at("retention.bytes").value == "1048576");
    CHECK(t.entries.at("retention.bytes").source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG);

    protocol::alter_client_quotas_request alter;
    alter.entries.push_back({{{"client-id", std::string("slow")}}, {{"producer_byte_rate", 1024, false}}});
    alter.entries.push_back({{{"client-id", std::string("bad")}}, {{"no_such_quota", 1, false}}});
    const auto altered = call(broker.port(), alter, 1);
    REQUIRE(altered.entries.size() == 2);
    CHECK(altered.entries[0].error_code == 0);
    CHECK(altered.entries[1].error_code == 42);

    REQUIRE(broker.stop() == 0);
    broker.restart();
    admin_client again(broker.bootstrap());
    t = again.describe(RD_KAFKA_RESOURCE_TOPIC, "inherits");
    CHECK(t.entries.at("retention.bytes").value == "1048576");
    // The cluster-wide defaults (librdkafka 2.0 cannot name the empty broker resource).
    protocol::describe_configs_request defaults;
    defaults.resources.push_back({broker_type, "", std::nullopt});
    defaults.include_synonyms = true;
    const auto cluster = call(broker.port(), defaults, 4);
    REQUIRE(cluster.results.size() == 1);
    REQUIRE(cluster.results[0].configs.size() == 1);
    CHECK(cluster.results[0].configs[0].name == "log.retention.bytes");
    CHECK(cluster.results[0].configs[0].value == "1048576");
    CHECK(cluster.results[0].configs[0].config_source == 3);  // DYNAMIC_DEFAULT_BROKER_CONFIG
    CHECK_FALSE(cluster.results[0].configs[0].read_only);

    protocol::describe_client_quotas_request describe;
    describe.components.push_back({"client-id", 2, std::nullopt});
    const auto quotas = call(broker.port(), describe, 1);
    CHECK(quotas.error_code == 0);
    REQUIRE(quotas.entries.has_value());
    REQUIRE(quotas.entries->size() == 1);
    CHECK((*quotas.entries)[0].entity[0].entity_name == "slow");
    CHECK((*quotas.entries)[0].values[0].value == 1024);
}

TEST_CASE("admin: compression.type recompresses what producers send") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("zipped", 1, {{"compression.type", "gzip"}}) == RD_KAFKA_RESP_ERR_NO_ERROR);
    produce(broker.bootstrap(), "zipped", 0, 20);  // librdkafka's default: uncompressed
    std::ifstream in(dir.path() / "data" / "zipped-0" / "00000000000000000000.log", std::ios::binary);
    const std::vector<uint8_t> log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto h = protocol::batch::header_view::parse(log);
    REQUIRE(h.has_value());
    CHECK(h->codec() == protocol::batch::compression::gzip);
    consumer c({{"bootstrap.servers", broker.bootstrap()}});
    c.assign("zipped", 1);
    CHECK(c.read_all(20).size() == 20);
}

TEST_CASE("admin: min.insync.replicas above 1 refuses acks=all, as one replica cannot meet it") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("strict", 1, {{"min.insync.replicas", "2"}}) == RD_KAFKA_RESP_ERR_NO_ERROR);
    {
        producer all({{"bootstrap.servers", broker.bootstrap()}, {"acks", "all"}, {"retries", "0"}});
        all.produce("strict", 0, std::nullopt, "refused");
        (void)all.flush(10000);
        REQUIRE(all.deliveries().size() == 1);
        CHECK(all.deliveries()[0].error == RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    }
    {
        producer one({{"bootstrap.servers", broker.bootstrap()}, {"acks", "1"}});
        one.produce("strict", 0, std::nullopt, "taken");
        REQUIRE(one.flush());
        CHECK(one.deliveries()[0].error == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(incremental(broker.port(), topic_type, "strict", {{"min.insync.replicas", op_delete, std::nullopt}}) == 0);
    producer all({{"bootstrap.servers", broker.bootstrap()}, {"acks", "all"}});
    all.produce("strict", 0, std::nullopt, "now taken");
    REQUIRE(all.flush());
    CHECK(all.deliveries()[0].error == RD_KAFKA_RESP_ERR_NO_ERROR);
}

TEST_CASE("admin: bad input gets Kafka's error codes and changes nothing") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    admin_client admin(broker.bootstrap());
    REQUIRE(admin.create_topic("guarded", 2, {{"retention.ms", "5000"}}) == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(admin.alter(RD_KAFKA_RESOURCE_TOPIC, "guarded", {{"retention.mss", "1"}}) == RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    CHECK(admin.alter(RD_KAFKA_RESOURCE_TOPIC, "guarded", {{"retention.ms", "-2"}}) == RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    CHECK(admin.alter(RD_KAFKA_RESOURCE_TOPIC, "guarded", {{"segment.bytes", "13"}}) == RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    CHECK(admin.alter(RD_KAFKA_RESOURCE_TOPIC, "guarded", {{"retention.ms", "1"}}, true) == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(admin.alter(RD_KAFKA_RESOURCE_TOPIC, "ghost", {{"retention.ms", "1"}}) == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    CHECK(admin.alter(RD_KAFKA_RESOURCE_BROKER, "1", {{"broker.id", "5"}}) == RD_KAFKA_RESP_ERR_INVALID_REQUEST);
    CHECK(admin.describe(RD_KAFKA_RESOURCE_TOPIC, "guarded").entries.at("retention.ms").value == "5000");
    // librdkafka refuses a negative count itself; the broker's answer:
    protocol::create_partitions_request negative;
    negative.topics.push_back({"guarded", -3, std::nullopt});
    const auto grown = call(broker.port(), negative, 3);
    REQUIRE(grown.results.size() == 1);
    CHECK(grown.results[0].error_code == 37);  // INVALID_PARTITIONS
    CHECK(admin.watermarks("guarded", 1).second == 0);
    CHECK(incremental(broker.port(), topic_type, "guarded", {{"retention.ms", op_set, std::nullopt}}) == 42);
    CHECK(incremental(broker.port(), topic_type, "guarded", {{"retention.ms", op_set, "1"}, {"retention.ms", op_delete, std::nullopt}}) == 42);
    CHECK(admin.describe(RD_KAFKA_RESOURCE_TOPIC, "guarded").entries.at("retention.ms").value == "5000");
}
