// Tests broker/handlers/fetch.cpp with broker/fetch/: zero-copy responses, whole batches from the
// middle of a batch, byte limits, offsets out of range, long polling woken by an append or by the
// timer, fetch sessions (full, incremental, errors), topic ids and down-conversion for v0-v3.
#include "protocol/legacy_message_set.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "tests/broker/data_path_fixture.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using namespace samsa::protocol;
using samsa::broker::test::data_path_fixture;
using samsa::broker::test::make_batch;
using samsa::broker::test::read_records;

namespace {

void produce(data_path_fixture& f, const std::string& topic, int32_t partition, std::vector<uint8_t> batch) {
    produce_request req;
    req.acks = 1;
    req.topic_data.push_back({topic, {{partition, records::from_bytes(batch)}}});
    const auto r = f.call(req, 9);
    REQUIRE(r.responses.at(0).partition_responses.at(0).error_code == 0);
}

std::vector<test::test_record> numbered(int from, int count, size_t value_size = 10) {
    std::vector<test::test_record> out;
    for (int i = from; i < from + count; ++i) {
        std::string v = "value-" + std::to_string(i);
        v.resize(std::max(v.size(), value_size), '.');
        out.push_back({"key-" + std::to_string(i), v, {{"n", std::to_string(i)}}});
    }
    return out;
}

struct fetch_spec {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    int32_t partition_max_bytes = 1 << 20;
};

fetch_request make_fetch(std::vector<fetch_spec> specs, int32_t max_wait_ms = 0, int32_t min_bytes = 1,
                         int32_t max_bytes = 50 << 20) {
    fetch_request req;
    req.max_wait_ms = max_wait_ms;
    req.min_bytes = min_bytes;
    req.max_bytes = max_bytes;
    req.session_id = 0;
    req.session_epoch = -1;
    for (const auto& s : specs) {
        if (req.topics.empty() || req.topics.back().topic != s.topic) req.topics.push_back({s.topic, {}, {}});
        fetch_request::fetch_partition p;
        p.partition = s.partition;
        p.fetch_offset = s.offset;
        p.partition_max_bytes = s.partition_max_bytes;
        req.topics.back().partitions.push_back(p);
    }
    return req;
}

const fetch_response::partition_data& part(const fetch_response& r, size_t topic = 0, size_t partition = 0) {
    REQUIRE(r.responses.size() > topic);
    REQUIRE(r.responses[topic].partitions.size() > partition);
    return r.responses[topic].partitions[partition];
}

} // namespace

TEST_CASE("fetch: records come back as file ranges, sent without copying") {
    data_path_fixture f;
    f.create_topic("t", 1);
    produce(f, "t", 0, make_batch(numbered(0, 5)));
    auto c = f.start(make_fetch({{"t", 0, 0}}), 11, 3);
    REQUIRE(c.answered());
    // The response frame holds the headers in memory and one splice of the segment file.
    CHECK(c.slot->frame.splices.size() == 1);
    CHECK(c.slot->frame.bytes.size() < 200);
    const auto resp = test::decode_response<fetch_response>(c.frame(), 11, 3);
    const auto& d = part(resp);
    CHECK(d.error_code == 0);
    CHECK(d.high_watermark == 5);
    CHECK(d.last_stable_offset == 5);
    CHECK(d.log_start_offset == 0);
    CHECK(d.preferred_read_replica == -1);
    const auto recs = read_records(d.records.bytes());
    REQUIRE(recs.size() == 5);
    for (int i = 0; i < 5; ++i) {
        CHECK(recs[static_cast<size_t>(i)].offset == i);
        CHECK(recs[static_cast<size_t>(i)].key == "key-" + std::to_string(i));
        CHECK(recs[static_cast<size_t>(i)].headers.at(0).second == std::to_string(i));
    }
}

TEST_CASE("fetch: from the middle of a batch returns that whole batch") {
    data_path_fixture f;
    f.create_topic("t", 1);
    produce(f, "t", 0, make_batch(numbered(0, 4)));
    produce(f, "t", 0, make_batch(numbered(4, 4)));
    const auto resp = f.call(make_fetch({{"t", 0, 6}}), 12);
    const auto recs = read_records(part(resp).records.bytes());
    REQUIRE(recs.size() == 4);
    CHECK(recs.front().offset == 4);
    CHECK(recs.back().offset == 7);
    // At the end of the log: no records, no error.
    const auto end = f.call(make_fetch({{"t", 0, 8}}), 12);
    CHECK(part(end).error_code == 0);
    CHECK(part(end).records.size() == 0);
    CHECK_FALSE(part(end).records.is_null());
}

