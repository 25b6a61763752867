// protocol/compression: every codec round-trips, writes the framing Kafka clients write, reads
// what they send, and refuses corrupt input and oversized output with an error value.
#include "protocol/compression.h"

#include "tests/protocol/byte_helpers.h"

#include <doctest/doctest.h>
#include <xxhash.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>

#include <string>

using namespace samsa::protocol;
using namespace samsa::test;

namespace {

constexpr compression all_codecs[] = {compression::gzip, compression::snappy, compression::lz4, compression::zstd};

std::string name_of(compression c) {
    switch (c) {
    case compression::none: return "none";
    case compression::gzip: return "gzip";
    case compression::snappy: return "snappy";
    case compression::lz4: return "lz4";
    case compression::zstd: return "zstd";
    }
    return "?";
}

// Text that compresses, long enough to span several snappy (32 KiB) and lz4 (64 KiB) blocks,
// with a pseudo-random part so that blocks differ.
std::vector<uint8_t> sample(size_t n) {
    std::vector<uint8_t> b(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; ++i) {
        x = x * 1103515245u + 12345u;
        b[i] = (i % 64 < 48) ? static_cast<uint8_t>('a' + i % 26) : static_cast<uint8_t>(x >> 24);
    }
    return b;
}

std::vector<uint8_t> compressed(compression c, bytes_view in, compress_options o = {}) {
    std::vector<uint8_t> out;
    REQUIRE(compress(c, in, out, o) == codec_status::ok);
    return out;
}

codec_status try_decompress(compression c, bytes_view in, size_t limit = 1 << 20, decompress_options o = {}) {
    std::vector<uint8_t> out;
    return decompress(c, in, limit, out, o);
}

} // namespace

TEST_CASE("compression: every codec round-trips empty, tiny and multi-block inputs") {
    for (auto c : all_codecs) {
        for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{200'000}}) {
            INFO(name_of(c) << " n=" << n);
            auto in = sample(n);
            auto z = compressed(c, in);
            std::vector<uint8_t> out;
            REQUIRE(decompress(c, z, n, out) == codec_status::ok);
            CHECK(out == in);
        }
    }
}

TEST_CASE("compression: output is appended after what the vector already holds") {
    for (auto c : all_codecs) {
        INFO(name_of(c));
        auto in = sample(5000);
        std::vector<uint8_t> z = bytes_of("prefix");
        REQUIRE(compress(c, in, z) == codec_status::ok);
        CHECK(text_of(bytes_view(z).first(6)) == "prefix");
        std::vector<uint8_t> out = bytes_of("xy");
        REQUIRE(decompress(c, bytes_view(z).subspan(6), in.size(), out) == codec_status::ok);
        REQUIRE(out.size() == in.size() + 2);
        CHECK(std::equal(in.begin(), in.end(), out.begin() + 2));
    }
}

TEST_CASE("compression: none and codec numbers 5 to 7 are not codecs") {
    std::vector<uint8_t> out;
    CHECK(compress(compression::none, view_of("x"), out) == codec_status::unsupported_codec);
    CHECK(decompress(compression::none, view_of("x"), 10, out) == codec_status::unsupported_codec);
    CHECK(out.empty());
    for (uint16_t a = 0; a <= 4; ++a) CHECK(codec_from_attributes(a) == static_cast<compression>(a));
    for (uint16_t a = 5; a <= 7; ++a) CHECK_FALSE(codec_from_attributes(a).has_value());
    CHECK(codec_from_attributes(0x3A) == compression::snappy);  // other attribute bits ignored
}

// ---- gzip -----------------------------------------------------------------------------------

TEST_CASE("compression: gzip writes a gzip member, as GZIPOutputStream does") {
    auto z = compressed(compression::gzip, view_of("hello"));
    REQUIRE(z.size() > 18);
    CHECK(z[0] == 0x1f);
    CHECK(z[1] == 0x8b);
    CHECK(z[2] == 8);  // deflate
}

TEST_CASE("compression: gzip reads concatenated members") {
    auto z = compressed(compression::gzip, view_of("hello, "));
    auto second = compressed(compression::gzip, view_of("world"));
    z.insert(z.end(), second.begin(), second.end());
    std::vector<uint8_t> out;
    REQUIRE(decompress(compression::gzip, z, 100, out) == codec_status::ok);
    CHECK(text_of(out) == "hello, world");
}

