// The KIP-848 protocol: joining, epochs and fencing, incremental revocation and assignment,
// timeouts, static members, and how consumer groups coexist with classic ones.
#include "group_test_support.h"

#include <doctest/doctest.h>

namespace samsa::broker::test {

namespace {

using protocol::error_code;

size_t count(const topic_partitions& tp) {
    size_t n = 0;
    for (const auto& [t, p] : tp) n += p.size();
    return n;
}

const consumer_group& group_of(group_fixture& f, const std::string& id) {
    auto* slot = f.gc().groups().find(id);
    REQUIRE(slot != nullptr);
    REQUIRE(slot->consumer);
    return *slot->consumer;
}

} // namespace

TEST_CASE("consumer_group_coordinator: the first member gets an id, epoch 1 and every partition") {
    group_fixture f;
    const auto m = join_848(f, "g");
    CHECK(m.id.size() == 22);  // a base64 UUID, as Kafka makes them
    CHECK(m.epoch == 1);
    CHECK(count(m.owned) == 6);
    CHECK(group_of(f, "g").state() == consumer_group_state::stable);
    CHECK(group_of(f, "g").group_epoch() == 1);
}

TEST_CASE("consumer_group_coordinator: a second member gets partitions only after the first revoked them") {
    group_fixture f;
    auto a = join_848(f, "g");
    auto b = join_848(f, "g");
    CHECK(b.epoch == 2);          // at the new epoch, waiting: what it should get is still a's
    CHECK(count(b.owned) == 0);
    CHECK(group_of(f, "g").state() == consumer_group_state::reconciling);

    // a's heartbeat shrinks its assignment at its old epoch (revocation first)...
    auto ra = beat_848(f, "g", a);
    CHECK(ra.error == error_code::none);
    CHECK(a.epoch == 1);
    CHECK(count(a.owned) == 3);
    // ...and once it reports owning only those, it moves to the new epoch.
    (void)beat_848(f, "g", a);
    CHECK(a.epoch == 2);
    auto rb = beat_848(f, "g", b);
    CHECK(rb.error == error_code::none);
    CHECK(b.epoch == 2);
    CHECK(count(b.owned) == 3);
    for (const auto& [t, parts] : b.owned)
        for (const protocol::partition_id p : parts) CHECK_FALSE(a.owned.at(t).contains(p));
    (void)beat_848(f, "g", a);
    CHECK(group_of(f, "g").state() == consumer_group_state::stable);
}

TEST_CASE("consumer_group_coordinator: wrong epochs are fenced, a lost answer's previous epoch is accepted") {
    group_fixture f;
    auto a = join_848(f, "g");
    auto b = join_848(f, "g");
    (void)beat_848(f, "g", a);
    (void)beat_848(f, "g", a);  // a is now at epoch 2, previous 1
    REQUIRE(a.epoch == 2);
    kip848_member stale = a;
    stale.epoch = 1;  // the answer with epoch 2 was lost; a still owns a subset
    CHECK(beat_848(f, "g", stale).error == error_code::none);
    kip848_member ahead = a;
    ahead.epoch = 7;
    CHECK(beat_848(f, "g", ahead).error == error_code::fenced_member_epoch);
    kip848_member unknown{"nobody", 3, {}};
    CHECK(beat_848(f, "g", unknown).error == error_code::unknown_member_id);
    (void)b;
}

TEST_CASE("consumer_group_coordinator: malformed first heartbeats and unknown assignors are refused") {
    group_fixture f;
    auto p = join_params_for({"orders"});
    p.rebalance_timeout_ms = -1;
    CHECK(f.gc().consumer_heartbeat("g", p, 0).error == error_code::invalid_request);
    p = join_params_for({});
    CHECK(f.gc().consumer_heartbeat("g", p, 0).error == error_code::invalid_request);
    p = join_params_for({"orders"});
    p.owned.reset();
    CHECK(f.gc().consumer_heartbeat("g", p, 0).error == error_code::invalid_request);
    p = join_params_for({"orders"});
    p.member_epoch = 5;
    CHECK(f.gc().consumer_heartbeat("g", p, 0).error == error_code::invalid_request);  // epoch > 0 needs a member id
    p = join_params_for({"orders"}, "sticky");
    const auto r = f.gc().consumer_heartbeat("g", p, 0);
    CHECK(r.error == error_code::unsupported_assignor);
    CHECK(r.error_message.value_or("").find("uniform") != std::string::npos);
    CHECK(f.gc().consumer_heartbeat("", join_params_for({"orders"}), 0).error == error_code::invalid_request);
}

TEST_CASE("consumer_group_coordinator: a member whose session ends is fenced and its partitions move") {
    group_fixture f;
    auto a = join_848(f, "g");
    auto b = join_848(f, "g");
    for (int i = 0; i < 4; ++i) {
        (void)beat_848(f, "g", a);
        (void)beat_848(f, "g", b);
    }
    REQUIRE(count(a.owned) == 3);
    REQUIRE(count(b.owned) == 3);
    for (int i = 0; i < 10; ++i) {  // only a heartbeats for 50 s (session timeout 45 s)
        f.loop.advance(5'000);
        (void)beat_848(f, "g", a);
    }
    CHECK(group_of(f, "g").members().size() == 1);
    (void)beat_848(f, "g", a);
    CHECK(count(a.owned) == 6);
    CHECK(beat_848(f, "g", b).error == error_code::unknown_member_id);
}

TEST_CASE("consumer_group_coordinator: a member that does not revoke within its rebalance timeout is fenced") {
    group_fixture f;
    auto a = join_848(f, "g");
    auto b = join_848(f, "g");
    // a is asked to revoke but keeps reporting every partition.
    consumer_heartbeat_params p;
    p.member_id = a.id;
    p.member_epoch = a.epoch;
    p.owned = a.owned;
    CHECK(f.gc().consumer_heartbeat("g", p, 0).error == error_code::none);
    f.loop.advance(20'001);
    CHECK_FALSE(group_of(f, "g").members().contains(a.id));
    (void)beat_848(f, "g", b);
    (void)beat_848(f, "g", b);
    CHECK(count(b.owned) == 6);
}

TEST_CASE("consumer_group_coordinator: a static member leaves for now and comes back with its partitions") {
    group_fixture f;
    auto p = join_params_for({"orders"});
    p.instance_id = "i-1";
    auto r = f.gc().consumer_heartbeat("g", p, 0);
    REQUIRE(r.error == error_code::none);
    const auto first_id = *r.member_id;
    const auto owned = *r.assignment;
    // Still in use: another process with the same instance id may not join.
    CHECK(f.gc().consumer_heartbeat("g", p, 0).error == error_code::unreleased_instance_id);

    consumer_heartbeat_params leave;
    leave.member_id = first_id;
    leave.instance_id = "i-1";
    leave.member_epoch = leave_group_static_member_epoch;
    const auto lr = f.gc().consumer_heartbeat("g", leave, 0);
    CHECK(lr.error == error_code::none);
    CHECK(lr.member_epoch == -2);

    auto back = f.gc().consumer_heartbeat("g", p, 0);
    REQUIRE(back.error == error_code::none);
    CHECK(*back.member_id != first_id);
    CHECK(*back.assignment == owned);
    CHECK(group_of(f, "g").members().size() == 1);
}

TEST_CASE("consumer_group_coordinator: leaving with epoch -1 bumps the group epoch and frees the partitions") {
    group_fixture f;
    auto a = join_848(f, "g");
    auto b = join_848(f, "g");
    const int32_t before = group_of(f, "g").group_epoch();
    CHECK(leave_848(f, "g", a).member_epoch == -1);
    CHECK(group_of(f, "g").group_epoch() == before + 1);
    (void)beat_848(f, "g", b);
    CHECK(count(b.owned) == 6);
}

TEST_CASE("consumer_group_coordinator: new partitions of a subscribed topic bump the epoch and are assigned") {
    group_fixture f;
    auto a = join_848(f, "g", {"payments"});
    CHECK(count(a.owned) == 3);
    f.topics.grow("payments", 5);
    (void)beat_848(f, "g", a);
    CHECK(count(a.owned) == 5);
    CHECK(a.epoch == 2);
}

TEST_CASE("consumer_group_coordinator: the range assignor gives contiguous ranges") {
    group_fixture f;
    auto a = join_params_for({"orders"}, "range");
    auto ra = f.gc().consumer_heartbeat("g", a, 0);
    auto rb = f.gc().consumer_heartbeat("g", join_params_for({"orders"}, "range"), 0);
    REQUIRE(rb.error == error_code::none);
    const auto& target = group_of(f, "g").target();
    REQUIRE(target.size() == 2);
    const auto low = std::min(*ra.member_id, *rb.member_id);
    CHECK(target.at(low).at(f.topics.id("orders")) == partitions({0, 1, 2}));
}

TEST_CASE("consumer_group_coordinator: without migration, groups change type only when empty") {
    auto cfg = group_fixture::test_config();
    cfg.consumer_migration = migration_policy::disabled;
    group_fixture f(cfg);
    // A classic group with members refuses KIP-848 members; a consumer group takes classic
    // members only if they speak the consumer protocol.
    auto a = f.join_new("classic", f.params());
    f.loop.advance(0);
    CHECK(f.gc().consumer_heartbeat("classic", join_params_for({"orders"}), 0).error == error_code::group_id_not_found);
    (void)join_848(f, "modern");
    auto connect = f.params();
    connect.protocol_type = "connect";
    CHECK(f.join("modern", connect).get().error == error_code::inconsistent_group_protocol);

    // An empty group with offsets changes type and keeps them.
    offset_commit_request_params c;
    c.group_id = "switch";
    c.api_version = 8;
    c.offsets = {commit_entry("orders", 0, 77)};
    (void)f.gc().commit_offsets(c);
    auto m = join_848(f, "switch");
    offset_fetch_request_params q;
    q.group_id = "switch";
    q.member_id = m.id;
    q.member_epoch = m.epoch;
    CHECK(f.gc().fetch_offsets(q).partitions.at(0).offset == protocol::offset(77));
    q.member_epoch = 0;
    CHECK(f.gc().fetch_offsets(q).error == error_code::stale_member_epoch);
    (void)a;
}

TEST_CASE("consumer_group_coordinator: offset commits from members check the member epoch") {
    group_fixture f;
    auto m = join_848(f, "g");
    offset_commit_request_params c;
    c.group_id = "g";
    c.member_id = m.id;
    c.generation_or_epoch = m.epoch;
    c.api_version = 9;
    c.offsets = {commit_entry("orders", 0, 5)};
    CHECK(f.gc().commit_offsets(c).at(0) == error_code::none);
    c.generation_or_epoch = m.epoch + 1;
    CHECK(f.gc().commit_offsets(c).at(0) == error_code::fenced_member_epoch);
    c.generation_or_epoch = m.epoch - 1;
    CHECK(f.gc().commit_offsets(c).at(0) == error_code::stale_member_epoch);
    c.generation_or_epoch = m.epoch;
    c.api_version = 8;
    CHECK(f.gc().commit_offsets(c).at(0) == error_code::unsupported_version);
    c.member_id = "ghost";
    c.api_version = 9;
    CHECK(f.gc().commit_offsets(c).at(0) == error_code::unknown_member_id);
}

TEST_CASE("consumer_group_coordinator: a group the broker does not know answers UNKNOWN_MEMBER_ID so members rejoin") {
    group_fixture f;
    kip848_member ghost{"forgotten", 4, {}};
    const auto r = beat_848(f, "nobody", ghost);
    CHECK(r.error == error_code::unknown_member_id);
    CHECK(f.gc().groups().find("nobody") == nullptr);
}

TEST_CASE("consumer_group_coordinator: a subscription by regular expression (v1) takes matching topics") {
    group_fixture f;
    f.topics.add("orders-eu", 2);
    auto p = join_params_for({});
    p.subscribed_topic_names.reset();
    p.subscribed_topic_regex = "orders.*";
    const auto r = f.gc().consumer_heartbeat("g", p, 1);
    REQUIRE(r.error == error_code::none);
    CHECK(count(*r.assignment) == 8);
    // Kafka's syntax is RE2's: inline flags too.
    p.subscribed_topic_regex = "(?i)ORDERS-EU";
    const auto upper = f.gc().consumer_heartbeat("u", p, 1);
    REQUIRE(upper.error == error_code::none);
    CHECK(count(*upper.assignment) == 2);
}

TEST_CASE("consumer_group_coordinator: a subscription pattern that does not compile gets INVALID_REGULAR_EXPRESSION") {
    group_fixture f;
    auto p = join_params_for({});
    p.subscribed_topic_names.reset();
    p.subscribed_topic_regex = "orders(";
    const auto r = f.gc().consumer_heartbeat("g", p, 1);
    CHECK(r.error == error_code::invalid_regular_expression);
    REQUIRE(r.error_message);
    CHECK(r.error_message->starts_with("SubscribedTopicRegex `orders(` is not a valid regular expression: "));
    CHECK(f.gc().groups().find("g") == nullptr);
    p.subscribed_topic_regex = std::string(64 << 10, 'x');  // a program over the budget
    CHECK(f.gc().consumer_heartbeat("g", p, 1).error == error_code::invalid_regular_expression);
    // Deep enough to overflow the stack of a recursive compiler: refused, the broker unharmed.
    p.subscribed_topic_regex = std::string(100000, '(') + std::string(100000, ')');
    CHECK(f.gc().consumer_heartbeat("g", p, 1).error == error_code::invalid_regular_expression);
    // Nesting within the budget is taken, and this pattern names no topic.
    p.subscribed_topic_regex = std::string(10000, '(') + std::string(10000, ')');
    const auto nested = f.gc().consumer_heartbeat("g", p, 1);
    REQUIRE(nested.error == error_code::none);
    CHECK(count(*nested.assignment) == 0);
}

TEST_CASE("consumer_group_coordinator: a pattern that makes a backtracking matcher exponential is matched at once") {
    group_fixture f;
    f.topics.add(std::string(60, 'a'), 3);
    f.topics.add("aab", 1);
    auto p = join_params_for({});
    p.subscribed_topic_names.reset();
    p.subscribed_topic_regex = "(a*)*b";  // 2^60 ways to fail on the long name, for a backtracker
    const auto r = f.gc().consumer_heartbeat("g", p, 1);
    REQUIRE(r.error == error_code::none);
    CHECK(count(*r.assignment) == 1);
}

TEST_CASE("consumer_group_coordinator: ConsumerGroupDescribe shows epochs, assignor and assignments") {
    group_fixture f;
    auto a = join_848(f, "g");
    const auto d = f.gc().consumer_describe({"g", "missing"});
    CHECK(d[0].error == error_code::none);
    CHECK(d[0].state == "Stable");
    CHECK(d[0].group_epoch == 1);
    CHECK(d[0].assignment_epoch == 1);
    CHECK(d[0].assignor == "uniform");
    REQUIRE(d[0].members.size() == 1);
    CHECK(d[0].members[0].member->member_id == a.id);
    CHECK(count(d[0].members[0].target) == 6);
    CHECK(d[1].error == error_code::group_id_not_found);
}

// ---- durability: Kafka's consumer group records across restarts ------------------------------

TEST_CASE("consumer_group_coordinator: after a restart members go on with their epochs and partitions") {
    group_fixture f;
    auto a = join_848(f, "g");
    auto b = join_848(f, "g");
    for (int i = 0; i < 3; ++i) {
        (void)beat_848(f, "g", a);
        (void)beat_848(f, "g", b);
    }
    REQUIRE(group_of(f, "g").state() == consumer_group_state::stable);
    const auto a_owned = a.owned;
    f.make();  // restart over the same log
    const auto& g = group_of(f, "g");
    CHECK(g.group_epoch() == 2);
    CHECK(g.assignment_epoch() == 2);
    CHECK(g.members().size() == 2);
    CHECK(g.state() == consumer_group_state::stable);
    const auto ra = beat_848(f, "g", a);
    CHECK(ra.error == error_code::none);
    CHECK(a.epoch == 2);
    CHECK(a.owned == a_owned);
    CHECK(beat_848(f, "g", b).error == error_code::none);
    CHECK(group_of(f, "g").group_epoch() == 2);  // nothing to rebalance
    const auto d = f.gc().consumer_describe({"g"});
    CHECK(d.at(0).members.size() == 2);
    CHECK(count(d.at(0).members.at(0).target) == 3);
}

TEST_CASE("consumer_group_coordinator: a revocation in progress survives a restart") {
    group_fixture f;
    auto a = join_848(f, "g");
    auto b = join_848(f, "g");
    (void)beat_848(f, "g", a);  // a is told to give up three partitions, still at epoch 1
    REQUIRE(group_of(f, "g").members().at(a.id).state == consumer_member_state::unrevoked_partitions);
    f.make();
    CHECK(group_of(f, "g").members().at(a.id).state == consumer_member_state::unrevoked_partitions);
    CHECK(beat_848(f, "g", b).error == error_code::none);
    CHECK(count(b.owned) == 0);  // still a's
    (void)beat_848(f, "g", a);       // a reports it revoked them
    CHECK(a.epoch == 2);
    (void)beat_848(f, "g", b);
    CHECK(count(b.owned) == 3);
}

TEST_CASE("consumer_group_coordinator: after a restart members that do not come back are fenced") {
    group_fixture f;
    auto a = join_848(f, "g");
    auto b = join_848(f, "g");
    f.make();
    // The sessions start again at load; only a heartbeats.
    for (int i = 0; i < 10; ++i) {
        f.loop.advance(5'000);
        (void)beat_848(f, "g", a);
    }
    CHECK(group_of(f, "g").members().size() == 1);
    CHECK(group_of(f, "g").group_epoch() == 3);
    f.make();
    CHECK(group_of(f, "g").members().size() == 1);
    CHECK(group_of(f, "g").members().contains(a.id));
    (void)b;
}

TEST_CASE("consumer_group_coordinator: a heartbeat whose records cannot be written changes nothing") {
    group_fixture f;
    auto a = join_848(f, "g");
    f.log.fail_appends = error_code::kafka_storage_error;
    const auto r = f.gc().consumer_heartbeat("g", join_params_for({"orders"}), 0);
    CHECK(r.error == error_code::not_coordinator);
    CHECK(group_of(f, "g").members().size() == 1);
    CHECK(group_of(f, "g").group_epoch() == 1);
    const int appends = f.log.appends;
    CHECK(beat_848(f, "g", a).error == error_code::none);  // nothing changed for a: nothing to write
    CHECK(f.log.appends == appends);
    f.log.fail_appends = error_code::none;
    auto b = join_848(f, "g");
    CHECK(b.epoch == 2);
    f.make();
    CHECK(group_of(f, "g").members().size() == 2);
}

TEST_CASE("consumer_group_coordinator: a static member that left for now is still away after a restart") {
    group_fixture f;
    auto p = join_params_for({"orders"});
    p.instance_id = "i-1";
    auto r = f.gc().consumer_heartbeat("g", p, 0);
    REQUIRE(r.error == error_code::none);
    consumer_heartbeat_params leave;
    leave.member_id = *r.member_id;
    leave.instance_id = "i-1";
    leave.member_epoch = leave_group_static_member_epoch;
    REQUIRE(f.gc().consumer_heartbeat("g", leave, 0).error == error_code::none);
    f.make();
    CHECK(group_of(f, "g").members().at(*r.member_id).member_epoch == leave_group_static_member_epoch);
    auto back = f.gc().consumer_heartbeat("g", p, 0);
    REQUIRE(back.error == error_code::none);
    CHECK(*back.assignment == *r.assignment);
}

TEST_CASE("consumer_group_coordinator: a deleted or retyped consumer group stays gone after a restart") {
    group_fixture f;
    for (const char* id : {"deleted", "retyped"}) {
        auto m = join_848(f, id);
        REQUIRE(leave_848(f, id, m).error == error_code::none);
    }
    f.make();
    CHECK(group_of(f, "deleted").state() == consumer_group_state::empty);
    CHECK(group_of(f, "deleted").group_epoch() == 2);
    CHECK(f.gc().delete_groups({"deleted"}).at(0) == error_code::none);
    // A classic member takes over the empty consumer group.
    auto j = f.join_new("retyped", f.params());
    f.loop.advance(0);
    REQUIRE(j.get().error == error_code::none);
    CHECK(f.sync("retyped", j.get().member_id, j.get().generation, {{j.get().member_id, {1}}}).get().error == error_code::none);
    f.make();
    CHECK(f.gc().groups().find("deleted") == nullptr);
    const auto* slot = f.gc().groups().find("retyped");
    REQUIRE(slot != nullptr);
    CHECK(slot->classic);
}

} // namespace samsa::broker::test
