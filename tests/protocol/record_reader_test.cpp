// protocol/record_reader: reads batches written by hand from the documented layout and by
// librdkafka for every codec, without copying uncompressed records, and refuses every malformed
// batch with an error status.
#include "protocol/record_reader.h"
#include "protocol/record_batch_builder.h"

#include "tests/protocol/byte_helpers.h"
#include "tests/protocol/librdkafka_captures.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace samsa::protocol;
using namespace samsa::test;
namespace rk = samsa::test::librdkafka;

namespace {

// Two records, written field by field from docs/protocol.md, base offset 100.
//   record 0: timestamp delta 0, offset delta 0, key "k", value "v1", one header "h" = null
//   record 1: timestamp delta 5, offset delta 1, key null, value "" (empty), no headers
std::vector<uint8_t> hand_made_batch() {
    std::vector<uint8_t> b;
    append_be64(b, 100);         // base offset
    append_be32(b, 0);           // batch length, set by fix_batch
    append_be32(b, 7);           // partition leader epoch
    b.push_back(2);              // magic
    append_be32(b, 0);           // crc, set by fix_batch
    append_be16(b, 0);           // attributes: no compression, CreateTime
    append_be32(b, 1);           // last offset delta
    append_be64(b, 1000);        // base timestamp
    append_be64(b, 1005);        // max timestamp
    append_be64(b, 42);          // producer id
    append_be16(b, 3);           // producer epoch
    append_be32(b, 9);           // base sequence
    append_be32(b, 2);           // record count
    REQUIRE(b.size() == batch::header_size);
    // Record 0: 12 body bytes; varints are zig-zag, so 12 -> 0x18, 1 -> 0x02, -1 -> 0x01.
    append_bytes(b, {0x18, 0x00, 0x00, 0x00, 0x02, 'k', 0x04, 'v', '1', 0x02, 0x02, 'h', 0x01});
    // Record 1: 6 body bytes; timestamp delta 5 -> 0x0a, key null, value length 0, no headers.
    append_bytes(b, {0x0c, 0x00, 0x0a, 0x02, 0x01, 0x00, 0x00});
    fix_batch(b);
    return b;
}

struct read_result {
    decode_status status;
    codec_status codec;
    std::vector<record> records;
};

read_result read_all(bytes_view batch, record_reader_options o = {}) {
    record_reader r(batch, o);
    read_result out{decode_status::ok, codec_status::ok, {}};
    record rec;
    while (r.next(rec)) out.records.push_back(rec);
    out.status = r.status();
    out.codec = r.codec_error();
    return out;
}

decode_status status_of(bytes_view batch, record_reader_options o = {}) { return read_all(batch, o).status; }

std::vector<uint8_t> built(std::vector<record_input> records, batch_options o = {}) {
    record_batch_builder b(o);
    for (const auto& r : records) b.append(r);
    auto out = b.build();
    REQUIRE(out.status == codec_status::ok);
    return out.bytes;
}

std::vector<uint8_t> sample_batch(compression c = compression::none) {
    batch_options o;
    o.codec = c;
    static const std::string big(5000, 'z');
    return built({{.key = view_of("a"), .value = view_of(big), .headers = {}, .timestamp = 10},
                  {.key = view_of("b"), .value = view_of("second"), .headers = {}, .timestamp = 11}},
                 o);
}

} // namespace

TEST_CASE("record_reader: a batch written byte by byte from the documented layout decodes") {
    auto b = hand_made_batch();
    record_reader r(b);
    REQUIRE(r.ok());
    REQUIRE(r.header().has_value());
    CHECK(r.header()->base_offset() == 100);
    CHECK(r.header()->producer_id() == 42);

    record rec;
    REQUIRE(r.next(rec));
    CHECK(rec.offset == 100);
    CHECK(rec.timestamp == 1000);
    REQUIRE(rec.key.has_value());
    CHECK(text_of(*rec.key) == "k");
    REQUIRE(rec.value.has_value());
    CHECK(text_of(*rec.value) == "v1");
    REQUIRE(rec.headers.size() == 1);
    for (const auto& h : rec.headers) {
        CHECK(h.key == "h");
        CHECK_FALSE(h.value.has_value());
    }

    REQUIRE(r.next(rec));
    CHECK(rec.offset == 101);
    CHECK(rec.offset_delta == 1);
    CHECK(rec.timestamp == 1005);
    CHECK(rec.timestamp_delta == 5);
    CHECK_FALSE(rec.key.has_value());
    REQUIRE(rec.value.has_value());
    CHECK(rec.value->empty());
    CHECK(rec.headers.empty());

    CHECK_FALSE(r.next(rec));
    CHECK(r.ok());
    CHECK(r.records_read() == 2);
}

