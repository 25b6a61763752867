// The group coordinator as a service: routing to __consumer_offsets partitions, durable
// offsets and group metadata across restarts, loading, retention, deletion and listing.
#include "group_test_support.h"

#include <doctest/doctest.h>

namespace samsa::broker::test {

namespace {

using protocol::error_code;

offset_commit_request_params commit(std::string group, std::vector<offset_commit_entry> offsets, int32_t generation = -1,
                                    std::string member = "") {
    offset_commit_request_params p;
    p.group_id = std::move(group);
    p.generation_or_epoch = generation;
    p.member_id = std::move(member);
    p.api_version = 8;
    p.offsets = std::move(offsets);
    return p;
}

offset_fetch_group_result fetch(group_fixture& f, const std::string& group,
                                std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>> topics = std::nullopt) {
    offset_fetch_request_params p;
    p.group_id = group;
    if (topics) {
        p.topics.emplace();
        for (const auto& [topic, partitions] : *topics) {
            auto& typed = p.topics->emplace_back(topic, std::vector<protocol::partition_id>{}).second;
            for (const int32_t i : partitions) typed.emplace_back(i);
        }
    }
    return f.gc().fetch_offsets(p);
}

// What the handlers pass in and get back carries Kafka's types: a raw integer does not go in.
static_assert(!std::is_convertible_v<int32_t, decltype(offset_commit_entry::partition)>);
static_assert(!std::is_convertible_v<int64_t, decltype(offset_commit_entry::offset)>);
static_assert(!std::is_convertible_v<int32_t, decltype(offset_commit_entry::leader_epoch)>);
static_assert(!std::is_convertible_v<int64_t, decltype(offset_fetch_partition::offset)>);
static_assert(!std::is_convertible_v<int32_t, decltype(offset_fetch_partition::leader_epoch)>);
using fetched_partition_list = decltype(offset_fetch_request_params::topics)::value_type::value_type::second_type;
static_assert(!std::is_convertible_v<int32_t, fetched_partition_list::value_type>);
static_assert(!std::is_convertible_v<int64_t, decltype(txn_offset_commit_params::producer_id)>);
static_assert(!std::is_convertible_v<int16_t, decltype(txn_offset_commit_params::producer_epoch)>);

} // namespace

TEST_CASE("group_coordinator: groups map to __consumer_offsets partitions with Kafka's hash") {
    auto cfg = group_fixture::test_config();
    cfg.offsets_topic_partitions = 50;
    group_fixture f(cfg);
    // Java's String.hashCode, Utils.abs, modulo the partition count.
    CHECK(f.gc().partition_for("test").value() == 48);
    CHECK(f.gc().partition_for("my-group").value() == 12);
    CHECK(f.gc().partition_for("console-consumer-12345").value() == 6);
    CHECK(f.gc().partition_for("gr\xc3\xbc\xc3\x9f" "e-\xf0\x9f\x98\x80").value() == 27);
}

TEST_CASE("group_coordinator: FindCoordinator creates a compacted __consumer_offsets once") {
    group_fixture f;
    CHECK(f.log.partitions() == 0);
    CHECK(f.gc().find_coordinator("g") == error_code::none);
    CHECK(f.gc().find_coordinator("h") == error_code::none);
    CHECK(f.log.creates == 1);
    CHECK(f.log.partitions() == 4);
    CHECK(f.log.created_segment_bytes == f.cfg.offsets_topic_segment_bytes);
    CHECK(f.gc().find_coordinator("") == error_code::invalid_request);
}

TEST_CASE("group_coordinator: committed offsets and metadata strings survive a restart") {
    group_fixture f;
    const auto errors = f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 42, 7, "checkpoint \xe2\x9c\x93", -1),
                                                            commit_entry("orders", 5, 1000, -1, std::nullopt, -1),
                                                            commit_entry("payments", 2, 3, 1, "", -1)}));
    CHECK(errors == std::vector<error_code>(3, error_code::none));
    f.make();  // restart over the same log
    const auto r = fetch(f, "g", {{{"orders", {0, 1, 5}}, {"payments", {2}}}});
    CHECK(r.error == error_code::none);
    REQUIRE(r.partitions.size() == 4);
    CHECK(r.partitions[0].offset == protocol::offset(42));
    CHECK(r.partitions[0].leader_epoch == protocol::leader_epoch(7));
    CHECK(r.partitions[0].metadata == "checkpoint \xe2\x9c\x93");
    CHECK(r.partitions[1].offset == protocol::offset(-1));  // never committed
    CHECK(r.partitions[2].offset == protocol::offset(1000));
    CHECK(r.partitions[2].metadata == "");
    CHECK(r.partitions[3].offset == protocol::offset(3));
    // Null topics (v2+) means every committed offset.
    CHECK(fetch(f, "g").partitions.size() == 3);
    CHECK(fetch(f, "unknown").partitions.empty());
}

