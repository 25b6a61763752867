// Tests broker/admin/partition_growth.cpp: Kafka's CreatePartitions rules.
#include "broker/admin/partition_growth.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using samsa::protocol::error_code;
using samsa::protocol::node_id;

namespace {

topic_info three() {
    topic_info t;
    t.name.assign(1, 't');
    t.partitions = 3;
    return t;
}

} // namespace

TEST_CASE("partition_growth: a topic may only grow") {
    const auto t = three();
    CHECK(check_partition_growth(&t, 5, std::nullopt, node_id(1)).error == error_code::none);
    const auto same = check_partition_growth(&t, 3, std::nullopt, node_id(1));
    CHECK(same.error == error_code::invalid_partitions);
    CHECK(same.message == "Topic already has 3 partition(s).");
    const auto fewer = check_partition_growth(&t, -1, std::nullopt, node_id(1));
    CHECK(fewer.error == error_code::invalid_partitions);
    CHECK(fewer.message == "The topic t currently has 3 partition(s); -1 would not be an increase.");
    CHECK(check_partition_growth(nullptr, 5, std::nullopt, node_id(1)).error == error_code::unknown_topic_or_partition);
    CHECK(check_partition_growth(&t, max_partitions_per_topic + 1, std::nullopt, node_id(1)).error == error_code::invalid_partitions);
}

TEST_CASE("partition_growth: manual assignments name this node once per new partition") {
    const auto t = three();
    using lists = std::vector<std::vector<node_id>>;
    const node_id n1(1), n2(2);
    CHECK(check_partition_growth(&t, 5, lists{{n1}, {n1}}, n1).error == error_code::none);
    CHECK(check_partition_growth(&t, 5, lists{{n1}}, n1).error == error_code::invalid_replica_assignment);
    CHECK(check_partition_growth(&t, 4, lists{{n2}}, n1).error == error_code::invalid_replica_assignment);
    CHECK(check_partition_growth(&t, 4, lists{{n1, n1}}, n1).error == error_code::invalid_replica_assignment);
    CHECK(check_partition_growth(&t, 4, lists{{}}, n1).error == error_code::invalid_replica_assignment);
}
