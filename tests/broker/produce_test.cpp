// Tests broker/handlers/produce.cpp with broker/produce/: appends at every acks, Kafka's errors,
// legacy message sets converted to v2, and acks=-1 waiting for the fsync.
#include "protocol/legacy_message_set.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/produce.h"
#include "tests/broker/data_path_fixture.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using namespace samsa::protocol;
using samsa::broker::test::data_path_fixture;
using samsa::broker::test::make_batch;
using samsa::broker::test::read_records;

namespace {

produce_request one_partition(const std::string& topic, int32_t partition, bytes_view records, int16_t acks = 1) {
    produce_request req;
    req.acks = acks;
    req.timeout_ms = 1000;
    produce_request::topic_produce_data t;
    t.name = topic;
    t.partition_data.push_back({partition, records::from_bytes(records)});
    req.topic_data.push_back(std::move(t));
    return req;
}

produce_response::partition_produce_response only(const produce_response& r) {
    REQUIRE(r.responses.size() == 1);
    REQUIRE(r.responses[0].partition_responses.size() == 1);
    return r.responses[0].partition_responses[0];
}

// Every record of the partition from offset 0, fetched at v12.
std::vector<test::read_back_record> fetch_all(data_path_fixture& f, const std::string& topic, int32_t partition) {
    fetch_request req;
    req.max_wait_ms = 0;
    req.max_bytes = 64 << 20;
    req.session_epoch = -1;
    fetch_request::fetch_topic t;
    t.topic = topic;
    fetch_request::fetch_partition p;
    p.partition = partition;
    p.fetch_offset = 0;
    p.partition_max_bytes = 64 << 20;
    t.partitions.push_back(p);
    req.topics.push_back(t);
    const auto resp = f.call(req, 12);
    REQUIRE(resp.responses.size() == 1);
    const auto& d = resp.responses[0].partitions.at(0);
    REQUIRE(d.error_code == 0);
    return read_records(d.records.bytes());
}

} // namespace

TEST_CASE("produce: acks=1 appends at increasing offsets and keeps keys, values, headers and timestamps") {
    auto b1 = make_batch({{"k1", "v1", {{"h", "x"}}, 1700000000001}, {"k2", "v2", {}, 1700000000002}});
    auto b2 = make_batch({{"k3", "v3", {{"a", "1"}, {"b", "2"}}, 1700000000003}});
    for (int16_t v : {3, 7, 9, 11}) {
        CAPTURE(v);
        data_path_fixture g;
        g.create_topic("orders", 2);
        auto first = g.call(one_partition("orders", 1, b1), v);
        CHECK(only(first).error_code == 0);
        CHECK(only(first).base_offset == 0);
        auto second = g.call(one_partition("orders", 1, b2), v);
        CHECK(only(second).base_offset == 2);
        if (v >= 5) CHECK(only(second).log_start_offset == 0);
        CHECK(only(second).log_append_time_ms == -1);
        const auto recs = fetch_all(g, "orders", 1);
        REQUIRE(recs.size() == 3);
        CHECK(recs[0].offset == 0);
        CHECK(recs[0].key == "k1");
        CHECK(recs[0].headers == std::vector<std::pair<std::string, std::string>>{{"h", "x"}});
        CHECK(recs[1].value == "v2");
        CHECK(recs[1].timestamp == 1700000000002);
        CHECK(recs[2].offset == 2);
        CHECK(recs[2].headers.size() == 2);
        CHECK(g.log("orders", 0)->log_end_offset() == 0);
        CHECK(g.log("orders", 1)->high_watermark() == 3);
    }
}

TEST_CASE("produce: a batch with a corrupt CRC is refused with CORRUPT_MESSAGE and nothing is stored") {
    data_path_fixture f;
    f.create_topic("t", 1);
    auto b = make_batch({{"k", "value", {}}});
    b.back() ^= 0x01;  // a flipped bit in the last record's bytes, covered by the CRC
    const auto r = only(f.call(one_partition("t", 0, b), 9));
    CHECK(r.error_code == to_int(error_code::corrupt_message));
    CHECK(r.base_offset == -1);
    CHECK(r.error_message.has_value());
    CHECK(f.log("t", 0)->log_end_offset() == 0);
    CHECK(f.log("t", 0)->size_bytes() == 0);
}

