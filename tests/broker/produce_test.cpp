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

// The data path looks a partition up by its partition_id; a raw index or another id does not compile.
template <typename P>
concept finds_partition_by = requires(partition_manager& m, P p) { m.find(std::string_view("t"), p); };
static_assert(finds_partition_by<partition_id>);
static_assert(!finds_partition_by<int32_t>);
static_assert(!finds_partition_by<leader_epoch>);

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

// A batch of records with the given keys (nullopt: a null key) and timestamps.
std::vector<uint8_t> keyed_batch(const std::vector<std::pair<std::optional<std::string>, int64_t>>& records) {
    record_batch_builder b(batch_options{});
    const std::string value = "v";
    for (const auto& [key, ts] : records) {
        record_input in;
        if (key) in.key = bytes_view(reinterpret_cast<const uint8_t*>(key->data()), key->size());
        in.value = bytes_view(reinterpret_cast<const uint8_t*>(value.data()), value.size());
        in.timestamp = ts;
        b.append(in);
    }
    auto built = b.build();
    REQUIRE(built.status == codec_status::ok);
    return std::move(built.bytes);
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
        CHECK(g.log("orders", 0)->log_end_offset() == offset(0));
        CHECK(g.log("orders", 1)->high_watermark() == offset(3));
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
    // Kafka fills error_message only for record errors; a CRC failure has none.
    CHECK_FALSE(r.error_message.has_value());
    CHECK(r.record_errors.empty());
    CHECK(f.log("t", 0)->log_end_offset() == offset(0));
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
        CHECK(f.log("t", 0)->log_end_offset() == offset(0));
    }
    SUBCASE("two batches in one partition entry (v3+)") {
        auto two = good;
        two.insert(two.end(), good.begin(), good.end());
        CHECK(only(f.call(one_partition("t", 0, two), 9)).error_code == to_int(error_code::invalid_record));
        CHECK(f.log("t", 0)->log_end_offset() == offset(0));
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
        CHECK(f.log("small", 0)->log_end_offset() == offset(0));
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
    CHECK(f.log("t", 0)->log_end_offset() == offset(1));
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
    CHECK(f.log("old", 0)->log_end_offset() == offset(0));
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
    CHECK(f.log("safe", 0)->recovery_point() >= offset(2));

    // Without a flush policy acks=-1 is answered at once: this node is the whole ISR.
    const auto r = only(f.call(one_partition("fast", 0, b, -1), 9));
    CHECK(r.error_code == 0);
    CHECK(f.log("fast", 0)->recovery_point() == offset(0));
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
    CHECK(f.log("a", 0)->log_end_offset() == offset(2));
    CHECK(f.log("a", 1)->log_end_offset() == offset(1));
}

TEST_CASE("produce: a partition named more than once keeps only its last copy, as in Kafka") {
    // Each copy would otherwise be checked (perhaps decompressed) and appended again.
    data_path_fixture f;
    f.create_topic("a", 2);
    const auto b1 = make_batch({{"k", "1", {}}});
    const auto b2 = make_batch({{"k", "2", {}}, {"k", "3", {}}});
    const auto b3 = make_batch({{"k", "4", {}}, {"k", "5", {}}, {"k", "6", {}}});
    produce_request req;
    req.acks = 1;
    req.topic_data.push_back({"a", {{0, records::from_bytes(b1)}, {1, records::from_bytes(b1)}}});
    req.topic_data.push_back({"a", {{0, records::from_bytes(b2)}}});
    req.topic_data.push_back({"a", {{0, records::from_bytes(b3)}}});
    const auto resp = f.call(req, 8);
    // One answer per partition: the first topic entry answers partition 1 only, the second none.
    REQUIRE(resp.responses.size() == 2);
    REQUIRE(resp.responses[0].partition_responses.size() == 1);
    CHECK(resp.responses[0].partition_responses[0].index == 1);
    REQUIRE(resp.responses[1].partition_responses.size() == 1);
    CHECK(resp.responses[1].partition_responses[0].index == 0);
    CHECK(resp.responses[1].partition_responses[0].base_offset == 0);
    CHECK(f.log("a", 0)->log_end_offset() == offset(3));
    const auto stored = fetch_all(f, "a", 0);
    REQUIRE(stored.size() == 3);
    CHECK(stored[0].value == "4");
}

TEST_CASE("produce: records without a key on a compacted topic get INVALID_RECORD with record_errors") {
    data_path_fixture f;
    f.create_topic("c", 1, {{"cleanup.policy", std::string("compact")}});
    const int64_t now = partition_manager::wall_clock_ms();
    const auto b = keyed_batch({{"a", now}, {std::nullopt, now}, {"b", now}, {std::nullopt, now}});
    const auto r = only(f.call(one_partition("c", 0, b), 9));
    CHECK(r.error_code == to_int(error_code::invalid_record));
    CHECK(r.base_offset == -1);
    REQUIRE(r.record_errors.size() == 2);
    CHECK(r.record_errors[0].batch_index == 1);
    CHECK(r.record_errors[1].batch_index == 3);
    const std::string why = "Compacted topic cannot accept message without key in topic partition c-0";
    CHECK(r.record_errors[0].batch_index_error_message == why);
    CHECK(r.error_message == "One or more records have been rejected due to 2 record errors in total, and only showing the "
                             "first three errors at most: [RecordError(batchIndex=1, message='" + why +
                                 "'), RecordError(batchIndex=3, message='" + why + "')]");
    CHECK(f.log("c", 0)->log_end_offset() == offset(0));
    // Before v8 the response has neither field; the error code is all the client gets.
    const auto old = only(f.call(one_partition("c", 0, b), 7));
    CHECK(old.error_code == to_int(error_code::invalid_record));
    CHECK(old.record_errors.empty());
    CHECK_FALSE(old.error_message.has_value());
    // Keyed records are accepted.
    CHECK(only(f.call(one_partition("c", 0, keyed_batch({{"k", now}})), 9)).error_code == 0);
}

