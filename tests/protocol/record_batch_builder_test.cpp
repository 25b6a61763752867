// protocol/record_batch_builder: built batches carry the header fields asked for and a valid
// CRC-32C, round-trip through record_reader for every codec, match librdkafka's bytes, and
// control batches carry well-formed commit and abort markers.
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"

#include "tests/protocol/byte_helpers.h"
#include "tests/protocol/librdkafka_captures.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace samsa::protocol;
using namespace samsa::test;
namespace rk = samsa::test::librdkafka;

namespace {

constexpr compression all_codecs[] = {compression::none, compression::gzip, compression::snappy,
                                      compression::lz4, compression::zstd};

built_batch build(const std::vector<record_input>& records, const batch_options& o = {}) {
    record_batch_builder b(o);
    for (const auto& r : records) b.append(r);
    return b.build();
}

} // namespace

TEST_CASE("record_batch_builder: the header carries the fields asked for and a valid CRC") {
    batch_options o;
    o.base_offset = 5000;
    o.partition_leader_epoch = 12;
    o.producer_id = 77;
    o.producer_epoch = 4;
    o.base_sequence = 30;
    o.transactional = true;
    o.codec = compression::lz4;
    auto out = build({{.key = view_of("k"), .value = view_of("v"), .headers = {}, .timestamp = 200},
                      {.key = {}, .value = view_of("w"), .headers = {}, .timestamp = 150},
                      {.key = {}, .value = view_of("x"), .headers = {}, .timestamp = 300}},
                     o);
    REQUIRE(out.status == codec_status::ok);
    auto h = batch::header_view::parse(out.bytes);
    REQUIRE(h.has_value());
    CHECK(h->total_size() == out.bytes.size());
    CHECK(h->crc_ok());
    CHECK(h->base_offset() == 5000);
    CHECK(h->partition_leader_epoch() == 12);
    CHECK(h->magic() == 2);
    CHECK(h->codec() == compression::lz4);
    CHECK(h->is_transactional());
    CHECK_FALSE(h->is_control());
    CHECK_FALSE(h->log_append_time());
    CHECK(h->last_offset_delta() == 2);
    CHECK(h->last_offset() == 5002);
    CHECK(h->base_timestamp() == 200);  // the first record's, as Kafka's producer writes it
    CHECK(h->max_timestamp() == 300);
    CHECK(h->producer_id() == 77);
    CHECK(h->producer_epoch() == 4);
    CHECK(h->base_sequence() == 30);
    CHECK(h->record_count() == 3);
}

