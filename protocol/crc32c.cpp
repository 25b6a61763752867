#include "protocol/crc32c.h"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
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
// ---- folding with 512-bit carry-less multiplies ---------------------------------------------
//
// A message M of n bytes, read as a polynomial (first bit highest), has the CRC state
// crc(M) = M·x^32 mod P when started from 0; a running state c is taken in by XORing it into the
// first 4 bytes, since c·x^(8n) = (c·x^(8n-32))·x^32. So any A ≡ M (mod P) gives the same state,
// and the engine keeps 128-bit values congruent to what it has read so far instead of the CRC.
// A 128-bit value A at some place in the input is moved d bytes further by A·x^(8d) mod P, which
// is then XORed into the 16 bytes found there. Split A = H·x^64 + L into its two 64-bit halves:
// A·x^(8d) = H·x^(8d+64) + L·x^(8d), and each half is one 64x64 carry-less multiply by a
// constant congruent to its power of x, whose product (under 127 bits) fits the 16 bytes.
//
// In the reflected layout bit i of a 64-bit lane is the coefficient of x^(63-i), so the product
// of two lanes comes out one place off: bit k of the 128-bit result holds the coefficient of
// x^(126-k), i.e. the result read as a reflected 128-bit value is a·b·x. A 32-bit reflected
// constant r placed in the low half of a lane stands for r·x^32. The constant for a power x^k is
// therefore r = x^(k-33) mod P: x^32 from the lane position and one x from the multiply.
// H sits in the low lane of a 128-bit value (the first 8 bytes), L in the high one.

constexpr uint32_t x_power_mod(unsigned k) {
    uint32_t v = 0x80000000;  // x^0
    for (unsigned i = 0; i < k; ++i) v = times_x(v);
    return v;
}

// The pair of constants that moves a 128-bit value d bytes forward: low lane for H
// (x^(8d+64) -> r = x^(8d+31)), high lane for L (x^(8d) -> r = x^(8d-33)).
struct fold_constants {
    uint64_t first;   // multiplies the first 8 bytes, H (imm 0x00 picks the low lanes)
    uint64_t second;  // multiplies the last 8 bytes, L (imm 0x11 picks the high lanes)
};
constexpr fold_constants fold_by(unsigned bytes) {
    return {x_power_mod(8 * bytes + 64 - 33), x_power_mod(8 * bytes - 33)};
}

// Four 64-byte accumulators: each 128-bit lane moves 256 bytes per round.
constexpr size_t fold_accumulators = 4;
constexpr size_t fold_stride = 64 * fold_accumulators;
// The least input, after the lead-in to a 64-byte boundary, that is folded: one load of every
// accumulator. Shorter inputs go to the three-way engine.
constexpr size_t fold_min_bytes = fold_stride;

constexpr fold_constants fold_stride_constants = fold_by(fold_stride);
constexpr fold_constants fold_64 = fold_by(64);
constexpr fold_constants fold_128 = fold_by(128);
constexpr fold_constants fold_192 = fold_by(192);
constexpr fold_constants fold_48 = fold_by(48);
constexpr fold_constants fold_32 = fold_by(32);
constexpr fold_constants fold_16 = fold_by(16);

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

// The folding engine's functions are compiled for AVX-512 and run only where detect_engine found it.
#define SAMSA_CRC_FOLD_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,vpclmulqdq,sse4.2,pclmul")))

// A constant pair per 128-bit lane, lane 0 first.
SAMSA_CRC_FOLD_TARGET inline __m512i per_lane(fold_constants k0, fold_constants k1, fold_constants k2,
                                              fold_constants k3) noexcept {
    auto i = [](uint64_t v) { return static_cast<int64_t>(v); };
    return _mm512_set_epi64(i(k3.second), i(k3.first), i(k2.second), i(k2.first), i(k1.second), i(k1.first),
                            i(k0.second), i(k0.first));
}
SAMSA_CRC_FOLD_TARGET inline __m512i broadcast(fold_constants k) noexcept { return per_lane(k, k, k, k); }

// One 128-bit lane. (The zero-masked form: GCC 12 warns about the plain one's undefined filler.)
template <int index>
SAMSA_CRC_FOLD_TARGET inline __m128i lane_of(__m512i v) noexcept {
    return _mm512_maskz_extracti32x4_epi32(0xf, v, index);
}

// acc·x^(8d) + data, for every 128-bit lane; `k` holds fold_by(d) in each lane.
SAMSA_CRC_FOLD_TARGET inline __m512i fold512(__m512i acc, __m512i k, __m512i data) noexcept {
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(acc, k, 0x00), _mm512_clmulepi64_epi128(acc, k, 0x11),
                                     data, 0x96);
}

SAMSA_CRC_FOLD_TARGET inline __m128i fold128(__m128i acc, __m128i k, __m128i data) noexcept {
    return _mm_ternarylogic_epi64(_mm_clmulepi64_si128(acc, k, 0x00), _mm_clmulepi64_si128(acc, k, 0x11), data, 0x96);
}

