// Idempotent producers against the real `samsa` binary: librdkafka with enable.idempotence=true
// writing through a proxy that drops connections after the broker got a request, replays
// requests and reorders them (compat/fault_proxy.h), must leave every message exactly once and in
// order; the same faults without idempotence leave duplicates (the faults are real). Across a
// clean restart and a crash, a retried batch is still answered with its original offsets (raw
// requests with the project's codecs: a client cannot be made to resend one batch on purpose).
// And a read_committed librdkafka consumer skips a transaction ended with WriteTxnMarkers(abort).
#include "compat/admin_client.h"
#include "compat/broker_process.h"
#include "compat/fault_proxy.h"
#include "compat/rdkafka_client.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/produce.h"
#include "protocol/messages/write_txn_markers.h"
#include "protocol/record_batch_builder.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace samsa;
using namespace samsa::compat;
using broker::test::wire_client;

namespace {

const std::string samsa_binary = SAMSA_BINARY;
const std::string client_id = "idempotence-wire";
constexpr int partitions = 2;

// Produces `count` messages "m-<i>" round-robin over the partitions through `bootstrap`.
std::vector<delivery> produce_through(const std::string& bootstrap, const std::string& topic, int count, bool idempotent) {
    producer p({{"bootstrap.servers", bootstrap},
                {"enable.idempotence", idempotent ? "true" : "false"},
                {"acks", "all"},
                {"linger.ms", "2"},
                {"batch.num.messages", "10"},
                {"max.in.flight.requests.per.connection", "5"},
                {"retry.backoff.ms", "10"},
                {"reconnect.backoff.ms", "10"},
                {"reconnect.backoff.max.ms", "100"},
                {"message.timeout.ms", "120000"},
                {"socket.timeout.ms", "10000"}});
    for (int i = 0; i < count; ++i) {
        p.produce(topic, i % partitions, std::nullopt, "m-" + std::to_string(i), {}, 0, static_cast<uint64_t>(i));
        if (i % 50 == 0) p.poll(0);
    }
    REQUIRE(p.flush(120000));
    return p.deliveries();
}

// Every message of each partition, in offset order.
std::map<int32_t, std::vector<std::string>> consume_all(const std::string& bootstrap, const std::string& topic, size_t count,
                                                        int32_t topic_partitions = partitions,
                                                        const std::string& isolation = "read_uncommitted") {
    consumer c({{"bootstrap.servers", bootstrap}, {"isolation.level", isolation}});
    c.assign(topic, topic_partitions);
    std::map<int32_t, std::vector<std::string>> out;
    (void)c.read(count, std::chrono::seconds(5), [&](const rd_kafka_message_t& m) {
        out[m.partition].emplace_back(static_cast<const char*>(m.payload), m.len);
    });
    return out;
}

std::vector<uint8_t> batch(int64_t pid, int16_t epoch, int32_t seq, int count, bool transactional = false) {
    protocol::batch_options o;
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    o.transactional = transactional;
    protocol::record_batch_builder b(o);
    for (int i = 0; i < count; ++i) {
        const std::string v = "r-" + std::to_string(seq + i);
        protocol::record_input in;
        in.value = protocol::bytes_view(reinterpret_cast<const uint8_t*>(v.data()), v.size());
        in.timestamp = 1700000000000;
        b.append(in);
    }
    return b.build().bytes;
}

protocol::produce_response::partition_produce_response produce_raw(wire_client& c, const std::string& topic, std::vector<uint8_t> bytes) {
    protocol::produce_request req;
    req.acks = -1;
    req.timeout_ms = 10000;
    req.topic_data.push_back({topic, {{0, protocol::records::from_bytes(bytes)}}});
    return c.call(req, 9).responses.at(0).partition_responses.at(0);
}

int64_t init_producer_id(wire_client& c) {
    protocol::init_producer_id_request req;
    req.transactional_id = std::nullopt;
    req.transaction_timeout_ms = 60000;
    const auto resp = c.call(req, 4);
    REQUIRE(resp.error_code == 0);
    CHECK(resp.producer_epoch == 0);
    return resp.producer_id;
}

int64_t end_offset(wire_client& c, const std::string& topic, int8_t isolation = 0) {
    protocol::list_offsets_request req;
    req.replica_id = -1;
    req.isolation_level = isolation;
    protocol::list_offsets_request::list_offsets_partition p;
    p.partition_index = 0;
    p.timestamp = -1;
    req.topics.push_back({topic, {p}});
    return c.call(req, 7).topics.at(0).partitions.at(0).offset;
}

} // namespace

