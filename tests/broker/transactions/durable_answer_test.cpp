// Coordinator answers held until writes are durable (broker/handlers/durable_answer.h), through
// the dispatcher: InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, OffsetCommit,
// TxnOffsetCommit, JoinGroup and SyncGroup once their own write is; Heartbeat, LeaveGroup,
// ConsumerGroupHeartbeat and OffsetDelete once the group partition's pending writes are, and
// DeleteGroups once those of every named group's partition are. Over the real
// __transaction_state / __consumer_offsets logs and flusher (a broker-wide flush policy) and over
// in-memory logs whose fsync the test completes, or fails, when it chooses.
#include "../groups/group_test_support.h"
#include "broker/groups/metadata_topic_source.h"
#include "broker/internal_topic_log.h"
#include "broker/transactions/transaction_log.h"
#include "protocol/messages/add_offsets_to_txn.h"
#include "protocol/messages/add_partitions_to_txn.h"
#include "protocol/messages/consumer_group_heartbeat.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/end_txn.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_delete.h"
#include "protocol/messages/sync_group.h"
#include "protocol/messages/txn_offset_commit.h"
#include "tests/broker/data_path_fixture.h"
#include "transaction_test_support.h"

#include <doctest/doctest.h>

namespace samsa::broker::test {

namespace {

using protocol::error_code;

constexpr int16_t e_none = 0;

protocol::init_producer_id_request init_request(const std::string& id) {
    protocol::init_producer_id_request req;
    req.transactional_id = id;
    req.transaction_timeout_ms = 30000;
    req.producer_id = -1;
    req.producer_epoch = -1;
    return req;
}

protocol::add_partitions_to_txn_request add_request(const std::string& id, int64_t pid, int16_t epoch, const std::string& topic) {
    protocol::add_partitions_to_txn_request req;
    req.v3_and_below_transactional_id = id;
    req.v3_and_below_producer_id = pid;
    req.v3_and_below_producer_epoch = epoch;
    req.v3_and_below_topics.push_back({topic, {0}});
    return req;
}

protocol::end_txn_request end_request(const std::string& id, int64_t pid, int16_t epoch, bool commit) {
    protocol::end_txn_request req;
    req.transactional_id = id;
    req.producer_id = pid;
    req.producer_epoch = epoch;
    req.committed = commit;
    return req;
}

protocol::offset_commit_request commit_request(const std::string& group, const std::string& topic, int64_t offset) {
    protocol::offset_commit_request req;
    req.group_id = group;
    req.generation_id_or_member_epoch = -1;
    protocol::offset_commit_request::offset_commit_request_topic t;
    t.name = topic;
    protocol::offset_commit_request::offset_commit_request_partition p;
    p.partition_index = 0;
    p.committed_offset = offset;
    t.partitions.push_back(p);
    req.topics.push_back(t);
    return req;
}

protocol::txn_offset_commit_request txn_commit_request(const std::string& id, int64_t pid, int16_t epoch, const std::string& group,
                                                       const std::string& topic, int64_t offset) {
    protocol::txn_offset_commit_request req;
    req.transactional_id = id;
    req.group_id = group;
    req.producer_id = pid;
    req.producer_epoch = epoch;
    protocol::txn_offset_commit_request::txn_offset_commit_request_topic t;
    t.name = topic;
    protocol::txn_offset_commit_request::txn_offset_commit_request_partition p;
    p.partition_index = 0;
    p.committed_offset = offset;
    t.partitions.push_back(p);
    req.topics.push_back(t);
    return req;
}

// The first heartbeat of a KIP-848 member, or (with its id and epoch) a later one.
protocol::consumer_group_heartbeat_request heartbeat_request(const std::string& group, std::string member_id = "",
                                                             int32_t epoch = 0) {
    protocol::consumer_group_heartbeat_request req;
    req.group_id = group;
    req.member_id = std::move(member_id);
    req.member_epoch = epoch;
    req.rebalance_timeout_ms = 10000;
    if (epoch == 0) {
        req.subscribed_topic_names = std::vector<std::string>{"orders"};
        req.topic_partitions = std::vector<protocol::consumer_group_heartbeat_request::topic_partitions_data>{};
    }
    return req;
}

template <typename Request>
typename Request::response_type answer_of(const call_result& c, int16_t version, int32_t corr = 7) {
    return decode_response<typename Request::response_type>(c.frame(), version, corr);
}

group_config groups_config() {
    auto c = group_fixture::test_config();
    c.offsets_topic_partitions = 3;
    return c;
}

// A transaction coordinator and a group coordinator over the node's own internal topics.
struct real_logs {
    explicit real_logs(data_path_fixture& f)
        : state(transaction_state_topic_name, f.metadata(), f.logs()), offsets(offsets_topic_name, f.metadata(), f.logs()),
          topics(f.metadata()),
          txns(txn_fixture::test_config(), f.loop(), state, markers,
               [this] { return std::optional<protocol::producer_id>(next_id++); }),
          groups(groups_config(), f.loop(), offsets, topics) {
        markers.answer_at_once = true;
        txns.start();
        groups.start();
        f.set_coordinators(&txns, &groups);
    }
    internal_topic_log state;
    internal_topic_log offsets;
    metadata_topic_source topics;
    fake_marker_writer markers;
    int64_t next_id = 5000;
    transaction_coordinator txns;
    group_coordinator groups;
};

// The same coordinators over in-memory logs whose fsyncs the test completes.
struct held_logs {
    explicit held_logs(data_path_fixture& f)
        : txns(txn_fixture::test_config(), f.loop(), state, markers,
               [this] { return std::optional<protocol::producer_id>(next_id++); }),
          groups(groups_config(), f.loop(), offsets, topics) {
        topics.add("orders", 1);
        markers.answer_at_once = true;
        state.hold_fsync = true;
        offsets.hold_fsync = true;
        txns.start();
        groups.start();
        f.set_coordinators(&txns, &groups);
    }
    memory_transaction_log state;
    memory_internal_log offsets;
    fake_topics topics;
    fake_marker_writer markers;
    int64_t next_id = 7000;
    transaction_coordinator txns;
    group_coordinator groups;
};

// Completes fsyncs, runs posted work and moves the clock on (up to 2 s) until `done()`.
template <typename Done>
void settle(data_path_fixture& f, held_logs& c, Done done) {
    for (int i = 0; i < 20 && !done(); ++i) {
        (void)c.offsets.release();
        f.loop().run_posted();
        f.loop().advance(100);
    }
}

// A classic member (range assignor, subscribed to "orders") joins `group`, with whatever its
// join writes made durable; the join's answer.
join_result join_classic(data_path_fixture& f, held_logs& c, const std::string& group) {
    std::optional<join_result> joined;
    c.groups.join_group(group, classic_join_params(), [&](join_result r) { joined = std::move(r); });
    settle(f, c, [&] { return joined.has_value(); });
    REQUIRE(joined.has_value());
    REQUIRE(joined->error == error_code::none);
    (void)c.offsets.release();
    return *joined;
}

// JoinGroup of a classic consumer subscribed to "orders" (range assignor); static when
// `instance` is given.
protocol::join_group_request join_request(const std::string& group, std::optional<std::string> instance = std::nullopt) {
    protocol::join_group_request req;
    req.group_id = group;
    req.session_timeout_ms = 10'000;
    req.rebalance_timeout_ms = 30'000;
    req.group_instance_id = std::move(instance);
    req.protocol_type = "consumer";
    req.protocols.push_back({"range", subscription({"orders"})});
    return req;
}

// Static member `instance` joins `group` (v5: no member id round), leads and syncs, every write
// made durable: the classic group is stable. Its JoinGroup answer.
protocol::join_group_response stable_static_group(data_path_fixture& f, held_logs& c, const std::string& group,
                                                  const std::string& instance) {
    auto first = f.start(join_request(group, instance), 5);
    settle(f, c, [&] { return first.answered(); });
    REQUIRE(first.answered());
    const auto joined = answer_of<protocol::join_group_request>(first, 5);
    REQUIRE(joined.error_code == e_none);
    protocol::sync_group_request sync;
    sync.group_id = group;
    sync.generation_id = joined.generation_id;
    sync.member_id = joined.member_id;
    sync.group_instance_id = instance;
    sync.assignments.push_back({joined.member_id, {1}});
    auto synced = f.start(sync, 3);
    CHECK(c.offsets.release() >= 1);
    REQUIRE(synced.answered());
    REQUIRE(answer_of<protocol::sync_group_request>(synced, 3).error_code == e_none);
    return joined;
}

// Starts `req`, checks that its answer waits for the fsync (also once posted work has run),
// completes the fsync with `fsync_result` and returns the answer.
template <typename Request>
typename Request::response_type answer_after_fsync(data_path_fixture& f, held_logs& c, const Request& req, int16_t version,
                                                   error_code fsync_result = error_code::none) {
    auto call = f.start(req, version);
    CHECK(call.waiting());
    f.loop().run_posted();
    CHECK(call.waiting());
    CHECK(c.offsets.release(fsync_result) >= 1);
    REQUIRE(call.answered());
    return answer_of<Request>(call, version);
}

// Each group commits offset 42 of orders-0, made durable.
void commit_durably(data_path_fixture& f, held_logs& c, std::initializer_list<const char*> groups) {
    for (const char* group : groups) {
        auto commit = f.start(commit_request(group, "orders", 42), 8);
        CHECK(c.offsets.release() == 1);
        REQUIRE(commit.answered());
    }
}

// OffsetDelete of orders-0 for `group`.
protocol::offset_delete_request offset_delete_request(const std::string& group) {
    protocol::offset_delete_request od;
    od.group_id = group;
    od.topics.push_back({"orders", {{0}}});
    return od;
}

} // namespace

TEST_CASE("durable answer: under a flush policy the transaction APIs answer after __transaction_state's fsync") {
    data_path_fixture f(std::vector<std::pair<std::string, std::string>>{{"log.flush.interval.messages", "1"}});
    f.create_topic("orders", 1);
    real_logs c(f);
    REQUIRE(c.txns.find_coordinator("t1") == error_code::none);
    const auto state_log = f.log("__transaction_state", c.txns.partition_for("t1").value());
    REQUIRE(state_log != nullptr);

    auto init = f.start(init_request("t1"), 3);
    REQUIRE_FALSE(init.closed);
    CHECK(init.waiting());  // the fsync runs on the flusher thread
    REQUIRE(f.pump_until([&] { return init.answered(); }));
    const auto ir = answer_of<protocol::init_producer_id_request>(init, 3);
    CHECK(ir.error_code == e_none);
    CHECK(ir.producer_id == 5000);
    CHECK(state_log->recovery_point() == state_log->log_end_offset());

    auto add = f.start(add_request("t1", ir.producer_id, ir.producer_epoch, "orders"), 3);
    CHECK(add.waiting());
    REQUIRE(f.pump_until([&] { return add.answered(); }));
    CHECK(answer_of<protocol::add_partitions_to_txn_request>(add, 3).results_by_topic_v3_and_below.at(0).results_by_partition.at(0).partition_error_code == e_none);

    auto end = f.start(end_request("t1", ir.producer_id, ir.producer_epoch, true), 3);
    CHECK(end.waiting());
    // The decision is not on disk yet: no marker may be written before it is.
    CHECK(c.markers.requests.empty());
    REQUIRE(f.pump_until([&] { return end.answered(); }));
    CHECK(answer_of<protocol::end_txn_request>(end, 3).error_code == e_none);
    CHECK(state_log->recovery_point() >= samsa::protocol::offset(3));
    REQUIRE(f.pump_until([&] { return !c.markers.requests.empty(); }));
    CHECK(c.markers.requests.at(0).commit);
}

TEST_CASE("durable answer: under a flush policy OffsetCommit answers after __consumer_offsets' fsync") {
    data_path_fixture f(std::vector<std::pair<std::string, std::string>>{{"log.flush.interval.messages", "1"}});
    f.create_topic("orders", 1);
    real_logs c(f);
    REQUIRE(c.groups.find_coordinator("g") == error_code::none);
    const auto offsets_partition = f.log("__consumer_offsets", c.groups.partition_for("g").value());
    REQUIRE(offsets_partition != nullptr);

    auto commit = f.start(commit_request("g", "orders", 42), 8);
    CHECK(commit.waiting());
    REQUIRE(f.pump_until([&] { return commit.answered(); }));
    CHECK(answer_of<protocol::offset_commit_request>(commit, 8).topics.at(0).partitions.at(0).error_code == e_none);
    CHECK(offsets_partition->log_end_offset() == samsa::protocol::offset(1));
    CHECK(offsets_partition->recovery_point() == samsa::protocol::offset(1));
}

TEST_CASE("durable answer: without a flush policy coordinator writes are answered at once, unsynced") {
    data_path_fixture f;
    f.create_topic("orders", 1);
    real_logs c(f);
    const auto ir = f.call(init_request("t1"), 3);
    CHECK(ir.error_code == e_none);
    CHECK(f.call(commit_request("g", "orders", 42), 8).topics.at(0).partitions.at(0).error_code == e_none);
    const auto state_log = f.log("__transaction_state", c.txns.partition_for("t1").value());
    REQUIRE(state_log != nullptr);
    CHECK(state_log->log_end_offset() == samsa::protocol::offset(1));
    CHECK(state_log->recovery_point() == samsa::protocol::offset(0));
}

TEST_CASE("durable answer: nothing is answered, and no marker sent, before the fsync completes") {
    data_path_fixture f;
    f.create_topic("orders", 1);
    held_logs c(f);

    auto init = f.start(init_request("t1"), 3);
    CHECK(init.waiting());
    f.loop().run_posted();
    CHECK(init.waiting());
    CHECK(c.state.release() == 1);
    REQUIRE(init.answered());
    const auto ir = answer_of<protocol::init_producer_id_request>(init, 3);
    CHECK(ir.error_code == e_none);

    auto add = f.start(add_request("t1", ir.producer_id, ir.producer_epoch, "orders"), 3);
    CHECK(add.waiting());
    CHECK(c.state.release() == 1);
    REQUIRE(add.answered());

    protocol::add_offsets_to_txn_request ao;
    ao.transactional_id = "t1";
    ao.producer_id = ir.producer_id;
    ao.producer_epoch = ir.producer_epoch;
    ao.group_id = "g";
    auto offsets = f.start(ao, 3);
    CHECK(offsets.waiting());
    CHECK(c.state.release() == 1);
    REQUIRE(offsets.answered());
    CHECK(answer_of<protocol::add_offsets_to_txn_request>(offsets, 3).error_code == e_none);

    auto txn_commit = f.start(txn_commit_request("t1", ir.producer_id, ir.producer_epoch, "g", "orders", 9), 3);
    CHECK(txn_commit.waiting());
    CHECK(c.offsets.release() == 1);
    REQUIRE(txn_commit.answered());
    CHECK(answer_of<protocol::txn_offset_commit_request>(txn_commit, 3).topics.at(0).partitions.at(0).error_code == e_none);

    auto end = f.start(end_request("t1", ir.producer_id, ir.producer_epoch, true), 3);
    CHECK(end.waiting());
    f.loop().run_posted();
    CHECK(end.waiting());
    CHECK(c.markers.requests.empty());
    CHECK(c.state.release() == 2);  // the coordinator's wait for the markers and the answer's
    REQUIRE(end.answered());
    CHECK(answer_of<protocol::end_txn_request>(end, 3).error_code == e_none);
    REQUIRE(c.markers.requests.size() == 1);
    CHECK(c.markers.requests[0].commit);
}

TEST_CASE("durable answer: a failed fsync answers NOT_COORDINATOR, and EndTxn then sends no markers") {
    data_path_fixture f;
    f.create_topic("orders", 1);
    held_logs c(f);

    auto failed_init = f.start(init_request("t0"), 3);
    CHECK(c.state.release(error_code::kafka_storage_error) == 1);
    REQUIRE(failed_init.answered());
    const auto fr = answer_of<protocol::init_producer_id_request>(failed_init, 3);
    CHECK(fr.error_code == to_int(error_code::not_coordinator));
    CHECK(fr.producer_id == -1);

    auto init = f.start(init_request("t1"), 3);
    CHECK(c.state.release() == 1);
    const auto ir = answer_of<protocol::init_producer_id_request>(init, 3);
    auto add = f.start(add_request("t1", ir.producer_id, ir.producer_epoch, "orders"), 3);
    CHECK(c.state.release() == 1);
    REQUIRE(add.answered());

    auto end = f.start(end_request("t1", ir.producer_id, ir.producer_epoch, false), 3);
    CHECK(end.waiting());
    CHECK(c.state.release(error_code::kafka_storage_error) == 2);
    REQUIRE(end.answered());
    CHECK(answer_of<protocol::end_txn_request>(end, 3).error_code == to_int(error_code::not_coordinator));
    CHECK(c.markers.requests.empty());

    auto commit = f.start(commit_request("g", "orders", 5), 8);
    CHECK(commit.waiting());
    CHECK(c.offsets.release(error_code::kafka_storage_error) == 1);
    REQUIRE(commit.answered());
    CHECK(answer_of<protocol::offset_commit_request>(commit, 8).topics.at(0).partitions.at(0).error_code ==
          to_int(error_code::not_coordinator));
}

TEST_CASE("durable answer: SyncGroup hands out the leader's assignment once the group's metadata is durable") {
    data_path_fixture f;
    held_logs c(f);
    const auto joined = join_classic(f, c, "g");

    protocol::sync_group_request req;
    req.group_id = "g";
    req.generation_id = joined.generation;
    req.member_id = joined.member_id;
    req.assignments.push_back({joined.member_id, {1, 2, 3}});
    const auto r = answer_after_fsync(f, c, req, 3);
    CHECK(r.error_code == e_none);
    CHECK(r.assignment == std::vector<uint8_t>{1, 2, 3});

    // A failed fsync: the member learns NOT_COORDINATOR, without an assignment.
    const auto failed = answer_after_fsync(f, c, req, 3, error_code::kafka_storage_error);
    CHECK(failed.error_code == to_int(error_code::not_coordinator));
    CHECK(failed.assignment.empty());
}

TEST_CASE("durable answer: ConsumerGroupHeartbeat that wrote answers once its records are durable, one that did not at once") {
    data_path_fixture f;
    held_logs c(f);

    // The member and its new epoch are answered only once durable.
    const auto joined = answer_after_fsync(f, c, heartbeat_request("g"), 0);
    REQUIRE(joined.error_code == e_none);
    REQUIRE(joined.member_id.has_value());
    CHECK(joined.member_epoch == 1);
    CHECK(joined.assignment.has_value());

    // A heartbeat that changes nothing writes nothing, and has nothing to wait for.
    const int appends = c.offsets.appends;
    auto steady = heartbeat_request("g", *joined.member_id, joined.member_epoch);
    steady.topic_partitions.emplace();
    for (const auto& tp : joined.assignment->topic_partitions) steady.topic_partitions->push_back({tp.topic_id, tp.partitions});
    auto beat = f.start(steady, 0);
    REQUIRE(beat.answered());
    CHECK(answer_of<protocol::consumer_group_heartbeat_request>(beat, 0).error_code == e_none);
    CHECK(c.offsets.appends == appends);
    CHECK(c.offsets.held.empty());

    // A failed fsync: the member learns NOT_COORDINATOR and nothing else, as from Kafka.
    const auto failed = answer_after_fsync(f, c, heartbeat_request("g"), 0, error_code::kafka_storage_error);
    CHECK(failed.error_code == to_int(error_code::not_coordinator));
    CHECK_FALSE(failed.member_id.has_value());
    CHECK(failed.member_epoch == 0);
    CHECK_FALSE(failed.assignment.has_value());
}

TEST_CASE("durable answer: OffsetDelete and DeleteGroups answer once their tombstones are durable") {
    data_path_fixture f;
    held_logs c(f);
    commit_durably(f, c, {"g", "h"});

    const auto dr = answer_after_fsync(f, c, offset_delete_request("g"), 0);
    CHECK(dr.error_code == e_none);
    CHECK(dr.topics.at(0).partitions.at(0).error_code == e_none);

    protocol::delete_groups_request dg;
    dg.groups_names = {"h", "never-existed"};
    const auto gr = answer_after_fsync(f, c, dg, 2);
    CHECK(gr.results.at(0).error_code == e_none);
    CHECK(gr.results.at(1).error_code == to_int(error_code::group_id_not_found));

    // Nothing to delete writes nothing and is answered at once.
    dg.groups_names = {"never-existed"};
    auto nothing = f.start(dg, 2);
    REQUIRE(nothing.answered());
    CHECK(c.offsets.held.empty());
}

TEST_CASE("durable answer: a failed fsync fails OffsetDelete and each group DeleteGroups deleted with NOT_COORDINATOR") {
    data_path_fixture f;
    held_logs c(f);
    commit_durably(f, c, {"g", "h", "i"});

    const auto dr = answer_after_fsync(f, c, offset_delete_request("g"), 0, error_code::kafka_storage_error);
    CHECK(dr.error_code == to_int(error_code::not_coordinator));
    CHECK(dr.topics.empty());

    protocol::delete_groups_request dg;
    dg.groups_names = {"h", "never-existed", "i"};
    const auto gr = answer_after_fsync(f, c, dg, 2, error_code::kafka_storage_error);
    CHECK(gr.results.at(0).error_code == to_int(error_code::not_coordinator));
    CHECK(gr.results.at(1).error_code == to_int(error_code::group_id_not_found));
    CHECK(gr.results.at(2).error_code == to_int(error_code::not_coordinator));
}

TEST_CASE("durable answer: a classic member leaving a consumer group is answered once the removal is durable") {
    data_path_fixture f;
    held_logs c(f);
    auto first = f.start(heartbeat_request("g"), 0);
    (void)c.offsets.release();
    REQUIRE(first.answered());
    REQUIRE(answer_of<protocol::consumer_group_heartbeat_request>(first, 0).error_code == e_none);

    auto leave_request = [](const std::string& member_id) {
        protocol::leave_group_request req;
        req.group_id = "g";
        req.members.push_back({member_id, std::nullopt});
        return req;
    };

    const auto left = answer_after_fsync(f, c, leave_request(join_classic(f, c, "g").member_id), 3);
    CHECK(left.error_code == e_none);
    REQUIRE(left.members.size() == 1);
    CHECK(left.members[0].error_code == e_none);

    // A failed fsync: the error alone, as Kafka's coordinator answers it.
    const auto failed = answer_after_fsync(f, c, leave_request(join_classic(f, c, "g").member_id), 3,
                                           error_code::kafka_storage_error);
    CHECK(failed.error_code == to_int(error_code::not_coordinator));
    CHECK(failed.members.empty());
}

TEST_CASE("durable answer: a static member replacing another in a stable classic group is answered once the group is durable") {
    data_path_fixture f;
    held_logs c(f);
    const auto joined = stable_static_group(f, c, "s", "i1");

    // A new instance of "i1" replaces the member: the group's metadata is written, and the new
    // member id is handed out only once that write is durable.
    const auto r = answer_after_fsync(f, c, join_request("s", "i1"), 5);
    CHECK(r.error_code == e_none);
    CHECK_FALSE(r.member_id.empty());
    CHECK(r.member_id != joined.member_id);
    CHECK(r.generation_id == joined.generation_id);

    // A failed fsync: the error, with no member id, as Kafka answers a failed static-member write.
    const auto fr = answer_after_fsync(f, c, join_request("s", "i1"), 5, error_code::kafka_storage_error);
    CHECK(fr.error_code == to_int(error_code::not_coordinator));
    CHECK(fr.member_id.empty());
    CHECK(fr.members.empty());
}

TEST_CASE("durable answer: a classic member joining a consumer group is answered once its records are durable") {
    data_path_fixture f;
    held_logs c(f);
    auto first = f.start(heartbeat_request("g"), 0);
    (void)c.offsets.release();
    REQUIRE(first.answered());
    REQUIRE(answer_of<protocol::consumer_group_heartbeat_request>(first, 0).error_code == e_none);

    const auto joined = answer_after_fsync(f, c, join_request("g"), 3);
    CHECK(joined.error_code == e_none);
    CHECK_FALSE(joined.member_id.empty());

    const auto failed = answer_after_fsync(f, c, join_request("g"), 3, error_code::kafka_storage_error);
    CHECK(failed.error_code == to_int(error_code::not_coordinator));
    CHECK(failed.member_id.empty());
}

TEST_CASE("durable answer: a request that wrote nothing answers after the group's writes still waiting for their fsync") {
    data_path_fixture f;
    held_logs c(f);
    const auto joined = stable_static_group(f, c, "s", "i1");
    protocol::heartbeat_request hb;
    hb.group_id = "s";
    hb.generation_id = joined.generation_id;
    hb.member_id = joined.member_id;
    hb.group_instance_id = "i1";

    // Nothing pending: answered at once.
    auto idle = f.start(hb, 3);
    REQUIRE(idle.answered());
    CHECK(answer_of<protocol::heartbeat_request>(idle, 3).error_code == e_none);

    // The member's offset commit waits for its fsync; a heartbeat behind it writes nothing, and
    // waits for it too.
    auto commit_of_member = [&] {
        auto req = commit_request("s", "orders", 42);
        req.generation_id_or_member_epoch = joined.generation_id;
        req.member_id = joined.member_id;
        return req;
    };
    auto commit = f.start(commit_of_member(), 8);
    auto beat = f.start(hb, 3);
    CHECK(commit.waiting());
    CHECK(beat.waiting());
    CHECK(c.offsets.release() == 2);
    REQUIRE(commit.answered());
    REQUIRE(beat.answered());
    CHECK(answer_of<protocol::heartbeat_request>(beat, 3).error_code == e_none);

    // When that fsync fails, the heartbeat learns the coordinator's error as well.
    auto failed_commit = f.start(commit_of_member(), 8);
    auto failed_beat = f.start(hb, 3);
    CHECK(failed_beat.waiting());
    CHECK(c.offsets.release(error_code::kafka_storage_error) == 2);
    REQUIRE(failed_commit.answered());
    REQUIRE(failed_beat.answered());
    CHECK(answer_of<protocol::heartbeat_request>(failed_beat, 3).error_code == to_int(error_code::not_coordinator));
}

TEST_CASE("durable answer: DeleteGroups of an unknown group answers after the writes pending on its partition") {
    data_path_fixture f;
    held_logs c(f);
    // A group that never existed, on the same __consumer_offsets partition as "g".
    std::string unknown;
    for (int i = 0; i < 1000 && unknown.empty(); ++i) {
        const std::string name = "never-existed-" + std::to_string(i);
        if (c.groups.partition_for(name) == c.groups.partition_for("g")) unknown = name;
    }
    REQUIRE_FALSE(unknown.empty());
    protocol::delete_groups_request dg;
    dg.groups_names = {unknown};

    // "g"'s offset commit waits for its fsync; the DeleteGroups behind it deletes nothing, and
    // waits for it too.
    auto commit = f.start(commit_request("g", "orders", 42), 8);
    auto deleted = f.start(dg, 2);
    CHECK(commit.waiting());
    CHECK(deleted.waiting());
    f.loop().run_posted();
    CHECK(deleted.waiting());
    CHECK(c.offsets.release() == 2);
    REQUIRE(commit.answered());
    REQUIRE(deleted.answered());
    const auto r = answer_of<protocol::delete_groups_request>(deleted, 2);
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].group_id == unknown);
    CHECK(r.results[0].error_code == to_int(error_code::group_id_not_found));

    // When that fsync fails, the group it could not delete keeps its own error.
    auto failed_commit = f.start(commit_request("g", "orders", 43), 8);
    auto failed_delete = f.start(dg, 2);
    CHECK(failed_delete.waiting());
    CHECK(c.offsets.release(error_code::kafka_storage_error) == 2);
    REQUIRE(failed_commit.answered());
    REQUIRE(failed_delete.answered());
    CHECK(answer_of<protocol::delete_groups_request>(failed_delete, 2).results.at(0).error_code ==
          to_int(error_code::group_id_not_found));

    // Nothing pending on the partition: answered at once.
    auto idle = f.start(dg, 2);
    REQUIRE(idle.answered());
    CHECK(answer_of<protocol::delete_groups_request>(idle, 2).results.at(0).error_code == to_int(error_code::group_id_not_found));
}

TEST_CASE("durable answer: a failed fsync fails only the groups DeleteGroups deleted on that partition") {
    data_path_fixture f;
    held_logs c(f);
    // Two groups on different __consumer_offsets partitions.
    const std::string first = "h";
    std::string second;
    for (const char* g : {"i", "j", "k", "l", "m", "n"})
        if (c.groups.partition_for(g) != c.groups.partition_for(first)) {
            second = g;
            break;
        }
    REQUIRE_FALSE(second.empty());
    commit_durably(f, c, {first.c_str(), second.c_str()});

    protocol::delete_groups_request dg;
    dg.groups_names = {first, second};
    auto call = f.start(dg, 2);
    REQUIRE(call.waiting());
    REQUIRE(c.offsets.held.size() == 2);
    c.offsets.release_oldest(error_code::kafka_storage_error);  // the first group's partition
    CHECK(call.waiting());
    c.offsets.release_oldest(error_code::none);
    REQUIRE(call.answered());
    const auto r = answer_of<protocol::delete_groups_request>(call, 2);
    CHECK(r.results.at(0).error_code == to_int(error_code::not_coordinator));
    CHECK(r.results.at(1).error_code == e_none);
}

} // namespace samsa::broker::test
