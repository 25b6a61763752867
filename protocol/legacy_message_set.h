// Kafka's message sets before record batches: magic 0 (Kafka 0.8) and magic 1 (0.10, adds a
// timestamp), and the conversions the broker needs, since it stores only v2 batches: legacy
// produce data -> one v2 batch, and v2 batches -> a legacy message set for fetch versions whose
// clients read nothing newer (fetch v0-v1 read magic 0, v2-v3 magic 1). Pure functions and
// single-thread objects; inputs are borrowed for the call (for the reader, for its lifetime).
//
//   entry:   offset int64 | message_size int32 | message
//   message: crc uint32 (CRC-32 of magic..end) | magic int8 | attributes int8 |
//            [timestamp int64, magic 1 only] | key_length int32, key | value_length int32, value
//   attributes: bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4), bit 3 LogAppendTime (magic 1)
//
// A compressed message (a "wrapper") has a null key and, as value, the compressed bytes of an
// inner message set of uncompressed messages with the wrapper's magic. Magic 0 inner offsets are
// absolute; magic 1 inner offsets are relative (0, 1, ...) and the wrapper carries the absolute
// offset of the last one, so inner = wrapper offset - last relative + relative (a wrapper offset
// of 0, which some producers send, means base 0). Under LogAppendTime the wrapper's timestamp is
// every inner message's timestamp. docs/protocol.md has the details.
#pragma once

#include "protocol/compression.h"
#include "protocol/errors.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"
#include "protocol/wire.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace samsa::protocol {

namespace legacy {
inline constexpr size_t offset_at = 0;        // within an entry
inline constexpr size_t size_at = 8;
inline constexpr size_t log_overhead = 12;
inline constexpr size_t crc_at = 0;           // within a message
inline constexpr size_t magic_at = 4;
inline constexpr size_t attributes_at = 5;
inline constexpr size_t timestamp_at = 6;     // magic 1
inline constexpr size_t key_length_at_v0 = 6;
inline constexpr size_t key_length_at_v1 = 14;
inline constexpr size_t record_overhead_v0 = 14;  // smallest magic 0 message: both lengths -1
inline constexpr size_t record_overhead_v1 = 22;
inline constexpr uint8_t compression_mask = 0x07;
inline constexpr uint8_t timestamp_type_mask = 0x08;
} // namespace legacy

// One message as read: a plain message, or one message of a wrapper's inner set.
struct legacy_message {
    int64_t offset = 0;           // absolute, with magic 1 relative inner offsets resolved
    int8_t magic = 0;
    int8_t attributes = 0;        // the message's own attributes
    int64_t timestamp = -1;       // -1 for magic 0; the wrapper's under LogAppendTime
    bool log_append_time = false;
    compression wrapper_codec = compression::none;  // the wrapper's codec, none for a plain message
    std::optional<bytes_view> key;
    std::optional<bytes_view> value;
};

struct legacy_reader_options {
    size_t max_decompressed_bytes = size_t{64} << 20;  // over all wrappers of the set together
    bool verify_crc = true;
};

// Iterates the messages of a message set, descending into wrappers. The reader borrows the set,
// which must outlive it; inner messages point into decompressed copies the reader owns, valid
// while it lives. Errors, as for record_reader: truncated, corrupt (sizes below the overhead, CRC
// mismatch, a wrapper with no value, no inner messages, compressed or other-magic inner messages,
// a magic 1 wrapper offset below its last inner offset, undecodable compressed bytes),
// frame_too_large, bad_value (a magic other than 0/1, codec 4..7), negative_length,
// length_too_large, trailing_bytes (a message longer than its fields).
class legacy_message_reader {
public:
    explicit legacy_message_reader(bytes_view message_set, const legacy_reader_options& options = {});

    [[nodiscard]] bool ok() const noexcept { return status_ == decode_status::ok; }
    [[nodiscard]] decode_status status() const noexcept { return status_; }
    [[nodiscard]] codec_status codec_error() const noexcept { return codec_; }

    // The next message: true if there was one, false at the end or on an error.
    [[nodiscard]] bool next(legacy_message& out);

private:
    bool enter_wrapper(const legacy_message& wrapper);
    void fail(decode_status s) noexcept;

    bytes_view rest_;
    legacy_reader_options options_;
    size_t decompressed_total_ = 0;
    std::vector<std::vector<uint8_t>> buffers_;  // one per wrapper; inner views point here
    std::vector<legacy_message> inner_;
    size_t inner_at_ = 0;
    decode_status status_ = decode_status::ok;
    codec_status codec_ = codec_status::ok;
};

struct legacy_message_input {
    int64_t offset = 0;
    int64_t timestamp = -1;  // ignored for magic 0
    std::optional<bytes_view> key;
    std::optional<bytes_view> value;
};

// Writes a message set of one magic: plain messages when uncompressed, else one wrapper around
// all appended messages. Offsets must increase. Magic 0 LZ4 gets the old header checksum its
// readers expect. zstd cannot be carried by magic 0/1, nor can any magic but 0 and 1 be written
// (unsupported_codec). Appended keys and values are borrowed until build() returns.
class legacy_message_set_builder {
public:
    legacy_message_set_builder(int8_t magic, compression codec, bool log_append_time = false);

    void append(const legacy_message_input& m);
    [[nodiscard]] size_t count() const noexcept { return messages_.size(); }
    [[nodiscard]] built_batch build() const;

private:
    int8_t magic_;
    compression codec_;
    bool log_append_time_;
    std::vector<legacy_message_input> messages_;  // views into the caller's bytes
};

struct conversion_result {
    decode_status status = decode_status::ok;
    codec_status codec = codec_status::ok;
    std::vector<uint8_t> bytes;
    int32_t records = 0;  // records (messages) converted
    [[nodiscard]] bool ok() const noexcept { return status == decode_status::ok && codec == codec_status::ok; }
};

// Produce from an old client: every message of the set, in order, in one v2 batch at offset
// deltas 0..n-1 (the broker assigns the offsets) with no producer id, epoch or sequence. Magic 0
// messages get timestamp -1. `codec` nullopt keeps the producer's codec (its first wrapper's, or
// none). An empty set gives no bytes.
[[nodiscard]] conversion_result legacy_to_v2(bytes_view message_set, std::optional<compression> codec,
                                             const legacy_reader_options& options = {});

// Fetch from an old client: v2 batches (whole ones, as stored) -> a message set of `magic`,
// keeping offsets, keys, values and (magic 1) timestamps and their type; headers, producer
// state and control batches are dropped, as Kafka does. Each compressed batch becomes one
// wrapper with the same codec. A zstd batch cannot be expressed (unsupported_codec; Kafka answers
// such fetches with UNSUPPORTED_COMPRESSION_TYPE).
[[nodiscard]] conversion_result v2_to_legacy(bytes_view batches, int8_t magic,
                                             const record_reader_options& options = {});

} // namespace samsa::protocol