TEST_CASE("produce: each record's CreateTime is checked against the before and after bounds") {
    data_path_fixture f;
    f.create_topic("t", 1, {{"message.timestamp.before.max.ms", std::string("3600000")}});
    const int64_t now = partition_manager::wall_clock_ms();
    const int64_t hour = 3600 * 1000;
    // The header's max timestamp is in bounds: only reading the records finds the old one.
    const auto r = only(f.call(one_partition("t", 0, keyed_batch({{"a", now}, {"b", now - 2 * hour}, {"c", now}})), 9));
    CHECK(r.error_code == to_int(error_code::invalid_timestamp));
    CHECK(r.error_message == "One or more records have been rejected due to invalid timestamp");
    REQUIRE(r.record_errors.size() == 1);
    CHECK(r.record_errors[0].batch_index == 1);
    const std::string msg = r.record_errors[0].batch_index_error_message.value_or("");
    CHECK(msg.starts_with("Timestamp " + std::to_string(now - 2 * hour) + " of message with offset 1 is out of range. "
                          "The timestamp should be within ["));
    // After-bound (default one hour) and a missing timestamp (-1), which is never checked.
    const auto late = only(f.call(one_partition("t", 0, keyed_batch({{"a", -1}, {"b", now + 2 * hour}})), 9));
    CHECK(late.error_code == to_int(error_code::invalid_timestamp));
    REQUIRE(late.record_errors.size() == 1);
    CHECK(late.record_errors[0].batch_index == 1);
    CHECK(f.log("t", 0)->log_end_offset() == offset(0));
    CHECK(only(f.call(one_partition("t", 0, keyed_batch({{"a", now - hour / 2}, {"b", now + hour / 2}})), 9)).error_code == 0);
}

TEST_CASE("produce: message.timestamp.difference.max.ms bounds where before/after are left unlimited") {
    data_path_fixture f;
    const std::string unlimited = "9223372036854775807";
    f.create_topic("d", 1, {{"message.timestamp.difference.max.ms", std::string("60000")},
                            {"message.timestamp.after.max.ms", unlimited}});
    f.create_topic("both", 1, {{"message.timestamp.difference.max.ms", std::string("60000")},
                               {"message.timestamp.before.max.ms", std::string("86400000")}});
    const int64_t now = partition_manager::wall_clock_ms();
    const int64_t hour = 3600 * 1000;
    CHECK(only(f.call(one_partition("d", 0, keyed_batch({{"a", now - hour}})), 9)).error_code ==
          to_int(error_code::invalid_timestamp));
    CHECK(only(f.call(one_partition("d", 0, keyed_batch({{"a", now + hour / 2}})), 9)).error_code ==
          to_int(error_code::invalid_timestamp));
    CHECK(only(f.call(one_partition("d", 0, keyed_batch({{"a", now}})), 9)).error_code == 0);
    // An explicit before-bound wins over the older key.
    CHECK(only(f.call(one_partition("both", 0, keyed_batch({{"a", now - hour}})), 9)).error_code == 0);
}

TEST_CASE("produce: a failed acks=0 request closes the connection, as Kafka does") {
    data_path_fixture f(std::vector<std::pair<std::string, std::string>>{{"auto.create.topics.enable", "false"}});
    f.create_topic("t", 2);
    const auto good = make_batch({{"k", "v", {}}});
    produce_request req = one_partition("t", 0, good, 0);
    req.topic_data[0].partition_data.push_back({7, records::from_bytes(good)});
    auto c = f.start(req, 9);
    CHECK(c.closed);
    CHECK(c.slot->st == response_slot::state::failed);
    // The partition that could be written was written, as in Kafka.
    CHECK(f.log("t", 0)->log_end_offset() == offset(1));
    auto ok = f.start(one_partition("t", 1, good, 0), 9);
    CHECK_FALSE(ok.closed);
    CHECK(ok.slot->st == response_slot::state::no_response);
}

TEST_CASE("produce: timeout_ms bounds an acks=-1 wait for the fsync with REQUEST_TIMED_OUT") {
    data_path_fixture f;
    f.create_topic("safe", 1, {{"flush.messages", std::string("1")}});
    const auto b = make_batch({{"k", "v", {}}});
    auto req = one_partition("safe", 0, b, -1);
    req.timeout_ms = 100;
    const size_t idle_timers = f.loop().pending_timers();  // storage's own tick
    auto c = f.start(req, 9, 12);
    REQUIRE(c.waiting());
    CHECK(f.loop().pending_timers() == idle_timers + 1);
    // The flush completion is only delivered by run_posted(): the timer fires first.
    CHECK(f.loop().advance(99) == 0);
    CHECK(c.waiting());
    CHECK(f.loop().advance(1) == 1);
    REQUIRE(c.answered());
    const auto r = only(test::decode_response<produce_response>(c.frame(), 9, 12));
    CHECK(r.error_code == to_int(error_code::request_timed_out));
    CHECK(r.base_offset == -1);
    // The late flush completion finds the request answered and does nothing more.
    REQUIRE(f.pump_until([&] { return f.log("safe", 0)->recovery_point() >= offset(1); }));
    (void)f.loop().run_posted();
    // A flush that completes in time answers as usual and cancels the timer.
    req.timeout_ms = 30000;
    auto d = f.start(req, 9, 13);
    REQUIRE(f.pump_until([&] { return d.answered(); }));
    CHECK(only(test::decode_response<produce_response>(d.frame(), 9, 13)).error_code == 0);
    CHECK(f.loop().pending_timers() == idle_timers);
}