TEST_CASE("record_reader: librdkafka's batches decode for every codec") {
    struct capture {
        const char* name;
        bytes_view bytes;
        compression codec;
    };
    const capture captures[] = {
        {"none", rk::v2_none, compression::none},      {"gzip", rk::v2_gzip, compression::gzip},
        {"snappy", rk::v2_snappy, compression::snappy}, {"lz4", rk::v2_lz4, compression::lz4},
        {"zstd", rk::v2_zstd, compression::zstd},
    };
    const std::string long_value = [] {
        std::string s;
        for (int i = 0; i < 40; ++i) s += "abcdefgh";
        return s;
    }();
    for (const auto& c : captures) {
        INFO(std::string(c.name));
        record_reader r(c.bytes);
        REQUIRE(r.ok());
        CHECK(r.header()->codec() == c.codec);
        CHECK(r.header()->crc_ok());
        CHECK(r.header()->producer_id() == -1);
        std::vector<record> records;
        record rec;
        while (r.next(rec)) records.push_back(rec);
        REQUIRE(r.ok());
        REQUIRE(records.size() == 3);
        CHECK(text_of(*records[0].key) == "k1");
        CHECK(text_of(*records[0].value) == "v1");
        CHECK(text_of(*records[1].key) == "k2");
        CHECK(text_of(*records[1].value) == long_value);
        CHECK_FALSE(records[2].key.has_value());
        CHECK(text_of(*records[2].value) == "nokey");
        for (size_t i = 0; i < 3; ++i) {
            CHECK(records[i].offset == static_cast<int64_t>(i));
            CHECK(records[i].timestamp >= r.header()->base_timestamp());
            CHECK(records[i].timestamp <= r.header()->max_timestamp());
            std::vector<std::pair<std::string, std::string>> headers;
            for (const auto& h : records[i].headers)
                headers.emplace_back(std::string(h.key), std::string(text_of(*h.value)));
            CHECK(headers == std::vector<std::pair<std::string, std::string>>{{"h1", "x"}, {"h2", "yz"}});
        }
    }
}

TEST_CASE("record_reader: uncompressed records are views into the batch bytes") {
    auto b = hand_made_batch();
    record_reader r(b);
    record rec;
    REQUIRE(r.next(rec));
    CHECK(rec.key->data() >= b.data());
    CHECK(rec.value->data() + rec.value->size() <= b.data() + b.size());
}

TEST_CASE("record_reader: decompressed records stay valid while the reader lives, moved or not") {
    auto b = sample_batch(compression::zstd);
    std::optional<record_reader> moved;
    record first;
    {
        record_reader r(b);
        REQUIRE(r.next(first));
        moved.emplace(std::move(r));
    }
    CHECK(first.value->size() == 5000);
    CHECK(text_of(first.value->first(3)) == "zzz");
    CHECK((first.value->data() < b.data() || first.value->data() >= b.data() + b.size()));
    record second;
    REQUIRE(moved->next(second));
    CHECK(text_of(*second.value) == "second");
}

TEST_CASE("record_reader: LogAppendTime batches give every record the max timestamp") {
    batch_options o;
    o.log_append_time = true;
    auto b = built({{.key = {}, .value = view_of("a"), .headers = {}, .timestamp = 10},
                    {.key = {}, .value = view_of("b"), .headers = {}, .timestamp = 20}},
                   o);
    batch::set_max_timestamp_and_recrc(b, 777, true);
    auto r = read_all(b);
    REQUIRE(r.status == decode_status::ok);
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0].timestamp == 777);
    CHECK(r.records[1].timestamp == 777);
}

// ---- corruption -----------------------------------------------------------------------------

