// Tests broker/handlers/list_offsets.cpp and broker/handlers/offset_for_leader_epoch.cpp: offsets
// by time (latest, earliest, max timestamp, a timestamp search), the old v0 form, leader epochs,
// partitions named more than once in one request.
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/offset_for_leader_epoch.h"
#include "protocol/messages/produce.h"
#include "tests/broker/data_path_fixture.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using namespace samsa::protocol;
using samsa::broker::test::data_path_fixture;
using samsa::broker::test::make_batch;

namespace {

void produce(data_path_fixture& f, const std::string& topic, std::vector<test::test_record> records) {
    produce_request req;
    req.acks = 1;
    auto batch = make_batch(records);
    req.topic_data.push_back({topic, {{0, records::from_bytes(batch)}}});
    REQUIRE(f.call(req, 9).responses.at(0).partition_responses.at(0).error_code == 0);
}

list_offsets_response::list_offsets_partition_response list(data_path_fixture& f, const std::string& topic,
                                                            int64_t timestamp, int16_t v, int32_t max_num_offsets = 1) {
    list_offsets_request req;
    req.replica_id = -1;
    list_offsets_request::list_offsets_partition p;
    p.partition_index = 0;
    p.timestamp = timestamp;
    p.max_num_offsets = max_num_offsets;
    req.topics.push_back({topic, {p}});
    const auto resp = f.call(req, v);
    REQUIRE(resp.topics.size() == 1);
    REQUIRE(resp.topics[0].partitions.size() == 1);
    return resp.topics[0].partitions[0];
}

// Three batches with timestamps 1000/2000, 5000, 3000 (the max is in the middle).
void fill(data_path_fixture& f) {
    f.create_topic("t", 1);
    produce(f, "t", {{"a", "0", {}, 1000}, {"b", "1", {}, 2000}});
    produce(f, "t", {{"c", "2", {}, 5000}});
    produce(f, "t", {{"d", "3", {}, 3000}});
}

} // namespace

TEST_CASE("list_offsets: latest, earliest and timestamps at v1+") {
    data_path_fixture f;
    fill(f);
    for (int16_t v : {1, 4, 6, 9}) {
        CAPTURE(v);
        auto latest = list(f, "t", -1, v);
        CHECK(latest.error_code == 0);
        CHECK(latest.offset == 4);
        CHECK(latest.timestamp == -1);
        if (v >= 4) CHECK(latest.leader_epoch == 0);
        CHECK(list(f, "t", -2, v).offset == 0);
        // The first record whose timestamp is at or after the time, inside its batch.
        auto at = list(f, "t", 1500, v);
        CHECK(at.offset == 1);
        CHECK(at.timestamp == 2000);
        auto later = list(f, "t", 2500, v);
        CHECK(later.offset == 2);
        CHECK(later.timestamp == 5000);
        auto none = list(f, "t", 9000, v);
        CHECK(none.error_code == 0);
        CHECK(none.offset == -1);
        CHECK(none.timestamp == -1);
    }
}

TEST_CASE("list_offsets: max timestamp (v7+) and the earliest local offset (v8+)") {
    data_path_fixture f;
    fill(f);
    auto m = list(f, "t", -3, 7);
    CHECK(m.timestamp == 5000);
    CHECK(m.offset == 2);
    CHECK(list(f, "t", -4, 8).offset == 0);
    data_path_fixture empty;
    empty.create_topic("e", 1);
    CHECK(list(empty, "e", -3, 7).offset == -1);
    CHECK(list(empty, "e", -1, 7).offset == 0);
}

TEST_CASE("list_offsets: v0 answers with the old offset list") {
    data_path_fixture f;
    fill(f);
    CHECK(list(f, "t", -1, 0, 10).old_style_offsets == std::vector<int64_t>{4, 0});
    CHECK(list(f, "t", -1, 0, 1).old_style_offsets == std::vector<int64_t>{4});
    CHECK(list(f, "t", -2, 0, 10).old_style_offsets == std::vector<int64_t>{0});
}