TEST_CASE("fetch: a batch carrying a KIP-534 delete horizon is sent byte for byte") {
    data_path_fixture f;
    f.create_topic("t", 1);
    // As the log cleaner leaves it: a tombstone whose batch holds a delete horizon in its base
    // timestamp (attribute bit 6), written where replication writes, offsets kept.
    batch_options o;
    o.delete_horizon_ms = 1'700'000'090'000;
    record_batch_builder b(o);
    const std::string key = "gone";
    b.append({.key = bytes_view(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
              .value = std::nullopt, .headers = {}, .timestamp = 1'700'000'000'000});
    auto flagged = b.build().bytes;
    REQUIRE(batch::header_view::parse(flagged)->has_delete_horizon());
    const auto sent = flagged;
    auto l = f.log("t", 0);
    samsa::storage::append_options ao;
    ao.origin = samsa::storage::append_origin::replication;
    REQUIRE(l->append(flagged, ao).error == error_code::none);
    l->set_high_watermark(l->log_end_offset());

    const auto resp = f.call(make_fetch({{"t", 0, 0}}), 12);
    const auto& d = part(resp);
    CHECK(d.error_code == 0);
    const auto bytes = d.records.bytes();
    CHECK(std::vector<uint8_t>(bytes.begin(), bytes.end()) == sent);
    const auto h = batch::header_view::parse(bytes);
    REQUIRE(h);
    CHECK(h->crc_ok());
    CHECK(h->delete_horizon_ms() == std::optional<int64_t>(1'700'000'090'000));
    const auto recs = read_records(bytes);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].key == "gone");
    CHECK(recs[0].value == "<null>");
    CHECK(recs[0].timestamp == 1'700'000'000'000);  // base timestamp + a negative delta
}

TEST_CASE("fetch: an offset outside the log is OFFSET_OUT_OF_RANGE with the log's offsets") {
    data_path_fixture f;
    f.create_topic("t", 1);
    produce(f, "t", 0, make_batch(numbered(0, 3)));
    for (int64_t bad : {int64_t{4}, int64_t{-1}, int64_t{1000}}) {
        const auto resp = f.call(make_fetch({{"t", 0, bad}}), 11);
        CHECK(part(resp).error_code == to_int(error_code::offset_out_of_range));
        CHECK(part(resp).high_watermark == 3);
        CHECK(part(resp).log_start_offset == 0);
        CHECK(part(resp).records.size() == 0);
    }
}

TEST_CASE("fetch: unknown topics, partitions and leader epochs") {
    data_path_fixture f;
    f.create_topic("t", 1);
    const auto resp = f.call(make_fetch({{"nope", 0, 0}, {"t", 3, 0}}), 11);
    CHECK(part(resp, 0).error_code == to_int(error_code::unknown_topic_or_partition));
    CHECK(part(resp, 1).error_code == to_int(error_code::unknown_topic_or_partition));

    auto req = make_fetch({{"t", 0, 0}});
    req.topics[0].partitions[0].current_leader_epoch = 5;
    CHECK(part(f.call(req, 11)).error_code == to_int(error_code::unknown_leader_epoch));
    req.topics[0].partitions[0].current_leader_epoch = 0;
    CHECK(part(f.call(req, 11)).error_code == 0);
}

TEST_CASE("fetch: partition_max_bytes and max_bytes keep whole batches, the first one always") {
    data_path_fixture f;
    f.create_topic("t", 2);
    // Batches of equal size: the same ten records each time.
    for (int i = 0; i < 4; ++i) produce(f, "t", 0, make_batch(numbered(0, 10, 100)));
    for (int i = 0; i < 4; ++i) produce(f, "t", 1, make_batch(numbered(0, 10, 100)));
    const size_t batch_size = f.log("t", 0)->size_bytes() / 4;

    // A partition limit below one batch still returns the first batch (KIP-74)...
    auto resp = f.call(make_fetch({{"t", 0, 0, 10}, {"t", 1, 0, 10}}), 11);
    CHECK(part(resp, 0, 0).records.size() == batch_size);
    // ...but only for the first partition with data: the second gets nothing.
    CHECK(part(resp, 0, 1).records.size() == 0);

    // Two and a half batches of partition limit: two whole batches.
    resp = f.call(make_fetch({{"t", 0, 0, static_cast<int32_t>(batch_size * 5 / 2)}}), 11);
    CHECK(part(resp).records.size() == 2 * batch_size);

    // The request's max_bytes is shared by the partitions in order.
    resp = f.call(make_fetch({{"t", 0, 0}, {"t", 1, 0}}, 0, 1, static_cast<int32_t>(batch_size * 3)), 11);
    CHECK(part(resp, 0, 0).records.size() == 3 * batch_size);
    CHECK(part(resp, 0, 1).records.size() == 0);
}

