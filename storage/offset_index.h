// A segment's sparse offset index (<base offset>.index): entries of
//
//   offset  size  field
//        0     4  relative offset (big-endian): a batch's last offset - the segment's base offset
//        4     4  position (big-endian): the byte position of that batch in the .log file
//
// one after every index.interval.bytes of log (the batch that crosses the interval gets the
// entry; the first batch never does, so no valid entry has position 0). Lookups binary-search for
// the last entry at or below a target and the caller scans batch headers forward from there, so any
// subset of valid entries gives correct answers. The API speaks absolute offsets; relative ones
// stay inside the entry encoding. Owned by a segment; event-loop thread only.
#pragma once

#include "protocol/kafka_ids.h"
#include "storage/index_file.h"

#include <cstdint>
#include <memory>
#include <optional>

namespace samsa::storage {

struct offset_position {
    protocol::offset offset;
    uint32_t position = 0;
};

class offset_index {
public:
    static constexpr size_t entry_size = 8;

    offset_index(std::unique_ptr<index_file> file, protocol::offset base_offset) noexcept
        : file_(std::move(file)), base_offset_(base_offset) {}

    // Appends (offset, position); false when full, sealed, or not after the last entry.
    [[nodiscard]] bool append(protocol::offset offset, uint32_t position) noexcept;
    // The last entry with offset <= `target`, or {base offset, 0}.
    [[nodiscard]] offset_position lookup(protocol::offset target) const noexcept;
    // The last entry with position <= `position`, or {base offset, 0}.
    [[nodiscard]] offset_position lookup_position(uint32_t position) const noexcept;
    [[nodiscard]] std::optional<offset_position> last_entry() const noexcept;
    [[nodiscard]] offset_position entry(size_t i) const noexcept;
    // Removes the entries whose position is >= `position` (the log was cut there).
    void truncate_to_position(uint32_t position) noexcept;
    void reset() noexcept { file_->truncate_entries(0); }

    [[nodiscard]] size_t entries() const noexcept { return file_->entries(); }
    [[nodiscard]] size_t free_slots() const noexcept { return file_->capacity() - file_->entries(); }
    // Entries strictly increasing in offset and position, positions in (0, log_size), offsets
    // not below the base. A preallocated zero tail or garbage fails.
    [[nodiscard]] bool validate(uint64_t log_size) const noexcept;

    [[nodiscard]] index_file& file() noexcept { return *file_; }
    [[nodiscard]] const index_file& file() const noexcept { return *file_; }

private:
    // The raw relative offset of entry `i` (negative only in a corrupt file).
    [[nodiscard]] protocol::relative_offset relative_at(size_t i) const noexcept;

    std::unique_ptr<index_file> file_;
    protocol::offset base_offset_;
};

} // namespace samsa::storage
