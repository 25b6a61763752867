// protocol/legacy_message_set: magic 0 and 1 message sets, written by hand and by librdkafka,
// read with their wrappers' offset and timestamp rules; every malformed set is refused; the
// builder writes what the reader reads; and the conversions to and from v2 batches keep what
// each format can carry.
#include "protocol/legacy_message_set.h"

#include "tests/protocol/byte_helpers.h"
#include "tests/protocol/librdkafka_captures.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace samsa::protocol;
using namespace samsa::test;
namespace rk = samsa::test::librdkafka;

namespace {

struct read_result {
    decode_status status;
    codec_status codec;
    std::vector<legacy_message> messages;
};

// Reads everything; the messages' views stay valid while `keep` lives.
read_result read_all(bytes_view set, std::optional<legacy_message_reader>& keep, legacy_reader_options o = {}) {
    keep.emplace(set, o);
    read_result out{decode_status::ok, codec_status::ok, {}};
    legacy_message m;
    while (keep->next(m)) out.messages.push_back(m);
    out.status = keep->status();
    out.codec = keep->codec_error();
    return out;
}

decode_status status_of(bytes_view set, legacy_reader_options o = {}) {
    std::optional<legacy_message_reader> keep;
    return read_all(set, keep, o).status;
}

std::string long_value() {
    std::string s;
    for (int i = 0; i < 40; ++i) s += "abcdefgh";
    return s;
}

// Checks the three messages every librdkafka capture carries.
void check_captured(const std::vector<legacy_message>& m) {
    REQUIRE(m.size() == 3);
    CHECK(text_of(*m[0].key) == "k1");
    CHECK(text_of(*m[0].value) == "v1");
    CHECK(text_of(*m[1].key) == "k2");
    CHECK(text_of(*m[1].value) == long_value());
    CHECK_FALSE(m[2].key.has_value());
    CHECK(text_of(*m[2].value) == "nokey");
}

std::vector<uint8_t> build_set(int8_t magic, compression c, const std::vector<legacy_message_input>& in,
                               bool log_append_time = false) {
    legacy_message_set_builder b(magic, c, log_append_time);
    for (const auto& m : in) b.append(m);
    auto out = b.build();
    REQUIRE(out.status == codec_status::ok);
    return out.bytes;
}

// Where a wrapper's value (the compressed inner set) starts: entry header, crc, magic,
// attributes, [timestamp], key length -1, value length.
size_t wrapper_value_at(int8_t magic) { return 12 + 4 + 1 + 1 + (magic == 1 ? 8 : 0) + 4 + 4; }

// A wrapper whose value is `inner` compressed with gzip.
std::vector<uint8_t> gzip_wrapper(int8_t magic, int64_t offset, bytes_view inner, int64_t timestamp = 0,
                                  bool log_append_time = false) {
    std::vector<uint8_t> z;
    REQUIRE(compress(compression::gzip, inner, z) == codec_status::ok);
    std::vector<uint8_t> b;
    append_be64(b, static_cast<uint64_t>(offset));
    append_be32(b, 0);
    append_be32(b, 0);
    b.push_back(static_cast<uint8_t>(magic));
    b.push_back(static_cast<uint8_t>(1 | (log_append_time ? 0x08 : 0)));
    if (magic == 1) append_be64(b, static_cast<uint64_t>(timestamp));
    append_be32(b, 0xFFFFFFFFu);
    append_be32(b, static_cast<uint32_t>(z.size()));
    b.insert(b.end(), z.begin(), z.end());
    put_be32(b, 8, static_cast<uint32_t>(b.size() - 12));
    fix_legacy_crc(b);
    return b;
}

} // namespace

// ---- reading --------------------------------------------------------------------------------