TEST_CASE("group_coordinator: a later commit wins after a restart") {
    group_fixture f;
    (void)f.gc().commit_offsets(commit("g", {commit_entry("orders", 1, 10, -1, "a", -1)}));
    (void)f.gc().commit_offsets(commit("g", {commit_entry("orders", 1, 20, -1, "b", -1)}));
    f.make();
    const auto r = fetch(f, "g", {{{"orders", {1}}}});
    CHECK(r.partitions.at(0).offset == protocol::offset(20));
    CHECK(r.partitions.at(0).metadata == "b");
}

TEST_CASE("group_coordinator: groups of a partition still loading answer COORDINATOR_LOAD_IN_PROGRESS") {
    group_fixture f;
    (void)f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 1)}));
    f.make(false);  // restarted, nothing loaded yet
    CHECK(f.gc().loading("g"));
    CHECK(fetch(f, "g").error == error_code::coordinator_load_in_progress);
    CHECK(f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 2)})).at(0) == error_code::coordinator_load_in_progress);
    CHECK(f.join("g", f.params()).get().error == error_code::coordinator_load_in_progress);
    CHECK(f.gc().heartbeat("g", "m", std::nullopt, 1) == error_code::none);  // answered blindly, as Kafka does
    CHECK(f.sync("g", "m", 1).get().error == error_code::rebalance_in_progress);
    CHECK(f.gc().list_groups({}, {}).first == error_code::coordinator_load_in_progress);
    CHECK(f.gc().delete_groups({"g"}).at(0) == error_code::coordinator_load_in_progress);
    CHECK(f.gc().describe_groups({"g"}).at(0).error == error_code::coordinator_load_in_progress);
    CHECK(f.loop.run_posted() == 4);  // one task per partition
    CHECK_FALSE(f.gc().loading("g"));
    CHECK(fetch(f, "g").partitions.at(0).offset == protocol::offset(1));
}

TEST_CASE("group_coordinator: a partition read back in several chunks loads every commit, the later winning") {
    group_fixture f;
    (void)f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 1)}));
    (void)f.gc().commit_offsets(commit("g", {commit_entry("orders", 1, 5)}));
    (void)f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 7)}));
    f.log.batches_per_read = 1;
    f.make(false);
    CHECK(f.loop.run_posted() == 4 + 2);  // one task per partition, two more for g's three batches
    CHECK_FALSE(f.gc().loading_any());
    const auto r = fetch(f, "g", {{{"orders", {0, 1}}}});
    REQUIRE(r.partitions.size() == 2);
    CHECK(r.partitions.at(0).offset == protocol::offset(7));
    CHECK(r.partitions.at(1).offset == protocol::offset(5));
}

TEST_CASE("group_coordinator: a partition that fails mid-load leaves no group of it to the next partition") {
    group_fixture f;
    std::string group;
    for (int i = 0; group.empty(); ++i)
        if (const auto name = "g" + std::to_string(i); f.gc().partition_for(name) == protocol::partition_id(0)) group = name;
    // A Stable group's metadata, then a commit: two batches on partition 0.
    auto a = f.join_new(group, f.params());
    f.loop.advance(0);
    (void)f.sync(group, a.get().member_id, a.get().generation, {{a.get().member_id, {1}}});
    (void)f.gc().commit_offsets(commit(group, {commit_entry("orders", 0, 3)}, a.get().generation, a.get().member_id));
    f.log.batches_per_read = 1;
    f.make(false);
    REQUIRE(f.loop.run_one());  // partition 0's first chunk: the group's metadata
    f.log.unreadable.insert(0);
    f.loop.run_posted();        // partition 0 fails; partitions 1-3 load
    CHECK(f.gc().loading(group));
    CHECK(f.gc().groups().find(group) == nullptr);
}