TEST_CASE("list_offsets: unknown topics and partitions, fenced and unknown leader epochs") {
    data_path_fixture f;
    fill(f);
    CHECK(list(f, "nope", -1, 5).error_code == to_int(error_code::unknown_topic_or_partition));
    list_offsets_request req;
    list_offsets_request::list_offsets_partition p;
    p.partition_index = 0;
    p.timestamp = -1;
    p.current_leader_epoch = 1;
    req.topics.push_back({"t", {p}});
    CHECK(f.call(req, 4).topics[0].partitions[0].error_code == to_int(error_code::unknown_leader_epoch));
}

TEST_CASE("list_offsets: a partition named twice is INVALID_REQUEST at each place from v1, answered each time at v0") {
    data_path_fixture f;
    fill(f);
    f.create_topic("u", 2);
    auto entry = [](int32_t partition, int64_t timestamp) {
        list_offsets_request::list_offsets_partition p;
        p.partition_index = partition;
        p.timestamp = timestamp;
        p.max_num_offsets = 10;
        return p;
    };
    // t-0 appears three times (twice under one topic entry, once under a second entry for t);
    // u-0 and u-1 once each, and "nope"-0 twice.
    list_offsets_request req;
    req.replica_id = -1;
    req.topics.push_back({"t", {entry(0, -3), entry(0, 1500)}});
    req.topics.push_back({"u", {entry(0, -1), entry(1, -2)}});
    req.topics.push_back({"t", {entry(0, -1)}});
    req.topics.push_back({"nope", {entry(0, -1), entry(0, -1)}});
    for (int16_t v : {1, 5, 7, 9}) {
        CAPTURE(v);
        const auto resp = f.call(req, v);
        REQUIRE(resp.topics.size() == 4);
        std::vector<std::pair<std::string, int16_t>> errors;
        for (const auto& t : resp.topics)
            for (const auto& p : t.partitions) {
                errors.emplace_back(t.name + "-" + std::to_string(p.partition_index), p.error_code);
                if (p.error_code == to_int(error_code::invalid_request)) {
                    CHECK(p.offset == -1);
                    CHECK(p.timestamp == -1);
                    CHECK(p.leader_epoch == -1);
                }
            }
        const int16_t invalid = to_int(error_code::invalid_request);
        CHECK(errors == std::vector<std::pair<std::string, int16_t>>{
                            {"t-0", invalid}, {"t-0", invalid}, {"u-0", 0}, {"u-1", 0}, {"t-0", invalid},
                            {"nope-0", invalid}, {"nope-0", invalid}});
        CHECK(resp.topics[1].partitions[0].offset == 0);
    }
    // v0 has no such check: every copy is looked up.
    const auto old = f.call(req, 0);
    REQUIRE(old.topics.size() == 4);
    REQUIRE(old.topics[0].partitions.size() == 2);
    CHECK(old.topics[0].partitions[0].error_code == 0);
    CHECK(old.topics[2].partitions[0].old_style_offsets == std::vector<int64_t>{4, 0});
    CHECK(old.topics[3].partitions[1].error_code == to_int(error_code::unknown_topic_or_partition));
}

TEST_CASE("offset_for_leader_epoch: the end offset of an epoch from the log's epoch cache") {
    data_path_fixture f;
    fill(f);
    for (int16_t v = 0; v <= 4; ++v) {
        CAPTURE(v);
        offset_for_leader_epoch_request req;
        offset_for_leader_epoch_request::offset_for_leader_partition p;
        p.partition = 0;
        p.leader_epoch = 0;
        p.current_leader_epoch = -1;
        req.topics.push_back({"t", {p}});
        req.topics.push_back({"nope", {p}});
        const auto resp = f.call(req, v);
        REQUIRE(resp.topics.size() == 2);
        const auto& r = resp.topics[0].partitions.at(0);
        CHECK(r.error_code == 0);
        CHECK(r.end_offset == 4);
        if (v >= 1) CHECK(r.leader_epoch == 0);
        CHECK(resp.topics[1].partitions.at(0).error_code == to_int(error_code::unknown_topic_or_partition));
        if (v >= 2) {
            req.topics[0].partitions[0].current_leader_epoch = 3;
            CHECK(f.call(req, v).topics[0].partitions[0].error_code == to_int(error_code::unknown_leader_epoch));
        }
    }
}