TEST_CASE("legacy_message_reader: messages written byte by byte from the documented layout decode") {
    // Magic 0, offset 7, key "k", value "v"; the CRC-32 was computed independently (Python zlib).
    std::vector<uint8_t> b;
    append_be64(b, 7);
    append_be32(b, 16);
    append_be32(b, 0x1FECD70Au);
    append_bytes(b, {0, 0, 0, 0, 0, 1, 'k', 0, 0, 0, 1, 'v'});
    // Magic 1, offset 8, timestamp 1000 (CreateTime), key null, value "v1".
    append_be64(b, 8);
    append_be32(b, 24);
    append_be32(b, 0xB790AD74u);
    append_bytes(b, {1, 0});
    append_be64(b, 1000);
    append_bytes(b, {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 'v', '1'});

    std::optional<legacy_message_reader> keep;
    auto r = read_all(b, keep);
    REQUIRE(r.status == decode_status::ok);
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[0].offset == 7);
    CHECK(r.messages[0].magic == 0);
    CHECK(r.messages[0].timestamp == -1);
    CHECK(text_of(*r.messages[0].key) == "k");
    CHECK(text_of(*r.messages[0].value) == "v");
    CHECK(r.messages[1].offset == 8);
    CHECK(r.messages[1].magic == 1);
    CHECK(r.messages[1].timestamp == 1000);
    CHECK_FALSE(r.messages[1].log_append_time);
    CHECK_FALSE(r.messages[1].key.has_value());
    CHECK(text_of(*r.messages[1].value) == "v1");
    // Uncompressed messages are views into the set.
    CHECK(r.messages[0].value->data() == b.data() + 27);
}

TEST_CASE("legacy_message_reader: librdkafka's message sets decode for magic 0 and 1 and every codec") {
    struct capture {
        const char* name;
        bytes_view bytes;
        int8_t magic;
        compression codec;
    };
    const capture captures[] = {
        {"magic0 none", rk::magic0_none, 0, compression::none},
        {"magic0 gzip", rk::magic0_gzip, 0, compression::gzip},
        {"magic0 snappy", rk::magic0_snappy, 0, compression::snappy},
        {"magic0 lz4", rk::magic0_lz4, 0, compression::lz4},
        {"magic1 none", rk::magic1_none, 1, compression::none},
        {"magic1 gzip", rk::magic1_gzip, 1, compression::gzip},
        {"magic1 snappy", rk::magic1_snappy, 1, compression::snappy},
        {"magic1 lz4", rk::magic1_lz4, 1, compression::lz4},
    };
    for (const auto& c : captures) {
        INFO(std::string(c.name));
        std::optional<legacy_message_reader> keep;
        auto r = read_all(c.bytes, keep);
        REQUIRE(r.status == decode_status::ok);
        check_captured(r.messages);
        for (size_t i = 0; i < r.messages.size(); ++i) {
            const auto& m = r.messages[i];
            CHECK(m.magic == c.magic);
            CHECK(m.wrapper_codec == c.codec);
            CHECK(m.offset == static_cast<int64_t>(i));
            CHECK_FALSE(m.log_append_time);
            if (c.magic == 0) CHECK(m.timestamp == -1);
            if (c.magic == 1) CHECK(m.timestamp > 1'500'000'000'000);  // librdkafka's CreateTime, in ms
        }
    }
}

TEST_CASE("legacy_message_reader: librdkafka's magic 0 LZ4 has the old header checksum, magic 1 the right one") {
    auto value_of = [](bytes_view set, int8_t magic) {
        size_t at = wrapper_value_at(magic);
        return set.subspan(at, batch::load_be32(set.data() + at - 4));
    };
    std::vector<uint8_t> out;
    CHECK(decompress(compression::lz4, value_of(rk::magic0_lz4, 0), 1 << 20, out) == codec_status::corrupt);
    CHECK(decompress(compression::lz4, value_of(rk::magic1_lz4, 1), 1 << 20, out) == codec_status::ok);
}

