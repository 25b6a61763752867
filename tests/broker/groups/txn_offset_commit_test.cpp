// Transactional offset commits in the group coordinator (TxnOffsetCommit): pending per producer
// until the transaction's marker, UNSTABLE_OFFSET_COMMIT for require_stable readers, member
// checks, and the replay of transactional records and markers from __consumer_offsets.
#include "group_test_support.h"

#include "broker/groups/txn_offset_table.h"
#include "protocol/record_batch_builder.h"

#include <doctest/doctest.h>

namespace samsa::broker::test {

namespace {

using protocol::error_code;

txn_offset_commit_params txn_commit(const std::string& group, int64_t pid, std::vector<offset_commit_entry> offsets) {
    txn_offset_commit_params p;
    p.group_id = group;
    p.producer_id = protocol::producer_id(pid);
    p.producer_epoch = protocol::producer_epoch(3);
    p.offsets = std::move(offsets);
    return p;
}

offset_fetch_partition fetch_one(group_fixture& f, const std::string& group, const std::string& topic, int32_t partition,
                                 bool require_stable) {
    offset_fetch_request_params p;
    p.group_id = group;
    p.topics.emplace();
    p.topics->push_back({topic, {protocol::partition_id(partition)}});
    p.require_stable = require_stable;
    const auto r = f.gc().fetch_offsets(p);
    REQUIRE(r.error == error_code::none);
    REQUIRE(r.partitions.size() == 1);
    return r.partitions.front();
}

// A COMMIT or ABORT marker of `pid` on the group's __consumer_offsets partition, as the data
// path writes it.
void write_marker(group_fixture& f, const std::string& group, int64_t pid, bool commit) {
    protocol::batch_options o;
    o.producer_id = pid;
    o.producer_epoch = 3;
    auto built = protocol::build_control_batch(
        o, {commit ? protocol::control_type::commit : protocol::control_type::abort, 0}, f.wall_ms());
    REQUIRE(built.status == protocol::codec_status::ok);
    REQUIRE(f.log.append(f.gc().partition_for(group), built.bytes, f.wall_ms()) == error_code::none);
}

offset_commit_request_params plain_commit(const std::string& group, int32_t partition, int64_t offset) {
    offset_commit_request_params p;
    p.group_id = group;
    p.api_version = 8;
    p.offsets.push_back(commit_entry("orders", partition, offset));
    return p;
}

} // namespace

TEST_CASE("committed_offset: a commit is older than another when its record comes first in the log") {
    committed_offset first{protocol::offset(1), protocol::leader_epoch(-1), "", 0, std::nullopt, protocol::offset(10)};
    committed_offset second{protocol::offset(1), protocol::leader_epoch(-1), "", 0, std::nullopt, protocol::offset(11)};
    committed_offset unknown{protocol::offset(1), protocol::leader_epoch(-1), "", 0, std::nullopt};
    CHECK(first.older_than(second));
    CHECK_FALSE(second.older_than(first));
    CHECK_FALSE(first.older_than(first));
    CHECK(unknown.older_than(first));
}

TEST_CASE("txn_offset_table: offsets wait per producer and are taken in one piece") {
    txn_offset_table t;
    t.add(protocol::producer_id(1), "g", "orders", protocol::partition_id(0),
          committed_offset{protocol::offset(5), protocol::leader_epoch(-1), "", 0, std::nullopt});
    t.add(protocol::producer_id(1), "g", "orders", protocol::partition_id(0),
          committed_offset{protocol::offset(9), protocol::leader_epoch(-1), "", 0, std::nullopt});
    t.add(protocol::producer_id(2), "h", "orders", protocol::partition_id(1),
          committed_offset{protocol::offset(3), protocol::leader_epoch(-1), "", 0, std::nullopt});
    CHECK(t.producers() == 2);
    CHECK(t.pending("g", "orders", protocol::partition_id(0)));
    CHECK_FALSE(t.pending("g", "orders", protocol::partition_id(1)));
    CHECK_FALSE(t.pending("h", "orders", protocol::partition_id(0)));
    const auto taken = t.take(protocol::producer_id(1));
    REQUIRE(taken.size() == 1);
    CHECK(taken.front().value.offset.value() == 9);  // the later one in the same transaction wins
    CHECK_FALSE(t.pending("g", "orders", protocol::partition_id(0)));
    CHECK(t.take(protocol::producer_id(1)).empty());
    CHECK(t.producers() == 1);
}

TEST_CASE("group_coordinator: transactional offsets are unstable until the commit, then committed") {
    group_fixture f;
    const auto errors = f.gc().commit_txn_offsets(txn_commit("g", 77, {commit_entry("orders", 0, 42, 5, "m", -1)}));
    CHECK(errors == std::vector<error_code>{error_code::none});
    CHECK(fetch_one(f, "g", "orders", 0, true).error == error_code::unstable_offset_commit);
    CHECK(fetch_one(f, "g", "orders", 0, false).offset == protocol::offset(-1));
    f.gc().complete_txn_offsets(protocol::producer_id(77), true);
    const auto p = fetch_one(f, "g", "orders", 0, true);
    CHECK(p.error == error_code::none);
    CHECK(p.offset == protocol::offset(42));
    CHECK(p.leader_epoch == protocol::leader_epoch(5));
    CHECK(p.metadata == std::optional<std::string>("m"));
}

TEST_CASE("group_coordinator: an abort drops transactional offsets and keeps the earlier commit") {
    group_fixture f;
    offset_commit_request_params plain;
    plain.group_id = "g";
    plain.api_version = 8;
    plain.offsets.push_back(commit_entry("orders", 1, 10));
    REQUIRE(f.gc().commit_offsets(plain).front() == error_code::none);
    REQUIRE(f.gc().commit_txn_offsets(txn_commit("g", 77, {commit_entry("orders", 1, 20)})).front() == error_code::none);
    CHECK(fetch_one(f, "g", "orders", 1, false).offset == protocol::offset(10));
    f.gc().complete_txn_offsets(protocol::producer_id(77), false);
    CHECK(fetch_one(f, "g", "orders", 1, true).offset == protocol::offset(10));
}

TEST_CASE("group_coordinator: TxnOffsetCommit checks partitions, metadata size and the member when one is named") {
    group_fixture f;
    auto r = f.gc().commit_txn_offsets(
        txn_commit("g", 1, {commit_entry("orders", 99, 1), commit_entry("nope", 0, 1),
                            commit_entry("orders", 0, 1, -1, std::string(5000, 'x')), commit_entry("orders", 2, 1)}));
    CHECK(r == std::vector<error_code>{error_code::unknown_topic_or_partition, error_code::unknown_topic_or_partition,
                                       error_code::offset_metadata_too_large, error_code::none});
    // A classic group with a member: an unknown member or a wrong generation is refused.
    auto joined = f.join("members", f.params());
    CHECK(f.gc().groups().find("members") != nullptr);
    auto p = txn_commit("members", 2, {commit_entry("orders", 0, 1)});
    p.member_id = "someone-else";
    CHECK(f.gc().commit_txn_offsets(p).front() == error_code::unknown_member_id);
    CHECK(f.gc().commit_txn_offsets(txn_commit("", 2, {commit_entry("orders", 0, 1)})).front() == error_code::invalid_group_id);
}

TEST_CASE("group_coordinator: transactional records replay as pending until their marker is read") {
    group_fixture f;
    REQUIRE(f.gc().commit_txn_offsets(txn_commit("g", 10, {commit_entry("orders", 0, 100)})).front() == error_code::none);
    REQUIRE(f.gc().commit_txn_offsets(txn_commit("g", 11, {commit_entry("orders", 1, 200)})).front() == error_code::none);
    REQUIRE(f.gc().commit_txn_offsets(txn_commit("g", 12, {commit_entry("orders", 2, 300)})).front() == error_code::none);
    write_marker(f, "g", 10, true);
    write_marker(f, "g", 11, false);
    f.make();  // restart: 12's transaction is still open
    CHECK(fetch_one(f, "g", "orders", 0, true).offset == protocol::offset(100));
    CHECK(fetch_one(f, "g", "orders", 1, true).offset == protocol::offset(-1));
    CHECK(fetch_one(f, "g", "orders", 1, true).error == error_code::none);
    CHECK(fetch_one(f, "g", "orders", 2, true).error == error_code::unstable_offset_commit);
    f.gc().complete_txn_offsets(protocol::producer_id(12), true);
    CHECK(fetch_one(f, "g", "orders", 2, true).offset == protocol::offset(300));
}

// Kafka's precedence (GroupMetadata.completePendingTxnOffsetCommit): at the commit marker, a
// pending transactional offset replaces the committed one only if its record is later in
// __consumer_offsets.
TEST_CASE("group_coordinator: a plain commit written after the TxnOffsetCommit but before the marker wins") {
    group_fixture f;
    REQUIRE(f.gc().commit_offsets(plain_commit("g", 0, 5)).front() == error_code::none);
    REQUIRE(f.gc().commit_txn_offsets(txn_commit("g", 77, {commit_entry("orders", 0, 20)})).front() == error_code::none);
    REQUIRE(f.gc().commit_offsets(plain_commit("g", 0, 30)).front() == error_code::none);
    f.gc().complete_txn_offsets(protocol::producer_id(77), true);
    CHECK(fetch_one(f, "g", "orders", 0, true).offset == protocol::offset(30));
    // The same log read back at a restart gives the same answer.
    write_marker(f, "g", 77, true);
    f.make();
    CHECK(fetch_one(f, "g", "orders", 0, true).offset == protocol::offset(30));
}

TEST_CASE("group_coordinator: a TxnOffsetCommit written after the plain commit wins at its commit marker") {
    group_fixture f;
    REQUIRE(f.gc().commit_offsets(plain_commit("g", 0, 30)).front() == error_code::none);
    REQUIRE(f.gc().commit_txn_offsets(txn_commit("g", 77, {commit_entry("orders", 0, 20)})).front() == error_code::none);
    CHECK(fetch_one(f, "g", "orders", 0, false).offset == protocol::offset(30));
    f.gc().complete_txn_offsets(protocol::producer_id(77), true);
    CHECK(fetch_one(f, "g", "orders", 0, true).offset == protocol::offset(20));
    write_marker(f, "g", 77, true);
    f.make();
    CHECK(fetch_one(f, "g", "orders", 0, true).offset == protocol::offset(20));
}

TEST_CASE("group_coordinator: replaying a plain commit between a TxnOffsetCommit and its marker keeps the plain one") {
    group_fixture f;
    // Partition 1 is committed by the transaction alone; partition 0 also by a later plain commit.
    REQUIRE(f.gc().commit_txn_offsets(txn_commit("g", 77, {commit_entry("orders", 0, 20), commit_entry("orders", 1, 21)}))
                .front() == error_code::none);
    REQUIRE(f.gc().commit_offsets(plain_commit("g", 0, 30)).front() == error_code::none);
    write_marker(f, "g", 77, true);
    f.make();  // only replay decides: the marker was never seen live
    CHECK(fetch_one(f, "g", "orders", 0, true).offset == protocol::offset(30));
    CHECK(fetch_one(f, "g", "orders", 1, true).offset == protocol::offset(21));
    // A plain commit after the marker replaces the transactional one, live and replayed.
    REQUIRE(f.gc().commit_offsets(plain_commit("g", 1, 40)).front() == error_code::none);
    f.make();
    CHECK(fetch_one(f, "g", "orders", 1, true).offset == protocol::offset(40));
}

} // namespace samsa::broker::test
