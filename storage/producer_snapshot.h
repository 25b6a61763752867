// Producer state snapshots: `<20-digit offset>.snapshot` beside the segments, holding the
// producer table as it stood when the log ended at that offset, in Kafka's layout (big endian):
//
//   version int16 (1) | crc uint32 (CRC-32C of everything after it) | count int32 |
//   count x { producer_id int64 | epoch int16 | last_sequence int32 | last_offset int64 |
//             offset_delta int32 | timestamp int64 | coordinator_epoch int32 |
//             current_txn_first_offset int64 }
//
// Only each producer's last batch is kept (offset_delta = its last offset - its first offset);
// recovery loads the latest valid snapshot and replays the log after it. Pure functions over
// bytes; the log decides when and where files are written. docs/storage.md describes the rules.
#pragma once

#include "storage/producer_state_table.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::storage {

inline constexpr int16_t producer_snapshot_version = 1;
inline constexpr size_t producer_snapshot_header_size = 10;  // version, crc, count
inline constexpr size_t producer_snapshot_entry_size = 46;

// The snapshot of every producer in `table`.
[[nodiscard]] std::string encode_producer_snapshot(const producer_state_table& table);

// The entries of a snapshot; nullopt with `*why` set when the version, CRC or size is wrong.
[[nodiscard]] std::optional<std::vector<producer_entry>> decode_producer_snapshot(std::span<const uint8_t> bytes,
                                                                                  std::string* why);

// The offsets of the snapshot files in `dir`, ascending.
[[nodiscard]] std::vector<int64_t> list_producer_snapshots(const std::string& dir);

} // namespace samsa::storage
