// The server-side assignors of KIP-848 groups: no partition twice, none forgotten, balance,
// stickiness (uniform) and contiguous ranges (range).
#include "broker/groups/partition_assignor.h"

#include "group_test_support.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <type_traits>

namespace samsa::broker::test {

// Assignments hold partition ids as their own type: a set of plain integers is not one.
static_assert(std::is_same_v<topic_partitions::mapped_type, std::set<protocol::partition_id>>);
static_assert(!std::is_convertible_v<std::set<int32_t>, topic_partitions::mapped_type>);
static_assert(!std::is_constructible_v<topic_partitions, std::map<protocol::uuid, std::set<int32_t>>>);

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
    std::map<std::pair<protocol::uuid, protocol::partition_id>, int> seen;
    for (const auto& [m, tp] : out)
        for (const auto& [id, parts] : tp)
            for (const protocol::partition_id p : parts) ++seen[{id, p}];
    size_t expected = 0;
    for (const auto& name : subscribed) {
        expected += static_cast<size_t>(t.at(name).partitions);
        for (int32_t p = 0; p < t.at(name).partitions; ++p)
            CHECK(seen[{t.at(name).id, protocol::partition_id(p)}] == 1);
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
            for (const protocol::partition_id p : parts) CHECK(before.at(m).at(id).contains(p));
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
    CHECK(out.at("x").at(topic_id(1)) == partitions({0, 1}));
    CHECK(out.at("y").at(topic_id(1)) == partitions({2, 3}));
    CHECK(out.at("z").at(topic_id(1)) == partitions({4, 5}));
    CHECK(out.at("x").at(topic_id(2)) == partitions({0, 1}));
    CHECK(out.at("z").at(topic_id(2)) == partitions({2, 3}));
    CHECK_FALSE(out.at("y").contains(topic_id(2)));
}

TEST_CASE("partition_assignor: assignors are found by the names clients send") {
    CHECK((find_assignor("uniform") == &assign_uniform));
    CHECK((find_assignor("range") == &assign_range));
    CHECK((find_assignor("cooperative-sticky") == nullptr));
}

} // namespace samsa::broker::test
