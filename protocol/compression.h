// Kafka's compression codecs over Debian's libraries (zlib, snappy, liblz4, libzstd), with the
// framings Kafka clients put on the wire. Pure functions, any thread; the input is borrowed for
// the call and the output is appended to a vector the caller owns. Failures are values, never
// exceptions or aborts, and decompression is bounded by the caller's output limit (a few bytes
// of input can claim gigabytes). docs/protocol.md describes each framing.
//
//   gzip    one or more gzip members (RFC 1952), as java.util.zip.GZIPOutputStream writes them
//   snappy  compress: xerial snappy-java framing (what the Java client writes);
//           decompress: xerial framing or one raw snappy block (librdkafka writes raw)
//   lz4     one LZ4 frame with independent blocks (Kafka rejects dependent blocks); magic 0
//           message sets carry a header checksum computed over the wrong bytes (see below)
//   zstd    one or more zstd frames
#pragma once

#include "protocol/record_batch.h"
#include "protocol/wire.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace samsa::protocol {

using batch::compression;

enum class codec_status : uint8_t {
    ok = 0,
    corrupt,            // not a valid stream for the codec (or truncated, or trailing bytes)
    too_large,          // the decompressed output would exceed the caller's limit
    unsupported_codec,  // a codec number outside 0..4, or one the message format cannot carry
};

[[nodiscard]] std::string_view to_string(codec_status s) noexcept;

// The codec number of batch or message attributes (bits 0-2); nullopt for 5, 6 and 7.
[[nodiscard]] std::optional<compression> codec_from_attributes(uint16_t attributes) noexcept;

namespace xerial {
// snappy-java's stream header: magic, then version and minimum compatible version (int32 BE),
// then blocks of int32 BE compressed length + raw snappy bytes, each of at most block_size input.
inline constexpr uint8_t magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
inline constexpr int32_t version = 1;
inline constexpr int32_t min_compatible_version = 1;
inline constexpr size_t header_size = 16;
inline constexpr size_t block_size = 32 * 1024;
} // namespace xerial

namespace lz4 {
inline constexpr uint32_t frame_magic = 0x184D2204;  // little-endian on the wire
inline constexpr uint8_t flg_version = 0x40;         // FLG bits 6-7 = 01
inline constexpr uint8_t flg_block_independence = 0x20;
inline constexpr uint8_t flg_content_size = 0x08;
inline constexpr uint8_t bd_64kb = 0x40;             // BD block maximum size 4 (64 KiB)
} // namespace lz4

struct compress_options {
    // 0 picks the library default (gzip 6, lz4 fast, zstd 3); otherwise the codec's own scale.
    int level = 0;
    // Magic 0 message sets: write the LZ4 header checksum as Kafka before 0.10 did, over the
    // magic number as well as the frame descriptor (KIP-57). Readers of magic 0 expect it.
    bool lz4_legacy_header_checksum = false;
};

struct decompress_options {
    // Magic 0 message sets: ignore the LZ4 header checksum, as Kafka does for them, since old
    // clients computed it over the wrong bytes.
    bool lz4_ignore_header_checksum = false;
};

// Appends the compressed form of `in` to `out`. Fails only with unsupported_codec (none is not
// a codec here) or corrupt when the library itself fails; `out` is unchanged on failure.
[[nodiscard]] codec_status compress(compression codec, bytes_view in, std::vector<uint8_t>& out,
                                    const compress_options& options = {});

// Appends the decompressed form of `in` to `out`, producing at most `max_output` bytes.
// `out` is unchanged on failure.
[[nodiscard]] codec_status decompress(compression codec, bytes_view in, size_t max_output,
                                      std::vector<uint8_t>& out, const decompress_options& options = {});

} // namespace samsa::protocol