TEST_CASE("produce: Kafka's per-partition errors") {
    data_path_fixture f(std::vector<std::pair<std::string, std::string>>{{"auto.create.topics.enable", "false"}});
    f.create_topic("t", 1);
    f.create_topic("small", 1, {{"max.message.bytes", std::string("200")}});
    const auto good = make_batch({{"k", "v", {}}});

    SUBCASE("an unknown topic or partition") {
        CHECK(only(f.call(one_partition("nope", 0, good), 9)).error_code == to_int(error_code::unknown_topic_or_partition));
        CHECK(only(f.call(one_partition("t", 1, good), 9)).error_code == to_int(error_code::unknown_topic_or_partition));
    }
    SUBCASE("acks other than 0, 1 and -1") {
        CHECK(only(f.call(one_partition("t", 0, good, 2), 9)).error_code == to_int(error_code::invalid_required_acks));
        CHECK(f.log("t", 0)->log_end_offset() == 0);
    }
    SUBCASE("two batches in one partition entry (v3+)") {
        auto two = good;
        two.insert(two.end(), good.begin(), good.end());
        CHECK(only(f.call(one_partition("t", 0, two), 9)).error_code == to_int(error_code::invalid_record));
        CHECK(f.log("t", 0)->log_end_offset() == 0);
    }
    SUBCASE("an old message format on v3+") {
        legacy_message_set_builder b(1, compression::none);
        std::string v = "value";
        b.append({0, 1700000000000, std::nullopt, bytes_view(reinterpret_cast<const uint8_t*>(v.data()), v.size())});
        const auto set = b.build();
        CHECK(only(f.call(one_partition("t", 0, set.bytes), 3)).error_code == to_int(error_code::invalid_record));
    }
    SUBCASE("zstd before v7") {
        const auto z = make_batch({{"k", "v", {}}}, compression::zstd);
        CHECK(only(f.call(one_partition("t", 0, z), 6)).error_code == to_int(error_code::unsupported_compression_type));
        CHECK(only(f.call(one_partition("t", 0, z), 7)).error_code == 0);
    }
    SUBCASE("a batch over max.message.bytes") {
        const auto big = make_batch({{"k", std::string(400, 'x'), {}}});
        const auto r = only(f.call(one_partition("small", 0, big), 9));
        CHECK(r.error_code == to_int(error_code::message_too_large));
        CHECK(f.log("small", 0)->log_end_offset() == 0);
    }
    SUBCASE("a timestamp far in the future") {
        const auto future = make_batch({{"k", "v", {}, partition_manager::wall_clock_ms() + 48LL * 3600 * 1000}});
        CHECK(only(f.call(one_partition("t", 0, future), 9)).error_code == to_int(error_code::invalid_timestamp));
    }
    SUBCASE("no records at all (v3+)") {
        CHECK(only(f.call(one_partition("t", 0, {}), 9)).error_code == to_int(error_code::invalid_record));
    }
    SUBCASE("a record count that does not match the offset range") {
        auto b = good;
        batch::store_be32(b.data() + batch::record_count_at, 2);
        batch::recompute_crc(b);
        CHECK(only(f.call(one_partition("t", 0, b), 9)).error_code == to_int(error_code::invalid_record));
    }
}

TEST_CASE("produce: acks=0 writes and sends no response") {
    data_path_fixture f;
    f.create_topic("t", 1);
    const auto b = make_batch({{"k", "v", {}}});
    auto c = f.start(one_partition("t", 0, b, 0), 9);
    CHECK_FALSE(c.closed);
    CHECK(c.slot->st == response_slot::state::no_response);
    CHECK(f.log("t", 0)->log_end_offset() == 1);
}

