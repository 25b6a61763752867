// Crash recovery of segments: finding the valid prefix of a .log file and rebuilding the
// indexes from it. docs/storage.md states the rules; in short, a batch is valid when
//
//   its 12-byte prefix is complete and batch_length >= 49 (a zero-filled tail fails here)
//   the whole batch lies within the file                       (a torn write fails here)
//   magic is 2 and the CRC-32C over attributes..end matches    (a flipped byte fails here)
//   its offsets follow the previous batch's and fit the segment (stale or foreign data fails here)
//
// and the log is cut at the first invalid byte: nothing after it is trusted, even a batch that
// would validate, because a write that lands after a lost one must not be returned. Called by
// log::open on the loop thread during start-up (or partition creation); it blocks on disk reads.
#pragma once

#include "protocol/kafka_ids.h"
#include "storage/segment.h"

#include <cstdint>
#include <functional>
#include <string_view>

namespace samsa::storage {

class file_handle;
class leader_epoch_cache;

enum class scan_stop : uint8_t {
    end_of_file,   // every byte belonged to a valid batch
    torn,          // the file ends inside a batch
    bad_length,    // batch_length below the minimum (zeros, garbage)
    bad_magic,
    bad_crc,
    bad_offsets,   // offsets that go backwards or leave the segment's range
    io_error,
};
[[nodiscard]] std::string_view to_string(scan_stop s) noexcept;

struct scan_result {
    uint32_t valid_bytes = 0;        // end of the last valid batch (absolute position)
    scan_stop stop = scan_stop::end_of_file;
    // The last valid batch's last offset + 1; no_offset when none was seen.
    protocol::offset next_offset = protocol::no_offset;
    uint64_t batches = 0;
    int error = 0;                   // errno for io_error
};

// Validates the batches of `file` in [from, file_size) (`from` must be a batch boundary),
// calling `visit` for each valid one. `min_offset` is the smallest base offset the first batch may
// have; `base_offset` is the segment's, which bounds relative offsets.
[[nodiscard]] scan_result scan_log_file(const file_handle& file, uint64_t file_size, uint32_t from,
                                        protocol::offset base_offset, protocol::offset min_offset,
                                        const std::function<void(const batch_location&)>& visit);

struct segment_recovery {
    scan_result scan;
    uint64_t truncated_bytes = 0;
    int error = 0;                   // errno when the file could not be read or cut
};

// Rebuilds `seg`'s indexes from a full scan, cuts the file at the first invalid byte and feeds
// each batch's leader epoch to `epochs` (may be null). The segment must not be sealed.
[[nodiscard]] segment_recovery recover_segment(segment& seg, leader_epoch_cache* epochs, protocol::offset min_offset);

} // namespace samsa::storage
