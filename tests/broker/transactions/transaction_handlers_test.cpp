// The transaction handlers at every version they serve, over a socket to an in-process node:
// InitProducerId (transactional), AddPartitionsToTxn (single-producer and batched forms,
// verify_only), AddOffsetsToTxn, EndTxn (v5: transactions V2), TxnOffsetCommit, DescribeTransactions,
// ListTransactions and OffsetFetch's require_stable, each laid out as a client does and
// answered at the same version.
#include "tests/broker/broker_test_util.h"
#include "protocol/messages/add_offsets_to_txn.h"
#include "protocol/messages/add_partitions_to_txn.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/describe_transactions.h"
#include "protocol/messages/end_txn.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/list_transactions.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/txn_offset_commit.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

namespace samsa::broker::test {

namespace {

using protocol::error_code;

int16_t err(error_code e) { return to_int(e); }

void create_topic(wire_client& c, const std::string& name, int32_t partitions) {
    protocol::create_topics_request req;
    req.topics.push_back({name, partitions, 1, {}, {}});
    req.timeout_ms = 5000;
    REQUIRE(c.call(req, 4).topics.at(0).error_code == 0);
}

protocol::init_producer_id_response init(wire_client& c, const std::string& id, int16_t v, int64_t pid = -1, int16_t epoch = -1) {
    protocol::init_producer_id_request req;
    req.transactional_id = id;
    req.transaction_timeout_ms = 30000;
    req.producer_id = pid;
    req.producer_epoch = epoch;
    return c.call(req, v);
}

// InitProducerId until the coordinator is done with an earlier transaction of the id.
protocol::init_producer_id_response init_until_ready(wire_client& c, const std::string& id, int16_t v) {
    for (int i = 0; i < 200; ++i) {
        auto r = init(c, id, v);
        if (r.error_code != err(error_code::concurrent_transactions)) return r;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("InitProducerId kept answering CONCURRENT_TRANSACTIONS");
    return {};
}

protocol::add_partitions_to_txn_response add_v3(wire_client& c, int16_t v, const std::string& id, int64_t pid, int16_t epoch,
                                                const std::string& topic, std::vector<int32_t> partitions) {
    protocol::add_partitions_to_txn_request req;
    req.v3_and_below_transactional_id = id;
    req.v3_and_below_producer_id = pid;
    req.v3_and_below_producer_epoch = epoch;
    req.v3_and_below_topics.push_back({topic, std::move(partitions)});
    return c.call(req, v);
}

protocol::end_txn_response end(wire_client& c, int16_t v, const std::string& id, int64_t pid, int16_t epoch, bool commit) {
    protocol::end_txn_request req;
    req.transactional_id = id;
    req.producer_id = pid;
    req.producer_epoch = epoch;
    req.committed = commit;
    return c.call(req, v);
}

protocol::describe_transactions_response::transaction_state_data describe(wire_client& c, const std::string& id) {
    protocol::describe_transactions_request req;
    req.transactional_ids = {id};
    auto resp = c.call(req, 0);
    REQUIRE(resp.transaction_states.size() == 1);
    return resp.transaction_states.front();
}

// Waits until the id's transaction is no longer being completed.
std::string settled_state(wire_client& c, const std::string& id) {
    std::string s;
    for (int i = 0; i < 200; ++i) {
        s = describe(c, id).transaction_state;
        if (s != "PrepareCommit" && s != "PrepareAbort") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return s;
}

} // namespace

TEST_CASE("transaction handlers: ApiVersions advertises the transaction APIs (EndTxn up to v5)") {
    node_fixture node;
    wire_client c(node.port());
    protocol::api_versions_request req;
    const auto resp = c.call(req, 2);
    REQUIRE(resp.error_code == 0);
    auto range = [&](protocol::api_key k) -> std::pair<int16_t, int16_t> {
        for (const auto& a : resp.api_keys)
            if (a.api_key == static_cast<int16_t>(k)) return {a.min_version, a.max_version};
        return {-1, -1};
    };
    CHECK(range(protocol::api_key::init_producer_id) == std::pair<int16_t, int16_t>{0, 5});
    CHECK(range(protocol::api_key::add_partitions_to_txn) == std::pair<int16_t, int16_t>{0, 5});
    CHECK(range(protocol::api_key::add_offsets_to_txn) == std::pair<int16_t, int16_t>{0, 4});
    CHECK(range(protocol::api_key::end_txn) == std::pair<int16_t, int16_t>{0, 5});
    CHECK(range(protocol::api_key::txn_offset_commit) == std::pair<int16_t, int16_t>{0, 4});
    CHECK(range(protocol::api_key::describe_transactions) == std::pair<int16_t, int16_t>{0, 0});
    CHECK(range(protocol::api_key::list_transactions) == std::pair<int16_t, int16_t>{0, 1});
}

TEST_CASE("transaction handlers: ApiVersions v4 reports transaction.version supported 0-2, finalized at 1; v3 leaves the range out") {
    node_fixture node;
    wire_client c(node.port());
    protocol::api_versions_request req;
    req.client_software_name = "samsa-test";
    req.client_software_version = "1.0";
    for (int16_t v = 3; v <= 4; ++v) {
        CAPTURE(v);
        const auto resp = c.call(req, v);
        REQUIRE(resp.error_code == 0);
        const protocol::api_versions_response::supported_feature_key* supported = nullptr;
        for (const auto& f : resp.supported_features)
            if (f.name == "transaction.version") supported = &f;
        if (v >= 4) {
            REQUIRE(supported != nullptr);
            CHECK(supported->min_version == 0);
            CHECK(supported->max_version == 2);
        } else {
            CHECK(supported == nullptr);  // a minimum of 0 cannot be carried below v4
        }
        const protocol::api_versions_response::finalized_feature_key* finalized = nullptr;
        for (const auto& f : resp.finalized_features)
            if (f.name == "transaction.version") finalized = &f;
        REQUIRE(finalized != nullptr);
        CHECK(finalized->min_version_level == 1);
        CHECK(finalized->max_version_level == 1);
        CHECK(resp.finalized_features_epoch >= 0);
    }
}

TEST_CASE("transaction handlers: FindCoordinator for a transactional id answers this node and creates __transaction_state") {
    node_fixture node;
    wire_client c(node.port());
    protocol::find_coordinator_request req;
    req.key = "tx";
    req.key_type = 1;
    const auto resp = c.call(req, 3);
    CHECK(resp.error_code == 0);
    CHECK(resp.node_id >= 0);
    protocol::find_coordinator_request empty;
    empty.key = "";
    empty.key_type = 1;
    CHECK(c.call(empty, 3).error_code == err(error_code::invalid_request));
}

TEST_CASE("transaction handlers: InitProducerId for a transactional id at every version") {
    node_fixture node;
    wire_client c(node.port());
    int16_t expected_epoch = 0;
    int64_t pid = -1;
    for (int16_t v = 0; v <= 5; ++v) {
        CAPTURE(v);
        const auto r = init(c, "tx", v);
        CHECK(r.error_code == 0);
        if (pid < 0) pid = r.producer_id;
        CHECK(r.producer_id == pid);
        CHECK(r.producer_epoch == expected_epoch++);
    }
    CHECK(init(c, "", 2).error_code == err(error_code::invalid_request));
    protocol::init_producer_id_request bad;
    bad.transactional_id = "tx";
    bad.transaction_timeout_ms = 900001;  // over transaction.max.timeout.ms
    CHECK(c.call(bad, 1).error_code == err(error_code::invalid_transaction_timeout));
    // v3+: an id without an epoch is refused; a stale producer is fenced (v4+ says so, older
    // versions get INVALID_PRODUCER_EPOCH).
    CHECK(init(c, "tx", 3, pid, -1).error_code == err(error_code::invalid_request));
    CHECK(init(c, "tx", 3, pid + 77, 0).error_code == err(error_code::invalid_producer_epoch));
    CHECK(init(c, "tx", 4, pid + 77, 0).error_code == err(error_code::producer_fenced));
}

TEST_CASE("transaction handlers: a transaction at each AddPartitionsToTxn and EndTxn version") {
    node_fixture node;
    wire_client c(node.port());
    create_topic(c, "orders", 3);
    for (int16_t v = 0; v <= 5; ++v) {
        CAPTURE(v);
        const auto id = "tx-" + std::to_string(v);
        const auto r = init_until_ready(c, id, 2);
        REQUIRE(r.error_code == 0);
        const int16_t add_version = v <= 3 ? v : 3;
        const auto added = add_v3(c, add_version, id, r.producer_id, r.producer_epoch, "orders", {0, 2});
        REQUIRE(added.results_by_topic_v3_and_below.size() == 1);
        for (const auto& p : added.results_by_topic_v3_and_below.front().results_by_partition) CHECK(p.partition_error_code == 0);
        const auto d = describe(c, id);
        CHECK(d.transaction_state == "Ongoing");
        REQUIRE(d.topics.size() == 1);
        CHECK(d.topics.front().partitions == std::vector<int32_t>{0, 2});
        const auto ended = end(c, v, id, r.producer_id, r.producer_epoch, v % 2 == 0);
        CHECK(ended.error_code == 0);
        CHECK(settled_state(c, id) == (v % 2 == 0 ? "CompleteCommit" : "CompleteAbort"));
        // v5 (transactions V2) bumps the epoch and says so; v0-v4 keep it (no such fields).
        const int16_t epoch = v >= 5 ? static_cast<int16_t>(r.producer_epoch + 1) : r.producer_epoch;
        CHECK(describe(c, id).producer_epoch == epoch);
        CHECK(ended.producer_id == (v >= 5 ? r.producer_id : -1));
        CHECK(ended.producer_epoch == (v >= 5 ? epoch : -1));
    }
}

TEST_CASE("transaction handlers: EndTxn v5 retries, fencing and the next transaction at the bumped epoch") {
    node_fixture node;
    wire_client c(node.port());
    create_topic(c, "orders", 1);
    const auto r = init_until_ready(c, "tx", 4);
    REQUIRE(r.error_code == 0);
    REQUIRE(add_v3(c, 3, "tx", r.producer_id, r.producer_epoch, "orders", {0}).results_by_topic_v3_and_below.size() == 1);
    const auto committed = end(c, 5, "tx", r.producer_id, r.producer_epoch, true);
    REQUIRE(committed.error_code == 0);
    const auto next = committed.producer_epoch;
    CHECK(next == r.producer_epoch + 1);
    REQUIRE(settled_state(c, "tx") == "CompleteCommit");
    // The retry (old epoch) is answered as done with the new epoch; the other outcome is refused.
    const auto retried = end(c, 5, "tx", r.producer_id, r.producer_epoch, true);
    CHECK(retried.error_code == 0);
    CHECK(retried.producer_id == r.producer_id);
    CHECK(retried.producer_epoch == next);
    CHECK(end(c, 5, "tx", r.producer_id, r.producer_epoch, false).error_code == err(error_code::invalid_txn_state));
    // The old epoch can no longer add partitions; the new one can.
    const auto stale = add_v3(c, 3, "tx", r.producer_id, r.producer_epoch, "orders", {0});
    CHECK(stale.results_by_topic_v3_and_below.at(0).results_by_partition.at(0).partition_error_code ==
          err(error_code::producer_fenced));
    const auto fresh = add_v3(c, 3, "tx", r.producer_id, next, "orders", {0});
    CHECK(fresh.results_by_topic_v3_and_below.at(0).results_by_partition.at(0).partition_error_code == 0);
    // An error answers -1/-1.
    const auto fenced = end(c, 5, "tx", r.producer_id, static_cast<int16_t>(next + 3), true);
    CHECK(fenced.error_code == err(error_code::producer_fenced));
    CHECK(fenced.producer_id == -1);
    CHECK(fenced.producer_epoch == -1);
    const auto aborted = end(c, 5, "tx", r.producer_id, next, false);
    CHECK(aborted.error_code == 0);
    CHECK(aborted.producer_epoch == next + 1);
    CHECK(settled_state(c, "tx") == "CompleteAbort");
}

TEST_CASE("transaction handlers: the EndTxn v5 response carries the producer id and epoch after the error code") {
    protocol::end_txn_response resp;
    resp.throttle_time_ms = 0;
    resp.error_code = 0;
    resp.producer_id = 0x0102030405060708;
    resp.producer_epoch = 9;
    protocol::output_buffer out;
    protocol::writer w(out);
    resp.encode(w, 5);
    // throttle int32, error int16, producer id int64, epoch int16, no tagged fields (varint 0).
    REQUIRE(out.bytes.size() == 4 + 2 + 8 + 2 + 1);
    CHECK(out.bytes[6] == 0x01);
    CHECK(out.bytes[13] == 0x08);
    CHECK(out.bytes[15] == 9);
    protocol::output_buffer v4;
    protocol::writer w4(v4);
    resp.encode(w4, 4);
    CHECK(v4.bytes.size() == 4 + 2 + 1);  // v4 has no such fields
    protocol::reader r(out.bytes);
    protocol::end_txn_response back;
    back.decode(r, 5);
    REQUIRE(r.ok());
    CHECK(back.producer_id == resp.producer_id);
    CHECK(back.producer_epoch == 9);
}

TEST_CASE("transaction handlers: AddPartitionsToTxn errors by version, and unknown partitions fail the request") {
    node_fixture node;
    wire_client c(node.port());
    create_topic(c, "orders", 2);
    const auto r = init(c, "tx", 2);
    REQUIRE(r.error_code == 0);
    const auto unknown = add_v3(c, 1, "tx", r.producer_id, r.producer_epoch, "orders", {0, 5});
    const auto& parts = unknown.results_by_topic_v3_and_below.front().results_by_partition;
    CHECK(parts.at(0).partition_error_code == err(error_code::operation_not_attempted));
    CHECK(parts.at(1).partition_error_code == err(error_code::unknown_topic_or_partition));
    CHECK(describe(c, "tx").transaction_state == "Empty");
    auto fenced = [&](int16_t v) {
        return add_v3(c, v, "tx", r.producer_id, static_cast<int16_t>(r.producer_epoch + 1), "orders", {0})
            .results_by_topic_v3_and_below.front().results_by_partition.front().partition_error_code;
    };
    CHECK(fenced(1) == err(error_code::invalid_producer_epoch));
    CHECK(fenced(2) == err(error_code::producer_fenced));
    CHECK(add_v3(c, 3, "nope", r.producer_id, 0, "orders", {0}).results_by_topic_v3_and_below.front()
              .results_by_partition.front().partition_error_code == err(error_code::invalid_producer_id_mapping));
    CHECK(end(c, 1, "tx", r.producer_id, r.producer_epoch, true).error_code == err(error_code::invalid_txn_state));
}

TEST_CASE("transaction handlers: the batched AddPartitionsToTxn form (v4, v5) adds and verifies") {
    node_fixture node;
    wire_client c(node.port());
    create_topic(c, "orders", 2);
    const auto r = init(c, "tx", 2);
    REQUIRE(r.error_code == 0);
    for (int16_t v = 4; v <= 5; ++v) {
        CAPTURE(v);
        protocol::add_partitions_to_txn_request req;
        protocol::add_partitions_to_txn_request::add_partitions_to_txn_transaction verify;
        verify.transactional_id = "tx";
        verify.producer_id = r.producer_id;
        verify.producer_epoch = r.producer_epoch;
        verify.verify_only = true;
        verify.topics.push_back({"orders", {0, 1}});
        auto add = verify;
        add.verify_only = false;
        add.topics = {{"orders", {0}}};
        req.transactions = {add, verify};
        const auto resp = c.call(req, v);
        CHECK(resp.error_code == 0);
        REQUIRE(resp.results_by_transaction.size() == 2);
        CHECK(resp.results_by_transaction.at(0).topic_results.at(0).results_by_partition.at(0).partition_error_code == 0);
        const auto& verified = resp.results_by_transaction.at(1).topic_results.at(0).results_by_partition;
        CHECK(verified.at(0).partition_error_code == 0);
        // Not in the transaction: TRANSACTION_ABORTABLE from v5, INVALID_TXN_STATE before.
        CHECK(verified.at(1).partition_error_code ==
              err(v >= 5 ? error_code::transaction_abortable : error_code::invalid_txn_state));
    }
}

TEST_CASE("transaction handlers: AddOffsetsToTxn and TxnOffsetCommit at every version; offsets show on commit") {
    node_fixture node;
    wire_client c(node.port());
    create_topic(c, "in", 1);
    for (int16_t v = 0; v <= 4; ++v) {
        CAPTURE(v);
        const auto group = "g" + std::to_string(v);
        const auto r = init_until_ready(c, "tx", 2);
        REQUIRE(r.error_code == 0);

        protocol::txn_offset_commit_request commit;
        commit.transactional_id = "tx";
        commit.group_id = group;
        commit.producer_id = r.producer_id;
        commit.producer_epoch = r.producer_epoch;
        commit.topics.push_back({"in", {{0, 42, -1, "meta"}}});
        // Before AddOffsetsToTxn the group's partition is not in the transaction.
        const auto early = c.call(commit, v);
        CHECK(early.topics.at(0).partitions.at(0).error_code ==
              err(v >= 4 ? error_code::transaction_abortable : error_code::invalid_txn_state));

        protocol::add_offsets_to_txn_request add;
        add.transactional_id = "tx";
        add.producer_id = r.producer_id;
        add.producer_epoch = r.producer_epoch;
        add.group_id = group;
        CHECK(c.call(add, v).error_code == 0);
        CHECK(c.call(commit, v).topics.at(0).partitions.at(0).error_code == 0);

        protocol::offset_fetch_request fetch;
        fetch.group_id = group;
        fetch.topics = std::vector<protocol::offset_fetch_request::offset_fetch_request_topic>{{"in", {0}}};
        fetch.require_stable = true;
        auto pending = c.call(fetch, 7);
        CHECK(pending.topics.at(0).partitions.at(0).error_code == err(error_code::unstable_offset_commit));
        fetch.require_stable = false;
        CHECK(c.call(fetch, 7).topics.at(0).partitions.at(0).committed_offset == -1);

        REQUIRE(end(c, 3, "tx", r.producer_id, r.producer_epoch, true).error_code == 0);
        REQUIRE(settled_state(c, "tx") == "CompleteCommit");
        fetch.require_stable = true;
        const auto done = c.call(fetch, 7);
        CHECK(done.topics.at(0).partitions.at(0).error_code == 0);
        CHECK(done.topics.at(0).partitions.at(0).committed_offset == 42);
        CHECK(done.topics.at(0).partitions.at(0).metadata == "meta");
    }
}

TEST_CASE("transaction handlers: aborted transactional offsets are dropped") {
    node_fixture node;
    wire_client c(node.port());
    create_topic(c, "in", 1);
    const auto r = init(c, "tx", 2);
    protocol::add_offsets_to_txn_request add;
    add.transactional_id = "tx";
    add.producer_id = r.producer_id;
    add.producer_epoch = r.producer_epoch;
    add.group_id = "g";
    REQUIRE(c.call(add, 3).error_code == 0);
    protocol::txn_offset_commit_request commit;
    commit.transactional_id = "tx";
    commit.group_id = "g";
    commit.producer_id = r.producer_id;
    commit.producer_epoch = r.producer_epoch;
    commit.topics.push_back({"in", {{0, 7, -1, ""}}});
    REQUIRE(c.call(commit, 3).topics.at(0).partitions.at(0).error_code == 0);
    // A stale epoch is refused as the log would refuse it.
    commit.producer_epoch = static_cast<int16_t>(r.producer_epoch - 1);
    CHECK(c.call(commit, 3).topics.at(0).partitions.at(0).error_code == err(error_code::invalid_producer_epoch));
    REQUIRE(end(c, 3, "tx", r.producer_id, r.producer_epoch, false).error_code == 0);
    REQUIRE(settled_state(c, "tx") == "CompleteAbort");
    protocol::offset_fetch_request fetch;
    fetch.group_id = "g";
    fetch.topics = std::vector<protocol::offset_fetch_request::offset_fetch_request_topic>{{"in", {0}}};
    fetch.require_stable = true;
    const auto resp = c.call(fetch, 7);
    CHECK(resp.topics.at(0).partitions.at(0).error_code == 0);
    CHECK(resp.topics.at(0).partitions.at(0).committed_offset == -1);
}

TEST_CASE("transaction handlers: DescribeTransactions and ListTransactions") {
    node_fixture node;
    wire_client c(node.port());
    create_topic(c, "orders", 1);
    const auto a = init(c, "a", 2);
    const auto b = init(c, "b", 2);
    (void)add_v3(c, 3, "b", b.producer_id, b.producer_epoch, "orders", {0});
    const auto d = describe(c, "b");
    CHECK(d.error_code == 0);
    CHECK(d.transaction_state == "Ongoing");
    CHECK(d.transaction_timeout_ms == 30000);
    CHECK(d.producer_id == b.producer_id);
    CHECK(d.transaction_start_time_ms > 0);
    CHECK(describe(c, "zzz").error_code == err(error_code::transactional_id_not_found));

    protocol::list_transactions_request list;
    auto all = c.call(list, 0);
    CHECK(all.error_code == 0);
    CHECK(all.transaction_states.size() == 2);
    list.state_filters = {"Empty", "Nonsense"};
    auto empty = c.call(list, 0);
    REQUIRE(empty.transaction_states.size() == 1);
    CHECK(empty.transaction_states.front().transactional_id == "a");
    CHECK(empty.transaction_states.front().producer_id == a.producer_id);
    CHECK(empty.unknown_state_filters == std::vector<std::string>{"Nonsense"});
    list.state_filters = {};
    list.producer_id_filters = {b.producer_id};
    auto by_pid = c.call(list, 1);
    REQUIRE(by_pid.transaction_states.size() == 1);
    CHECK(by_pid.transaction_states.front().transaction_state == "Ongoing");
    list.producer_id_filters = {};
    list.state_filters = {"Ongoing"};
    list.duration_filter = 3'600'000;  // b has not run for an hour
    CHECK(c.call(list, 1).transaction_states.empty());
    list.duration_filter = -1;
    CHECK(c.call(list, 1).transaction_states.size() == 1);
}

} // namespace samsa::broker::test
