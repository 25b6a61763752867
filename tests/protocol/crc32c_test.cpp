// protocol/crc32c: every engine the CPU supports gives the published check values and agrees
// with a bit-at-a-time reference over random lengths, alignments and split points. The lengths
// cross the places where the interleaved engine changes how it splits its input (the 8-byte
// lead-in, the smallest three-way block, the longest stream and the word tail) and where the
// folding engine does (its 256-byte minimum and stride, its 64- and 16-byte tails).
#include "protocol/crc32c.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace samsa::protocol;

namespace {

constexpr crc32c_engine all_engines[] = {crc32c_engine::table, crc32c_engine::crc32_instruction,
                                         crc32c_engine::three_way_interleaved, crc32c_engine::vpclmul_avx512};

// The definition, one bit at a time: slow, and sharing no code or table with the engines.
uint32_t reference_crc(uint32_t crc, const uint8_t* p, size_t n) {
    crc = ~crc;
    for (size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    return ~crc;
}

std::span<const uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> out(n);
    for (auto& b : out) b = static_cast<uint8_t>(rng());
    return out;
}

} // namespace

TEST_CASE("crc32c: the table engine is always available and the active engine is supported") {
    CHECK(crc32c_engine_supported(crc32c_engine::table));
    CHECK(crc32c_engine_supported(crc32c_active_engine()));
    MESSAGE("active engine: " << std::string(crc32c_engine_name(crc32c_active_engine())));
}

TEST_CASE("crc32c: every supported engine gives the published check values") {
    // "123456789" is the standard check string; the 32-byte vectors are RFC 3720's (iSCSI).
    std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xff), up(32), down(32);
    for (size_t i = 0; i < 32; ++i) {
        up[i] = static_cast<uint8_t>(i);
        down[i] = static_cast<uint8_t>(31 - i);
    }
    for (auto engine : all_engines) {
        if (!crc32c_engine_supported(engine)) {
            MESSAGE("skipped, not supported by this CPU: " << crc32c_engine_name(engine));
            continue;
        }
        CAPTURE(crc32c_engine_name(engine));
        CHECK(crc32c_extend_with(engine, 0, {}) == 0u);
        CHECK(crc32c_extend_with(engine, 0, bytes_of("123456789")) == 0xe3069283u);
        CHECK(crc32c_extend_with(engine, 0, zeros) == 0x8a9136aau);
        CHECK(crc32c_extend_with(engine, 0, ones) == 0x62a8ab43u);
        CHECK(crc32c_extend_with(engine, 0, up) == 0x46dd794eu);
        CHECK(crc32c_extend_with(engine, 0, down) == 0x113fdb5cu);
    }
    CHECK(reference_crc(0, bytes_of("123456789").data(), 9) == 0xe3069283u);
}