TEST_CASE("record_reader: a corrupt CRC is rejected unless checking is off") {
    auto b = hand_made_batch();
    auto bad_value = flipped(b, b.size() - 2);
    CHECK(status_of(bad_value) == decode_status::corrupt);
    CHECK(status_of(flipped(b, batch::crc_at)) == decode_status::corrupt);
    CHECK(status_of(flipped(b, batch::attributes_at + 1, 0x10)) == decode_status::corrupt);
    record_reader_options no_crc;
    no_crc.verify_crc = false;
    CHECK(status_of(bad_value, no_crc) == decode_status::ok);
    // The base offset and leader epoch are outside the CRC, so rewriting them is fine.
    CHECK(status_of(flipped(b, batch::base_offset_at + 7)) == decode_status::ok);
    CHECK(status_of(flipped(b, batch::leader_epoch_at + 3)) == decode_status::ok);
}

TEST_CASE("record_reader: a truncated batch is rejected") {
    auto b = hand_made_batch();
    CHECK(status_of(truncated(b, batch::header_size - 1)) == decode_status::truncated);
    CHECK(status_of(truncated(b, b.size() - 1)) == decode_status::truncated);  // batch_length says more
    CHECK(status_of({}) == decode_status::truncated);
    // Cut inside the second record with batch_length and CRC made to agree: the record is short.
    auto cut = truncated(b, b.size() - 3);
    fix_batch(cut);
    auto r = read_all(cut);
    CHECK(r.status == decode_status::truncated);
    CHECK(r.records.size() == 1);
}

TEST_CASE("record_reader: a record count larger than the records is rejected") {
    auto b = hand_made_batch();
    put_be32(b, batch::record_count_at, 3);
    fix_batch(b);
    auto r = read_all(b);
    CHECK(r.status == decode_status::truncated);
    CHECK(r.records.size() == 2);
}

TEST_CASE("record_reader: bytes after the counted records are rejected") {
    auto b = hand_made_batch();
    put_be32(b, batch::record_count_at, 1);
    fix_batch(b);
    auto r = read_all(b);
    CHECK(r.status == decode_status::trailing_bytes);
    CHECK(r.records.size() == 1);
}

TEST_CASE("record_reader: a negative record count is rejected") {
    auto b = hand_made_batch();
    put_be32(b, batch::record_count_at, 0xFFFFFFFFu);
    fix_batch(b);
    CHECK(status_of(b) == decode_status::negative_length);
}

TEST_CASE("record_reader: a batch length too small for the header, or a magic other than 2, is rejected") {
    auto b = hand_made_batch();
    auto short_length = b;
    put_be32(short_length, batch::length_at, batch::header_size - batch::log_overhead - 1);
    CHECK(status_of(short_length) == decode_status::corrupt);
    auto magic1 = b;
    magic1[batch::magic_at] = 1;
    CHECK(status_of(magic1) == decode_status::corrupt);
}

TEST_CASE("record_reader: a record whose length passes the batch end is rejected") {
    auto b = hand_made_batch();
    b[batch::header_size + 13] = 0x0e;  // second record claims 7 body bytes, 6 remain
    fix_batch(b);
    auto r = read_all(b);
    CHECK(r.status == decode_status::truncated);
    CHECK(r.records.size() == 1);
}

TEST_CASE("record_reader: a record whose key length passes the record end is rejected") {
    auto b = hand_made_batch();
    b[batch::header_size + 4] = 0x20;  // key length 16 in a 12-byte record
    fix_batch(b);
    CHECK(status_of(b) == decode_status::length_too_large);
}

TEST_CASE("record_reader: a value length that passes the record end is rejected") {
    auto b = hand_made_batch();
    b[batch::header_size + 6] = 0x0e;  // value length 7, where 6 bytes of the record remain
    fix_batch(b);
    CHECK(status_of(b) == decode_status::length_too_large);
}

TEST_CASE("record_reader: lengths below -1 are rejected") {
    auto key = hand_made_batch();
    key[batch::header_size + 4] = 0x03;  // key length -2
    fix_batch(key);
    CHECK(status_of(key) == decode_status::negative_length);
    auto record_len = hand_made_batch();
    record_len[batch::header_size] = 0x01;  // record length -1
    fix_batch(record_len);
    CHECK(status_of(record_len) == decode_status::negative_length);
    auto header_count = hand_made_batch();
    header_count[batch::header_size + 9] = 0x01;  // header count -1
    fix_batch(header_count);
    CHECK(status_of(header_count) == decode_status::negative_length);
}