SAMSA_CRC_FOLD_TARGET uint32_t extend_fold(uint32_t crc, const uint8_t* p, size_t n) noexcept {
    // Up to 63 bytes through the crc32 instruction first, so that no 64-byte load straddles two
    // cache lines (7 % faster on 1 KiB in a timing loop, no change on long inputs). Loading the
    // first block from the boundary with the bytes before the data masked off was slower still.
    const size_t lead_in = std::min(n, (64 - (reinterpret_cast<uintptr_t>(p) & 63)) & 63);
    if (n - lead_in < fold_min_bytes) return extend_three_way(crc, p, n);
    crc = extend_instruction(crc, p, lead_in);
    p += lead_in;
    n -= lead_in;
    // The running state goes into the first 4 bytes (see above); the rest of the lane is zero.
    const __m512i state = _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(~crc)));
    __m512i a0 = _mm512_xor_si512(_mm512_load_si512(p), state);
    __m512i a1 = _mm512_load_si512(p + 64);
    __m512i a2 = _mm512_load_si512(p + 128);
    __m512i a3 = _mm512_load_si512(p + 192);
    p += fold_stride;
    n -= fold_stride;
    const __m512i k_stride = broadcast(fold_stride_constants);
    while (n >= fold_stride) {
        a0 = fold512(a0, k_stride, _mm512_load_si512(p));
        a1 = fold512(a1, k_stride, _mm512_load_si512(p + 64));
        a2 = fold512(a2, k_stride, _mm512_load_si512(p + 128));
        a3 = fold512(a3, k_stride, _mm512_load_si512(p + 192));
        p += fold_stride;
        n -= fold_stride;
    }
    // Into one accumulator: a0 is 192 bytes before a3, a1 128, a2 64. Only the XORs chain.
    const __m512i k64 = broadcast(fold_64);
    __m512i acc = fold512(a0, broadcast(fold_192), a3);
    acc = fold512(a1, broadcast(fold_128), acc);
    acc = fold512(a2, k64, acc);
    while (n >= 64) {
        acc = fold512(acc, k64, _mm512_load_si512(p));
        p += 64;
        n -= 64;
    }
    // 512 -> 128 bits: lanes 0, 1 and 2 are 48, 32 and 16 bytes before lane 3.
    const __m512i k_lanes = per_lane(fold_48, fold_32, fold_16, fold_constants{0, 0});
    const __m512i moved = fold512(acc, k_lanes, _mm512_setzero_si512());
    __m128i v = _mm_ternarylogic_epi64(lane_of<0>(moved), lane_of<1>(moved), lane_of<2>(moved), 0x96);
    v = _mm_xor_si128(v, lane_of<3>(acc));
    const __m128i k16 = _mm_set_epi64x(static_cast<int64_t>(fold_16.second), static_cast<int64_t>(fold_16.first));
    while (n >= 16) {
        v = fold128(v, k16, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        p += 16;
        n -= 16;
    }
    // v ≡ everything read so far, running state included, and is laid out like input bytes (the
    // first byte holds the highest powers). So v's 16 bytes fed to the crc32 instruction from
    // state 0 give v·x^32 mod P, the state after all those bytes; the last ones continue from it.
    uint64_t c = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(v)));
    c = _mm_crc32_u64(c, static_cast<uint64_t>(_mm_extract_epi64(v, 1)));
    // At most 15 bytes left: the one-stream engine continues from that state.
    return extend_instruction(~static_cast<uint32_t>(c), p, n);
}
#undef SAMSA_CRC_FOLD_TARGET

// AVX-512 needs the OS to save the opmask and zmm registers (XCR0 bits 5-7) besides the xmm and
// ymm ones (bits 1, 2); a hypervisor may offer the instructions yet leave those off.
bool os_saves_zmm_state() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || (ecx & bit_OSXSAVE) == 0) return false;
    uint32_t xcr0_low = 0, xcr0_high = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    constexpr uint32_t needed = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7);
    return (xcr0_low & needed) == needed;
}

crc32c_engine detect_engine() noexcept {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("sse4.2")) return crc32c_engine::table;
    if (!__builtin_cpu_supports("pclmul")) return crc32c_engine::crc32_instruction;
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("vpclmulqdq") || !os_saves_zmm_state())
        return crc32c_engine::three_way_interleaved;
    return crc32c_engine::vpclmul_avx512;
}
#else
uint32_t extend_instruction(uint32_t crc, const uint8_t* p, size_t n) noexcept { return extend_table(crc, p, n); }
uint32_t extend_three_way(uint32_t crc, const uint8_t* p, size_t n) noexcept { return extend_table(crc, p, n); }
uint32_t extend_fold(uint32_t crc, const uint8_t* p, size_t n) noexcept { return extend_table(crc, p, n); }
crc32c_engine detect_engine() noexcept { return crc32c_engine::table; }
#endif

const crc32c_engine active_engine = detect_engine();

} // namespace

uint32_t crc32c_extend_with(crc32c_engine engine, uint32_t crc, std::span<const uint8_t> data) noexcept {
    if (!crc32c_engine_supported(engine)) engine = crc32c_engine::table;
    switch (engine) {
    case crc32c_engine::vpclmul_avx512: return extend_fold(crc, data.data(), data.size());
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
    case crc32c_engine::vpclmul_avx512: return "vpclmulqdq fold, 4 x 512 bits";
    }
    return "unknown";
}

} // namespace samsa::protocol
