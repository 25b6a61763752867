// A segment's sparse time index (<base offset>.timeindex): entries of
//
//   offset  size  field
//        0     8  timestamp (big-endian): the largest batch max-timestamp seen so far in the segment
//        8     4  relative offset (big-endian): last offset of the batch that set it - base offset
//
// added alongside offset-index entries, but only when the timestamp grew, so timestamps strictly
// increase; the segment appends one final entry when it rolls or closes, so the last entry holds
// the segment's largest timestamp. Entries with timestamp <= 0 are never written (a zero-filled
// tail therefore never validates). The API speaks absolute offsets; relative ones stay inside the
// entry encoding. Owned by a segment; event-loop thread only.
#pragma once

#include "protocol/kafka_ids.h"
#include "storage/index_file.h"

#include <cstdint>
#include <memory>
#include <optional>

namespace samsa::storage {

struct time_offset {
    int64_t timestamp = -1;
    protocol::offset offset;
};

class time_index {
public:
    static constexpr size_t entry_size = 12;

    time_index(std::unique_ptr<index_file> file, protocol::offset base_offset) noexcept
        : file_(std::move(file)), base_offset_(base_offset) {}

    // Appends when `timestamp` is larger than the last entry's and positive. The last slot is kept
    // for the final entry a roll writes (`final_entry`). False when nothing was written.
    bool maybe_append(int64_t timestamp, protocol::offset offset, bool final_entry = false) noexcept;
    // The last entry with timestamp <= `target`, or {-1, base offset}.
    [[nodiscard]] time_offset lookup(int64_t target) const noexcept;
    [[nodiscard]] std::optional<time_offset> last_entry() const noexcept;
    [[nodiscard]] time_offset entry(size_t i) const noexcept;
    // Removes the entries whose offset is >= `offset`.
    void truncate_to(protocol::offset offset) noexcept;
    void reset() noexcept { file_->truncate_entries(0); }

    [[nodiscard]] size_t entries() const noexcept { return file_->entries(); }
    [[nodiscard]] bool full() const noexcept { return file_->entries() + 1 >= file_->capacity(); }
    // Timestamps positive and strictly increasing, offsets not decreasing and not below the base.
    [[nodiscard]] bool validate() const noexcept;

    [[nodiscard]] index_file& file() noexcept { return *file_; }
    [[nodiscard]] const index_file& file() const noexcept { return *file_; }

private:
    // The raw relative offset of entry `i` (negative only in a corrupt file).
    [[nodiscard]] protocol::relative_offset relative_at(size_t i) const noexcept;

    std::unique_ptr<index_file> file_;
    protocol::offset base_offset_;
};

} // namespace samsa::storage