TEST_CASE("record_batch_builder: records round-trip through every codec") {
    const std::string big(100'000, 'q');
    const record_header headers[] = {{"trace", view_of("abc")}, {"empty", bytes_view{}}, {"null", std::nullopt}};
    std::vector<record_input> in = {
        {.key = view_of("key-0"), .value = view_of(big), .headers = headers, .timestamp = 1'700'000'000'000},
        {.key = std::nullopt, .value = std::nullopt, .headers = {}, .timestamp = 1'699'999'999'000},  // earlier
        {.key = bytes_view{}, .value = view_of("v"), .headers = {}, .timestamp = -1},
    };
    for (auto c : all_codecs) {
        INFO(static_cast<int>(c));
        batch_options o;
        o.codec = c;
        o.base_offset = 1000;
        auto out = build(in, o);
        REQUIRE(out.status == codec_status::ok);
        record_reader r(out.bytes);
        REQUIRE(r.ok());
        std::vector<record> got;
        record rec;
        while (r.next(rec)) got.push_back(rec);
        REQUIRE(r.ok());
        REQUIRE(got.size() == 3);

        CHECK(got[0].offset == 1000);
        CHECK(text_of(*got[0].key) == "key-0");
        CHECK(got[0].value->size() == big.size());
        CHECK(got[0].timestamp == 1'700'000'000'000);
        std::vector<std::string> seen;
        for (const auto& h : got[0].headers)
            seen.push_back(std::string(h.key) + "=" + (h.value ? std::string(text_of(*h.value)) : "<null>"));
        CHECK(seen == std::vector<std::string>{"trace=abc", "empty=", "null=<null>"});

        CHECK(got[1].offset == 1001);
        CHECK_FALSE(got[1].key.has_value());
        CHECK_FALSE(got[1].value.has_value());
        CHECK(got[1].timestamp == 1'699'999'999'000);
        CHECK(got[1].timestamp_delta == -1000);

        CHECK(got[2].key.has_value());
        CHECK(got[2].key->empty());
        CHECK(got[2].timestamp == -1);
        if (c != compression::none) CHECK(out.bytes.size() < big.size() / 10);
    }
}

TEST_CASE("record_batch_builder: compressed records use the framings Kafka's Java client writes") {
    auto records_of = [](compression c) {
        batch_options o;
        o.codec = c;
        auto out = build({{.key = {}, .value = view_of("hello"), .headers = {}, .timestamp = 0}}, o);
        REQUIRE(out.status == codec_status::ok);
        return std::vector<uint8_t>(out.bytes.begin() + batch::header_size, out.bytes.end());
    };
    auto gzip = records_of(compression::gzip);
    CHECK((gzip[0] == 0x1f && gzip[1] == 0x8b));
    auto snappy = records_of(compression::snappy);
    CHECK(std::equal(std::begin(xerial::magic), std::end(xerial::magic), snappy.begin()));
    auto lz4 = records_of(compression::lz4);
    CHECK(batch::load_be32(lz4.data()) == 0x04224D18u);
    auto zstd = records_of(compression::zstd);
    CHECK(batch::load_be32(zstd.data()) == 0x28B52FFDu);
}

TEST_CASE("record_batch_builder: the same records as librdkafka give the same bytes") {
    // librdkafka's uncompressed batch: leader epoch 0, no producer id, one timestamp for all.
    record_reader r(rk::v2_none);
    REQUIRE(r.ok());
    batch_options o;
    o.partition_leader_epoch = r.header()->partition_leader_epoch();
    record_batch_builder b(o);
    record rec;
    std::vector<std::vector<record_header>> headers;
    std::vector<record> records;
    while (r.next(rec)) {
        records.push_back(rec);
        headers.emplace_back(rec.headers.begin(), rec.headers.end());
    }
    REQUIRE(records.size() == 3);
    for (size_t i = 0; i < records.size(); ++i)
        b.append({.key = records[i].key, .value = records[i].value, .headers = headers[i], .timestamp = records[i].timestamp});
    auto out = b.build();
    REQUIRE(out.status == codec_status::ok);
    CHECK(out.bytes == copy_of(rk::v2_none));
}

TEST_CASE("record_batch_builder: explicit offset deltas keep gaps and must increase") {
    record_batch_builder b;
    CHECK(b.append(0, {.key = {}, .value = view_of("a"), .headers = {}, .timestamp = 1}));
    CHECK(b.append(5, {.key = {}, .value = view_of("b"), .headers = {}, .timestamp = 1}));
    CHECK_FALSE(b.append(5, {.key = {}, .value = view_of("c"), .headers = {}, .timestamp = 1}));
    CHECK_FALSE(b.append(3, {.key = {}, .value = view_of("c"), .headers = {}, .timestamp = 1}));
    b.append({.key = {}, .value = view_of("d"), .headers = {}, .timestamp = 1});  // next delta: 6
    CHECK(b.record_count() == 3);
    auto out = b.build();
    auto h = batch::header_view::parse(out.bytes);
    REQUIRE(h.has_value());
    CHECK(h->last_offset_delta() == 6);
    CHECK(h->record_count() == 3);
    record_reader r(out.bytes);
    record rec;
    std::vector<int32_t> deltas;
    while (r.next(rec)) deltas.push_back(rec.offset_delta);
    CHECK(r.ok());
    CHECK(deltas == std::vector<int32_t>{0, 5, 6});
}

TEST_CASE("record_batch_builder: a delete horizon goes into base_timestamp and the attributes, records keep their times") {
    std::vector<record_input> in = {
        {.key = view_of("a"), .value = std::nullopt, .headers = {}, .timestamp = 1'000},
        {.key = view_of("b"), .value = view_of("v"), .headers = {}, .timestamp = 1'500},
    };
    for (auto c : all_codecs) {
        INFO(static_cast<int>(c));
        batch_options o;
        o.codec = c;
        o.base_offset = 40;
        o.delete_horizon_ms = 90'000;
        auto out = build(in, o);
        REQUIRE(out.status == codec_status::ok);
        auto h = batch::header_view::parse(out.bytes);
        REQUIRE(h);
        CHECK(h->crc_ok());
        CHECK(h->has_delete_horizon());
        CHECK(h->delete_horizon_ms() == std::optional<int64_t>(90'000));
        CHECK(h->base_timestamp() == 90'000);
        CHECK(h->max_timestamp() == 1'500);
        CHECK(h->codec() == c);
        record_reader r(out.bytes);
        record rec;
        std::vector<int64_t> times;
        while (r.next(rec)) times.push_back(rec.timestamp);
        REQUIRE(r.ok());
        CHECK(times == std::vector<int64_t>{1'000, 1'500});
    }
    // Without the option there is no horizon, and the base timestamp is the first record's.
    auto plain = build(in);
    auto h = batch::header_view::parse(plain.bytes);
    REQUIRE(h);
    CHECK_FALSE(h->has_delete_horizon());
    CHECK_FALSE(h->delete_horizon_ms());
    CHECK(h->base_timestamp() == 1'000);
}

TEST_CASE("record_batch_builder: an empty builder builds nothing") {
    record_batch_builder b;
    auto out = b.build();
    CHECK(out.status == codec_status::ok);
    CHECK(out.bytes.empty());
}

// ---- control records ------------------------------------------------------------------------

TEST_CASE("record_batch_builder: control batches carry commit and abort markers") {
    for (auto type : {control_type::commit, control_type::abort}) {
        batch_options o;
        o.producer_id = 9000;
        o.producer_epoch = 2;
        o.base_offset = 44;
        auto out = build_control_batch(o, {.type = type, .coordinator_epoch = 17}, 123456);
        REQUIRE(out.status == codec_status::ok);
        record_reader r(out.bytes);
        REQUIRE(r.ok());
        CHECK(r.header()->is_control());
        CHECK(r.header()->is_transactional());
        CHECK(r.header()->producer_id() == 9000);
        CHECK(r.header()->producer_epoch() == 2);
        CHECK(r.header()->record_count() == 1);
        record rec;
        REQUIRE(r.next(rec));
        CHECK(rec.offset == 44);
        CHECK(rec.timestamp == 123456);
        std::vector<uint8_t> key(rec.key->begin(), rec.key->end());
        CHECK(key == std::vector<uint8_t>{0, 0, 0, static_cast<uint8_t>(type)});
        std::vector<uint8_t> value(rec.value->begin(), rec.value->end());
        CHECK(value == std::vector<uint8_t>{0, 0, 0, 0, 0, 17});
        auto marker = parse_control_record(rec);
        REQUIRE(marker.has_value());
        CHECK(marker->type == type);
        CHECK(marker->coordinator_epoch == 17);
        CHECK_FALSE(r.next(rec));
        CHECK(r.ok());
    }
}

TEST_CASE("parse_control_record: malformed keys and values are refused, other types pass through") {
    auto rec_of = [](std::optional<bytes_view> key, std::optional<bytes_view> value) {
        record r;
        r.key = key;
        r.value = value;
        return r;
    };
    const uint8_t commit_key[] = {0, 0, 0, 1};
    const uint8_t marker_value[] = {0, 0, 0, 0, 0, 5};
    CHECK(parse_control_record(rec_of(bytes_view{commit_key}, bytes_view{marker_value})).has_value());
    CHECK_FALSE(parse_control_record(rec_of(std::nullopt, bytes_view{marker_value})).has_value());
    CHECK_FALSE(parse_control_record(rec_of(bytes_view{commit_key, 3}, bytes_view{marker_value})).has_value());
    const uint8_t negative_version[] = {0xff, 0xff, 0, 1};
    CHECK_FALSE(parse_control_record(rec_of(bytes_view{negative_version}, bytes_view{marker_value})).has_value());
    CHECK_FALSE(parse_control_record(rec_of(bytes_view{commit_key}, bytes_view{marker_value, 5})).has_value());
    CHECK_FALSE(parse_control_record(rec_of(bytes_view{commit_key}, std::nullopt)).has_value());
    // A leader-change record (type 3, KRaft) is recognised as control but is no marker.
    const uint8_t leader_change[] = {0, 0, 0, 3};
    auto m = parse_control_record(rec_of(bytes_view{leader_change}, bytes_view{commit_key}));
    REQUIRE(m.has_value());
    CHECK(static_cast<int16_t>(m->type) == 3);
    CHECK(m->coordinator_epoch == -1);
}
