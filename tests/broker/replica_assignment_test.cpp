// Tests broker/replica_assignment.cpp: the check CreateTopics and CreatePartitions make of each
// replica list of a manual assignment, in Kafka's order and with its messages word for word.
#include "broker/replica_assignment.h"

#include <doctest/doctest.h>

#include <vector>

using samsa::broker::replica_list_problem;
using samsa::protocol::node_id;

TEST_CASE("replica_assignment: a list naming this broker once is valid") {
    const std::vector<node_id> replicas{node_id(1)};
    CHECK_FALSE(replica_list_problem(replicas, node_id(1), std::nullopt).has_value());
}

TEST_CASE("replica_assignment: an empty list is refused") {
    const std::vector<node_id> replicas;
    CHECK(replica_list_problem(replicas, node_id(1), std::nullopt) == "The manual partition assignment includes an empty replica list.");
}

TEST_CASE("replica_assignment: a broker named twice is refused before an unregistered one after it") {
    const std::vector<node_id> replicas{node_id(1), node_id(1), node_id(7)};
    CHECK(replica_list_problem(replicas, node_id(1), std::nullopt) ==
          "The manual partition assignment includes the broker 1 more than once.");
}

TEST_CASE("replica_assignment: a broker that is not registered is refused") {
    const std::vector<node_id> replicas{node_id(1), node_id(7)};
    CHECK(replica_list_problem(replicas, node_id(1), std::nullopt) ==
          "The manual partition assignment includes broker 7, but no such broker is registered.");
}

TEST_CASE("replica_assignment: brokers are checked in id order, not request order") {
    // Sorted, 1 comes twice before 7 is reached: Kafka reports the repeat.
    const std::vector<node_id> replicas{node_id(7), node_id(1), node_id(1)};
    CHECK(replica_list_problem(replicas, node_id(1), std::nullopt) ==
          "The manual partition assignment includes the broker 1 more than once.");
}

TEST_CASE("replica_assignment: the count is checked last, against the partitions before") {
    const std::vector<node_id> two{node_id(1), node_id(1)};
    CHECK(replica_list_problem(two, node_id(1), size_t{1}) ==
          "The manual partition assignment includes the broker 1 more than once.");
    const std::vector<node_id> one{node_id(1)};
    CHECK_FALSE(replica_list_problem(one, node_id(1), size_t{1}).has_value());
    CHECK(replica_list_problem(one, node_id(1), size_t{3}) ==
          "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with "
          "previous partitions, which have 3 replica(s).");
}