TEST_CASE("group_coordinator: a Stable group reloads Stable, and its members expire unless they heartbeat") {
    group_fixture f;
    auto a = f.join_new("g", f.params());
    auto b = f.join_new("g", f.params());
    f.loop.advance(0);
    const int32_t gen = a.get().generation;
    const std::string leader = a.get().leader;
    const std::string other = a.get().member_id == leader ? b.get().member_id : a.get().member_id;
    (void)f.sync("g", other, gen);
    (void)f.sync("g", leader, gen, {{leader, {1, 2}}, {other, {}}});
    f.make();
    const auto* slot = f.gc().groups().find("g");
    REQUIRE(slot != nullptr);
    REQUIRE(slot->classic);
    CHECK(slot->classic->is(classic_group_state::stable));
    CHECK(slot->classic->generation() == gen);
    CHECK(slot->classic->leader() == leader);
    CHECK(slot->classic->protocol_name() == "range");
    CHECK(slot->classic->find(leader)->assignment == std::vector<uint8_t>{1, 2});
    CHECK(f.sync("g", leader, gen).get().assignment == std::vector<uint8_t>{1, 2});
    const auto d = f.gc().describe_groups({"g"}).at(0);
    CHECK(d.state == "Stable");
    CHECK(d.members.size() == 2);
    // Only the leader heartbeats after the restart; the other member's session ends.
    for (int i = 0; i < 4; ++i) {
        f.loop.advance(3000);
        CHECK(f.gc().heartbeat("g", leader, std::nullopt, gen) != error_code::unknown_member_id);
    }
    CHECK(slot->classic->find(other) == nullptr);
}

TEST_CASE("group_coordinator: OffsetCommit checks generation, member, topic and metadata size") {
    group_fixture f;
    // No such group: generation -1 creates a group for offsets only; a generation is stale.
    CHECK(f.gc().commit_offsets(commit("nogroup", {commit_entry("orders", 0, 1)}, 3, "m")).at(0) == error_code::illegal_generation);
    auto v9 = commit("nogroup", {commit_entry("orders", 0, 1)}, 3, "m");
    v9.api_version = 9;
    CHECK(f.gc().commit_offsets(v9).at(0) == error_code::group_id_not_found);
    const auto errors = f.gc().commit_offsets(commit("simple", {commit_entry("orders", 0, 1),
                                                                 commit_entry("nosuchtopic", 0, 1),
                                                                 commit_entry("orders", 99, 1),
                                                                 commit_entry("orders", 1, 1, -1, std::string(5000, 'x'))}));
    CHECK(errors == std::vector<error_code>{error_code::none, error_code::unknown_topic_or_partition,
                                            error_code::unknown_topic_or_partition, error_code::offset_metadata_too_large});

    auto a = f.join_new("g", f.params());
    f.loop.advance(0);
    const int32_t gen = a.get().generation;
    const auto id = a.get().member_id;
    CHECK(f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 5)}, gen, id)).at(0) == error_code::rebalance_in_progress);
    (void)f.sync("g", id, gen, {{id, {}}});
    CHECK(f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 5)}, gen, id)).at(0) == error_code::none);
    CHECK(f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 5)}, gen + 1, id)).at(0) == error_code::illegal_generation);
    CHECK(f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 5)}, gen, "x")).at(0) == error_code::unknown_member_id);
    // Generation -1 on a group with members is not a simple commit.
    CHECK(f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 5)})).at(0) == error_code::unknown_member_id);
}

TEST_CASE("group_coordinator: a failed write to __consumer_offsets changes nothing") {
    group_fixture f;
    (void)f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 1)}));
    f.log.fail_appends = error_code::kafka_storage_error;
    CHECK(f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 2)})).at(0) == error_code::not_coordinator);
    CHECK(fetch(f, "g").partitions.at(0).offset == protocol::offset(1));
    auto a = f.join_new("h", f.params());
    f.loop.advance(0);
    // The leader's assignment cannot be stored: the members are told and rejoin.
    auto s = f.sync("h", a.get().member_id, a.get().generation, {{a.get().member_id, {1}}});
    CHECK(s.get().error == error_code::not_coordinator);
    f.log.fail_appends = error_code::none;
}

