// Classic and KIP-848 members in one group (broker/groups/consumer_group_classic.cpp and
// group_migration.cpp): classic members of a consumer group, the upgrade of a classic group
// when a KIP-848 member joins, the downgrade when the last KIP-848 member leaves, the
// migration policy, and conversions surviving a restart.
#include "group_test_support.h"

#include <doctest/doctest.h>

#include <set>

namespace samsa::broker::test {

namespace {

using protocol::error_code;
using owned_list = std::vector<std::pair<std::string, std::vector<int32_t>>>;

// ConsumerProtocolSubscription v1 bytes with the partitions the member still owns.
std::vector<uint8_t> subscription_owning(const std::vector<std::string>& topics, const owned_list& owned) {
    protocol::consumer_protocol_subscription s;
    s.topics = topics;
    for (const auto& [t, parts] : owned) s.owned_partitions.push_back({t, parts});
    protocol::output_buffer out;
    out.bytes.reserve(s.size(1) + 2);
    protocol::writer w(out);
    w.write_int16(1);
    s.encode(w, 1);
    return std::move(out.bytes);
}

std::vector<uint8_t> assignment_bytes(const owned_list& parts) {
    protocol::consumer_protocol_assignment a;
    for (const auto& [t, p] : parts) a.assigned_partitions.push_back({t, p});
    protocol::output_buffer out;
    out.bytes.reserve(a.size(1) + 2);
    protocol::writer w(out);
    w.write_int16(1);
    a.encode(w, 1);
    return std::move(out.bytes);
}

// The partitions of "orders" in ConsumerProtocolAssignment bytes, as a client reads them.
std::set<int32_t> orders_in(const std::vector<uint8_t>& bytes) {
    REQUIRE(bytes.size() >= 2);
    protocol::reader r(bytes);
    const int16_t v = r.read_int16();
    protocol::consumer_protocol_assignment a;
    a.decode(r, v);
    REQUIRE(r.ok());
    std::set<int32_t> out;
    for (const auto& tp : a.assigned_partitions) {
        CHECK(tp.topic == "orders");
        out.insert(tp.partitions.begin(), tp.partitions.end());
    }
    return out;
}

// The partitions of "orders" in an assignment, as plain integers like a classic client's.
std::set<int32_t> orders_of(group_fixture& f, const topic_partitions& tp) {
    std::set<int32_t> out;
    if (const auto it = tp.find(f.topics.id("orders")); it != tp.end())
        for (const protocol::partition_id p : it->second) out.insert(p.value());
    return out;
}

// A classic member as librdkafka runs one: JoinGroup, SyncGroup, then Heartbeat.
struct classic_client {
    std::string id;
    int32_t generation = -1;
    std::set<int32_t> owned;
};

// (Re)joins and syncs; returns the SyncGroup error.
error_code join_and_sync(group_fixture& f, const std::string& group, classic_client& c) {
    auto p = f.params(c.id);
    owned_list owned;
    if (!c.owned.empty()) owned.push_back({"orders", std::vector<int32_t>(c.owned.begin(), c.owned.end())});
    p.protocols = {{"range", subscription_owning({"orders"}, owned)}};
    auto j = c.id.empty() ? f.join_new(group, p) : f.join(group, p);
    REQUIRE(j.ready());  // a consumer group answers a JoinGroup at once
    REQUIRE(j.get().error == error_code::none);
    CHECK(j.get().protocol_type == std::optional<std::string>("consumer"));
    CHECK(j.get().protocol_name == std::optional<std::string>("range"));
    CHECK(j.get().members.empty());  // nobody leads: the server assigns
    c.id = j.get().member_id;
    c.generation = j.get().generation;
    auto s = f.sync(group, c.id, c.generation);
    REQUIRE(s.ready());
    if (s.get().error == error_code::none) c.owned = orders_in(s.get().assignment);
    return s.get().error;
}

// Heartbeats; on REBALANCE_IN_PROGRESS rejoins, as a client does. Returns the heartbeat's error.
error_code heartbeat_or_rejoin(group_fixture& f, const std::string& group, classic_client& c) {
    const auto e = f.gc().heartbeat(group, c.id, std::nullopt, c.generation);
    if (e == error_code::rebalance_in_progress) CHECK(join_and_sync(f, group, c) == error_code::none);
    return e;
}

// A stable classic group "g" with two members of the consumer protocol and a committed offset.
std::pair<classic_client, classic_client> stable_classic_group(group_fixture& f) {
    auto a = f.join_new("g", f.params());
    auto b = f.join_new("g", f.params());
    f.loop.advance(0);
    REQUIRE(a.ready());
    REQUIRE(b.ready());
    const auto& leader = a.get().leader;
    const int32_t gen = a.get().generation;
    classic_client ca{a.get().member_id, gen, {}}, cb{b.get().member_id, gen, {}};
    const owned_list first{{"orders", {0, 1, 2}}}, second{{"orders", {3, 4, 5}}};
    auto sa = f.sync("g", ca.id, gen, ca.id == leader ? decltype(sync_params::assignments){{ca.id, assignment_bytes(first)}, {cb.id, assignment_bytes(second)}}
                                                      : decltype(sync_params::assignments){});
    auto sb = f.sync("g", cb.id, gen, cb.id == leader ? decltype(sync_params::assignments){{ca.id, assignment_bytes(first)}, {cb.id, assignment_bytes(second)}}
                                                      : decltype(sync_params::assignments){});
    REQUIRE(sa.ready());
    REQUIRE(sb.ready());
    ca.owned = orders_in(sa.get().assignment);
    cb.owned = orders_in(sb.get().assignment);
    offset_commit_request_params c;
    c.group_id = "g";
    c.member_id = ca.id;
    c.generation_or_epoch = gen;
    c.api_version = 8;
    c.offsets = {commit_entry("orders", 0, 42)};
    REQUIRE(f.gc().commit_offsets(c).at(0) == error_code::none);
    return {ca, cb};
}

} // namespace

TEST_CASE("group_migration: a classic member joins a consumer group and gets a server-side assignment") {
    group_fixture f;
    auto a = join_848(f, "g");
    CHECK(orders_of(f, a.owned).size() == 6);
    classic_client b;
    CHECK(join_and_sync(f, "g", b) == error_code::none);
    // A still owns everything: B waits for its half.
    CHECK(b.owned.empty());
    CHECK(b.generation == f.gc().groups().find("g")->consumer->group_epoch());
    CHECK(f.gc().heartbeat("g", b.id, std::nullopt, b.generation) == error_code::none);
    // A gives up half, then B is told to rejoin and gets it.
    (void)beat_848(f, "g", a);
    (void)beat_848(f, "g", a);
    CHECK(orders_of(f, a.owned).size() == 3);
    CHECK(heartbeat_or_rejoin(f, "g", b) == error_code::rebalance_in_progress);
    CHECK(b.owned.size() == 3);
    std::set<int32_t> all = orders_of(f, a.owned);
    for (const int32_t p : b.owned) CHECK(all.insert(p).second);  // no overlap
    CHECK(all.size() == 6);                                         // no gap
    CHECK(heartbeat_or_rejoin(f, "g", b) == error_code::none);
    CHECK(f.gc().groups().find("g")->consumer->state() == consumer_group_state::stable);

    // Its commits carry its generation, which is its member epoch.
    offset_commit_request_params c;
    c.group_id = "g";
    c.member_id = b.id;
    c.generation_or_epoch = b.generation;
    c.api_version = 8;
    c.offsets = {commit_entry("orders", *b.owned.begin(), 5)};
    CHECK(f.gc().commit_offsets(c).at(0) == error_code::none);
    c.generation_or_epoch = b.generation - 1;
    CHECK(f.gc().commit_offsets(c).at(0) == error_code::illegal_generation);

    // A protocol type other than "consumer" cannot join.
    auto other = f.params();
    other.protocol_type = "connect";
    CHECK(f.join("g", other).get().error == error_code::inconsistent_group_protocol);
}

TEST_CASE("group_migration: a classic member revokes through REBALANCE_IN_PROGRESS and rejoins") {
    group_fixture f;
    auto a = join_848(f, "g");
    classic_client b;
    REQUIRE(join_and_sync(f, "g", b) == error_code::none);
    (void)beat_848(f, "g", a);
    (void)beat_848(f, "g", a);
    (void)heartbeat_or_rejoin(f, "g", b);
    REQUIRE(b.owned.size() == 3);
    // A third member joins: the group epoch moves and B must give a partition up.
    auto c = join_848(f, "g");
    const int32_t old_generation = b.generation;
    CHECK(f.gc().heartbeat("g", b.id, std::nullopt, b.generation) == error_code::rebalance_in_progress);
    // B rejoins still owning its three: it keeps its epoch and is handed only what it keeps.
    REQUIRE(join_and_sync(f, "g", b) == error_code::none);
    CHECK(b.generation == old_generation);
    CHECK(b.owned.size() == 2);
    // Having let go, it is told to rejoin once more and moves to the new epoch.
    CHECK(heartbeat_or_rejoin(f, "g", b) == error_code::rebalance_in_progress);
    CHECK(b.generation == f.gc().groups().find("g")->consumer->group_epoch());
    CHECK(b.owned.size() == 2);
    for (int i = 0; i < 3; ++i) {
        (void)beat_848(f, "g", a);
        (void)beat_848(f, "g", c);
    }
    std::set<int32_t> all = orders_of(f, a.owned);
    for (const int32_t p : orders_of(f, c.owned)) CHECK(all.insert(p).second);
    for (const int32_t p : b.owned) CHECK(all.insert(p).second);
    CHECK(all.size() == 6);
}

TEST_CASE("group_migration: a classic member's session timeout still applies") {
    group_fixture f;
    auto a = join_848(f, "g");
    classic_client b;
    REQUIRE(join_and_sync(f, "g", b) == error_code::none);
    f.loop.advance(9'000);  // its JoinGroup asked for 10 s
    (void)beat_848(f, "g", a);
    CHECK(f.gc().groups().find("g")->consumer->find(b.id) != nullptr);
    f.loop.advance(2'000);
    REQUIRE(f.gc().groups().find("g")->consumer);
    CHECK(f.gc().groups().find("g")->consumer->find(b.id) == nullptr);
    CHECK(f.gc().heartbeat("g", b.id, std::nullopt, b.generation) == error_code::unknown_member_id);
}

TEST_CASE("group_migration: a KIP-848 member upgrades a classic group, keeping members, assignments and offsets") {
    group_fixture f;
    auto [ca, cb] = stable_classic_group(f);
    const int32_t gen = ca.generation;
    auto m = join_848(f, "g");
    auto* slot = f.gc().groups().find("g");
    REQUIRE(slot->consumer);
    auto& g = *slot->consumer;
    CHECK(g.members().size() == 3);
    CHECK(g.group_epoch() == gen + 1);
    const auto* a = g.find(ca.id);
    REQUIRE(a != nullptr);
    CHECK(a->classic.has_value());
    CHECK(a->member_epoch == gen);
    CHECK(orders_of(f, a->assigned) == ca.owned);
    // The classic members keep heartbeating with their generation and are told to rejoin.
    CHECK(f.gc().heartbeat("g", ca.id, std::nullopt, gen) == error_code::rebalance_in_progress);
    // Offsets stay.
    offset_fetch_request_params q;
    q.group_id = "g";
    q.topics = {{{"orders", {protocol::partition_id(0)}}}};
    CHECK(f.gc().fetch_offsets(q).partitions.at(0).offset == protocol::offset(42));
    // Everyone converges without overlap.
    for (int i = 0; i < 4; ++i) {
        (void)heartbeat_or_rejoin(f, "g", ca);
        (void)heartbeat_or_rejoin(f, "g", cb);
        (void)beat_848(f, "g", m);
    }
    std::set<int32_t> all = orders_of(f, m.owned);
    for (const int32_t p : ca.owned) CHECK(all.insert(p).second);
    for (const int32_t p : cb.owned) CHECK(all.insert(p).second);
    CHECK(all.size() == 6);
    CHECK(g.state() == consumer_group_state::stable);

    // The converted group loads back as a consumer group with its classic members.
    f.make();
    slot = f.gc().groups().find("g");
    REQUIRE(slot != nullptr);
    REQUIRE(slot->consumer);
    CHECK_FALSE(slot->classic);
    CHECK(slot->consumer->members().size() == 3);
    REQUIRE(slot->consumer->find(cb.id) != nullptr);
    CHECK(slot->consumer->find(cb.id)->classic.has_value());
    CHECK(slot->consumer->find(cb.id)->classic->session_timeout_ms == 10'000);
    CHECK(f.gc().fetch_offsets(q).partitions.at(0).offset == protocol::offset(42));
}

TEST_CASE("group_migration: the last KIP-848 member leaving downgrades the group, which rebalances") {
    group_fixture f;
    auto a = join_848(f, "g");
    classic_client b;
    REQUIRE(join_and_sync(f, "g", b) == error_code::none);
    (void)beat_848(f, "g", a);
    (void)beat_848(f, "g", a);
    (void)heartbeat_or_rejoin(f, "g", b);
    const int32_t epoch = f.gc().groups().find("g")->consumer->group_epoch();

    REQUIRE(leave_848(f, "g", a).error == error_code::none);
    auto* slot = f.gc().groups().find("g");
    REQUIRE(slot->classic);
    CHECK_FALSE(slot->consumer);
    CHECK(slot->classic->is(classic_group_state::preparing_rebalance));
    CHECK(slot->classic->generation() == epoch);  // what B heartbeats with
    // B is told to rejoin; alone now, it leads the next generation and takes every partition.
    CHECK(f.gc().heartbeat("g", b.id, std::nullopt, b.generation) == error_code::rebalance_in_progress);
    auto p = f.params(b.id);
    auto j = f.join("g", p);
    f.loop.advance(0);
    REQUIRE(j.ready());
    REQUIRE(j.get().error == error_code::none);
    CHECK(j.get().leader == b.id);
    auto s = f.sync("g", b.id, j.get().generation, {{b.id, assignment_bytes({{"orders", {0, 1, 2, 3, 4, 5}}})}});
    REQUIRE(s.ready());
    CHECK(orders_in(s.get().assignment).size() == 6);

    // The classic group is what a restart loads.
    f.make();
    slot = f.gc().groups().find("g");
    REQUIRE(slot != nullptr);
    REQUIRE(slot->classic);
    CHECK_FALSE(slot->consumer);
    CHECK(slot->classic->find(b.id) != nullptr);
}

TEST_CASE("group_migration: the policy decides which conversions happen") {
    SUBCASE("disabled: a KIP-848 member cannot join a classic group with members") {
        auto cfg = group_fixture::test_config();
        cfg.consumer_migration = migration_policy::disabled;
        group_fixture f(cfg);
        (void)stable_classic_group(f);
        auto p = join_params_for({"orders"});
        const auto r = f.gc().consumer_heartbeat("g", p, 0);
        CHECK(r.error == error_code::group_id_not_found);
        CHECK(f.gc().groups().find("g")->classic);
    }
    SUBCASE("downgrade only: no upgrade either") {
        auto cfg = group_fixture::test_config();
        cfg.consumer_migration = migration_policy::downgrade;
        group_fixture f(cfg);
        (void)stable_classic_group(f);
        auto p = join_params_for({"orders"});
        CHECK(f.gc().consumer_heartbeat("g", p, 0).error == error_code::group_id_not_found);
    }
    SUBCASE("upgrade only: the group stays a consumer group when its last KIP-848 member leaves") {
        auto cfg = group_fixture::test_config();
        cfg.consumer_migration = migration_policy::upgrade;
        group_fixture f(cfg);
        auto a = join_848(f, "g");
        classic_client b;
        REQUIRE(join_and_sync(f, "g", b) == error_code::none);
        REQUIRE(leave_848(f, "g", a).error == error_code::none);
        auto* slot = f.gc().groups().find("g");
        REQUIRE(slot->consumer);
        CHECK(slot->consumer->members().size() == 1);
        // B carries on in the consumer group: told to rejoin, it gets every partition.
        CHECK(heartbeat_or_rejoin(f, "g", b) == error_code::rebalance_in_progress);
        CHECK(b.owned.size() == 6);
    }
    SUBCASE("a group of another protocol type never upgrades") {
        group_fixture f;
        auto p = f.params();
        p.protocol_type = "connect";
        auto a = f.join_new("g", p);
        f.loop.advance(0);
        REQUIRE(a.ready());
        auto h = join_params_for({"orders"});
        CHECK(f.gc().consumer_heartbeat("g", h, 0).error == error_code::group_id_not_found);
    }
}

TEST_CASE("group_migration: a classic member leaving with LeaveGroup downgrades nothing while KIP-848 members remain") {
    group_fixture f;
    auto a = join_848(f, "g");
    classic_client b;
    REQUIRE(join_and_sync(f, "g", b) == error_code::none);
    const auto [e, per] = f.gc().leave_group("g", {{b.id, std::nullopt}});
    CHECK(e == error_code::none);
    CHECK(per == std::vector<error_code>{error_code::none});
    auto* slot = f.gc().groups().find("g");
    REQUIRE(slot->consumer);
    CHECK(slot->consumer->members().size() == 1);
    // A KIP-848 member is not a classic member.
    CHECK(f.gc().leave_group("g", {{a.id, std::nullopt}}).second.at(0) == error_code::unknown_member_id);
}

TEST_CASE("group_migration: a classic member that joins but never syncs is fenced after its rebalance timeout") {
    group_fixture f;
    auto a = join_848(f, "g");
    auto p = f.params();
    p.rebalance_timeout_ms = 5'000;  // shorter than its 10 s session
    auto j = f.join_new("g", p);
    REQUIRE(j.ready());
    REQUIRE(j.get().error == error_code::none);
    const std::string b = j.get().member_id;
    const int32_t generation = j.get().generation;
    // It heartbeats (its session stays alive) but never sends SyncGroup.
    f.loop.advance(4'000);
    (void)f.gc().heartbeat("g", b, std::nullopt, generation);
    (void)beat_848(f, "g", a);
    CHECK(f.gc().groups().find("g")->consumer->find(b) != nullptr);
    f.loop.advance(1'500);
    (void)beat_848(f, "g", a);
    REQUIRE(f.gc().groups().find("g")->consumer);
    CHECK(f.gc().groups().find("g")->consumer->find(b) == nullptr);
    CHECK(f.gc().heartbeat("g", b, std::nullopt, generation) == error_code::unknown_member_id);

    // A member that syncs in time stays past its rebalance timeout.
    auto q = f.params();
    q.rebalance_timeout_ms = 5'000;
    auto k = f.join_new("g", q);
    REQUIRE(k.ready());
    REQUIRE(k.get().error == error_code::none);
    const std::string c = k.get().member_id;
    f.loop.advance(1'000);
    auto s = f.sync("g", c, k.get().generation);
    REQUIRE(s.ready());
    CHECK(s.get().error == error_code::none);
    for (int i = 0; i < 3; ++i) {
        f.loop.advance(3'000);
        (void)f.gc().heartbeat("g", c, std::nullopt, k.get().generation);
        (void)beat_848(f, "g", a);
    }
    CHECK(f.gc().groups().find("g")->consumer->find(c) != nullptr);
}

TEST_CASE("group_migration: a classic group whose assignments carry custom-assignor userData is not upgraded") {
    group_fixture f;
    auto a = f.join_new("g", f.params());
    f.loop.advance(0);
    REQUIRE(a.ready());
    const std::string id = a.get().member_id;
    // The leader's client-side assignor hands itself userData alongside the partitions.
    protocol::consumer_protocol_assignment custom;
    custom.assigned_partitions.push_back({"orders", {0, 1, 2, 3, 4, 5}});
    custom.user_data = std::vector<uint8_t>{7};
    protocol::output_buffer out;
    out.bytes.reserve(custom.size(1) + 2);
    protocol::writer w(out);
    w.write_int16(1);
    custom.encode(w, 1);
    auto s = f.sync("g", id, a.get().generation, {{id, std::move(out.bytes)}});
    REQUIRE(s.ready());
    REQUIRE(s.get().error == error_code::none);

    auto p = join_params_for({"orders"});
    const auto r = f.gc().consumer_heartbeat("g", p, 0);
    CHECK(r.error == error_code::group_id_not_found);
    REQUIRE(r.error_message);
    CHECK(r.error_message->find("unsupported custom assignor") != std::string::npos);
    auto* slot = f.gc().groups().find("g");
    REQUIRE(slot->classic);
    CHECK(slot->classic->is(classic_group_state::stable));
    CHECK(f.gc().heartbeat("g", id, std::nullopt, a.get().generation) == error_code::none);

    // Empty userData is no obstacle: the same group with a plain assignment upgrades.
    group_fixture g2;
    (void)stable_classic_group(g2);
    CHECK(g2.gc().consumer_heartbeat("g", p, 0).error == error_code::none);
    CHECK(g2.gc().groups().find("g")->consumer);
}

TEST_CASE("group_migration: a classic JoinGroup with a malformed subscription gets UNKNOWN_SERVER_ERROR") {
    group_fixture f;
    (void)join_848(f, "g");
    const size_t members = f.gc().groups().find("g")->consumer->members().size();
    auto p = f.params();
    p.protocols = {{"range", {0x00, 0x01, 0xff}}};  // version 1, then a truncated topic array
    p.require_known_member_id = true;
    auto first = f.join("g", p);
    REQUIRE(first.ready());
    REQUIRE(first.get().error == error_code::member_id_required);  // checked before the bytes are read
    p.member_id = first.get().member_id;
    auto second = f.join("g", p);
    REQUIRE(second.ready());
    CHECK(second.get().error == error_code::unknown_server_error);
    CHECK(second.get().member_id == p.member_id);
    CHECK(f.gc().groups().find("g")->consumer->members().size() == members);
    // A protocol type other than "consumer" is still INCONSISTENT_GROUP_PROTOCOL.
    p.protocol_type = "connect";
    CHECK(f.join("g", p).get().error == error_code::inconsistent_group_protocol);
}

TEST_CASE("group_migration: a classic static member replacing the last KIP-848 member downgrades the group in one write") {
    group_fixture f;
    auto h = join_params_for({"orders"});
    h.instance_id = "instance-a";
    auto first = f.gc().consumer_heartbeat("g", h, 0);
    REQUIRE(first.error == error_code::none);
    kip848_member a{*first.member_id, first.member_epoch, first.assignment.value_or(topic_partitions{})};
    classic_client b;
    REQUIRE(join_and_sync(f, "g", b) == error_code::none);
    for (int i = 0; i < 3; ++i) {
        (void)beat_848(f, "g", a);
        (void)heartbeat_or_rejoin(f, "g", b);
    }
    REQUIRE(orders_of(f, a.owned).size() == 3);
    REQUIRE(b.owned.size() == 3);
    const std::set<int32_t> a_partitions = orders_of(f, a.owned);

    // A restarts as a classic consumer under the same group.instance.id.
    const int appends = f.log.appends;
    auto p = f.params();
    p.group_instance_id = "instance-a";
    auto j = f.join("g", p);
    REQUIRE(j.ready());
    REQUIRE(j.get().error == error_code::none);
    CHECK(f.log.appends == appends + 1);  // the join and the conversion are one batch
    auto* slot = f.gc().groups().find("g");
    REQUIRE(slot->classic);
    CHECK_FALSE(slot->consumer);
    CHECK(slot->classic->size() == 2);
    // No rebalance: the newcomer syncs at once and gets A's partitions, B carries on.
    CHECK(slot->classic->is(classic_group_state::stable));
    CHECK(j.get().generation == slot->classic->generation());
    CHECK(j.get().protocol_name == std::optional<std::string>("range"));
    auto s = f.sync("g", j.get().member_id, j.get().generation);
    REQUIRE(s.ready());
    REQUIRE(s.get().error == error_code::none);
    CHECK(orders_in(s.get().assignment) == a_partitions);
    CHECK(f.gc().heartbeat("g", j.get().member_id, std::string("instance-a"), j.get().generation) == error_code::none);

    // The old KIP-848 member is gone; a restart loads the classic group with both members.
    f.make();
    slot = f.gc().groups().find("g");
    REQUIRE(slot != nullptr);
    REQUIRE(slot->classic);
    CHECK_FALSE(slot->consumer);
    CHECK(slot->classic->find(j.get().member_id) != nullptr);
    CHECK(slot->classic->find(b.id) != nullptr);
    CHECK(slot->classic->find(a.id) == nullptr);
}

TEST_CASE("group_migration: the leave that downgrades a group is written in the conversion's batch") {
    group_fixture f;
    auto a = join_848(f, "g");
    classic_client b;
    REQUIRE(join_and_sync(f, "g", b) == error_code::none);
    const int appends = f.log.appends;
    REQUIRE(leave_848(f, "g", a).error == error_code::none);
    REQUIRE(f.gc().groups().find("g")->classic);
    CHECK(f.log.appends == appends + 1);
}

TEST_CASE("group_migration: an upgrade is written with the joining member's records in one batch, or not at all") {
    group_fixture f;
    auto [ca, cb] = stable_classic_group(f);
    auto p = join_params_for({"orders"});

    // The log refuses the write: the group stays the classic group it was.
    f.log.fail_appends = error_code::kafka_storage_error;
    CHECK(f.gc().consumer_heartbeat("g", p, 0).error != error_code::none);
    f.log.fail_appends = error_code::none;
    auto* slot = f.gc().groups().find("g");
    REQUIRE(slot->classic);
    CHECK_FALSE(slot->consumer);
    CHECK(slot->classic->size() == 2);
    CHECK(f.gc().heartbeat("g", ca.id, std::nullopt, ca.generation) == error_code::none);
    f.make();
    REQUIRE(f.gc().groups().find("g")->classic);

    // It takes the write: one batch holds the classic tombstone, the converted group and the member.
    const int appends = f.log.appends;
    const auto r = f.gc().consumer_heartbeat("g", p, 0);
    REQUIRE(r.error == error_code::none);
    CHECK(f.log.appends == appends + 1);
    slot = f.gc().groups().find("g");
    REQUIRE(slot->consumer);
    CHECK(slot->consumer->members().size() == 3);
    f.make();
    slot = f.gc().groups().find("g");
    REQUIRE(slot->consumer);
    CHECK(slot->consumer->find(*r.member_id) != nullptr);
    CHECK(slot->consumer->find(cb.id) != nullptr);
}

} // namespace samsa::broker::test
