// CRC-32C (Castagnoli), the checksum of Kafka's v2 record batches. Pure functions, any thread;
// the data is only read during the call.
// The engine is chosen once at start-up from what the CPU offers: carry-less folding of 256
// bytes per round in four 512-bit registers (AVX-512 + VPCLMULQDQ, with the OS saving the zmm
// state; inputs under 256 bytes go to the next engine), else three interleaved crc32 instruction
// streams joined with a carry-less multiply (SSE4.2 + PCLMULQDQ), else one crc32 stream
// (SSE4.2), else a slicing-by-8 table. Each engine's CPU needs include the previous one's. All
// give the same result; `extend` continues a running checksum, so a batch can be checked in pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace samsa::protocol {

[[nodiscard]] uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data) noexcept;
[[nodiscard]] inline uint32_t crc32c(std::span<const uint8_t> data) noexcept { return crc32c_extend(0, data); }
[[nodiscard]] bool crc32c_is_hardware() noexcept;

// The engines, named so tests and benchmarks can run each one on the same machine.
enum class crc32c_engine { table, crc32_instruction, three_way_interleaved, vpclmul_avx512 };

[[nodiscard]] crc32c_engine crc32c_active_engine() noexcept;
[[nodiscard]] bool crc32c_engine_supported(crc32c_engine engine) noexcept;
[[nodiscard]] const char* crc32c_engine_name(crc32c_engine engine) noexcept;
// Runs `engine`, which must be supported (an unsupported one falls back to the table).
[[nodiscard]] uint32_t crc32c_extend_with(crc32c_engine engine, uint32_t crc, std::span<const uint8_t> data) noexcept;

} // namespace samsa::protocol
