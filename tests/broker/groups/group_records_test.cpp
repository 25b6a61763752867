// The __consumer_offsets record format: byte layouts Kafka's tools read, and decoding of every
// key version Kafka writes.
#include "broker/groups/group_records.h"

#include <doctest/doctest.h>

namespace samsa::broker::test {

namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> v) {
    std::vector<uint8_t> out;
    for (const int b : v) out.push_back(static_cast<uint8_t>(b));
    return out;
}

} // namespace

TEST_CASE("group_records: an offset commit key is version 1, group, topic, partition") {
    const auto key = encode_offset_commit_key("g1", "t", protocol::partition_id(3));
    CHECK(key == bytes({0, 1, 0, 2, 'g', '1', 0, 1, 't', 0, 0, 0, 3}));
    const auto k = decode_group_record_key(key);
    CHECK(k.what == group_record_key::kind::offset_commit);
    CHECK(k.group == "g1");
    CHECK(k.topic == "t");
    CHECK(k.partition.value() == 3);
}

TEST_CASE("group_records: an offset commit value is version 3 with leader epoch, metadata and commit time") {
    committed_offset v{protocol::offset(258), protocol::leader_epoch(5), "m", 0x0102, std::nullopt};
    const auto value = encode_offset_commit_value(v);
    CHECK(value == bytes({0, 3, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 5, 0, 1, 'm', 0, 0, 0, 0, 0, 0, 1, 2}));
    CHECK(decode_offset_commit_value(value) == v);
}

TEST_CASE("group_records: an expiring offset is written as version 1 with its expire timestamp") {
    committed_offset v{protocol::offset(7), protocol::leader_epoch(-1), "", 1000, 61000};
    const auto value = encode_offset_commit_value(v);
    CHECK(value.at(1) == 1);
    const auto back = decode_offset_commit_value(value);
    REQUIRE(back.has_value());
    CHECK(back->expire_timestamp_ms == 61000);
    CHECK(back->leader_epoch.value() == -1);
}

TEST_CASE("group_records: offset values of version 0 (Kafka 0.9) still decode") {
    const auto v0 = bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 'h', 'i', 0, 0, 0, 0, 0, 0, 0, 1});
    const auto v = decode_offset_commit_value(v0);
    REQUIRE(v.has_value());
    CHECK(v->offset.value() == 9);
    CHECK(v->metadata == "hi");
    CHECK(v->commit_timestamp_ms == 1);
    CHECK(decode_offset_commit_value(bytes({0, 3, 0})) == std::nullopt);
}

TEST_CASE("group_records: group metadata round-trips members, subscriptions and assignments") {
    classic_group g("grp", 0);
    classic_member m;
    m.member_id = "m-1";
    m.group_instance_id = "i";
    m.client_id = "c";
    m.client_host = "/10.0.0.1";
    m.rebalance_timeout_ms = 30000;
    m.session_timeout_ms = 10000;
    m.protocol_type = "consumer";
    m.protocols = {{"range", {1, 2, 3}}};
    m.assignment = {};
    g.add(m);
    g.restore(4, std::string("consumer"), std::string("range"), std::string("m-1"), 0);
    const auto key = encode_group_metadata_key("grp");
    CHECK(key == bytes({0, 2, 0, 3, 'g', 'r', 'p'}));
    CHECK(decode_group_record_key(key).what == group_record_key::kind::group_metadata);
    const auto value = encode_group_metadata_value(g, 77);
    CHECK(value.at(1) == 3);
    const auto v = decode_group_metadata_value(value);
    REQUIRE(v.has_value());
    CHECK(v->protocol_type == "consumer");
    CHECK(v->generation == 4);
    CHECK(v->protocol == "range");
    CHECK(v->leader == "m-1");
    CHECK(v->current_state_timestamp == 77);
    REQUIRE(v->members.size() == 1);
    CHECK(v->members[0].group_instance_id == "i");
    CHECK(v->members[0].subscription == std::vector<uint8_t>{1, 2, 3});
    CHECK(v->members[0].assignment.empty());
    CHECK(v->members[0].rebalance_timeout == 30000);
}

TEST_CASE("group_records: an empty group has a null protocol and leader") {
    classic_group g("e", 0);
    g.restore(9, std::string("consumer"), std::nullopt, std::nullopt, 0);
    const auto v = decode_group_metadata_value(encode_group_metadata_value(g, 0));
    REQUIRE(v.has_value());
    CHECK_FALSE(v->protocol.has_value());
    CHECK_FALSE(v->leader.has_value());
    CHECK(v->members.empty());
}

TEST_CASE("group_records: KIP-848 keys are recognised, other group types skipped, garbage is malformed") {
    CHECK(decode_group_record_key(bytes({0, 3, 0, 1, 'g'})).what == group_record_key::kind::consumer_group);
    const auto member = decode_group_record_key(bytes({0, 7, 0, 1, 'g', 0, 2, 'm', '1'}));
    CHECK(member.what == group_record_key::kind::consumer_group);
    CHECK(member.member == "m1");
    CHECK(decode_group_record_key(bytes({0, 8})).what == group_record_key::kind::malformed);
    CHECK(decode_group_record_key(bytes({0, 9, 0, 1, 'g'})).what == group_record_key::kind::other);
    CHECK(decode_group_record_key(bytes({0})).what == group_record_key::kind::malformed);
    CHECK(decode_group_record_key(bytes({0, 1, 0, 9, 'x'})).what == group_record_key::kind::malformed);
}

} // namespace samsa::broker::test
