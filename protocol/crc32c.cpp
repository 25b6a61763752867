#include "protocol/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
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

uint32_t extend_software(uint32_t crc, const uint8_t* p, size_t n) noexcept {
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

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_hardware(uint32_t crc, const uint8_t* p, size_t n) noexcept {
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        n -= 8;
    }
    auto c32 = static_cast<uint32_t>(c);
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}

bool detect_hardware() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t extend_hardware(uint32_t crc, const uint8_t* p, size_t n) noexcept { return extend_software(crc, p, n); }
bool detect_hardware() noexcept { return false; }
#endif

const bool has_hardware = detect_hardware();

} // namespace

uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data) noexcept {
    return has_hardware ? extend_hardware(crc, data.data(), data.size())
                        : extend_software(crc, data.data(), data.size());
}

bool crc32c_is_hardware() noexcept { return has_hardware; }

} // namespace samsa::protocol
