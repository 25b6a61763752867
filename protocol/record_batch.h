// A zero-copy view of a Kafka v2 record batch header (magic 2), with the layout constants that
// storage and the produce path share. The view borrows the bytes it was made from; they must
// outlive it. Pure functions, any thread.
//
//   offset  size  field                      offset  size  field
//        0     8  base_offset                    27     8  base_timestamp
//        8     4  batch_length (bytes after)     35     8  max_timestamp
//       12     4  partition_leader_epoch         43     8  producer_id
//       16     1  magic (= 2)                    51     2  producer_epoch
//       17     4  crc (CRC-32C of bytes 21..)    53     4  base_sequence
//       21     2  attributes                     57     4  record_count
//       23     4  last_offset_delta              61     -  records
//
// The CRC covers attributes through the end, so base_offset and the leader epoch may be
// rewritten in place without recomputing it. docs/protocol.md describes the records themselves.
#pragma once

#include "protocol/errors.h"

#include <cstdint>
#include <optional>
#include <span>

namespace samsa::protocol::batch {

inline constexpr size_t base_offset_at = 0;
inline constexpr size_t length_at = 8;
inline constexpr size_t leader_epoch_at = 12;
inline constexpr size_t magic_at = 16;
inline constexpr size_t crc_at = 17;
inline constexpr size_t attributes_at = 21;
inline constexpr size_t last_offset_delta_at = 23;
inline constexpr size_t base_timestamp_at = 27;
inline constexpr size_t max_timestamp_at = 35;
inline constexpr size_t producer_id_at = 43;
inline constexpr size_t producer_epoch_at = 51;
inline constexpr size_t base_sequence_at = 53;
inline constexpr size_t record_count_at = 57;
inline constexpr size_t header_size = 61;
// Bytes before batch_length's count starts: base_offset and batch_length themselves.
inline constexpr size_t log_overhead = 12;

inline constexpr uint16_t compression_mask = 0x07;
inline constexpr uint16_t timestamp_type_mask = 0x08;  // set: LogAppendTime
inline constexpr uint16_t transactional_flag = 0x10;
inline constexpr uint16_t control_flag = 0x20;
inline constexpr uint16_t delete_horizon_flag = 0x40;

enum class compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

[[nodiscard]] inline uint16_t load_be16(const uint8_t* p) noexcept {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
[[nodiscard]] inline uint32_t load_be32(const uint8_t* p) noexcept {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
[[nodiscard]] inline uint64_t load_be64(const uint8_t* p) noexcept {
    return (uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}
inline void store_be32(uint8_t* p, uint32_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}
inline void store_be64(uint8_t* p, uint64_t v) noexcept {
    store_be32(p, static_cast<uint32_t>(v >> 32));
    store_be32(p + 4, static_cast<uint32_t>(v));
}

// A checked view of one batch. `parse` accepts exactly one whole batch header whose
// batch_length fits in the input; it does not verify the CRC (see `crc_ok`).
class header_view {
public:
    [[nodiscard]] static std::optional<header_view> parse(std::span<const uint8_t> in,
                                                          decode_status* why = nullptr) noexcept;

    [[nodiscard]] int64_t base_offset() const noexcept { return static_cast<int64_t>(load_be64(p_ + base_offset_at)); }
    [[nodiscard]] int32_t batch_length() const noexcept { return static_cast<int32_t>(load_be32(p_ + length_at)); }
    [[nodiscard]] size_t total_size() const noexcept { return log_overhead + static_cast<size_t>(batch_length()); }
    [[nodiscard]] int32_t partition_leader_epoch() const noexcept { return static_cast<int32_t>(load_be32(p_ + leader_epoch_at)); }
    [[nodiscard]] int8_t magic() const noexcept { return static_cast<int8_t>(p_[magic_at]); }
    [[nodiscard]] uint32_t crc() const noexcept { return load_be32(p_ + crc_at); }
    [[nodiscard]] uint16_t attributes() const noexcept { return load_be16(p_ + attributes_at); }
    [[nodiscard]] int32_t last_offset_delta() const noexcept { return static_cast<int32_t>(load_be32(p_ + last_offset_delta_at)); }
    [[nodiscard]] int64_t base_timestamp() const noexcept { return static_cast<int64_t>(load_be64(p_ + base_timestamp_at)); }
    [[nodiscard]] int64_t max_timestamp() const noexcept { return static_cast<int64_t>(load_be64(p_ + max_timestamp_at)); }
    [[nodiscard]] int64_t producer_id() const noexcept { return static_cast<int64_t>(load_be64(p_ + producer_id_at)); }
    [[nodiscard]] int16_t producer_epoch() const noexcept { return static_cast<int16_t>(load_be16(p_ + producer_epoch_at)); }
    [[nodiscard]] int32_t base_sequence() const noexcept { return static_cast<int32_t>(load_be32(p_ + base_sequence_at)); }
    [[nodiscard]] int32_t record_count() const noexcept { return static_cast<int32_t>(load_be32(p_ + record_count_at)); }

    [[nodiscard]] int64_t last_offset() const noexcept { return base_offset() + last_offset_delta(); }
    [[nodiscard]] compression codec() const noexcept { return static_cast<compression>(attributes() & compression_mask); }
    [[nodiscard]] bool log_append_time() const noexcept { return (attributes() & timestamp_type_mask) != 0; }
    [[nodiscard]] bool is_transactional() const noexcept { return (attributes() & transactional_flag) != 0; }
    [[nodiscard]] bool is_control() const noexcept { return (attributes() & control_flag) != 0; }
    // KIP-534: the log cleaner stored a delete horizon in base_timestamp.
    [[nodiscard]] bool has_delete_horizon() const noexcept { return (attributes() & delete_horizon_flag) != 0; }
    [[nodiscard]] std::optional<int64_t> delete_horizon_ms() const noexcept {
        return has_delete_horizon() ? std::optional<int64_t>(base_timestamp()) : std::nullopt;
    }

    // The whole batch, header included.
    [[nodiscard]] std::span<const uint8_t> bytes() const noexcept { return {p_, total_size()}; }
    // The record bytes after the header (compressed when codec() != none).
    [[nodiscard]] std::span<const uint8_t> records_bytes() const noexcept {
        return {p_ + header_size, total_size() - header_size};
    }
    [[nodiscard]] bool crc_ok() const noexcept;

private:
    explicit header_view(const uint8_t* p) noexcept : p_(p) {}
    const uint8_t* p_;
};

// In-place rewrites that leave the CRC valid (the CRC starts at the attributes field).
inline void set_base_offset(std::span<uint8_t> batch, int64_t offset) noexcept {
    store_be64(batch.data() + base_offset_at, static_cast<uint64_t>(offset));
}
inline void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) noexcept {
    store_be32(batch.data() + leader_epoch_at, static_cast<uint32_t>(epoch));
}
// Rewrites covered fields and recomputes the CRC (LogAppendTime stamping, for instance).
void set_max_timestamp_and_recrc(std::span<uint8_t> batch, int64_t max_timestamp, bool log_append_time) noexcept;
void recompute_crc(std::span<uint8_t> batch) noexcept;

} // namespace samsa::protocol::batch
