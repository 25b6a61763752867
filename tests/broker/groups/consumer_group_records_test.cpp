// The KIP-848 consumer group records in __consumer_offsets: byte layouts of Kafka's record
// types, the order in which a change is written, replay, and rebuilding the group from them.
#include "broker/groups/consumer_group_records.h"

#include "group_test_support.h"

#include <doctest/doctest.h>

namespace samsa::broker::test {

namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> v) {
    std::vector<uint8_t> out;
    for (const int b : v) out.push_back(static_cast<uint8_t>(b));
    return out;
}

protocol::uuid topic_id(uint8_t n) {
    protocol::uuid id;
    id.bytes[0] = n;
    return id;
}

consumer_member member(const std::string& id, int32_t epoch, topic_partitions assigned) {
    consumer_member m;
    m.member_id = id;
    m.client_id = "client-" + id;
    m.client_host = "/127.0.0.1";
    m.rebalance_timeout_ms = 30'000;
    m.subscribed_topic_names = {"orders"};
    m.member_epoch = epoch;
    m.previous_member_epoch = epoch - 1;
    m.assigned = std::move(assigned);
    return m;
}

// A group of two stable members at epoch 3 sharing "orders" (4 partitions).
consumer_group two_members() {
    consumer_group g("g", 0);
    g.set_group_epoch(3);
    g.set_assignment_epoch(3);
    g.subscription_metadata["orders"] = {topic_id(1), 4};
    g.put(member("a", 3, assignment({{topic_id(1), {0, 1}}})));
    g.put(member("b", 3, assignment({{topic_id(1), {2, 3}}})));
    g.target()["a"] = assignment({{topic_id(1), {0, 1}}});
    g.target()["b"] = assignment({{topic_id(1), {2, 3}}});
    return g;
}

std::vector<int16_t> key_versions(const std::vector<group_record>& records) {
    std::vector<int16_t> out;
    for (const auto& r : records) out.push_back(decode_group_record_key(r.key).version);
    return out;
}

consumer_group_log_state replayed(const std::vector<group_record>& records) {
    consumer_group_log_state s;
    for (const auto& r : records) {
        std::optional<protocol::bytes_view> value;
        if (r.value) value = protocol::bytes_view(*r.value);
        REQUIRE(replay_consumer_record(s, decode_group_record_key(r.key), value));
    }
    return s;
}

} // namespace

TEST_CASE("consumer_group_records: keys carry Kafka's record type as their version") {
    const auto g = two_members();
    const auto records = records_between("g", {}, log_state_of(g));
    const auto& first = records.at(0);
    // The first record written for a new group is a member's metadata: version 5, group, member.
    CHECK(first.key == bytes({0, 5, 0, 1, 'g', 0, 1, 'a'}));
    const auto k = decode_group_record_key(first.key);
    CHECK(k.what == group_record_key::kind::consumer_group);
    CHECK(k.group == "g");
    CHECK(k.member == "a");
    const auto group_key = decode_group_record_key(bytes({0, 3, 0, 1, 'g'}));
    CHECK(group_key.what == group_record_key::kind::consumer_group);
    CHECK(group_key.member.empty());
}

TEST_CASE("consumer_group_records: the group epoch value is version 0, flexible, with an empty tag section") {
    consumer_group g("g", 0);
    g.set_group_epoch(0x0102);
    const auto records = records_between("g", {}, log_state_of(g));
    const auto it = std::find_if(records.begin(), records.end(),
                                 [](const auto& r) { return decode_group_record_key(r.key).version == 3; });
    REQUIRE(it != records.end());
    CHECK(it->key == bytes({0, 3, 0, 1, 'g'}));
    CHECK(*it->value == bytes({0, 0, 0, 0, 1, 2, 0}));
}

TEST_CASE("consumer_group_records: member states use Kafka's MemberState bytes") {
    CHECK(to_record_state(consumer_member_state::stable) == 0);
    CHECK(to_record_state(consumer_member_state::unrevoked_partitions) == 1);
    CHECK(to_record_state(consumer_member_state::unreleased_partitions) == 2);
    CHECK(from_record_state(2) == consumer_member_state::unreleased_partitions);
    CHECK(from_record_state(127) == consumer_member_state::stable);
}

