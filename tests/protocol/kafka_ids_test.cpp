// protocol/kafka_ids: offsets, relative offsets, epochs and ids are distinct, ordered, hashable
// and printable, and the mixes that would be bugs do not compile (checked with static_assert).
#include "protocol/kafka_ids.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

using namespace samsa::protocol;

namespace {

template <typename A, typename B>
concept addable = requires(A a, B b) { a + b; };
template <typename A, typename B>
concept subtractable = requires(A a, B b) { a - b; };
template <typename A, typename B>
concept comparable = requires(A a, B b) { a == b; a < b; };

template <typename T>
std::string printed(const T& v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

} // namespace

// No implicit way in, and no way from one kind to another.
static_assert(!std::is_convertible_v<int64_t, offset>);
static_assert(!std::is_convertible_v<offset, int64_t>);
static_assert(!std::is_convertible_v<int32_t, leader_epoch>);
static_assert(!std::is_convertible_v<leader_epoch, int32_t>);
static_assert(!std::is_constructible_v<offset, relative_offset>);
static_assert(!std::is_constructible_v<offset, leader_epoch>);
static_assert(!std::is_constructible_v<leader_epoch, node_id>);
static_assert(!std::is_constructible_v<node_id, partition_id>);
static_assert(!std::is_constructible_v<producer_id, offset>);
static_assert(!std::is_constructible_v<producer_epoch, leader_epoch>);
static_assert(!std::is_constructible_v<relative_offset, offset>);
// A relative offset is absolute only through absolute_offset(base, r).
static_assert(!addable<offset, relative_offset>);
static_assert(!addable<relative_offset, offset>);
static_assert(!addable<offset, offset>);
static_assert(!addable<offset, leader_epoch>);
static_assert(!addable<leader_epoch, int32_t>);
static_assert(!subtractable<offset, relative_offset>);
static_assert(addable<offset, int64_t> && subtractable<offset, int64_t> && subtractable<offset, offset>);
static_assert(std::is_same_v<decltype(offset(5) - offset(2)), int64_t>);
// Comparisons only within a kind.
static_assert(!comparable<leader_epoch, node_id>);
static_assert(!comparable<offset, int64_t>);
static_assert(!comparable<leader_epoch, int32_t>);
static_assert(!comparable<producer_epoch, leader_epoch>);
static_assert(comparable<offset, offset> && comparable<leader_epoch, leader_epoch>);
// Usable in constant expressions.
static_assert(absolute_offset(offset(100), relative_offset(7)) == offset(107));
static_assert(relative_to(offset(100), offset(107)) == relative_offset(7));

TEST_CASE("kafka_ids: values come back out and order like their integers") {
    CHECK(offset(42).value() == 42);
    CHECK(leader_epoch(-1) == no_leader_epoch);
    CHECK(producer_epoch(3).value() == 3);
    CHECK(offset(3) < offset(4));
    CHECK(leader_epoch(7) > leader_epoch(2));
    CHECK(node_id(1) != node_id(2));
    CHECK(offset() == offset(0));
}

TEST_CASE("kafka_ids: offsets move by counts and their difference is a count") {
    offset o(10);
    CHECK(o + 5 == offset(15));
    CHECK(o - 3 == offset(7));
    CHECK(offset(15) - o == 5);
    o += 2;
    CHECK(o == offset(12));
    CHECK(o++ == offset(12));
    CHECK(o == offset(13));
    CHECK(++o == offset(14));
    o -= 4;
    CHECK(o == offset(10));
}

TEST_CASE("kafka_ids: relative offsets convert only against a base and only in range") {
    const offset base(1'000);
    CHECK(absolute_offset(base, relative_offset(0)) == base);
    CHECK(absolute_offset(base, relative_offset(25)) == offset(1'025));
    CHECK(relative_to(base, offset(1'025)) == relative_offset(25));
    CHECK(relative_to(base, base) == relative_offset(0));
    CHECK_FALSE(relative_to(base, offset(999)).has_value());
    const int64_t max = std::numeric_limits<int32_t>::max();
    CHECK(relative_to(base, base + max) == relative_offset(std::numeric_limits<int32_t>::max()));
    CHECK_FALSE(relative_to(base, base + max + 1).has_value());
    // Round trip.
    for (int64_t d : {0L, 1L, 4'096L, max}) CHECK(absolute_offset(base, *relative_to(base, base + d)) == base + d);
}

TEST_CASE("kafka_ids: ids key hash maps") {
    std::unordered_map<partition_id, int> by_partition;
    by_partition[partition_id(0)] = 1;
    by_partition[partition_id(3)] = 2;
    by_partition[partition_id(0)] += 10;
    CHECK(by_partition.size() == 2);
    CHECK(by_partition.at(partition_id(0)) == 11);
    std::unordered_set<offset> offsets{offset(1), offset(2), offset(1)};
    CHECK(offsets.size() == 2);
    CHECK(std::hash<producer_id>{}(producer_id(9)) == std::hash<producer_id>{}(producer_id(9)));
}

TEST_CASE("kafka_ids: values print as their numbers") {
    CHECK(printed(offset(123456789012)) == "123456789012");
    CHECK(printed(leader_epoch(-1)) == "-1");
    CHECK(printed(producer_epoch(5)) == "5");
    CHECK(printed(node_id(2)) == "2");
}