TEST_CASE("fetch: the broker's fetch.max.bytes bounds every response, old versions included") {
    data_path_fixture f(std::vector<std::pair<std::string, std::string>>{{"fetch.max.bytes", "1024"}});
    f.create_topic("t", 2);
    for (int i = 0; i < 4; ++i) produce(f, "t", 0, make_batch(numbered(0, 10, 20)));
    for (int i = 0; i < 4; ++i) produce(f, "t", 1, make_batch(numbered(0, 10, 20)));
    const size_t batch_size = f.log("t", 0)->size_bytes() / 4;
    REQUIRE(batch_size > 300);
    REQUIRE(batch_size < 500);
    const size_t under_limit = 1024 / batch_size;  // whole batches that fit in 1024 bytes
    // A request asking for 50 MiB gets what fits in 1024 bytes, shared by the partitions in order.
    auto resp = f.call(make_fetch({{"t", 0, 0}, {"t", 1, 0}}), 11);
    CHECK(part(resp, 0, 0).records.size() == under_limit * batch_size);
    CHECK(part(resp, 0, 1).records.size() == 0);
    // v2 has no max_bytes of its own: the broker's bound is its only bound. It counts the stored
    // batches, which are then down-converted to the old format.
    resp = f.call(make_fetch({{"t", 0, 0}, {"t", 1, 0}}), 2);
    legacy_message_reader r(part(resp, 0, 0).records.bytes());
    legacy_message m;
    size_t messages = 0;
    while (r.next(m)) ++messages;
    CHECK(r.ok());
    CHECK(messages == under_limit * 10);
    CHECK(part(resp, 0, 1).records.size() == 0);

    // min_bytes above the bound is lowered to it, as Kafka does: a response that reached the
    // bound answers at once instead of waiting out max_wait_ms for bytes it may never send.
    f.create_topic("big", 1);
    produce(f, "big", 0, make_batch(numbered(0, 10, 200)));
    REQUIRE(f.log("big", 0)->size_bytes() > 1024);
    REQUIRE(f.log("big", 0)->size_bytes() < 4096);
    auto c = f.start(make_fetch({{"big", 0, 0}}, 10000, 4096), 11, 23);
    CHECK(c.answered());
}

TEST_CASE("fetch: a long poll is woken by an append") {
    data_path_fixture f;
    f.create_topic("t", 2);
    const size_t timers = f.loop().pending_timers();  // storage's periodic tick
    auto c = f.start(make_fetch({{"t", 0, 0}, {"t", 1, 0}}, 5000, 1), 11, 21);
    REQUIRE_FALSE(c.closed);
    CHECK(c.waiting());
    CHECK(f.partitions().waiters().size() == 1);
    CHECK(f.loop().pending_timers() == timers + 1);

    produce(f, "t", 1, make_batch(numbered(0, 2)));
    REQUIRE(c.answered());
    CHECK(f.partitions().waiters().size() == 0);
    const auto resp = test::decode_response<fetch_response>(c.frame(), 11, 21);
    CHECK(part(resp, 0, 0).records.size() == 0);
    const auto recs = read_records(part(resp, 0, 1).records.bytes());
    REQUIRE(recs.size() == 2);
    CHECK(recs[1].key == "key-1");
    // The fetch's timer was cancelled.
    CHECK(f.loop().pending_timers() == timers);
}

TEST_CASE("fetch: a long poll waits for min_bytes, and answers at max_wait_ms with what there is") {
    data_path_fixture f;
    f.create_topic("t", 1);
    auto c = f.start(make_fetch({{"t", 0, 0}}, 500, 100000), 11, 22);
    CHECK(c.waiting());
    produce(f, "t", 0, make_batch(numbered(0, 1)));
    CHECK(c.waiting());  // a few bytes, not min_bytes
    (void)f.loop().advance(499);
    CHECK(c.waiting());
    (void)f.loop().advance(1);
    REQUIRE(c.answered());
    const auto resp = test::decode_response<fetch_response>(c.frame(), 11, 22);
    CHECK(read_records(part(resp).records.bytes()).size() == 1);
    CHECK(f.partitions().waiters().size() == 0);
}