TEST_CASE("consumer_group_records: a new group is written in Kafka's order") {
    const auto records = records_between("g", {}, log_state_of(two_members()));
    // member metadata, subscribed topics, group epoch, targets, assignment epoch, current assignments
    CHECK(key_versions(records) == std::vector<int16_t>{5, 5, 4, 3, 7, 7, 6, 8, 8});
    for (const auto& r : records) CHECK(r.value.has_value());
}

TEST_CASE("consumer_group_records: a member leaving writes its tombstones before the new epoch") {
    const auto before = two_members();
    auto after = before;
    after.remove("b", 0);
    after.set_group_epoch(4);
    const auto records = records_between("g", log_state_of(before), log_state_of(after));
    CHECK(key_versions(records) == std::vector<int16_t>{8, 7, 5, 3});
    CHECK_FALSE(records.at(0).value.has_value());
    CHECK_FALSE(records.at(2).value.has_value());
    CHECK(records.at(3).value.has_value());
    CHECK(decode_group_record_key(records.at(0).key).member == "b");
}

TEST_CASE("consumer_group_records: deleting a group tombstones members first and the group epoch last") {
    const auto records = records_between("g", log_state_of(two_members()), {});
    CHECK(key_versions(records) == std::vector<int16_t>{8, 8, 7, 7, 6, 5, 5, 4, 3});
    for (const auto& r : records) CHECK_FALSE(r.value.has_value());
}

TEST_CASE("consumer_group_records: an unchanged member writes nothing, a changed one only its records") {
    auto g = two_members();
    auto logged = log_state_of(g);
    const std::string a = "a";
    CHECK(records_between("g", logged, log_state_of(g, a), &a).empty());
    g.find("a")->client_host = "/10.0.0.1";
    const auto next = log_state_of(g, a);
    const auto records = records_between("g", logged, next, &a);
    CHECK(key_versions(records) == std::vector<int16_t>{5});
    commit_log_state(logged, next, &a);
    CHECK(logged.members.size() == 2);  // b is not touched by a one-member commit
    CHECK(records_between("g", logged, log_state_of(g)).empty());
}

TEST_CASE("consumer_group_records: replay rebuilds epochs, subscriptions, members, states and targets") {
    auto g = two_members();
    auto* b = g.find("b");
    b->instance_id = "static-b";
    b->server_assignor = "range";
    b->subscribed_topic_regex = "ord.*";
    b->state = consumer_member_state::unrevoked_partitions;
    b->pending_revocation = assignment({{topic_id(1), {3}}});
    b->assigned = assignment({{topic_id(1), {2}}});
    const auto state = replayed(records_between("g", {}, log_state_of(g)));
    const auto back = restore_consumer_group("g", state, 0);
    CHECK(back.group_epoch() == 3);
    CHECK(back.assignment_epoch() == 3);
    CHECK(back.subscription_metadata == g.subscription_metadata);
    CHECK(back.target() == g.target());
    REQUIRE(back.members().size() == 2);
    const auto& rb = back.members().at("b");
    CHECK(rb.instance_id == std::optional<std::string>("static-b"));
    CHECK(rb.server_assignor == std::optional<std::string>("range"));
    CHECK(rb.subscribed_topic_regex == std::optional<std::string>("ord.*"));
    CHECK(rb.state == consumer_member_state::unrevoked_partitions);
    CHECK(rb.pending_revocation == b->pending_revocation);
    CHECK(rb.assigned == b->assigned);
    CHECK(rb.member_epoch == 3);
    CHECK(rb.previous_member_epoch == 2);
    CHECK(rb.client_id == "client-b");
    CHECK_FALSE(back.members().at("a").instance_id.has_value());
    CHECK_FALSE(back.members().at("a").rack_id.has_value());
    // Replaying the group's deletion afterwards leaves nothing.
    auto gone = state;
    for (const auto& r : records_between("g", state, {})) {
        const auto k = decode_group_record_key(r.key);
        REQUIRE(replay_consumer_record(gone, k, std::nullopt));
    }
    CHECK(gone.empty());
}

TEST_CASE("consumer_group_records: a value that does not decode is refused") {
    consumer_group_log_state s;
    const auto k = decode_group_record_key(bytes({0, 8, 0, 1, 'g', 0, 1, 'm'}));
    const auto garbage = bytes({0, 0, 0, 0});
    CHECK_FALSE(replay_consumer_record(s, k, protocol::bytes_view(garbage)));
    CHECK(s.empty());
}

} // namespace samsa::broker::test