TEST_CASE("legacy_message_reader: magic 1 inner offsets are relative to the wrapper's") {
    auto inner = build_set(1, compression::none,
                           {{.offset = 0, .timestamp = 5, .key = {}, .value = view_of("a")},
                            {.offset = 1, .timestamp = 6, .key = {}, .value = view_of("b")},
                            {.offset = 3, .timestamp = 7, .key = {}, .value = view_of("c")}});
    std::optional<legacy_message_reader> keep;
    auto r = read_all(gzip_wrapper(1, 103, inner), keep);
    REQUIRE(r.status == decode_status::ok);
    REQUIRE(r.messages.size() == 3);
    CHECK(r.messages[0].offset == 100);
    CHECK(r.messages[1].offset == 101);
    CHECK(r.messages[2].offset == 103);
    CHECK(r.messages[2].timestamp == 7);

    // A wrapper offset of 0, as some producers send, means base offset 0.
    r = read_all(gzip_wrapper(1, 0, inner), keep);
    REQUIRE(r.status == decode_status::ok);
    CHECK(r.messages[2].offset == 3);

    // A wrapper offset below the last inner one is refused.
    CHECK(status_of(gzip_wrapper(1, 2, inner)) == decode_status::corrupt);
}

TEST_CASE("legacy_message_reader: magic 0 inner offsets are absolute") {
    auto inner = build_set(0, compression::none,
                           {{.offset = 40, .timestamp = -1, .key = {}, .value = view_of("a")},
                            {.offset = 41, .timestamp = -1, .key = {}, .value = view_of("b")}});
    std::optional<legacy_message_reader> keep;
    auto r = read_all(gzip_wrapper(0, 99, inner), keep);
    REQUIRE(r.status == decode_status::ok);
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[0].offset == 40);
    CHECK(r.messages[1].offset == 41);
}

TEST_CASE("legacy_message_reader: under LogAppendTime inner messages take the wrapper's timestamp") {
    auto inner = build_set(1, compression::none,
                           {{.offset = 0, .timestamp = 5, .key = {}, .value = view_of("a")},
                            {.offset = 1, .timestamp = 6, .key = {}, .value = view_of("b")}});
    std::optional<legacy_message_reader> keep;
    auto r = read_all(gzip_wrapper(1, 1, inner, 9999, true), keep);
    REQUIRE(r.status == decode_status::ok);
    REQUIRE(r.messages.size() == 2);
    for (const auto& m : r.messages) {
        CHECK(m.timestamp == 9999);
        CHECK(m.log_append_time);
    }
    // Under CreateTime they keep their own.
    r = read_all(gzip_wrapper(1, 1, inner, 9999, false), keep);
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[0].timestamp == 5);
    CHECK_FALSE(r.messages[0].log_append_time);
}

// ---- corruption -----------------------------------------------------------------------------

TEST_CASE("legacy_message_reader: a CRC mismatch is rejected unless checking is off") {
    auto b = copy_of(rk::magic1_none);
    auto bad = flipped(b, 37);  // the first message's value "v1"
    CHECK(status_of(bad) == decode_status::corrupt);
    legacy_reader_options no_crc;
    no_crc.verify_crc = false;
    CHECK(status_of(bad, no_crc) == decode_status::ok);
    CHECK(status_of(flipped(b, 12)) == decode_status::corrupt);  // the CRC itself
    // Inner messages are checked too.
    auto inner = build_set(1, compression::none, {{.offset = 0, .timestamp = 5, .key = {}, .value = view_of("abc")}});
    CHECK(status_of(gzip_wrapper(1, 0, flipped(inner, inner.size() - 1))) == decode_status::corrupt);
}

TEST_CASE("legacy_message_reader: a truncated set is rejected") {
    auto b = copy_of(rk::magic0_none);
    CHECK(status_of(truncated(b, b.size() - 1)) == decode_status::truncated);
    CHECK(status_of(truncated(b, 11)) == decode_status::truncated);
    std::optional<legacy_message_reader> keep;
    auto r = read_all(truncated(b, b.size() - 1), keep);
    CHECK(r.messages.size() == 2);  // the whole messages before the cut are read
}