TEST_CASE("record_reader: a header with a null key is rejected") {
    auto b = hand_made_batch();
    // Header key length 1 ('h') -> -1 (0x01), and the freed byte becomes value length 0 so the
    // record still fills its length exactly.
    b[batch::header_size + 10] = 0x01;
    b[batch::header_size + 11] = 0x00;
    b.erase(b.begin() + static_cast<ptrdiff_t>(batch::header_size + 12));
    b[batch::header_size] = 0x16;  // 11 body bytes
    fix_batch(b);
    CHECK(status_of(b) == decode_status::negative_length);
}

TEST_CASE("record_reader: a header count larger than the headers is rejected") {
    auto b = hand_made_batch();
    b[batch::header_size + 9] = 0x04;  // two headers, bytes for one
    fix_batch(b);
    CHECK(status_of(b) == decode_status::length_too_large);
}

TEST_CASE("record_reader: a record longer than its fields is rejected") {
    auto b = hand_made_batch();
    b[batch::header_size] = 0x1a;  // record 0 claims 13 body bytes: its last is record 1's length
    fix_batch(b);
    CHECK(status_of(b) == decode_status::trailing_bytes);
}

TEST_CASE("record_reader: an over-long varint is rejected") {
    auto b = hand_made_batch();
    std::vector<uint8_t> varint(6, 0xff);
    b.insert(b.begin() + static_cast<ptrdiff_t>(batch::header_size), varint.begin(), varint.end());
    fix_batch(b);
    CHECK(status_of(b) == decode_status::varint_too_long);
}

TEST_CASE("record_reader: codec numbers 5 to 7 are rejected") {
    for (uint16_t codec = 5; codec <= 7; ++codec) {
        auto b = hand_made_batch();
        put_be16(b, batch::attributes_at, codec);
        fix_batch(b);
        auto r = read_all(b);
        CHECK(r.status == decode_status::bad_value);
        CHECK(r.codec == codec_status::unsupported_codec);
    }
}

TEST_CASE("record_reader: corrupt compressed records are rejected for every codec") {
    for (auto c : {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
        INFO(static_cast<int>(c));
        auto good = sample_batch(c);
        REQUIRE(status_of(good) == decode_status::ok);

        auto cut = truncated(good, good.size() - 5);
        fix_batch(cut);
        auto r = read_all(cut);
        CHECK(r.status == decode_status::corrupt);
        CHECK(r.codec == codec_status::corrupt);

        auto garbage = good;
        put_be64(garbage, batch::header_size, 0xA5A5A5A5A5A5A5A5u);
        fix_batch(garbage);
        r = read_all(garbage);
        CHECK(r.status == decode_status::corrupt);
        CHECK(r.codec == codec_status::corrupt);
        CHECK(r.records.empty());
    }
}

TEST_CASE("record_reader: an uncompressed batch flagged as compressed is rejected") {
    auto b = hand_made_batch();
    put_be16(b, batch::attributes_at, static_cast<uint16_t>(compression::gzip));
    fix_batch(b);
    auto r = read_all(b);
    CHECK(r.status == decode_status::corrupt);
    CHECK(r.codec == codec_status::corrupt);
}

TEST_CASE("record_reader: records that decompress past the limit are rejected") {
    for (auto c : {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
        INFO(static_cast<int>(c));
        auto b = sample_batch(c);
        record_reader_options small;
        small.max_decompressed_bytes = 1000;
        auto r = read_all(b, small);
        CHECK(r.status == decode_status::frame_too_large);
        CHECK(r.codec == codec_status::too_large);
        small.max_decompressed_bytes = 100'000;
        CHECK(status_of(b, small) == decode_status::ok);
    }
}

TEST_CASE("record_reader: after an error every call returns false and the status stays") {
    auto b = hand_made_batch();
    put_be32(b, batch::record_count_at, 3);
    fix_batch(b);
    record_reader r(b);
    record rec;
    CHECK(r.next(rec));
    CHECK(r.next(rec));
    CHECK_FALSE(r.next(rec));
    CHECK_FALSE(r.next(rec));
    CHECK(r.status() == decode_status::truncated);
}
