// The server-side assignors of KIP-848 groups: no partition twice, none forgotten, balance,
// stickiness (uniform) and contiguous ranges (range).
#include "broker/groups/partition_assignor.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace samsa::broker::test {

namespace {

protocol::uuid topic_id(uint8_t n) {
    protocol::uuid u;
    u.bytes[0] = n;
    return u;
}

std::map<std::string, assignor_topic> topics() {
    return {{"a", {topic_id(1), 6}}, {"b", {topic_id(2), 4}}};
}

size_t count(const topic_partitions& tp) {
    size_t n = 0;
    for (const auto& [t, p] : tp) n += p.size();
    return n;
}

// Every partition of the subscribed topics exactly once.
void check_exact_cover(const member_assignments& out, const std::map<std::string, assignor_topic>& t,
                       const std::set<std::string>& subscribed) {
    std::map<std::pair<protocol::uuid, int32_t>, int> seen;
    for (const auto& [m, tp] : out)
        for (const auto& [id, parts] : tp)
            for (const int32_t p : parts) ++seen[{id, p}];
    size_t expected = 0;
    for (const auto& name : subscribed) {
        expected += static_cast<size_t>(t.at(name).partitions);
        for (int32_t p = 0; p < t.at(name).partitions; ++p) CHECK(seen[{t.at(name).id, p}] == 1);
    }
    CHECK(seen.size() == expected);
}

} // namespace

TEST_CASE("partition_assignor: uniform spreads six partitions over three members two by two") {
    const auto t = topics();
    std::vector<assignor_member> members{{"m1", {"a"}, nullptr}, {"m2", {"a"}, nullptr}, {"m3", {"a"}, nullptr}};
    const auto out = assign_uniform(members, t);
    check_exact_cover(out, t, {"a"});
    for (const auto& [m, tp] : out) CHECK(count(tp) == 2);
}

TEST_CASE("partition_assignor: uniform keeps partitions where they are when a member joins") {
    const auto t = topics();
    std::vector<assignor_member> two{{"m1", {"a", "b"}, nullptr}, {"m2", {"a", "b"}, nullptr}};
    const auto before = assign_uniform(two, t);
    std::vector<assignor_member> three{{"m1", {"a", "b"}, &before.at("m1")},
                                       {"m2", {"a", "b"}, &before.at("m2")},
                                       {"m3", {"a", "b"}, nullptr}};
    const auto after = assign_uniform(three, t);
    check_exact_cover(after, t, {"a", "b"});
    // Balanced (10 partitions: 4, 3, 3) and nothing moved between the two old members.
    std::vector<size_t> sizes;
    for (const auto& [m, tp] : after) sizes.push_back(count(tp));
    std::sort(sizes.begin(), sizes.end());
    CHECK(sizes == std::vector<size_t>{3, 3, 4});
    for (const std::string m : {"m1", "m2"})
        for (const auto& [id, parts] : after.at(m))
            for (const int32_t p : parts) CHECK(before.at(m).at(id).contains(p));
}

TEST_CASE("partition_assignor: uniform gives a topic only to its subscribers") {
    const auto t = topics();
    std::vector<assignor_member> members{{"m1", {"a"}, nullptr}, {"m2", {"a", "b"}, nullptr}};
    const auto out = assign_uniform(members, t);
    check_exact_cover(out, t, {"a", "b"});
    CHECK_FALSE(out.at("m1").contains(topic_id(2)));
    CHECK(count(out.at("m1")) + count(out.at("m2")) == 10);
    CHECK(count(out.at("m1")) == 5);  // all of b goes to m2, so m1 takes most of a
}

TEST_CASE("partition_assignor: range gives contiguous ranges, the first members one more") {
    const auto t = topics();
    std::vector<assignor_member> members{{"z", {"a", "b"}, nullptr}, {"x", {"a", "b"}, nullptr}, {"y", {"a"}, nullptr}};
    const auto out = assign_range(members, t);
    check_exact_cover(out, t, {"a", "b"});
    CHECK(out.at("x").at(topic_id(1)) == std::set<int32_t>{0, 1});
    CHECK(out.at("y").at(topic_id(1)) == std::set<int32_t>{2, 3});
    CHECK(out.at("z").at(topic_id(1)) == std::set<int32_t>{4, 5});
    CHECK(out.at("x").at(topic_id(2)) == std::set<int32_t>{0, 1});
    CHECK(out.at("z").at(topic_id(2)) == std::set<int32_t>{2, 3});
    CHECK_FALSE(out.at("y").contains(topic_id(2)));
}

TEST_CASE("partition_assignor: assignors are found by the names clients send") {
    CHECK((find_assignor("uniform") == &assign_uniform));
    CHECK((find_assignor("range") == &assign_range));
    CHECK((find_assignor("cooperative-sticky") == nullptr));
}

} // namespace samsa::broker::test
