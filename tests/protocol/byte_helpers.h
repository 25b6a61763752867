// Byte-level helpers for the record format tests: make byte strings, flip a byte, truncate,
// overwrite big-endian fields, and repair a checksum after a deliberate change so that the
// decoder under test meets the fault it is meant to meet rather than a CRC mismatch.
#pragma once

#include "protocol/record_batch.h"
#include "protocol/wire.h"

#include <zlib.h>

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace samsa::test {

inline std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

inline protocol::bytes_view view_of(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string_view text_of(protocol::bytes_view b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

template <size_t N>
std::vector<uint8_t> copy_of(const uint8_t (&a)[N]) {
    return {a, a + N};
}

inline std::vector<uint8_t> flipped(std::vector<uint8_t> b, size_t at, uint8_t mask = 0x01) {
    b.at(at) ^= mask;
    return b;
}

inline std::vector<uint8_t> truncated(std::vector<uint8_t> b, size_t n) {
    b.resize(n);
    return b;
}

inline void put_be16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
    b.at(at) = static_cast<uint8_t>(v >> 8);
    b.at(at + 1) = static_cast<uint8_t>(v);
}

inline void put_be32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    put_be16(b, at, static_cast<uint16_t>(v >> 16));
    put_be16(b, at + 2, static_cast<uint16_t>(v));
}

inline void put_be64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
    put_be32(b, at, static_cast<uint32_t>(v >> 32));
    put_be32(b, at + 4, static_cast<uint32_t>(v));
}

inline void append_be16(std::vector<uint8_t>& b, uint16_t v) {
    b.resize(b.size() + 2);
    put_be16(b, b.size() - 2, v);
}

inline void append_be32(std::vector<uint8_t>& b, uint32_t v) {
    b.resize(b.size() + 4);
    put_be32(b, b.size() - 4, v);
}

inline void append_be64(std::vector<uint8_t>& b, uint64_t v) {
    b.resize(b.size() + 8);
    put_be64(b, b.size() - 8, v);
}

inline void append(std::vector<uint8_t>& b, std::string_view s) { b.insert(b.end(), s.begin(), s.end()); }

inline void append_bytes(std::vector<uint8_t>& b, std::initializer_list<uint8_t> xs) { b.insert(b.end(), xs); }

// A v2 batch after an edit: batch_length to match its size, and a fresh CRC-32C.
inline void fix_batch(std::vector<uint8_t>& b) {
    put_be32(b, protocol::batch::length_at, static_cast<uint32_t>(b.size() - protocol::batch::log_overhead));
    protocol::batch::recompute_crc(b);
}

// A legacy message set entry at `at` after an edit: a fresh CRC-32 over magic..end.
inline void fix_legacy_crc(std::vector<uint8_t>& b, size_t at = 0) {
    uint32_t size = protocol::batch::load_be32(b.data() + at + 8);
    const uint8_t* magic = b.data() + at + 12 + 4;
    put_be32(b, at + 12, static_cast<uint32_t>(::crc32(0L, magic, size - 4)));
}

} // namespace samsa::test
