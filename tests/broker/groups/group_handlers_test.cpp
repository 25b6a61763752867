// The group handlers at every version they serve, over a socket to an in-process node: each
// version of JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
// FindCoordinator, DescribeGroups, ListGroups, DeleteGroups, OffsetDelete and the KIP-848 APIs
// is sent as a client lays it out and its answer decoded at the same version.
#include "tests/broker/broker_test_util.h"
#include "protocol/messages/consumer_group_describe.h"
#include "protocol/messages/consumer_group_heartbeat.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_delete.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/sync_group.h"

#include <doctest/doctest.h>

namespace samsa::broker::test {

namespace {

using protocol::error_code;

constexpr int16_t none = 0;

std::vector<std::pair<std::string, std::string>> no_delay() { return {{"group.initial.rebalance.delay.ms", "0"}}; }

const std::vector<uint8_t> metadata_bytes{0, 0, 0, 0, 0, 1, 0, 6, 'o', 'r', 'd', 'e', 'r', 's', 0, 0, 0, 0};

void create_topic(wire_client& c) {
    protocol::create_topics_request req;
    req.topics.push_back({"orders", 3, 1, {}, {}});
    req.timeout_ms = 5000;
    const auto resp = c.call(req, 4);
    REQUIRE(resp.topics.at(0).error_code == none);
}

protocol::join_group_request join_request(const std::string& group, std::string member_id) {
    protocol::join_group_request j;
    j.group_id = group;
    j.session_timeout_ms = 10000;
    j.rebalance_timeout_ms = 10000;
    j.member_id = std::move(member_id);
    j.protocol_type = "consumer";
    j.protocols.push_back({"range", metadata_bytes});
    return j;
}

} // namespace

TEST_CASE("group handlers: FindCoordinator answers this node at every version, batched from v4") {
    node_fixture node(no_delay());
    wire_client c(node.port());
    for (int16_t v = 0; v <= 6; ++v) {
        CAPTURE(v);
        protocol::find_coordinator_request req;
        req.key = "g";
        req.coordinator_keys = {"g", "h"};
        const auto resp = c.call(req, v);
        if (v < 4) {
            CHECK(resp.error_code == none);
            CHECK(resp.node_id == 1);
            CHECK(resp.port == node.port());
            CHECK(resp.host == "127.0.0.1");
        } else {
            REQUIRE(resp.coordinators.size() == 2);
            CHECK(resp.coordinators[1].key == "h");
            CHECK(resp.coordinators[1].port == node.port());
        }
    }
    protocol::find_coordinator_request txn;
    txn.key = "transactional-id";
    txn.key_type = 1;
    CHECK(c.call(txn, 3).error_code == none);
    txn.key_type = 7;
    CHECK(c.call(txn, 3).error_code == static_cast<int16_t>(error_code::invalid_request));
    CHECK(node.stop());
}

TEST_CASE("group handlers: join, sync, heartbeat, describe, list and leave at every version") {
    node_fixture node(no_delay());
    wire_client c(node.port());
    for (int16_t v = 0; v <= 9; ++v) {
        CAPTURE(v);
        const std::string group = "group-v" + std::to_string(v);
        auto join = c.call(join_request(group, ""), v);
        if (v >= 4) {  // KIP-394: the member id comes first, then the real join
            REQUIRE(join.error_code == static_cast<int16_t>(error_code::member_id_required));
            REQUIRE_FALSE(join.member_id.empty());
            join = c.call(join_request(group, join.member_id), v);
        }
        REQUIRE(join.error_code == none);
        CHECK(join.generation_id == 1);
        CHECK(join.leader == join.member_id);
        CHECK(join.protocol_name == "range");
        REQUIRE(join.members.size() == 1);
        CHECK(join.members[0].metadata == metadata_bytes);
        const std::string me = join.member_id;

        const int16_t sv = std::min<int16_t>(v, 5);
        protocol::sync_group_request sync;
        sync.group_id = group;
        sync.generation_id = 1;
        sync.member_id = me;
        if (sv >= 5) {
            sync.protocol_type = "consumer";
            sync.protocol_name = "range";
        }
        sync.assignments.push_back({me, {0, 1, 2, 3}});
        const auto synced = c.call(sync, sv);
        CHECK(synced.error_code == none);
        CHECK(synced.assignment == std::vector<uint8_t>{0, 1, 2, 3});
        if (sv >= 5) CHECK(synced.protocol_name == "range");

        protocol::heartbeat_request hb;
        hb.group_id = group;
        hb.generation_id = 1;
        hb.member_id = me;
        CHECK(c.call(hb, std::min<int16_t>(v, 4)).error_code == none);
        hb.generation_id = 7;
        CHECK(c.call(hb, std::min<int16_t>(v, 4)).error_code == static_cast<int16_t>(error_code::illegal_generation));

        protocol::describe_groups_request dg;
        dg.groups = {group};
        const auto described = c.call(dg, std::min<int16_t>(v, 5));
        REQUIRE(described.groups.size() == 1);
        CHECK(described.groups[0].group_state == "Stable");
        CHECK(described.groups[0].protocol_data == "range");
        CHECK(described.groups[0].members.at(0).member_assignment == std::vector<uint8_t>{0, 1, 2, 3});

        protocol::list_groups_request lg;
        if (v >= 4) lg.states_filter = {"stable"};
        if (v >= 5) lg.types_filter = {"classic"};
        const auto listed = c.call(lg, std::min<int16_t>(v, 5));
        CHECK(listed.error_code == none);
        bool found = false;
        for (const auto& l : listed.groups) found = found || l.group_id == group;
        CHECK(found);

        protocol::leave_group_request leave;
        leave.group_id = group;
        const int16_t lv = std::min<int16_t>(v, 5);
        if (lv < 3) leave.member_id = me;
        else leave.members.push_back({me, std::nullopt, std::nullopt});
        const auto left = c.call(leave, lv);
        CHECK(left.error_code == none);
        if (lv >= 3) CHECK(left.members.at(0).error_code == none);
    }
    CHECK(node.stop());
}

TEST_CASE("group handlers: offsets commit, fetch, delete at every version, and groups are deleted") {
    node_fixture node(no_delay());
    wire_client c(node.port());
    create_topic(c);
    for (int16_t v = 0; v <= 9; ++v) {
        CAPTURE(v);
        const std::string group = "offsets-v" + std::to_string(v);
        protocol::offset_commit_request oc;
        oc.group_id = group;
        oc.topics.push_back({"orders", {{0, 100 + v, -1, -1, std::string("meta-") + std::to_string(v)}, {9, 1, -1, -1, std::string()}}});
        const auto committed = c.call(oc, v);
        REQUIRE(committed.topics.size() == 1);
        CHECK(committed.topics[0].partitions[0].error_code == none);
        CHECK(committed.topics[0].partitions[1].error_code == static_cast<int16_t>(error_code::unknown_topic_or_partition));

        protocol::offset_fetch_request of;
        if (v < 8) {
            of.group_id = group;
            of.topics = std::vector<protocol::offset_fetch_request::offset_fetch_request_topic>{{"orders", {0, 1}}};
            const auto fetched = c.call(of, v);
            CHECK(fetched.error_code == none);
            REQUIRE(fetched.topics.size() == 1);
            CHECK(fetched.topics[0].partitions[0].committed_offset == 100 + v);
            CHECK(fetched.topics[0].partitions[0].metadata == "meta-" + std::to_string(v));
            CHECK(fetched.topics[0].partitions[1].committed_offset == -1);
        } else {
            protocol::offset_fetch_request::offset_fetch_request_group g;
            g.group_id = group;
            g.topics = std::nullopt;  // every committed offset
            of.groups = {g, {"no-such-group", std::nullopt, -1, std::nullopt}};
            const auto fetched = c.call(of, v);
            REQUIRE(fetched.groups.size() == 2);
            CHECK(fetched.groups[0].topics.at(0).partitions.at(0).committed_offset == 100 + v);
            CHECK(fetched.groups[1].topics.empty());
        }
    }
    protocol::offset_delete_request od;
    od.group_id = "offsets-v0";
    od.topics.push_back({"orders", {{0}}});
    const auto deleted = c.call(od, 0);
    CHECK(deleted.error_code == none);
    CHECK(deleted.topics.at(0).partitions.at(0).error_code == none);

    for (int16_t v = 0; v <= 2; ++v) {
        CAPTURE(v);
        protocol::delete_groups_request dg;
        dg.groups_names = {"offsets-v" + std::to_string(v + 1), "never-existed"};
        const auto resp = c.call(dg, v);
        REQUIRE(resp.results.size() == 2);
        CHECK(resp.results[0].error_code == none);
        CHECK(resp.results[1].error_code == static_cast<int16_t>(error_code::group_id_not_found));
    }
    CHECK(node.stop());
}

TEST_CASE("group handlers: ConsumerGroupHeartbeat and ConsumerGroupDescribe at every version") {
    node_fixture node;
    wire_client c(node.port());
    create_topic(c);
    for (int16_t v = 0; v <= 1; ++v) {
        CAPTURE(v);
        const std::string group = "modern-v" + std::to_string(v);
        protocol::consumer_group_heartbeat_request hb;
        hb.group_id = group;
        hb.member_epoch = 0;
        hb.rebalance_timeout_ms = 10000;
        if (v == 0) hb.subscribed_topic_names = std::vector<std::string>{"orders"};
        else hb.subscribed_topic_regex = std::string("ord.*");
        hb.topic_partitions = std::vector<protocol::consumer_group_heartbeat_request::topic_partitions_data>{};
        const auto joined = c.call(hb, v);
        REQUIRE(joined.error_code == none);
        CHECK(joined.member_epoch == 1);
        REQUIRE(joined.assignment.has_value());
        CHECK(joined.assignment->topic_partitions.at(0).partitions.size() == 3);

        protocol::consumer_group_describe_request d;
        d.group_ids = {group};
        d.include_authorized_operations = true;
        const auto described = c.call(d, 0);
        CHECK(described.groups.at(0).group_state == "Stable");
        CHECK(described.groups.at(0).members.at(0).assignment.topic_partitions.at(0).topic_name == "orders");
        CHECK(described.groups.at(0).authorized_operations != INT32_MIN);
    }
    CHECK(node.stop());
}

} // namespace samsa::broker::test
