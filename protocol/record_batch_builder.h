// Builds one v2 record batch (magic 2) from records: the producer's side of the format, used
// for the batches the broker writes itself (transaction markers, converted legacy message sets)
// and by tests and tools. Owned by its caller, one thread. Record fields are read during
// append() only: their bytes are encoded once into the builder, and build() compresses them
// and writes the header with a valid CRC-32C. record_batch.h has the header layout.
#pragma once

#include "protocol/compression.h"
#include "protocol/record.h"
#include "protocol/record_batch.h"
#include "protocol/wire.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace samsa::protocol {

struct batch_options {
    int64_t base_offset = 0;
    int32_t partition_leader_epoch = -1;
    int64_t producer_id = -1;    // -1, -1, -1: not an idempotent producer
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    bool transactional = false;
    bool control = false;
    bool log_append_time = false;
    compression codec = compression::none;
    compress_options compression_options;
    // KIP-534: when set, the batch's base timestamp holds this delete horizon (the time after
    // which the log cleaner may drop its tombstones or its transaction marker) and the
    // attributes carry batch::delete_horizon_flag; record timestamps stay exact, their deltas
    // being taken from the horizon instead of the first record.
    std::optional<int64_t> delete_horizon_ms;
};

// The options that rebuild a batch like `h` (its offsets, producer fields, transactional and
// control flags, timestamp type and codec), for code that rewrites a stored batch's records:
// the log cleaner and recompression on write. The delete horizon is not carried over.
[[nodiscard]] inline batch_options batch_options_of(const batch::header_view& h) {
    batch_options o;
    o.base_offset = h.base_offset();
    o.partition_leader_epoch = h.partition_leader_epoch();
    o.producer_id = h.producer_id();
    o.producer_epoch = h.producer_epoch();
    o.base_sequence = h.base_sequence();
    o.transactional = h.is_transactional();
    o.control = h.is_control();
    o.log_append_time = h.log_append_time();
    o.codec = h.codec();
    return o;
}

struct record_input {
    std::optional<bytes_view> key;
    std::optional<bytes_view> value;
    std::span<const record_header> headers;
    int64_t timestamp = -1;
};

struct built_batch {
    codec_status status = codec_status::ok;
    std::vector<uint8_t> bytes;  // empty when nothing was appended or on failure
};

class record_batch_builder {
public:
    explicit record_batch_builder(const batch_options& options = {});

    // Appends a record at the next offset delta (0, 1, 2, ...).
    void append(const record_input& r);
    // Appends at an explicit offset delta, which must exceed the last one (a compacted batch has
    // gaps); false, and nothing appended, otherwise.
    [[nodiscard]] bool append(int32_t offset_delta, const record_input& r);

    [[nodiscard]] int32_t record_count() const noexcept { return count_; }
    // Encoded record bytes so far, before compression.
    [[nodiscard]] size_t records_size() const noexcept { return records_.bytes.size(); }

    // The finished batch. Kafka writes no empty batches, so an empty builder gives no bytes.
    [[nodiscard]] built_batch build() const;

private:
    batch_options options_;
    output_buffer records_;
    int32_t count_ = 0;
    int32_t last_offset_delta_ = -1;
    int64_t base_timestamp_ = -1;
    int64_t max_timestamp_ = -1;
};

// ---- control records (transaction markers) --------------------------------------------------

// The key of a control record is version int16 (0) + type int16; commit and abort markers
// carry a value of version int16 (0) + coordinator epoch int32.
enum class control_type : int16_t { abort = 0, commit = 1 };

inline constexpr int16_t control_key_version = 0;
inline constexpr size_t control_key_size = 4;
inline constexpr int16_t end_txn_marker_version = 0;
inline constexpr size_t end_txn_marker_size = 6;

struct control_marker {
    control_type type = control_type::abort;
    int32_t coordinator_epoch = -1;  // -1 for control types other than commit and abort
};

// A batch of one commit or abort marker for the options' producer: the transactional and
// control flags are set whatever the options say.
[[nodiscard]] built_batch build_control_batch(batch_options options, control_marker marker, int64_t timestamp);

// The marker in a record of a control batch; nullopt when the key or value is malformed.
// Types other than commit/abort come back as their raw number with no epoch.
[[nodiscard]] std::optional<control_marker> parse_control_record(const record& r) noexcept;

} // namespace samsa::protocol