TEST_CASE("produce: legacy message sets (v0-v2 clients) are stored as v2 batches") {
    for (int8_t magic : {0, 1}) {
        for (compression codec : {compression::none, compression::gzip, compression::snappy, compression::lz4}) {
            CAPTURE(int(magic));
            CAPTURE(int(codec));
            data_path_fixture f;
            f.create_topic("old", 1);
            legacy_message_set_builder b(magic, codec);
            const std::string k0 = "key-0", v0 = "value-0", v1 = "value-1";
            b.append({0, 1700000000100, bytes_view(reinterpret_cast<const uint8_t*>(k0.data()), k0.size()),
                      bytes_view(reinterpret_cast<const uint8_t*>(v0.data()), v0.size())});
            b.append({1, 1700000000200, std::nullopt, bytes_view(reinterpret_cast<const uint8_t*>(v1.data()), v1.size())});
            const auto set = b.build();
            REQUIRE(set.status == codec_status::ok);
            const int16_t version = magic == 0 ? 0 : 2;
            const auto r = only(f.call(one_partition("old", 0, set.bytes), version));
            CHECK(r.error_code == 0);
            CHECK(r.base_offset == 0);
            const auto recs = fetch_all(f, "old", 0);
            REQUIRE(recs.size() == 2);
            CHECK(recs[0].key == "key-0");
            CHECK(recs[0].value == "value-0");
            CHECK(recs[1].key == "<null>");
            CHECK(recs[1].value == "value-1");
            CHECK(recs[1].offset == 1);
            CHECK(recs[1].timestamp == (magic == 0 ? -1 : 1700000000200));
        }
    }
}

TEST_CASE("produce: a legacy message set with a bad CRC is refused") {
    data_path_fixture f;
    f.create_topic("old", 1);
    legacy_message_set_builder b(1, compression::none);
    const std::string v = "value";
    b.append({0, 1700000000000, std::nullopt, bytes_view(reinterpret_cast<const uint8_t*>(v.data()), v.size())});
    auto set = b.build().bytes;
    set.back() ^= 0x20;
    CHECK(only(f.call(one_partition("old", 0, set), 2)).error_code == to_int(error_code::corrupt_message));
    CHECK(f.log("old", 0)->log_end_offset() == 0);
}

TEST_CASE("produce: acks=-1 answers after the fsync when the topic flushes every message") {
    data_path_fixture f;
    f.create_topic("safe", 1, {{"flush.messages", std::string("1")}});
    f.create_topic("fast", 1);
    const auto b = make_batch({{"k", "v", {}}, {"k", "w", {}}});

    auto c = f.start(one_partition("safe", 0, b, -1), 9, 11);
    REQUIRE_FALSE(c.closed);
    CHECK(c.waiting());  // the fsync runs on the flusher thread
    REQUIRE(f.pump_until([&] { return c.answered(); }));
    const auto resp = test::decode_response<produce_response>(c.frame(), 9, 11);
    CHECK(only(resp).error_code == 0);
    CHECK(only(resp).base_offset == 0);
    CHECK(f.log("safe", 0)->recovery_point() >= 2);

    // Without a flush policy acks=-1 is answered at once: this node is the whole ISR.
    const auto r = only(f.call(one_partition("fast", 0, b, -1), 9));
    CHECK(r.error_code == 0);
    CHECK(f.log("fast", 0)->recovery_point() == 0);
}

TEST_CASE("produce: a whole request with several topics and partitions answers each in order") {
    data_path_fixture f;
    f.create_topic("a", 2);
    f.create_topic("b", 1);
    const auto b1 = make_batch({{"k", "1", {}}});
    const auto b2 = make_batch({{"k", "2", {}}, {"k", "3", {}}});
    const auto b3 = make_batch({{"k", "4", {}}});
    produce_request req;
    req.acks = 1;
    req.topic_data.push_back({"a", {{1, records::from_bytes(b1)}, {0, records::from_bytes(b2)}}});
    req.topic_data.push_back({"b", {{0, records::from_bytes(b3)}, {5, records::from_bytes(b3)}}});
    const auto resp = f.call(req, 8);
    REQUIRE(resp.responses.size() == 2);
    CHECK(resp.responses[0].name == "a");
    CHECK(resp.responses[0].partition_responses[0].index == 1);
    CHECK(resp.responses[0].partition_responses[1].index == 0);
    CHECK(resp.responses[1].partition_responses[0].error_code == 0);
    CHECK(resp.responses[1].partition_responses[1].error_code == to_int(error_code::unknown_topic_or_partition));
    CHECK(f.log("a", 0)->log_end_offset() == 2);
    CHECK(f.log("a", 1)->log_end_offset() == 1);
}