TEST_CASE("idempotence: through dropped, replayed and reordered requests every message arrives once, in order") {
    scratch_dir dir;
    fault_proxy proxy({0.03, 0.1, 0.2}, 7);
    broker_process b(samsa_binary, dir.path() / "data",
                     {"advertised.listeners=PLAINTEXT://127.0.0.1:" + std::to_string(proxy.port())});
    proxy.start(b.port());
    const std::string bootstrap = "127.0.0.1:" + std::to_string(proxy.port());
    {
        admin_client admin(bootstrap);
        REQUIRE(admin.create_topic("exactly-once", partitions) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    constexpr int count = 3000;
    const auto reports = produce_through(bootstrap, "exactly-once", count, true);
    REQUIRE(reports.size() == count);
    for (const auto& d : reports) REQUIRE_MESSAGE(d.error == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_err2str(d.error));
    proxy.set_rates({});
    const auto got = consume_all(bootstrap, "exactly-once", count + 100);
    proxy.stop();
    const fault_counts faults = proxy.counts();
    MESSAGE("produce requests " << faults.produce_requests << ", dropped " << faults.drops << ", replayed "
                                << faults.replays << ", reordered " << faults.reorders);
    CHECK(faults.drops > 0);
    CHECK(faults.replays > 0);
    CHECK(faults.reorders > 0);
    for (int32_t p = 0; p < partitions; ++p) {
        std::vector<std::string> expected;
        for (int i = p; i < count; i += partitions) expected.push_back("m-" + std::to_string(i));
        const auto it = got.find(p);
        REQUIRE(it != got.end());
        CHECK(it->second.size() == expected.size());
        CHECK(it->second == expected);
    }
}

TEST_CASE("idempotence: without it the same replayed requests leave duplicates") {
    scratch_dir dir;
    fault_proxy proxy({0, 0.2, 0}, 11);
    broker_process b(samsa_binary, dir.path() / "data",
                     {"advertised.listeners=PLAINTEXT://127.0.0.1:" + std::to_string(proxy.port())});
    proxy.start(b.port());
    const std::string bootstrap = "127.0.0.1:" + std::to_string(proxy.port());
    {
        admin_client admin(bootstrap);
        REQUIRE(admin.create_topic("at-least-once", partitions) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    constexpr int count = 500;
    const auto reports = produce_through(bootstrap, "at-least-once", count, false);
    REQUIRE(reports.size() == count);
    proxy.set_rates({});
    const auto got = consume_all(bootstrap, "at-least-once", 2 * count);
    proxy.stop();
    size_t total = 0;
    for (const auto& [p, values] : got) total += values.size();
    CHECK(proxy.counts().replays > 0);
    CHECK(total > count);
}

TEST_CASE("idempotence: a retried batch is recognised after a clean restart and after a crash") {
    scratch_dir dir;
    broker_process b(samsa_binary, dir.path() / "data");
    {
        admin_client admin(b.bootstrap());
        REQUIRE(admin.create_topic("restarts", 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    int64_t pid = -1;
    {
        wire_client c(b.port(), client_id);
        pid = init_producer_id(c);
        REQUIRE(produce_raw(c, "restarts", batch(pid, 0, 0, 3)).base_offset == 0);
        REQUIRE(produce_raw(c, "restarts", batch(pid, 0, 3, 2)).base_offset == 3);
    }
    REQUIRE(b.stop() == 0);
    b.restart();
    {
        wire_client c(b.port(), client_id);
        const auto retry = produce_raw(c, "restarts", batch(pid, 0, 3, 2));
        CHECK(retry.error_code == 0);
        CHECK(retry.base_offset == 3);
        CHECK(end_offset(c, "restarts") == 5);
        REQUIRE(produce_raw(c, "restarts", batch(pid, 0, 5, 1)).base_offset == 5);
        // Producer ids are not handed out twice across restarts.
        CHECK(init_producer_id(c) > pid);
    }
    (void)b.kill_now();
    b.restart();
    wire_client c(b.port(), client_id);
    const auto retry = produce_raw(c, "restarts", batch(pid, 0, 5, 1));
    CHECK(retry.error_code == 0);
    CHECK(retry.base_offset == 5);
    CHECK(end_offset(c, "restarts") == 6);
    CHECK(produce_raw(c, "restarts", batch(pid, 0, 7, 1)).error_code == 45);  // OUT_OF_ORDER_SEQUENCE_NUMBER
    CHECK(produce_raw(c, "restarts", batch(pid, 0, 6, 1)).base_offset == 6);
}

TEST_CASE("transactions: a read_committed consumer skips an aborted transaction and waits for an open one") {
    scratch_dir dir;
    broker_process b(samsa_binary, dir.path() / "data");
    {
        admin_client admin(b.bootstrap());
        REQUIRE(admin.create_topic("txn", 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    wire_client c(b.port(), client_id);
    const int64_t aborted = init_producer_id(c);
    const int64_t committed = init_producer_id(c);
    const int64_t open = init_producer_id(c);
    REQUIRE(produce_raw(c, "txn", batch(aborted, 0, 0, 3, true)).error_code == 0);    // 0-2
    REQUIRE(produce_raw(c, "txn", batch(committed, 0, 0, 2, true)).error_code == 0);  // 3-4
    auto end_txn = [&](int64_t pid, bool commit) {
        protocol::write_txn_markers_request req;
        protocol::write_txn_markers_request::writable_txn_marker m;
        m.producer_id = pid;
        m.producer_epoch = 0;
        m.transaction_result = commit;
        m.coordinator_epoch = 0;
        m.topics.push_back({"txn", {0}});
        req.markers.push_back(m);
        const auto resp = c.call(req, 1);
        REQUIRE(resp.markers.at(0).topics.at(0).partitions.at(0).error_code == 0);
    };
    end_txn(aborted, false);                                                           // 5
    end_txn(committed, true);                                                          // 6
    REQUIRE(produce_raw(c, "txn", batch(open, 0, 0, 2, true)).error_code == 0);       // 7-8
    CHECK(end_offset(c, "txn", 1) == 7);
    CHECK(end_offset(c, "txn", 0) == 9);

    auto committed_view = consume_all(b.bootstrap(), "txn", 10, 1, "read_committed");
    CHECK(committed_view[0] == std::vector<std::string>{"r-0", "r-1"});
    auto everything = consume_all(b.bootstrap(), "txn", 7, 1, "read_uncommitted");
    CHECK(everything[0].size() == 7);
}