TEST_CASE("fetch: a waiting fetch whose connection closes is dropped") {
    data_path_fixture f;
    f.create_topic("t", 1);
    const size_t timers = f.loop().pending_timers();
    {
        auto c = f.start(make_fetch({{"t", 0, 0}}, 5000, 1), 11);
        CHECK(c.waiting());
        CHECK(f.partitions().waiters().size() == 1);
    }  // the queue goes: its slots are cancelled
    CHECK(f.partitions().waiters().size() == 0);
    CHECK(f.loop().pending_timers() == timers);
    produce(f, "t", 0, make_batch(numbered(0, 1)));
}

TEST_CASE("fetch: sessions, full and incremental (KIP-227)") {
    data_path_fixture f;
    f.create_topic("a", 2);
    f.create_topic("b", 1);
    produce(f, "a", 0, make_batch(numbered(0, 3)));

    // A full fetch with epoch 0 creates a session and returns every partition.
    auto req = make_fetch({{"a", 0, 0}, {"a", 1, 0}, {"b", 0, 0}});
    req.session_epoch = 0;
    auto full = f.call(req, 11);
    CHECK(full.error_code == 0);
    REQUIRE(full.session_id != 0);
    CHECK(full.responses.size() == 2);
    CHECK(read_records(part(full, 0, 0).records.bytes()).size() == 3);
    const int32_t id = full.session_id;

    // Incremental epoch 1: the client moved a-0 to offset 3; nothing changed anywhere, so the
    // fetch waits and then answers with no partitions at all.
    fetch_request inc;
    inc.session_id = id;
    inc.session_epoch = 1;
    inc.max_wait_ms = 100;
    inc.min_bytes = 1;
    inc.max_bytes = 1 << 20;
    inc.topics.push_back({"a", {}, {}});
    fetch_request::fetch_partition moved;
    moved.partition = 0;
    moved.fetch_offset = 3;
    moved.partition_max_bytes = 1 << 20;
    inc.topics[0].partitions.push_back(moved);
    auto c = f.start(inc, 11, 30);
    CHECK(c.waiting());
    (void)f.loop().advance(100);
    auto quiet = test::decode_response<fetch_response>(c.frame(), 11, 30);
    CHECK(quiet.error_code == 0);
    CHECK(quiet.session_id == id);
    CHECK(quiet.responses.empty());

    // Epoch 2, no partition listed: new data on b-0 wakes it, and only b-0 is in the response.
    fetch_request inc2;
    inc2.session_id = id;
    inc2.session_epoch = 2;
    inc2.max_wait_ms = 1000;
    inc2.min_bytes = 1;
    inc2.max_bytes = 1 << 20;
    auto c2 = f.start(inc2, 11, 31);
    CHECK(c2.waiting());
    produce(f, "b", 0, make_batch(numbered(0, 2)));
    REQUIRE(c2.answered());
    auto news = test::decode_response<fetch_response>(c2.frame(), 11, 31);
    REQUIRE(news.responses.size() == 1);
    CHECK(news.responses[0].topic == "b");
    CHECK(part(news).high_watermark == 2);
    CHECK(read_records(part(news).records.bytes()).size() == 2);

    // Reusing an epoch is INVALID_FETCH_SESSION_EPOCH; an unknown id FETCH_SESSION_ID_NOT_FOUND.
    auto stale = f.call(inc2, 11);
    CHECK(stale.error_code == to_int(error_code::invalid_fetch_session_epoch));
    CHECK(stale.responses.empty());
    fetch_request unknown = inc2;
    unknown.session_id = id + 1;
    unknown.session_epoch = 1;
    auto missing = f.call(unknown, 11);
    CHECK(missing.error_code == to_int(error_code::fetch_session_id_not_found));
    CHECK(missing.session_id == 0);

    // Forgetting a topic removes its partitions from the session (epoch 3 is still expected:
    // failed requests do not move the epoch).
    fetch_request forget;
    forget.session_id = id;
    forget.session_epoch = 3;
    forget.max_wait_ms = 0;
    forget.max_bytes = 1 << 20;
    forget.forgotten_topics_data.push_back({"b", {}, {0}});
    CHECK(f.call(forget, 11).error_code == 0);
    REQUIRE(f.partitions().sessions().find(id) != nullptr);
    CHECK(f.partitions().sessions().find(id)->size() == 2);

    // A final epoch (-1) closes the session; the fetch itself is sessionless.
    auto close = make_fetch({{"a", 0, 3}});
    close.session_id = id;
    close.session_epoch = -1;
    auto closed = f.call(close, 11);
    CHECK(closed.session_id == 0);
    CHECK(f.partitions().sessions().find(id) == nullptr);
}