TEST_CASE("compression: gzip refuses a flipped byte, a truncated stream, garbage after it and a zlib stream") {
    auto in = sample(10'000);
    auto z = compressed(compression::gzip, in);
    CHECK(try_decompress(compression::gzip, flipped(z, z.size() / 2)) == codec_status::corrupt);
    CHECK(try_decompress(compression::gzip, flipped(z, z.size() - 3)) == codec_status::corrupt);  // ISIZE
    CHECK(try_decompress(compression::gzip, truncated(z, z.size() - 1)) == codec_status::corrupt);
    CHECK(try_decompress(compression::gzip, truncated(z, 5)) == codec_status::corrupt);
    auto trailing = z;
    trailing.push_back(0);
    CHECK(try_decompress(compression::gzip, trailing) == codec_status::corrupt);
    CHECK(try_decompress(compression::gzip, {}) == codec_status::corrupt);

    std::vector<uint8_t> zlib_stream(compressBound(5));
    uLongf n = zlib_stream.size();
    REQUIRE(::compress(zlib_stream.data(), &n, reinterpret_cast<const Bytef*>("hello"), 5) == Z_OK);
    zlib_stream.resize(n);
    CHECK(try_decompress(compression::gzip, zlib_stream) == codec_status::corrupt);
}

// ---- snappy ---------------------------------------------------------------------------------

TEST_CASE("compression: snappy writes snappy-java's xerial framing in 32 KiB blocks") {
    auto in = sample(70'000);  // three blocks: 32768 + 32768 + 4464
    auto z = compressed(compression::snappy, in);
    REQUIRE(z.size() > xerial::header_size);
    CHECK(std::equal(std::begin(xerial::magic), std::end(xerial::magic), z.begin()));
    CHECK(batch::load_be32(z.data() + 8) == 1);   // version
    CHECK(batch::load_be32(z.data() + 12) == 1);  // minimum compatible version
    size_t at = xerial::header_size;
    std::vector<size_t> block_sizes;
    while (at < z.size()) {
        uint32_t len = batch::load_be32(z.data() + at);
        size_t raw = 0;
        REQUIRE(snappy::GetUncompressedLength(reinterpret_cast<const char*>(z.data() + at + 4), len, &raw));
        block_sizes.push_back(raw);
        at += 4 + len;
    }
    CHECK(at == z.size());
    CHECK(block_sizes == std::vector<size_t>{32768, 32768, 4464});
}

TEST_CASE("compression: snappy reads one raw block, as librdkafka sends it") {
    auto in = sample(50'000);
    std::string raw;
    snappy::Compress(reinterpret_cast<const char*>(in.data()), in.size(), &raw);
    std::vector<uint8_t> out;
    REQUIRE(decompress(compression::snappy, view_of(raw), in.size(), out) == codec_status::ok);
    CHECK(out == in);
}

TEST_CASE("compression: snappy refuses broken raw blocks and broken xerial framing") {
    std::string raw;
    snappy::Compress("hello hello hello hello", 23, &raw);
    auto r = bytes_of(raw);
    CHECK(try_decompress(compression::snappy, truncated(r, r.size() - 1)) == codec_status::corrupt);
    CHECK(try_decompress(compression::snappy, {}) == codec_status::corrupt);
    auto longer = r;
    longer[0] = static_cast<uint8_t>(longer[0] + 5);  // claims more bytes than the block makes
    CHECK(try_decompress(compression::snappy, longer) == codec_status::corrupt);

    auto z = compressed(compression::snappy, sample(1000));
    CHECK(try_decompress(compression::snappy, truncated(z, z.size() - 1)) == codec_status::corrupt);
    CHECK(try_decompress(compression::snappy, truncated(z, xerial::header_size + 2)) == codec_status::corrupt);
    auto past_end = z;
    put_be32(past_end, xerial::header_size, static_cast<uint32_t>(z.size()));  // block length past the end
    CHECK(try_decompress(compression::snappy, past_end) == codec_status::corrupt);
    auto negative = z;
    put_be32(negative, xerial::header_size, 0x80000000u);
    CHECK(try_decompress(compression::snappy, negative) == codec_status::corrupt);
    auto version0 = z;
    put_be32(version0, 8, 0);  // older than snappy-java's minimum compatible version
    CHECK(try_decompress(compression::snappy, version0) == codec_status::corrupt);

    // A header with no blocks is an empty stream, as snappy-java reads it.
    std::vector<uint8_t> out;
    CHECK(decompress(compression::snappy, truncated(z, xerial::header_size), 10, out) == codec_status::ok);
    CHECK(out.empty());
}

// ---- lz4 ------------------------------------------------------------------------------------

TEST_CASE("compression: lz4 writes the frame header KafkaLZ4BlockOutputStream writes") {
    auto z = compressed(compression::lz4, sample(1000));
    REQUIRE(z.size() > 7);
    CHECK(z[0] == 0x04);
    CHECK(z[1] == 0x22);
    CHECK(z[2] == 0x4d);
    CHECK(z[3] == 0x18);
    CHECK(z[4] == 0x60);  // version 01, independent blocks, no checksums, no content size
    CHECK(z[5] == 0x40);  // 64 KiB blocks
    // The header checksum (made by liblz4) is the second byte of XXH32 over FLG and BD.
    CHECK(z[6] == static_cast<uint8_t>(XXH32(z.data() + 4, 2, 0) >> 8));
}

TEST_CASE("compression: lz4 magic 0 checksum covers the magic too, and only magic 0 readers accept it") {
    auto in = sample(3000);
    compress_options legacy;
    legacy.lz4_legacy_header_checksum = true;
    auto z = compressed(compression::lz4, in, legacy);
    CHECK(z[6] == static_cast<uint8_t>(XXH32(z.data(), 6, 0) >> 8));
    CHECK(try_decompress(compression::lz4, z) == codec_status::corrupt);

    decompress_options ignore;
    ignore.lz4_ignore_header_checksum = true;
    std::vector<uint8_t> out;
    REQUIRE(decompress(compression::lz4, z, in.size(), out, ignore) == codec_status::ok);
    CHECK(out == in);
    // The caller's bytes are not repaired in place.
    CHECK(z[6] == static_cast<uint8_t>(XXH32(z.data(), 6, 0) >> 8));
    // A correct checksum is fine for a magic 0 reader too.
    CHECK(try_decompress(compression::lz4, compressed(compression::lz4, in), 1 << 20, ignore) == codec_status::ok);
}

TEST_CASE("compression: lz4 reads frames with a content size and block checksums") {
    auto in = sample(100'000);
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentSize = in.size();
    prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    std::vector<uint8_t> z(LZ4F_compressFrameBound(in.size(), &prefs));
    size_t n = LZ4F_compressFrame(z.data(), z.size(), in.data(), in.size(), &prefs);
    REQUIRE_FALSE(LZ4F_isError(n));
    z.resize(n);
    std::vector<uint8_t> out;
    REQUIRE(decompress(compression::lz4, z, in.size(), out) == codec_status::ok);
    CHECK(out == in);
    // A damaged content checksum is caught.
    CHECK(try_decompress(compression::lz4, flipped(z, z.size() - 1)) == codec_status::corrupt);
    // Repairing the checksum for a magic 0 reader takes the 8-byte content size into account.
    decompress_options ignore;
    ignore.lz4_ignore_header_checksum = true;
    CHECK(try_decompress(compression::lz4, flipped(z, 14), 1 << 20, ignore) == codec_status::ok);
    CHECK(try_decompress(compression::lz4, flipped(z, 14)) == codec_status::corrupt);
}

TEST_CASE("compression: lz4 refuses what Kafka's reader refuses") {
    auto z = compressed(compression::lz4, sample(3000));
    auto with_flg = [&](uint8_t flg) {
        auto b = z;
        b[4] = flg;
        b[6] = static_cast<uint8_t>(XXH32(b.data() + 4, 2, 0) >> 8);
        return b;
    };
    CHECK(try_decompress(compression::lz4, with_flg(0x40)) == codec_status::corrupt);  // dependent blocks
    CHECK(try_decompress(compression::lz4, with_flg(0x61)) == codec_status::corrupt);  // dictionary id bit
    CHECK(try_decompress(compression::lz4, with_flg(0xA0)) == codec_status::corrupt);  // version 10
    CHECK(try_decompress(compression::lz4, flipped(z, 0)) == codec_status::corrupt);   // magic
    CHECK(try_decompress(compression::lz4, flipped(z, 6)) == codec_status::corrupt);   // header checksum
    CHECK(try_decompress(compression::lz4, truncated(z, z.size() - 1)) == codec_status::corrupt);  // end mark
    CHECK(try_decompress(compression::lz4, truncated(z, 6)) == codec_status::corrupt);
    CHECK(try_decompress(compression::lz4, {}) == codec_status::corrupt);
    auto oversized_block = z;
    put_be32(oversized_block, 7, 0x01000100u);  // little-endian 0x00010001: one byte over 64 KiB
    CHECK(try_decompress(compression::lz4, oversized_block) == codec_status::corrupt);
    auto trailing = z;
    trailing.push_back(0);
    CHECK(try_decompress(compression::lz4, trailing) == codec_status::corrupt);
}

// ---- zstd -----------------------------------------------------------------------------------

TEST_CASE("compression: zstd reads concatenated frames and refuses broken ones") {
    auto a = compressed(compression::zstd, view_of("hello, "));
    auto b = compressed(compression::zstd, view_of("world"));
    CHECK(batch::load_be32(a.data()) == 0x28B52FFDu);  // frame magic 0xFD2FB528, little-endian
    auto both = a;
    both.insert(both.end(), b.begin(), b.end());
    std::vector<uint8_t> out;
    REQUIRE(decompress(compression::zstd, both, 100, out) == codec_status::ok);
    CHECK(text_of(out) == "hello, world");

    auto z = compressed(compression::zstd, sample(10'000));
    CHECK(try_decompress(compression::zstd, flipped(z, 0)) == codec_status::corrupt);
    CHECK(try_decompress(compression::zstd, truncated(z, z.size() - 1)) == codec_status::corrupt);
    CHECK(try_decompress(compression::zstd, truncated(z, 3)) == codec_status::corrupt);
    CHECK(try_decompress(compression::zstd, {}) == codec_status::corrupt);
    auto trailing = z;
    trailing.push_back(0);
    CHECK(try_decompress(compression::zstd, trailing) == codec_status::corrupt);
}

// ---- every codec ----------------------------------------------------------------------------

TEST_CASE("compression: garbage is refused by every codec") {
    std::vector<uint8_t> garbage(300);
    for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 37 + 11);
    for (auto c : all_codecs) {
        INFO(name_of(c));
        std::vector<uint8_t> out = bytes_of("keep");
        CHECK(decompress(c, garbage, 1 << 20, out) == codec_status::corrupt);
        CHECK(text_of(out) == "keep");  // unchanged on failure
    }
}

TEST_CASE("compression: output past the limit is refused by every codec, exactly at the limit it is not") {
    std::vector<uint8_t> zeros(100'000, 0);
    for (auto c : all_codecs) {
        INFO(name_of(c));
        auto z = compressed(c, zeros);
        std::vector<uint8_t> out = bytes_of("keep");
        CHECK(decompress(c, z, zeros.size() - 1, out) == codec_status::too_large);
        CHECK(text_of(out) == "keep");
        CHECK(decompress(c, z, zeros.size(), out) == codec_status::ok);
        CHECK(out.size() == 4 + zeros.size());
        CHECK(decompress(c, z, 0, out) == codec_status::too_large);
    }
}

TEST_CASE("compression: a decompression bomb stops at the limit without allocating what it claims") {
    std::vector<uint8_t> zeros(16 << 20, 0);  // 16 MiB of zeros: a few KiB compressed
    size_t limit = 1 << 20;
    for (auto c : all_codecs) {
        INFO(name_of(c));
        auto z = compressed(c, zeros);
        CHECK(z.size() < zeros.size() / 20);  // snappy's best ratio is about 1:21
        std::vector<uint8_t> out;
        CHECK(decompress(c, z, limit, out) == codec_status::too_large);
        CHECK(out.empty());
        CHECK(out.capacity() <= 2 * limit + 2);
    }
    // A raw snappy block that claims 4 GiB is refused from its length alone.
    std::vector<uint8_t> claim = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    CHECK(try_decompress(compression::snappy, claim, limit) == codec_status::too_large);
}