TEST_CASE("legacy_message_reader: a message size below the smallest message is rejected") {
    auto b = copy_of(rk::magic0_none);
    put_be32(b, 8, 13);
    CHECK(status_of(b) == decode_status::corrupt);
    auto v1 = copy_of(rk::magic1_none);
    put_be32(v1, 8, 21);  // big enough for magic 0, not for magic 1
    CHECK(status_of(v1) == decode_status::corrupt);
}

TEST_CASE("legacy_message_reader: magic 2 and above are rejected") {
    auto b = copy_of(rk::magic1_none);
    b[16] = 2;
    fix_legacy_crc(b);
    CHECK(status_of(b) == decode_status::bad_value);
}

TEST_CASE("legacy_message_reader: a key or value length past the message end is rejected") {
    auto b = copy_of(rk::magic0_none);  // first message: key "k1", value "v1"
    put_be32(b, 18, 3);                 // key length 3: the value length is misread
    fix_legacy_crc(b);
    CHECK(status_of(b) == decode_status::length_too_large);
    b = copy_of(rk::magic0_none);
    put_be32(b, 24, 0x7FFFFFFFu);  // value length
    fix_legacy_crc(b);
    CHECK(status_of(b) == decode_status::length_too_large);
    b = copy_of(rk::magic0_none);
    put_be32(b, 24, 0xFFFFFFFEu);  // value length -2
    fix_legacy_crc(b);
    CHECK(status_of(b) == decode_status::negative_length);
}

TEST_CASE("legacy_message_reader: a message longer than its fields is rejected") {
    auto b = copy_of(rk::magic0_none);
    put_be32(b, 24, 1);  // value length 1 of 2 bytes
    fix_legacy_crc(b);
    CHECK(status_of(b) == decode_status::trailing_bytes);
}

TEST_CASE("legacy_message_reader: malformed wrappers are rejected") {
    auto one = build_set(1, compression::none, {{.offset = 0, .timestamp = 5, .key = {}, .value = view_of("a")}});
    // An inner message that is itself compressed.
    CHECK(status_of(gzip_wrapper(1, 0, gzip_wrapper(1, 0, one))) == decode_status::corrupt);
    // An inner message of another magic.
    auto magic0 = build_set(0, compression::none, {{.offset = 0, .timestamp = -1, .key = {}, .value = view_of("a")}});
    CHECK(status_of(gzip_wrapper(1, 0, magic0)) == decode_status::corrupt);
    // No inner messages at all.
    CHECK(status_of(gzip_wrapper(1, 0, {})) == decode_status::corrupt);
    // Inner bytes that are no message set.
    CHECK(status_of(gzip_wrapper(1, 0, view_of("not a message set"))) == decode_status::truncated);
    // A null value.
    auto null_value = gzip_wrapper(1, 0, one);
    size_t at = wrapper_value_at(1) - 4;
    null_value.resize(at);
    append_be32(null_value, 0xFFFFFFFFu);
    put_be32(null_value, 8, static_cast<uint32_t>(null_value.size() - 12));
    fix_legacy_crc(null_value);
    CHECK(status_of(null_value) == decode_status::corrupt);
    // Compressed bytes that do not decompress.
    auto garbage = gzip_wrapper(1, 0, one);
    garbage[wrapper_value_at(1) + 10] ^= 0xff;
    fix_legacy_crc(garbage);
    std::optional<legacy_message_reader> keep;
    auto r = read_all(garbage, keep);
    CHECK(r.status == decode_status::corrupt);
    CHECK(r.codec == codec_status::corrupt);
}

TEST_CASE("legacy_message_reader: zstd and codecs 5 to 7 are not legacy codecs") {
    for (uint8_t codec = 4; codec <= 7; ++codec) {
        auto b = copy_of(rk::magic1_none);
        b[17] = codec;
        fix_legacy_crc(b);
        std::optional<legacy_message_reader> keep;
        auto r = read_all(b, keep);
        CHECK(r.status == decode_status::bad_value);
        CHECK(r.codec == codec_status::unsupported_codec);
    }
}