TEST_CASE("fetch: v13+ names topics by id; an unknown id is UNKNOWN_TOPIC_ID") {
    data_path_fixture f;
    f.create_topic("t", 1);
    produce(f, "t", 0, make_batch(numbered(0, 2)));
    const uuid id = f.topic("t").id;
    fetch_request req = make_fetch({{"", 0, 0}});
    req.topics[0].topic_id = id;
    auto resp = f.call(req, 13);
    CHECK(resp.responses[0].topic_id == id);
    CHECK(part(resp).error_code == 0);
    CHECK(read_records(part(resp).records.bytes()).size() == 2);

    req.topics[0].topic_id.bytes[0] ^= 0xFF;
    resp = f.call(req, 16);
    CHECK(part(resp).error_code == to_int(error_code::unknown_topic_id));
}

TEST_CASE("fetch: v0-v3 get their batches down-converted to magic 0 and 1") {
    data_path_fixture f;
    f.create_topic("t", 1);
    produce(f, "t", 0, make_batch(numbered(0, 3)));
    produce(f, "t", 0, make_batch(numbered(3, 2), compression::gzip));
    for (int16_t v : {0, 1, 2, 3}) {
        CAPTURE(v);
        const auto resp = f.call(make_fetch({{"t", 0, 0}}), v);
        const auto& d = part(resp);
        CHECK(d.error_code == 0);
        CHECK(d.high_watermark == 5);
        legacy_message_reader r(d.records.bytes());
        legacy_message m;
        std::vector<int64_t> offsets;
        while (r.next(m)) {
            CHECK(m.magic == (v <= 1 ? 0 : 1));
            CHECK(test::as_string(m.key) == "key-" + std::to_string(m.offset));
            if (m.magic == 1) CHECK(m.timestamp == 1700000000000);
            offsets.push_back(m.offset);
        }
        CHECK(r.ok());
        CHECK(offsets == std::vector<int64_t>{0, 1, 2, 3, 4});
    }
    // zstd has no old-format form.
    produce(f, "t", 0, make_batch(numbered(5, 1), compression::zstd));
    CHECK(part(f.call(make_fetch({{"t", 0, 5}}), 3)).error_code == to_int(error_code::unsupported_compression_type));
    CHECK(part(f.call(make_fetch({{"t", 0, 5}}), 12)).error_code == 0);
}

TEST_CASE("fetch: over TCP, a large response goes out with sendfile through a slow reader") {
    test::node_fixture node;
    {
        test::tcp_client c(node.port());
        // Metadata creates the topic; then 8 MiB in 64 batches of 128 KiB.
        metadata_request md;
        md.topics = std::vector<metadata_request::metadata_request_topic>{{{}, std::string("big")}};
        c.send(test::encode_request(md, 9, 1));
        REQUIRE(c.read_frame().has_value());
        for (int i = 0; i < 64; ++i) {
            produce_request req;
            req.acks = 1;
            auto batch = make_batch(numbered(i * 64, 64, 2048));
            req.topic_data.push_back({"big", {{0, records::from_bytes(batch)}}});
            c.send(test::encode_request(req, 9, 100 + i));
            auto frame = c.read_frame();
            REQUIRE(frame.has_value());
            const auto r = test::decode_response<produce_response>(*frame, 9, 100 + i);
            REQUIRE(r.responses.at(0).partition_responses.at(0).error_code == 0);
            REQUIRE(r.responses.at(0).partition_responses.at(0).base_offset == i * 64);
        }
    }
    test::tcp_client c(node.port());
    c.set_receive_buffer(64 << 10);
    auto req = make_fetch({{"big", 0, 0, 64 << 20}}, 0, 1, 64 << 20);
    c.send(test::encode_request(req, 11, 500));
    // Let the broker fill the socket and wait for it to drain before reading anything.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto frame = c.read_frame(20000);
    REQUIRE(frame.has_value());
    CHECK(frame->size() > (8u << 20));
    const auto resp = test::decode_response<fetch_response>(*frame, 11, 500);
    const auto recs = read_records(part(resp).records.bytes());
    REQUIRE(recs.size() == 64 * 64);
    for (size_t i = 0; i < recs.size(); ++i) {
        CHECK(recs[i].offset == static_cast<int64_t>(i));
        CHECK(recs[i].key == "key-" + std::to_string(i));
    }
    c.close();
    CHECK(node.stop());
}
