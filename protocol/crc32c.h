// CRC-32C (Castagnoli), the checksum of Kafka's v2 record batches. Pure functions, any thread.
// Uses the CPU's crc32 instruction (SSE4.2) when present, chosen once at start-up; otherwise a
// slicing-by-8 table. `extend` continues a running checksum, so a batch can be checked in pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace samsa::protocol {

[[nodiscard]] uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data) noexcept;
[[nodiscard]] inline uint32_t crc32c(std::span<const uint8_t> data) noexcept { return crc32c_extend(0, data); }
[[nodiscard]] bool crc32c_is_hardware() noexcept;

} // namespace samsa::protocol