TEST_CASE("legacy_message_reader: the decompression limit covers all wrappers of a set together") {
    std::string value(3000, 'x');
    auto inner = build_set(1, compression::none, {{.offset = 0, .timestamp = 5, .key = {}, .value = view_of(value)}});
    auto two = gzip_wrapper(1, 0, inner);
    auto second = gzip_wrapper(1, 1, inner);
    two.insert(two.end(), second.begin(), second.end());
    legacy_reader_options o;
    o.max_decompressed_bytes = inner.size() * 2;
    CHECK(status_of(two, o) == decode_status::ok);
    o.max_decompressed_bytes = inner.size() * 2 - 1;
    std::optional<legacy_message_reader> keep;
    auto r = read_all(two, keep, o);
    CHECK(r.status == decode_status::frame_too_large);
    CHECK(r.codec == codec_status::too_large);
    CHECK(r.messages.size() == 1);
}

// ---- building -------------------------------------------------------------------------------

TEST_CASE("legacy_message_set_builder: every magic and codec reads back what was written") {
    const std::string big(20'000, 'm');
    std::vector<legacy_message_input> in = {
        {.offset = 500, .timestamp = 1000, .key = view_of("a"), .value = view_of(big)},
        {.offset = 501, .timestamp = 900, .key = std::nullopt, .value = std::nullopt},
        {.offset = 505, .timestamp = 1100, .key = bytes_view{}, .value = view_of("z")},  // a gap
    };
    for (int8_t magic : {int8_t{0}, int8_t{1}}) {
        for (auto c : {compression::none, compression::gzip, compression::snappy, compression::lz4}) {
            INFO("magic " << int{magic} << " codec " << static_cast<int>(c));
            auto set = build_set(magic, c, in);
            std::optional<legacy_message_reader> keep;
            auto r = read_all(set, keep);
            REQUIRE(r.status == decode_status::ok);
            REQUIRE(r.messages.size() == 3);
            for (size_t i = 0; i < 3; ++i) {
                CHECK(r.messages[i].offset == in[i].offset);
                CHECK(r.messages[i].magic == magic);
                CHECK(r.messages[i].wrapper_codec == c);
                CHECK(r.messages[i].timestamp == (magic == 1 ? in[i].timestamp : -1));
            }
            CHECK(r.messages[0].value->size() == big.size());
            CHECK_FALSE(r.messages[1].key.has_value());
            CHECK_FALSE(r.messages[1].value.has_value());
            CHECK(r.messages[2].key->empty());
            if (c != compression::none) {
                CHECK(set.size() < big.size() / 10);
                // One wrapper whose offset is the last inner offset.
                CHECK(batch::load_be64(set.data()) == 505);
                CHECK(set.size() == 12 + batch::load_be32(set.data() + 8));
            }
        }
    }
}

TEST_CASE("legacy_message_set_builder: magic 1 wrappers hold relative inner offsets and the max timestamp") {
    auto set = build_set(1, compression::gzip,
                         {{.offset = 70, .timestamp = 3, .key = {}, .value = view_of("a")},
                          {.offset = 72, .timestamp = 9, .key = {}, .value = view_of("b")},
                          {.offset = 73, .timestamp = 4, .key = {}, .value = view_of("c")}});
    CHECK(batch::load_be64(set.data()) == 73);
    CHECK(batch::load_be64(set.data() + 18) == 9);  // wrapper timestamp
    size_t at = wrapper_value_at(1);
    std::vector<uint8_t> inner;
    REQUIRE(decompress(compression::gzip, bytes_view(set).subspan(at), 1 << 20, inner) == codec_status::ok);
    std::vector<int64_t> offsets;
    for (size_t p = 0; p < inner.size(); p += 12 + batch::load_be32(inner.data() + p + 8))
        offsets.push_back(static_cast<int64_t>(batch::load_be64(inner.data() + p)));
    CHECK(offsets == std::vector<int64_t>{0, 2, 3});
}

TEST_CASE("legacy_message_set_builder: magic 0 LZ4 gets the old header checksum its readers expect") {
    auto set = build_set(0, compression::lz4, {{.offset = 0, .timestamp = -1, .key = {}, .value = view_of("hello")}});
    size_t at = wrapper_value_at(0);
    auto value = bytes_view(set).subspan(at);
    std::vector<uint8_t> out;
    CHECK(decompress(compression::lz4, value, 1 << 20, out) == codec_status::corrupt);
    decompress_options ignore;
    ignore.lz4_ignore_header_checksum = true;
    CHECK(decompress(compression::lz4, value, 1 << 20, out, ignore) == codec_status::ok);
}

TEST_CASE("legacy_message_set_builder: zstd, other magics and empty sets") {
    legacy_message_set_builder zstd(1, compression::zstd);
    zstd.append({.offset = 0, .timestamp = 0, .key = {}, .value = view_of("a")});
    CHECK(zstd.build().status == codec_status::unsupported_codec);
    legacy_message_set_builder magic2(2, compression::none);
    magic2.append({.offset = 0, .timestamp = 0, .key = {}, .value = view_of("a")});
    CHECK(magic2.build().status == codec_status::unsupported_codec);
    legacy_message_set_builder empty(1, compression::gzip);
    auto out = empty.build();
    CHECK(out.status == codec_status::ok);
    CHECK(out.bytes.empty());
}

// ---- conversions ----------------------------------------------------------------------------

TEST_CASE("legacy_to_v2: librdkafka's legacy produce data becomes one v2 batch with the producer's codec") {
    struct capture {
        bytes_view bytes;
        int8_t magic;
        compression codec;
    };
    const capture captures[] = {
        {rk::magic0_none, 0, compression::none},     {rk::magic0_gzip, 0, compression::gzip},
        {rk::magic0_snappy, 0, compression::snappy}, {rk::magic0_lz4, 0, compression::lz4},
        {rk::magic1_none, 1, compression::none},     {rk::magic1_gzip, 1, compression::gzip},
        {rk::magic1_snappy, 1, compression::snappy}, {rk::magic1_lz4, 1, compression::lz4},
    };
    for (const auto& c : captures) {
        INFO("magic " << int{c.magic} << " codec " << static_cast<int>(c.codec));
        auto conv = legacy_to_v2(c.bytes, std::nullopt);
        REQUIRE(conv.ok());
        CHECK(conv.records == 3);
        record_reader r(conv.bytes);
        REQUIRE(r.ok());
        CHECK(r.header()->codec() == c.codec);
        CHECK(r.header()->base_offset() == 0);
        CHECK(r.header()->last_offset_delta() == 2);
        CHECK(r.header()->producer_id() == -1);
        CHECK(r.header()->producer_epoch() == -1);
        CHECK(r.header()->base_sequence() == -1);
        std::vector<legacy_message> as_legacy;
        record rec;
        while (r.next(rec)) {
            legacy_message m;
            m.key = rec.key;
            m.value = rec.value;
            as_legacy.push_back(m);
            CHECK(rec.headers.empty());
            if (c.magic == 0) CHECK(rec.timestamp == -1);
            if (c.magic == 1) CHECK(rec.timestamp > 1'500'000'000'000);
        }
        CHECK(r.ok());
        check_captured(as_legacy);
    }
}

TEST_CASE("legacy_to_v2: a chosen codec replaces the producer's, and bad input is reported") {
    auto conv = legacy_to_v2(rk::magic1_gzip, compression::zstd);
    REQUIRE(conv.ok());
    record_reader r(conv.bytes);
    REQUIRE(r.ok());
    CHECK(r.header()->codec() == compression::zstd);

    auto bad = legacy_to_v2(flipped(copy_of(rk::magic1_none), 37), std::nullopt);
    CHECK(bad.status == decode_status::corrupt);
    CHECK(bad.bytes.empty());

    auto empty = legacy_to_v2({}, std::nullopt);
    CHECK(empty.ok());
    CHECK(empty.bytes.empty());
}

TEST_CASE("v2_to_legacy: librdkafka's batches become message sets old consumers read") {
    for (int8_t magic : {int8_t{0}, int8_t{1}}) {
        for (bytes_view in : {bytes_view{rk::v2_none}, bytes_view{rk::v2_gzip}, bytes_view{rk::v2_snappy},
                              bytes_view{rk::v2_lz4}}) {
            auto source = batch::header_view::parse(in);
            REQUIRE(source.has_value());
            INFO("magic " << int{magic} << " codec " << static_cast<int>(source->codec()));
            auto conv = v2_to_legacy(in, magic);
            REQUIRE(conv.ok());
            CHECK(conv.records == 3);
            std::optional<legacy_message_reader> keep;
            auto r = read_all(conv.bytes, keep);
            REQUIRE(r.status == decode_status::ok);
            check_captured(r.messages);
            for (size_t i = 0; i < 3; ++i) {
                CHECK(r.messages[i].magic == magic);
                CHECK(r.messages[i].offset == static_cast<int64_t>(i));
                CHECK(r.messages[i].wrapper_codec == source->codec());
                CHECK(r.messages[i].timestamp == (magic == 1 ? source->base_timestamp() : -1));
            }
        }
    }
}

TEST_CASE("v2_to_legacy: offsets with gaps and LogAppendTime survive, control batches are dropped") {
    batch_options o;
    o.base_offset = 1000;
    o.codec = compression::snappy;
    o.log_append_time = true;
    record_batch_builder b(o);
    b.append({.key = {}, .value = view_of("a"), .headers = {}, .timestamp = 1});
    REQUIRE(b.append(4, {.key = {}, .value = view_of("b"), .headers = {}, .timestamp = 2}));
    auto data = b.build().bytes;
    batch::set_max_timestamp_and_recrc(data, 5555, true);
    batch_options marker_options;
    marker_options.base_offset = 1005;
    auto marker = build_control_batch(marker_options, {.type = control_type::commit, .coordinator_epoch = 1}, 9);
    data.insert(data.end(), marker.bytes.begin(), marker.bytes.end());

    auto conv = v2_to_legacy(data, 1);
    REQUIRE(conv.ok());
    CHECK(conv.records == 2);
    std::optional<legacy_message_reader> keep;
    auto r = read_all(conv.bytes, keep);
    REQUIRE(r.status == decode_status::ok);
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[0].offset == 1000);
    CHECK(r.messages[1].offset == 1004);
    for (const auto& m : r.messages) {
        CHECK(m.timestamp == 5555);
        CHECK(m.log_append_time);
    }
}

TEST_CASE("v2_to_legacy: zstd batches and corrupt batches are refused") {
    auto zstd = v2_to_legacy(rk::v2_zstd, 1);
    CHECK(zstd.codec == codec_status::unsupported_codec);
    CHECK(zstd.bytes.empty());

    auto two = copy_of(rk::v2_none);
    two.insert(two.end(), std::begin(rk::v2_gzip), std::end(rk::v2_gzip));
    auto ok = v2_to_legacy(two, 1);
    REQUIRE(ok.ok());
    CHECK(ok.records == 6);

    auto bad_crc = v2_to_legacy(flipped(two, two.size() - 2), 1);
    CHECK(bad_crc.status == decode_status::corrupt);
    CHECK(bad_crc.bytes.empty());
    auto cut = v2_to_legacy(truncated(two, two.size() - 1), 1);
    CHECK(cut.status == decode_status::truncated);
}