TEST_CASE("group_coordinator: a failed append answers Kafka's coordinator error for it, offset commits included") {
    // Kafka's translation of a failed coordinator write: the partition moved or its disk failed
    // (find the coordinator again), it is not there yet (retry), the batch was too large (a bug).
    const std::pair<error_code, error_code> cases[] = {
        {error_code::kafka_storage_error, error_code::not_coordinator},
        {error_code::not_leader_or_follower, error_code::not_coordinator},
        {error_code::unknown_topic_or_partition, error_code::coordinator_not_available},
        {error_code::not_enough_replicas, error_code::coordinator_not_available},
        {error_code::request_timed_out, error_code::coordinator_not_available},
        {error_code::message_too_large, error_code::unknown_server_error},
        {error_code::record_list_too_large, error_code::unknown_server_error},
        {error_code::invalid_fetch_size, error_code::unknown_server_error},
        {error_code::coordinator_load_in_progress, error_code::coordinator_load_in_progress},
    };
    for (const auto& [failure, answer] : cases) {
        const int16_t code = to_int(failure);
        CAPTURE(code);
        group_fixture f;
        f.log.fail_appends = failure;
        CHECK(f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 2)})).at(0) == answer);
        CHECK(f.gc().consumer_heartbeat("k", join_params_for({"orders"}), 0).error == answer);
        f.log.fail_appends = error_code::none;
        auto a = f.join_new("h", f.params());
        f.loop.advance(0);
        REQUIRE(a.ready());
        f.log.fail_appends = failure;
        CHECK(f.sync("h", a.get().member_id, a.get().generation, {{a.get().member_id, {1}}}).get().error == answer);
        f.log.fail_appends = error_code::none;
        CHECK(fetch(f, "g").partitions.empty());
    }
}

TEST_CASE("group_coordinator: DeleteGroups writes tombstones, and a restart does not bring the group back") {
    group_fixture f;
    (void)f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 1), commit_entry("orders", 1, 2)}));
    auto a = f.join_new("busy", f.params());
    f.loop.advance(0);
    const auto errors = f.gc().delete_groups({"g", "busy", "missing"});
    CHECK(errors == std::vector<error_code>{error_code::none, error_code::non_empty_group, error_code::group_id_not_found});
    CHECK(fetch(f, "g").partitions.empty());
    f.make();
    CHECK(f.gc().groups().find("g") == nullptr);
    CHECK(fetch(f, "g", {{{"orders", {0}}}}).partitions.at(0).offset == protocol::offset(-1));
}

