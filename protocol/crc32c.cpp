#include "protocol/crc32c.h"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#include <wmmintrin.h>
#endif

namespace samsa::protocol {
namespace {

constexpr uint32_t poly = 0x82f63b78;  // reflected Castagnoli polynomial

constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
    std::array<std::array<uint32_t, 256>, 8> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
        for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    return t;
}
constexpr auto tables = make_tables();

uint32_t extend_table(uint32_t crc, const uint8_t* p, size_t n) noexcept {
    crc = ~crc;
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        w ^= crc;
        crc = tables[7][w & 0xff] ^ tables[6][(w >> 8) & 0xff] ^ tables[5][(w >> 16) & 0xff] ^
              tables[4][(w >> 24) & 0xff] ^ tables[3][(w >> 32) & 0xff] ^ tables[2][(w >> 40) & 0xff] ^
              tables[1][(w >> 48) & 0xff] ^ tables[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ tables[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

// ---- three interleaved streams -------------------------------------------------------------
//
// The crc32 instruction takes 3 cycles but a new one can start every cycle, so one dependent
// chain uses a third of the unit. A block of 3L bytes is therefore checksummed as three
// independent L-byte streams (the first continues the running CRC, the others start from 0),
// and joined by linearity: crc(A|B|C) = crc(A)·x^(16L) + crc(B)·x^(8L) + crc(C), mod P.
// Multiplying a 32-bit CRC by x^k mod P is a carry-less multiply by the constant x^(k-33)
// mod P: the 64-bit product, fed as data through one more crc32 instruction, picks up the
// missing x^33 (x from the reflected product, x^32 from the instruction) and is reduced.
// Rather than reducing separately, the two products are XORed into the last 8 bytes of the
// third stream, whose own crc32 instruction does the reduction for all three.
//
// Polynomials are held reflected: bit i of a 32-bit value is the coefficient of x^(31-i).

// Longest stream; the join costs about as much as 5 data words, so long streams amortise it.
constexpr size_t max_stream_words = 1024;
// Below this a block is not worth splitting: three streams of 3 words save less than the join.
constexpr size_t min_stream_words = 4;

constexpr uint32_t times_x(uint32_t a) { return (a >> 1) ^ ((a & 1) ? poly : 0); }

// shift_constants[w] = x^(64w - 33) mod P: multiplies a CRC by x^(8L) for a stream of L = 8w
// bytes (index w) or x^(16L) (index 2w), with the x^33 the instruction adds taken out.
constexpr std::array<uint32_t, 2 * max_stream_words + 1> make_shift_constants() {
    std::array<uint32_t, 2 * max_stream_words + 1> t{};
    uint32_t v = 0x80000000;  // x^0
    for (int k = 0; k < 31; ++k) v = times_x(v);
    t[1] = v;
    for (size_t w = 2; w < t.size(); ++w) {
        for (int k = 0; k < 64; ++k) v = times_x(v);
        t[w] = v;
    }
    return t;
}
constexpr auto shift_constants = make_shift_constants();

#if defined(__x86_64__)
inline uint64_t load64(const uint8_t* p) noexcept {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

__attribute__((target("sse4.2"))) uint32_t extend_instruction(uint32_t crc, const uint8_t* p, size_t n) noexcept {
    uint64_t c = ~crc;
    while (n >= 8) {
        c = _mm_crc32_u64(c, load64(p));
        p += 8;
        n -= 8;
    }
    auto c32 = static_cast<uint32_t>(c);
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}

__attribute__((target("sse4.2,pclmul"))) inline uint64_t clmul(uint64_t a, uint32_t b) noexcept {
    const __m128i product = _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<int64_t>(a)),
                                                 _mm_cvtsi32_si128(static_cast<int>(b)), 0);
    return static_cast<uint64_t>(_mm_cvtsi128_si64(product));
}

__attribute__((target("sse4.2,pclmul"))) uint32_t extend_three_way(uint32_t crc, const uint8_t* p,
                                                                     size_t n) noexcept {
    uint32_t c32 = ~crc;
    // Word loads that do not cross cache lines are cheaper; lead-in bytes one at a time.
    while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
        c32 = _mm_crc32_u8(c32, *p++);
        --n;
    }
    uint64_t c0 = c32;
    for (;;) {
        const size_t words = std::min(n / 24, max_stream_words);
        if (words < min_stream_words) break;
        const uint8_t* p1 = p + 8 * words;
        const uint8_t* p2 = p1 + 8 * words;
        uint64_t c1 = 0;
        uint64_t c2 = 0;
        for (size_t i = 0; i + 1 < words; ++i) {
            c0 = _mm_crc32_u64(c0, load64(p + 8 * i));
            c1 = _mm_crc32_u64(c1, load64(p1 + 8 * i));
            c2 = _mm_crc32_u64(c2, load64(p2 + 8 * i));
        }
        const size_t last = 8 * (words - 1);
        c0 = _mm_crc32_u64(c0, load64(p + last));
        c1 = _mm_crc32_u64(c1, load64(p1 + last));
        const uint64_t shifted = clmul(c0, shift_constants[2 * words]) ^ clmul(c1, shift_constants[words]);
        c0 = _mm_crc32_u64(c2, load64(p2 + last) ^ shifted);
        p += 24 * words;
        n -= 24 * words;
    }
    while (n >= 8) {
        c0 = _mm_crc32_u64(c0, load64(p));
        p += 8;
        n -= 8;
    }
    c32 = static_cast<uint32_t>(c0);
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}

crc32c_engine detect_engine() noexcept {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("sse4.2")) return crc32c_engine::table;
    if (!__builtin_cpu_supports("pclmul")) return crc32c_engine::crc32_instruction;
    return crc32c_engine::three_way_interleaved;
}
#else
uint32_t extend_instruction(uint32_t crc, const uint8_t* p, size_t n) noexcept { return extend_table(crc, p, n); }
uint32_t extend_three_way(uint32_t crc, const uint8_t* p, size_t n) noexcept { return extend_table(crc, p, n); }
crc32c_engine detect_engine() noexcept { return crc32c_engine::table; }
#endif

const crc32c_engine active_engine = detect_engine();

} // namespace

uint32_t crc32c_extend_with(crc32c_engine engine, uint32_t crc, std::span<const uint8_t> data) noexcept {
    if (!crc32c_engine_supported(engine)) engine = crc32c_engine::table;
    switch (engine) {
    case crc32c_engine::three_way_interleaved: return extend_three_way(crc, data.data(), data.size());
    case crc32c_engine::crc32_instruction: return extend_instruction(crc, data.data(), data.size());
    case crc32c_engine::table: break;
    }
    return extend_table(crc, data.data(), data.size());
}

uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data) noexcept {
    return crc32c_extend_with(active_engine, crc, data);
}

bool crc32c_is_hardware() noexcept { return active_engine != crc32c_engine::table; }

crc32c_engine crc32c_active_engine() noexcept { return active_engine; }

bool crc32c_engine_supported(crc32c_engine engine) noexcept {
    // The engines form a ladder: a CPU with the faster one has the instructions of the slower.
    return static_cast<int>(engine) <= static_cast<int>(active_engine);
}

const char* crc32c_engine_name(crc32c_engine engine) noexcept {
    switch (engine) {
    case crc32c_engine::table: return "slicing-by-8 table";
    case crc32c_engine::crc32_instruction: return "crc32 instruction, one stream";
    case crc32c_engine::three_way_interleaved: return "crc32 instruction, three streams + pclmul";
    }
    return "unknown";
}

} // namespace samsa::protocol