TEST_CASE("crc32c: every supported engine matches the reference over random lengths and alignments") {
    const auto data = random_bytes(200'000, 7);
    std::mt19937 rng(11);
    std::vector<size_t> lengths = {0, 1, 7, 8, 9, 23, 24, 71, 95, 96, 97, 103, 255, 256, 257, 383, 384, 385, 1024, 24 * 1024 - 1,
                                   24 * 1024, 24 * 1024 + 1, 24 * 1024 + 96, 3 * 24 * 1024 + 95, 150'000};
    for (int i = 0; i < 300; ++i) lengths.push_back(rng() % (i < 200 ? 2'000 : 60'000));
    for (auto engine : all_engines) {
        if (!crc32c_engine_supported(engine)) continue;
        CAPTURE(crc32c_engine_name(engine));
        for (size_t len : lengths) {
            const size_t start = rng() % 16;
            const uint32_t seed = rng();
            CAPTURE(len);
            CAPTURE(start);
            const std::span<const uint8_t> slice(data.data() + start, len);
            REQUIRE(crc32c_extend_with(engine, seed, slice) == reference_crc(seed, slice.data(), len));
        }
    }
}

TEST_CASE("crc32c: every supported engine matches the reference at every length around the folding thresholds") {
    // Each length from 0 to 1,300 covers the minimum (256 bytes after a lead-in of up to 63 to a
    // 64-byte boundary), one to four 256-byte rounds, every count of 64- and 16-byte tail blocks
    // and every last partial word; then lengths near multiples of the 256-byte stride further out.
    const auto data = random_bytes(20'000, 17);
    std::vector<size_t> lengths;
    for (size_t len = 0; len <= 1'300; ++len) lengths.push_back(len);
    for (size_t rounds : {8, 9, 31, 32, 33, 64}) {
        for (size_t tail : {0, 1, 15, 16, 17, 63, 64, 65, 255}) {
            lengths.push_back(256 * rounds + tail);
            lengths.push_back(256 * rounds - 1 - tail % 200);
        }
    }
    std::mt19937 rng(19);
    for (auto engine : all_engines) {
        if (!crc32c_engine_supported(engine)) continue;
        CAPTURE(crc32c_engine_name(engine));
        for (size_t len : lengths) {
            const size_t start = rng() % 64;  // every offset within a cache line
            const uint32_t seed = rng();
            CAPTURE(len);
            CAPTURE(start);
            const std::span<const uint8_t> slice(data.data() + start, len);
            REQUIRE(crc32c_extend_with(engine, seed, slice) == reference_crc(seed, slice.data(), len));
        }
    }
}

TEST_CASE("crc32c: pieces cut at the folding thresholds extend to the checksum of the whole") {
    // Every piece after the first starts from the running (nonzero) checksum of the ones before.
    const auto data = random_bytes(40'000, 23);
    constexpr size_t cuts[] = {255, 256, 257, 271, 272, 319, 320, 336, 511, 512, 513, 1'000, 4'097, 1, 16, 64};
    for (auto engine : all_engines) {
        if (!crc32c_engine_supported(engine)) continue;
        CAPTURE(crc32c_engine_name(engine));
        for (size_t first = 0; first < std::size(cuts); ++first) {
            uint32_t crc = 0;
            size_t at = 0;
            for (size_t i = first; at < data.size(); ++i) {
                const size_t n = std::min(data.size() - at, cuts[i % std::size(cuts)]);
                crc = crc32c_extend_with(engine, crc, {data.data() + at, n});
                CAPTURE(at);
                REQUIRE(crc == reference_crc(0, data.data(), at + n));
                at += n;
            }
        }
    }
}

TEST_CASE("crc32c: a checksum extended in pieces equals the checksum of the whole") {
    const auto data = random_bytes(100'000, 3);
    const uint32_t whole = reference_crc(0, data.data(), data.size());
    std::mt19937 rng(5);
    for (auto engine : all_engines) {
        if (!crc32c_engine_supported(engine)) continue;
        CAPTURE(crc32c_engine_name(engine));
        for (int round = 0; round < 20; ++round) {
            uint32_t crc = 0;
            size_t at = 0;
            while (at < data.size()) {
                const size_t n = std::min<size_t>(data.size() - at, rng() % 30'000);
                crc = crc32c_extend_with(engine, crc, {data.data() + at, n});
                at += n;
            }
            CHECK(crc == whole);
        }
    }
    CHECK(crc32c(data) == whole);
}

TEST_CASE("crc32c: one flipped bit anywhere in a long buffer changes the checksum") {
    auto data = random_bytes(50'000, 9);
    const uint32_t before = crc32c(data);
    std::mt19937 rng(13);
    for (int i = 0; i < 200; ++i) {
        const size_t at = rng() % data.size();
        const auto bit = static_cast<uint8_t>(1u << (rng() % 8));
        data[at] ^= bit;
        CHECK(crc32c(data) != before);
        CHECK(crc32c(data) == reference_crc(0, data.data(), data.size()));
        data[at] ^= bit;
    }
    CHECK(crc32c(data) == before);
}