TEST_CASE("group_coordinator: offsets of an empty group expire after the retention period") {
    auto cfg = group_fixture::test_config();
    cfg.offsets_retention_ms = 60'000;
    cfg.offsets_retention_check_ms = 10'000;
    group_fixture f(cfg);
    (void)f.gc().commit_offsets(commit("old", {commit_entry("orders", 0, 1)}));
    f.loop.advance(30'000);
    (void)f.gc().commit_offsets(commit("new", {commit_entry("orders", 0, 1)}));
    f.loop.advance(40'000);  // "old" is 70 s old, "new" 40 s
    CHECK(f.gc().groups().find("old") == nullptr);
    REQUIRE(f.gc().groups().find("new") != nullptr);
    f.make();
    CHECK(f.gc().groups().find("old") == nullptr);
    CHECK(f.gc().groups().find("new") != nullptr);
}

TEST_CASE("group_coordinator: an empty group with nothing committed goes at the next retention check") {
    group_fixture f;
    auto p = f.params();
    p.require_known_member_id = true;
    (void)f.join("abandoned", p);  // MEMBER_ID_REQUIRED, and the member never comes back
    f.loop.advance(10'001);         // its pending id expires
    REQUIRE(f.gc().groups().find("abandoned") != nullptr);
    auto a = f.join_new("left", f.params());
    f.loop.advance(0);
    CHECK(f.gc().leave_group("left", {{a.get().member_id, std::nullopt}}).second.at(0) == error_code::none);
    (void)f.gc().expire_offsets();
    CHECK(f.gc().groups().find("abandoned") == nullptr);
    CHECK(f.gc().groups().find("left") == nullptr);
    f.make();  // its Empty generation was written, and then a tombstone
    CHECK(f.gc().groups().find("left") == nullptr);
}

TEST_CASE("group_coordinator: an explicit retention time (OffsetCommit v2-v4) expires the offset at that time") {
    group_fixture f;
    auto c = commit("g", {commit_entry("orders", 0, 1)});
    c.retention_time_ms = 5'000;
    c.api_version = 2;
    (void)f.gc().commit_offsets(c);
    f.loop.advance(6'000);
    CHECK(f.gc().expire_offsets() == 1);
    CHECK(fetch(f, "g", {{{"orders", {0}}}}).partitions.at(0).offset == protocol::offset(-1));
}

TEST_CASE("group_coordinator: OffsetDelete refuses topics the group subscribes to") {
    group_fixture f;
    auto a = f.join_new("g", f.params());
    f.loop.advance(0);
    const auto id = a.get().member_id;
    const int32_t gen = a.get().generation;
    (void)f.sync("g", id, gen, {{id, {}}});
    (void)f.gc().commit_offsets(commit("g", {commit_entry("orders", 0, 5), commit_entry("payments", 0, 6)}, gen, id));
    const auto [ge, errors] =
        f.gc().delete_offsets("g", {{"orders", protocol::partition_id(0)}, {"payments", protocol::partition_id(0)}});
    CHECK(ge == error_code::none);
    CHECK(errors == std::vector<error_code>{error_code::group_subscribed_to_topic, error_code::none});
    CHECK(fetch(f, "g").partitions.size() == 1);
    CHECK(f.gc().delete_offsets("missing", {{"orders", protocol::partition_id(0)}}).first == error_code::group_id_not_found);
}

TEST_CASE("group_coordinator: ListGroups filters by state (any case) and type") {
    group_fixture f;
    (void)f.gc().commit_offsets(commit("simple", {commit_entry("orders", 0, 1)}));
    auto a = f.join_new("g", f.params());
    f.loop.advance(0);
    consumer_heartbeat_params hp;
    hp.member_epoch = 0;
    hp.rebalance_timeout_ms = 30'000;
    hp.subscribed_topic_names = std::vector<std::string>{"orders"};
    hp.owned = topic_partitions{};
    CHECK(f.gc().consumer_heartbeat("c", hp, 0).error == error_code::none);

    const auto [err, all] = f.gc().list_groups({}, {});
    CHECK(err == error_code::none);
    REQUIRE(all.size() == 3);
    CHECK(all[0].group_id == "c");
    CHECK(all[0].type == "consumer");
    CHECK(all[0].protocol_type == "consumer");
    CHECK(all[1].state == "CompletingRebalance");
    CHECK(all[2].state == "Empty");
    CHECK(all[2].protocol_type == "");
    CHECK(f.gc().list_groups({"completingrebalance"}, {}).second.size() == 1);
    CHECK(f.gc().list_groups({}, {"Classic"}).second.size() == 2);
    CHECK(f.gc().list_groups({"Empty"}, {"consumer"}).second.empty());
}

TEST_CASE("group_coordinator: DescribeGroups shows metadata and assignments only for a Stable group") {
    group_fixture f;
    auto a = f.join_new("g", f.params());
    f.loop.advance(0);
    auto d = f.gc().describe_groups({"g", "missing"});
    CHECK(d[0].state == "CompletingRebalance");
    CHECK(d[0].protocol_data.empty());
    CHECK(d[0].members.at(0).metadata.empty());
    CHECK(d[1].state == "Dead");
    CHECK(d[1].error == error_code::none);
    (void)f.sync("g", a.get().member_id, a.get().generation, {{a.get().member_id, {9}}});
    d = f.gc().describe_groups({"g"});
    CHECK(d[0].state == "Stable");
    CHECK(d[0].protocol_type == "consumer");
    CHECK(d[0].protocol_data == "range");
    CHECK(d[0].members.at(0).assignment == std::vector<uint8_t>{9});
    CHECK(d[0].members.at(0).metadata == subscription({"orders"}));
    CHECK(d[0].members.at(0).client_host == "/127.0.0.1");
}

TEST_CASE("group_coordinator: closing answers parked requests and stops every timer") {
    group_fixture f;
    auto a = f.join_new("g", f.params());
    auto b = f.join_new("g", f.params());
    f.loop.advance(0);
    auto s = f.sync("g", a.get().member_id == a.get().leader ? b.get().member_id : a.get().member_id, a.get().generation);
    CHECK_FALSE(s.ready());
    f.gc().close();
    REQUIRE(s.ready());
    CHECK(s.get().error == error_code::not_coordinator);
    CHECK(f.gc().timers().pending() == 0);
    CHECK(f.loop.live_timers() == 0);
}

} // namespace samsa::broker::test
