// Transactions V2 (KIP-890 part 2) on the wire against the real `samsa` binary. No client
// installed here ends transactions with EndTxn v5 (librdkafka 2.0, kafkajs 2.2,
// @platformatic/kafka 1.35, kafka-python 2.0 and sarama 1.22 stop at v4 or lower), so this test
// is the client: it sends the frames with the generated codecs as Kafka's Java client lays them
// out, checks the epoch bump of every EndTxn v5, its retries and fencing, across a broker restart,
// and reads the topic back with librdkafka's read_committed and read_uncommitted consumers.
#include "compat/admin_client.h"
#include "compat/broker_process.h"
#include "compat/rdkafka_client.h"
#include "protocol/messages/add_partitions_to_txn.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/describe_transactions.h"
#include "protocol/messages/end_txn.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch_builder.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

using namespace samsa;
using namespace samsa::compat;
using broker::test::wire_client;
using protocol::error_code;

namespace {

const std::string samsa_binary = SAMSA_BINARY;
const std::string client_id = "txn-v2-wire";
const std::string txn_id = "v2-tx";
const std::string topic = "v2-topic";

int16_t err(error_code e) { return to_int(e); }

struct producer_identity {
    int64_t id = -1;
    int16_t epoch = -1;
};

int16_t add_partition(wire_client& c, producer_identity p) {
    protocol::add_partitions_to_txn_request req;
    req.v3_and_below_transactional_id = txn_id;
    req.v3_and_below_producer_id = p.id;
    req.v3_and_below_producer_epoch = p.epoch;
    req.v3_and_below_topics.push_back({topic, {0}});
    const auto resp = c.call(req, 3);
    REQUIRE(resp.results_by_topic_v3_and_below.size() == 1);
    return resp.results_by_topic_v3_and_below[0].results_by_partition.at(0).partition_error_code;
}

// One transactional batch of `values` at sequence `seq`; the partition's error code.
int16_t produce(wire_client& c, producer_identity p, int32_t seq, const std::vector<std::string>& values) {
    protocol::batch_options o;
    o.producer_id = p.id;
    o.producer_epoch = p.epoch;
    o.base_sequence = seq;
    o.transactional = true;
    protocol::record_batch_builder b(o);
    for (const auto& v : values) {
        protocol::record_input in;
        in.value = protocol::bytes_view(reinterpret_cast<const uint8_t*>(v.data()), v.size());
        in.timestamp = 1'700'000'000'000;
        b.append(in);
    }
    const auto built = b.build();
    REQUIRE(!built.bytes.empty());
    protocol::produce_request req;
    req.transactional_id = txn_id;
    req.acks = -1;
    req.timeout_ms = 10000;
    req.topic_data.push_back({topic, {{0, protocol::records::from_bytes(built.bytes)}}});
    const auto resp = c.call(req, 9);
    return resp.responses.at(0).partition_responses.at(0).error_code;
}

protocol::end_txn_response end_txn(wire_client& c, producer_identity p, bool commit, int16_t version = 5) {
    protocol::end_txn_request req;
    req.transactional_id = txn_id;
    req.producer_id = p.id;
    req.producer_epoch = p.epoch;
    req.committed = commit;
    return c.call(req, version);
}

// EndTxn until the markers of the previous end are written (CONCURRENT_TRANSACTIONS meanwhile).
protocol::end_txn_response end_txn_settled(wire_client& c, producer_identity p, bool commit) {
    for (int i = 0; i < 500; ++i) {
        auto r = end_txn(c, p, commit);
        if (r.error_code != err(error_code::concurrent_transactions)) return r;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("EndTxn kept answering CONCURRENT_TRANSACTIONS");
    return {};
}

protocol::describe_transactions_response::transaction_state_data describe(wire_client& c) {
    protocol::describe_transactions_request req;
    req.transactional_ids = {txn_id};
    auto resp = c.call(req, 0);
    REQUIRE(resp.transaction_states.size() == 1);
    return resp.transaction_states.front();
}

std::string settled_state(wire_client& c) {
    std::string s;
    for (int i = 0; i < 500; ++i) {
        s = describe(c).transaction_state;
        if (s != "PrepareCommit" && s != "PrepareAbort") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return s;
}

std::vector<std::string> read_values(const broker_process& b, const std::string& isolation, size_t at_most) {
    consumer c({{"bootstrap.servers", b.bootstrap()}, {"isolation.level", isolation}});
    c.assign(topic, 1);
    std::vector<std::string> out;
    for (const auto& m : c.read_all(at_most, std::chrono::seconds(5))) out.push_back(m.value);
    return out;
}

} // namespace

TEST_CASE("compat transactions V2: ApiVersions reports transaction.version as Kafka 4 does and EndTxn v5") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    wire_client c(broker.port(), client_id);
    protocol::api_versions_request req;
    req.client_software_name = "txn-v2-wire";
    req.client_software_version = "1.0";
    const auto v4 = c.call(req, 4);
    REQUIRE(v4.error_code == 0);
    int16_t end_txn_max = -1;
    for (const auto& k : v4.api_keys)
        if (k.api_key == static_cast<int16_t>(protocol::api_key::end_txn)) end_txn_max = k.max_version;
    CHECK(end_txn_max == 5);
    const auto supported = std::find_if(v4.supported_features.begin(), v4.supported_features.end(),
                                        [](const auto& f) { return f.name == "transaction.version"; });
    REQUIRE(supported != v4.supported_features.end());
    CHECK(supported->min_version == 0);
    CHECK(supported->max_version == 2);
    const auto finalized = std::find_if(v4.finalized_features.begin(), v4.finalized_features.end(),
                                        [](const auto& f) { return f.name == "transaction.version"; });
    REQUIRE(finalized != v4.finalized_features.end());
    // Level 1: a client that follows it keeps sending AddPartitionsToTxn (docs/transactions.md).
    CHECK(finalized->max_version_level == 1);
    CHECK(finalized->min_version_level == 1);
    CHECK(v4.finalized_features_epoch >= 0);
    // v3 cannot carry a supported minimum of 0: the feature is left out there.
    const auto v3 = c.call(req, 3);
    for (const auto& f : v3.supported_features) CHECK(f.name != "transaction.version");
}

TEST_CASE("compat transactions V2: each EndTxn v5 bumps the epoch; retries, fencing and read_committed hold across a restart") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", {"transaction.state.log.num.partitions=3"});
    {
        admin_client admin(broker.bootstrap());
        REQUIRE(admin.create_topic(topic, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    auto c = std::make_unique<wire_client>(broker.port(), client_id);

    protocol::find_coordinator_request fc;
    fc.key = txn_id;
    fc.key_type = 1;
    REQUIRE(c->call(fc, 3).error_code == 0);
    protocol::init_producer_id_request ip;
    ip.transactional_id = txn_id;
    ip.transaction_timeout_ms = 60000;
    const auto init = c->call(ip, 4);
    REQUIRE(init.error_code == 0);
    const producer_identity first{init.producer_id, init.producer_epoch};

    // Transaction 1: committed; the answer carries the next epoch.
    REQUIRE(add_partition(*c, first) == 0);
    REQUIRE(produce(*c, first, 0, {"c1", "c2"}) == 0);
    const auto commit1 = end_txn(*c, first, true);
    REQUIRE(commit1.error_code == 0);
    CHECK(commit1.producer_id == first.id);
    CHECK(commit1.producer_epoch == first.epoch + 1);
    const producer_identity second{commit1.producer_id, commit1.producer_epoch};
    // A retry with the epoch it was sent with: success and the same new epoch, not fenced.
    const auto retried = end_txn_settled(*c, first, true);
    CHECK(retried.error_code == 0);
    CHECK(retried.producer_id == second.id);
    CHECK(retried.producer_epoch == second.epoch);
    // The markers carry the new epoch: a late write of the old one is refused by the partition.
    CHECK(produce(*c, first, 2, {"late"}) == err(error_code::invalid_producer_epoch));
    CHECK(settled_state(*c) == "CompleteCommit");

    // Transaction 2, at the new epoch: aborted.
    REQUIRE(add_partition(*c, second) == 0);
    REQUIRE(produce(*c, second, 0, {"a1", "a2"}) == 0);
    const auto abort2 = end_txn(*c, second, false);
    REQUIRE(abort2.error_code == 0);
    CHECK(abort2.producer_epoch == second.epoch + 1);
    const producer_identity third{abort2.producer_id, abort2.producer_epoch};
    // Two epochs back is neither the current epoch nor a retry.
    CHECK(end_txn_settled(*c, first, false).error_code == err(error_code::producer_fenced));
    // Committing what was aborted, as a retry: INVALID_TXN_STATE.
    CHECK(end_txn(*c, second, true).error_code == err(error_code::invalid_txn_state));

    // Transaction 3: committed.
    REQUIRE(add_partition(*c, third) == 0);
    REQUIRE(produce(*c, third, 0, {"c3"}) == 0);
    const auto commit3 = end_txn(*c, third, true);
    REQUIRE(commit3.error_code == 0);
    const producer_identity fourth{commit3.producer_id, commit3.producer_epoch};
    CHECK(fourth.epoch == third.epoch + 1);
    REQUIRE(settled_state(*c) == "CompleteCommit");

    CHECK(read_values(broker, "read_committed", 10) == std::vector<std::string>{"c1", "c2", "c3"});
    CHECK(read_values(broker, "read_uncommitted", 10) == std::vector<std::string>{"c1", "c2", "a1", "a2", "c3"});

    // A restart reloads the state from __transaction_state: the epoch and the V2 retry rule.
    c.reset();
    REQUIRE(broker.stop() == 0);
    broker.restart();
    c = std::make_unique<wire_client>(broker.port(), client_id);
    const auto d = describe(*c);
    CHECK(d.error_code == 0);
    CHECK(d.transaction_state == "CompleteCommit");
    CHECK(d.producer_id == fourth.id);
    CHECK(d.producer_epoch == fourth.epoch);
    const auto after_restart = end_txn_settled(*c, third, true);
    CHECK(after_restart.error_code == 0);
    CHECK(after_restart.producer_epoch == fourth.epoch);
    // The current epoch may abort an empty transaction (no markers): the epoch moves on again.
    const auto empty_abort = end_txn(*c, fourth, false);
    CHECK(empty_abort.error_code == 0);
    CHECK(empty_abort.producer_epoch == fourth.epoch + 1);
    CHECK(settled_state(*c) == "CompleteAbort");
    CHECK(read_values(broker, "read_committed", 10) == std::vector<std::string>{"c1", "c2", "c3"});
}

TEST_CASE("compat transactions V2: an EndTxn v4 client keeps its epoch (transactions V1 unchanged)") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", {"transaction.state.log.num.partitions=3"});
    {
        admin_client admin(broker.bootstrap());
        REQUIRE(admin.create_topic(topic, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    wire_client c(broker.port(), client_id);
    protocol::init_producer_id_request ip;
    ip.transactional_id = txn_id;
    ip.transaction_timeout_ms = 60000;
    const auto init = c.call(ip, 4);
    REQUIRE(init.error_code == 0);
    const producer_identity p{init.producer_id, init.producer_epoch};
    REQUIRE(add_partition(c, p) == 0);
    REQUIRE(produce(c, p, 0, {"v1"}) == 0);
    REQUIRE(end_txn(c, p, true, 4).error_code == 0);
    REQUIRE(settled_state(c) == "CompleteCommit");
    CHECK(describe(c).producer_epoch == p.epoch);
    // The next transaction at the same epoch, its sequence continuing.
    REQUIRE(add_partition(c, p) == 0);
    REQUIRE(produce(c, p, 1, {"v2"}) == 0);
    REQUIRE(end_txn(c, p, true, 4).error_code == 0);
    REQUIRE(settled_state(c) == "CompleteCommit");
    CHECK(read_values(broker, "read_committed", 10) == std::vector<std::string>{"v1", "v2"});
}
