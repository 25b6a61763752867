// The classic group state machine, driven through the group_coordinator with a fake clock.
#include "group_test_support.h"

#include <doctest/doctest.h>

namespace samsa::broker::test {

namespace {

using protocol::error_code;
using state = classic_group_state;

const classic_group& group_of(group_fixture& f, const std::string& id) {
    auto* slot = f.gc().groups().find(id);
    REQUIRE(slot != nullptr);
    REQUIRE(slot->classic);
    return *slot->classic;
}

// Three members joined and synced: returns their ids, leader first.
std::vector<std::string> stable_group_of_three(group_fixture& f, const std::string& group) {
    auto a = f.join_new(group, f.params());
    auto b = f.join_new(group, f.params());
    auto c = f.join_new(group, f.params());
    f.loop.advance(1);
    REQUIRE(a.ready());
    REQUIRE(b.ready());
    REQUIRE(c.ready());
    const std::string leader = a.get().leader;
    const int32_t gen = a.get().generation;
    std::vector<std::string> ids{leader};
    for (const auto* r : {&a.get(), &b.get(), &c.get()})
        if (r->member_id != leader) ids.push_back(r->member_id);
    std::vector<answer<sync_result>> syncs;
    for (size_t i = 1; i < ids.size(); ++i) syncs.push_back(f.sync(group, ids[i], gen));
    auto ls = f.sync(group, leader, gen, {{ids[0], {1}}, {ids[1], {2}}, {ids[2], {3}}});
    REQUIRE(ls.ready());
    REQUIRE(group_of(f, group).is(state::stable));
    return ids;
}

} // namespace

TEST_CASE("classic_group_coordinator: a new dynamic member gets MEMBER_ID_REQUIRED with its id, then joins and leads") {
    group_fixture f;
    auto p = f.params();
    p.require_known_member_id = true;
    auto first = f.join("g", p);
    REQUIRE(first.ready());
    CHECK(first.get().error == error_code::member_id_required);
    CHECK(first.get().member_id.starts_with("client-"));
    CHECK(group_of(f, "g").is_pending(first.get().member_id));

    p.member_id = first.get().member_id;
    auto second = f.join("g", p);
    CHECK_FALSE(second.ready());  // parked until the (zero) initial delay passes
    f.loop.advance(0);
    REQUIRE(second.ready());
    const auto& r = second.get();
    CHECK(r.error == error_code::none);
    CHECK(r.generation == 1);
    CHECK(r.leader == r.member_id);
    CHECK(r.protocol_name == "range");
    REQUIRE(r.members.size() == 1);
    CHECK(r.members[0].metadata == subscription({"orders"}));
    CHECK(group_of(f, "g").is(state::completing_rebalance));
}

TEST_CASE("classic_group_coordinator: the initial rebalance delay waits for more members, extended up to the rebalance timeout") {
    auto cfg = group_fixture::test_config();
    cfg.initial_rebalance_delay_ms = 3000;
    group_fixture f(cfg);
    auto a = f.join_new("g", f.params());
    f.loop.advance(2000);
    auto b = f.join_new("g", f.params());  // a new member during the delay: it waits again
    f.loop.advance(1500);
    CHECK_FALSE(a.ready());
    f.loop.advance(3000);
    REQUIRE(a.ready());
    REQUIRE(b.ready());
    CHECK(a.get().generation == 1);
    CHECK(b.get().generation == 1);
    CHECK(group_of(f, "g").size() == 2);
}

TEST_CASE("classic_group_coordinator: the leader sees every member, followers none, and assignments come back byte-exact") {
    group_fixture f;
    auto a = f.join_new("g", f.params());
    auto b = f.join_new("g", f.params({}, {"orders", "payments"}));
    auto c = f.join_new("g", f.params());
    f.loop.advance(0);
    const auto& ra = a.get();
    CHECK(ra.members.size() == 3);
    CHECK(b.get().members.empty());
    CHECK(c.get().members.empty());
    CHECK(b.get().leader == ra.member_id);
    const int32_t gen = ra.generation;

    auto sb = f.sync("g", b.get().member_id, gen);
    auto sc = f.sync("g", c.get().member_id, gen);
    CHECK_FALSE(sb.ready());
    const std::vector<uint8_t> bytes_b{0, 1, 0, 0, 0, 1, 0xff, 0};
    // c gets no entry: its assignment is an empty blob, never null.
    auto sa = f.sync("g", ra.member_id, gen, {{ra.member_id, {7, 7}}, {b.get().member_id, bytes_b}});
    REQUIRE(sa.ready());
    REQUIRE(sb.ready());
    REQUIRE(sc.ready());
    CHECK(sa.get().assignment == std::vector<uint8_t>{7, 7});
    CHECK(sb.get().assignment == bytes_b);
    CHECK(sc.get().error == error_code::none);
    CHECK(sc.get().assignment.empty());
    CHECK(sb.get().protocol_name == "range");
    CHECK(group_of(f, "g").is(state::stable));

    // A later SyncGroup in Stable returns the same bytes.
    auto again = f.sync("g", b.get().member_id, gen);
    CHECK(again.get().assignment == bytes_b);
}

TEST_CASE("classic_group_coordinator: heartbeats keep members; a silent member expires after its session timeout and the group rebalances") {
    group_fixture f;
    const auto ids = stable_group_of_three(f, "g");
    const int32_t gen = group_of(f, "g").generation();
    for (int i = 0; i < 2; ++i) {
        f.loop.advance(4000);
        CHECK(f.gc().heartbeat("g", ids[0], std::nullopt, gen) == error_code::none);
        CHECK(f.gc().heartbeat("g", ids[1], std::nullopt, gen) == error_code::none);
    }
    CHECK(group_of(f, "g").find(ids[2]) != nullptr);
    f.loop.advance(2001);  // 10 s after its last sign of life
    // ids[2] never heartbeated: it is gone, and the others learn of the rebalance.
    CHECK(group_of(f, "g").find(ids[2]) == nullptr);
    CHECK(group_of(f, "g").is(state::preparing_rebalance));
    CHECK(f.gc().heartbeat("g", ids[0], std::nullopt, gen) == error_code::rebalance_in_progress);
    CHECK(f.gc().heartbeat("g", ids[2], std::nullopt, gen) == error_code::unknown_member_id);
    CHECK(f.gc().heartbeat("g", ids[0], std::nullopt, gen - 1) == error_code::illegal_generation);

    auto r0 = f.join("g", f.params(ids[0]));
    auto r1 = f.join("g", f.params(ids[1]));
    REQUIRE(r0.ready());
    REQUIRE(r1.ready());
    CHECK(r0.get().generation == gen + 1);
    CHECK(group_of(f, "g").size() == 2);
}

TEST_CASE("classic_group_coordinator: a member that does not rejoin within the rebalance timeout is removed") {
    group_fixture f;
    const auto ids = stable_group_of_three(f, "g");
    const int32_t gen = group_of(f, "g").generation();
    auto r0 = f.join("g", f.params(ids[0]));  // the leader asks for a rebalance
    CHECK(group_of(f, "g").is(state::preparing_rebalance));
    auto r1 = f.join("g", f.params(ids[1]));
    // ids[2] keeps heartbeating but never rejoins.
    for (int i = 0; i < 9; ++i) {
        f.loop.advance(3000);
        CHECK(f.gc().heartbeat("g", ids[2], std::nullopt, gen) == error_code::rebalance_in_progress);
    }
    CHECK_FALSE(r0.ready());
    f.loop.advance(3001);  // 30 s rebalance timeout
    REQUIRE(r0.ready());
    REQUIRE(r1.ready());
    CHECK(r0.get().generation == gen + 1);
    CHECK(group_of(f, "g").find(ids[2]) == nullptr);
    CHECK(f.gc().heartbeat("g", ids[2], std::nullopt, gen + 1) == error_code::unknown_member_id);
}

TEST_CASE("classic_group_coordinator: losing the leader while followers wait for their assignment restarts the rebalance") {
    group_fixture f;
    auto a = f.join_new("g", f.params());
    auto b = f.join_new("g", f.params());
    f.loop.advance(0);
    const std::string leader = a.get().leader;
    const std::string follower = a.get().member_id == leader ? b.get().member_id : a.get().member_id;
    auto sf = f.sync("g", follower, a.get().generation);
    CHECK_FALSE(sf.ready());
    // The leader never syncs nor heartbeats: it expires, and the parked follower is told to rejoin.
    f.loop.advance(10'001);
    REQUIRE(sf.ready());
    CHECK(sf.get().error == error_code::rebalance_in_progress);
    CHECK(group_of(f, "g").find(leader) == nullptr);
    auto again = f.join("g", f.params(follower));
    REQUIRE(again.ready());
    CHECK(again.get().leader == follower);
    CHECK(again.get().generation == 2);
}

TEST_CASE("classic_group_coordinator: a static member rejoining under a new id replaces the old one without a rebalance") {
    group_fixture f;
    auto p = f.params();
    p.group_instance_id = "instance-1";
    auto a = f.join("g", p);  // static members need no MEMBER_ID_REQUIRED round
    auto b = f.join_new("g", f.params());
    f.loop.advance(0);
    const auto old_id = a.get().member_id;
    CHECK(old_id.starts_with("instance-1-"));
    const int32_t gen = a.get().generation;
    const std::string leader = a.get().leader;
    const std::string other = b.get().member_id;
    auto so = f.sync("g", other, gen);
    auto sl = f.sync("g", leader, gen, {{old_id, {4, 2}}, {other, {1}}});
    REQUIRE(group_of(f, "g").is(state::stable));

    // The instance restarts: unknown member id, same instance id.
    auto rejoin = f.join("g", p);
    REQUIRE(rejoin.ready());
    const auto& r = rejoin.get();
    CHECK(r.error == error_code::none);
    CHECK(r.member_id != old_id);
    CHECK(r.generation == gen);
    CHECK(group_of(f, "g").is(state::stable));
    auto s = f.sync("g", r.member_id, gen);
    CHECK(s.get().assignment == std::vector<uint8_t>{4, 2});

    // The old incarnation is fenced everywhere.
    sync_params sp;
    sp.member_id = old_id;
    sp.group_instance_id = "instance-1";
    sp.generation = gen;
    answer<sync_result> fenced;
    f.gc().sync_group("g", sp, fenced.callback());
    CHECK(fenced.get().error == error_code::fenced_instance_id);
    CHECK(f.gc().heartbeat("g", old_id, std::string("instance-1"), gen) == error_code::fenced_instance_id);
    auto old_join = f.join("g", [&] { auto q = p; q.member_id = old_id; return q; }());
    CHECK(old_join.get().error == error_code::fenced_instance_id);
}

TEST_CASE("classic_group_coordinator: protocol selection takes what every member supports and most prefer") {
    group_fixture f;
    auto p1 = f.params();
    p1.protocols = {{"roundrobin", {1}}, {"range", {2}}};
    auto p2 = f.params();
    p2.protocols = {{"range", {3}}, {"roundrobin", {4}}, {"sticky", {5}}};
    auto p3 = f.params();
    p3.protocols = {{"range", {6}}, {"roundrobin", {7}}};
    auto a = f.join_new("g", p1);
    auto b = f.join_new("g", p2);
    auto c = f.join_new("g", p3);
    f.loop.advance(0);
    CHECK(a.get().protocol_name == "range");
    // A member that supports nothing the group supports cannot join.
    auto p4 = f.params();
    p4.protocols = {{"sticky", {8}}};
    auto d = f.join("g", p4);
    CHECK(d.get().error == error_code::inconsistent_group_protocol);
    auto p5 = f.params();
    p5.protocol_type = "connect";
    CHECK(f.join("g", p5).get().error == error_code::inconsistent_group_protocol);
}

TEST_CASE("classic_group_coordinator: members naming very many protocols are matched in linear time") {
    // Two members of 200 000 protocols each, one name in common and last in both lists: matching
    // them name by name took 4e10 comparisons on the event loop (hours), counting takes a pass.
    group_fixture f;
    constexpr int n = 200000;
    auto p1 = f.params();
    auto p2 = f.params();
    p1.protocols.clear();
    p2.protocols.clear();
    for (int i = 0; i < n; ++i) {
        p1.protocols.push_back({"a" + std::to_string(i), {}});
        p2.protocols.push_back({"b" + std::to_string(i), {}});
    }
    p1.protocols.push_back({"shared", {1}});
    p2.protocols.push_back({"shared", {2}});
    p2.protocols.push_back({"shared", {3}});  // named twice, still one member
    auto a = f.join_new("g", p1);
    auto b = f.join_new("g", p2);
    f.loop.advance(0);
    REQUIRE(a.ready());
    CHECK(a.get().protocol_name.value_or("") == "shared");
    // A third member that names only the first member's other protocols cannot join.
    auto p3 = f.params();
    p3.protocols = {{"a0", {}}, {"a1", {}}};
    CHECK(f.join("g", p3).get().error == error_code::inconsistent_group_protocol);
}

TEST_CASE("classic_group_coordinator: every error a client can see") {
    group_fixture f;
    auto bad_timeout = f.params();
    bad_timeout.session_timeout_ms = 10;
    CHECK(f.join("g", bad_timeout).get().error == error_code::invalid_session_timeout);
    CHECK(f.join("", f.params()).get().error == error_code::invalid_group_id);
    CHECK(f.join("nobody", f.params("stale-id")).get().error == error_code::unknown_member_id);
    CHECK(f.gc().groups().find("g") == nullptr);  // refused joins leave no group behind
    CHECK(f.gc().groups().find("nobody") == nullptr);

    const auto ids = stable_group_of_three(f, "g");
    const int32_t gen = group_of(f, "g").generation();
    CHECK(f.sync("g", "who", gen).get().error == error_code::unknown_member_id);
    CHECK(f.sync("g", ids[1], gen + 5).get().error == error_code::illegal_generation);
    CHECK(f.sync("other", ids[1], gen).get().error == error_code::unknown_member_id);
    CHECK(f.gc().heartbeat("g", "who", std::nullopt, gen) == error_code::unknown_member_id);
    CHECK(f.gc().heartbeat("", "who", std::nullopt, gen) == error_code::invalid_group_id);

    sync_params wrong;
    wrong.member_id = ids[1];
    wrong.generation = gen;
    wrong.protocol_name = "roundrobin";
    answer<sync_result> w;
    f.gc().sync_group("g", wrong, w.callback());
    CHECK(w.get().error == error_code::inconsistent_group_protocol);

    // A follower whose JoinGroup answer was lost gets the current generation again.
    (void)f.join("g", f.params(ids[0]));  // leader: rebalance
    auto again = f.join("g", f.params(ids[1]));
    auto third = f.join("g", f.params(ids[2]));
    REQUIRE(third.ready());
    auto lost = f.join("g", f.params(ids[1]));
    REQUIRE(lost.ready());
    CHECK(lost.get().generation == gen + 1);
    CHECK(f.sync("g", ids[1], gen).get().error == error_code::illegal_generation);

    auto cfg = group_fixture::test_config();
    cfg.max_size = 1;
    group_fixture small(cfg);
    (void)small.join_new("s", small.params());
    auto p = small.params();
    p.require_known_member_id = true;
    CHECK(small.join("s", p).get().error == error_code::group_max_size_reached);
}

TEST_CASE("classic_group_coordinator: LeaveGroup takes a batch of members, static ones by instance id") {
    group_fixture f;
    auto p = f.params();
    p.group_instance_id = "i-1";
    auto a = f.join("g", p);
    auto b = f.join_new("g", f.params());
    f.loop.advance(0);
    const auto sid = a.get().member_id;
    const auto [group_error, errors] = f.gc().leave_group(
        "g", {{"", std::string("i-1")}, {"unknown", std::nullopt}, {"someone", std::string("i-1")}, {b.get().member_id, std::nullopt}});
    CHECK(group_error == error_code::none);
    REQUIRE(errors.size() == 4);
    CHECK(errors[0] == error_code::none);
    CHECK(errors[1] == error_code::unknown_member_id);
    CHECK(errors[2] == error_code::unknown_member_id);  // the instance is gone already
    CHECK(errors[3] == error_code::none);
    f.loop.advance(0);
    CHECK(group_of(f, "g").is(state::empty));
    CHECK(f.gc().leave_group("", {{"x", std::nullopt}}).first == error_code::invalid_group_id);
    (void)sid;
}

TEST_CASE("classic_group_coordinator: a fenced static member cannot leave in another's name") {
    group_fixture f;
    auto p = f.params();
    p.group_instance_id = "i-1";
    auto a = f.join("g", p);
    f.loop.advance(0);
    const auto [ge, errors] = f.gc().leave_group("g", {{"impostor", std::string("i-1")}});
    CHECK(ge == error_code::none);
    CHECK(errors.at(0) == error_code::fenced_instance_id);
    CHECK(group_of(f, "g").find(a.get().member_id) != nullptr);
}

TEST_CASE("classic_group_coordinator: a member silent during a rebalance is dropped when its session ends") {
    group_fixture f;
    auto a = f.join_new("g", f.params());
    auto b = f.join_new("g", f.params());
    f.loop.advance(0);
    const auto gen = a.get().generation;
    // b changes its subscription: a rebalance starts and waits for a, which stays silent.
    auto rb = f.join("g", f.params(b.get().member_id, {"orders", "payments"}));
    CHECK_FALSE(rb.ready());
    f.loop.advance(9'000);
    CHECK_FALSE(rb.ready());
    f.loop.advance(1'001);
    REQUIRE(rb.ready());
    CHECK(rb.get().error == error_code::none);
    CHECK(rb.get().generation == gen + 1);
    CHECK(group_of(f, "g").size() == 1);
}

} // namespace samsa::broker::test
