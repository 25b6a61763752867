// One segment of a partition log: <base offset>.log (record batches back to back, exactly as
// they arrived, offsets assigned) with its offset index and time index. The last segment of a log
// is active (indexes mapped read-write and preallocated); the others are sealed (indexes trimmed,
// read-only). Owned by its log through a shared_ptr, which the log cleaner also holds while it
// reads a sealed segment; used on the event-loop thread only, except the .log descriptor
// (file()), which readers, the flusher and the cleaner share.
// An active segment reserves disk space ahead of its end (fallocate with FALLOC_FL_KEEP_SIZE,
// so the file's size stays the size of its batches): appends then write into blocks the file
// system has already allocated instead of asking ext4 for a delayed allocation on every write.
// The reservation grows with the segment (64 KiB up to 8 MiB at a time) and is given back when
// the segment is sealed or truncated.
#pragma once

#include "protocol/kafka_ids.h"
#include "storage/offset_index.h"
#include "storage/time_index.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::storage {

class file_handle;
struct batch_info;
struct log_config;

// Where a batch lies in a segment's .log file and what its header says.
struct batch_location {
    uint32_t position = 0;
    uint32_t size = 0;
    protocol::offset base_offset;
    protocol::offset last_offset;
    int64_t max_timestamp = -1;
    protocol::leader_epoch leader_epoch = protocol::no_leader_epoch;
};

// What the v2 batch header at `header` (batch::header_size bytes) says, for a batch at
// `position` of `size` bytes: where the header's raw offsets and epoch become typed.
[[nodiscard]] batch_location location_of(const uint8_t* header, uint32_t position, uint32_t size) noexcept;

// Walks the batch headers of `file` from `from` (a batch boundary) up to `size` bytes, reading
// `window_bytes` at a time and visiting each header inside the window, while `visit` returns true.
// Headers only: no CRC check; stops at the end or at anything that is not a plausible header.
// `visit` gets each batch's header bytes (batch::header_size, valid during the call). Blocking
// reads on the caller's thread; the file must stay open for the call.
void walk_batch_headers(const file_handle& file, uint32_t size, uint32_t from, size_t window_bytes,
                        const std::function<bool(const batch_location&, std::span<const uint8_t>)>& visit);

struct segment_options {
    uint32_t segment_bytes = 0;          // preallocation size
    size_t index_max_bytes = 0;          // segment.index.bytes
    uint32_t index_interval_bytes = 0;   // index.interval.bytes
    bool preallocate = false;
    int64_t roll_jitter_ms = 0;          // taken off the roll age of this segment (segment.jitter.ms)

    // Draws a new roll jitter each call, so every segment gets its own (Kafka's rule).
    [[nodiscard]] static segment_options from(const log_config& config) noexcept;
};

class segment {
public:
    // Creates empty files for a new active segment. Null with `*err` = errno on failure. A
    // `suffix` (".cleaned") names the files of a segment the log cleaner is writing.
    [[nodiscard]] static std::shared_ptr<segment> create(const std::string& dir, protocol::offset base_offset,
                                                         const segment_options& options, int64_t now_ms, int* err,
                                                         std::string_view suffix = {});
    // Opens an existing segment. Index files are opened as found (missing ones created empty);
    // the caller validates them or rebuilds them with recover_segment. `active` maps them
    // writable. The size is the .log file's size.
    [[nodiscard]] static std::shared_ptr<segment> open(const std::string& dir, protocol::offset base_offset, bool active,
                                                       const segment_options& options, int64_t now_ms, int* err);
    ~segment();
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;

    [[nodiscard]] protocol::offset base_offset() const noexcept { return base_offset_; }
    // Bytes of batches in the .log file (a preallocated file is larger).
    [[nodiscard]] uint32_t size() const noexcept { return size_; }
    [[nodiscard]] const std::shared_ptr<file_handle>& file() const noexcept { return file_; }
    [[nodiscard]] offset_index& offsets() noexcept { return offsets_; }
    [[nodiscard]] const offset_index& offsets() const noexcept { return offsets_; }
    [[nodiscard]] time_index& times() noexcept { return times_; }
    [[nodiscard]] const time_index& times() const noexcept { return times_; }
    [[nodiscard]] bool sealed() const noexcept { return !offsets_.file().writable(); }

    // Writes `bytes` (validated batches, offsets assigned) at the end and indexes each batch.
    // 0 or errno; on failure the file is cut back to its previous size.
    [[nodiscard]] int append(std::span<const uint8_t> bytes, std::span<const batch_info> batches, int64_t now_ms);
    // Index bookkeeping for one batch at the end of the segment, shared by append and recovery.
    void index_batch(const batch_location& b) noexcept;

    // Walks batch headers from `from` (a batch boundary) while `visit` returns true. Headers only:
    // no CRC check. Stops at the end or at anything that is not a plausible header.
    void walk(uint32_t from, const std::function<bool(const batch_location&)>& visit) const;
    // The same walk, also passing each batch's header bytes (batch::header_size, valid during the
    // call), with reads of `window_bytes`: for long walks (the producer-state replay at start-up).
    void walk_headers(uint32_t from, size_t window_bytes,
                      const std::function<bool(const batch_location&, std::span<const uint8_t>)>& visit) const;
    // The first batch whose last offset is >= `target`, or nullopt when the segment has none.
    [[nodiscard]] std::optional<batch_location> translate_offset(protocol::offset target) const;
    // The end of the last whole batch that ends at or before `limit`, walking from `from`.
    [[nodiscard]] uint32_t batch_end_at_or_below(uint32_t from, uint32_t limit) const;

    // Largest batch max-timestamp and the last offset of that batch (-1 and no_offset when none).
    [[nodiscard]] int64_t max_timestamp() const noexcept { return max_timestamp_; }
    [[nodiscard]] protocol::offset offset_of_max_timestamp() const noexcept { return offset_of_max_timestamp_; }
    // The timestamp retention.ms compares: the max timestamp, or the last write time without one.
    [[nodiscard]] int64_t retention_timestamp() const noexcept;
    // The first batch's max timestamp (-1 when none), for segment.ms rolling.
    [[nodiscard]] int64_t first_batch_timestamp() const;
    [[nodiscard]] int64_t created_ms() const noexcept { return created_ms_; }
    [[nodiscard]] int64_t roll_jitter_ms() const noexcept { return options_.roll_jitter_ms; }

    // Recomputes the max timestamp from the time index and a walk from its last entry (after a
    // truncation or when loading a segment whose tail is trusted).
    void reload_max_timestamp();
    // Restarts index bookkeeping (recovery rebuilds the indexes batch by batch).
    void reset_indexes() noexcept;
    // Recovery: cuts the file to the `valid_bytes` the scan accepted (indexes were rebuilt).
    [[nodiscard]] int cut_file(uint32_t valid_bytes);
    // Index sanity (start-up): entries well-formed and within the file, and the last offset-index
    // entry pointing at a batch that really ends at its offset.
    [[nodiscard]] bool indexes_look_valid() const;
    [[nodiscard]] bool indexes_dirty() const noexcept;
    // An index file did not exist when the segment was opened (it was created empty).
    [[nodiscard]] bool indexes_were_missing() const noexcept { return index_created_; }
    // Cuts the file to `size` bytes, dropping offset-index entries at or past it and time-index
    // entries for offsets >= `removed_from` (the first removed batch's base offset). 0 or errno.
    [[nodiscard]] int truncate_bytes(uint32_t size, protocol::offset removed_from);
    // Removes every batch whose last offset is >= `offset`. Returns the base offset of the first
    // removed batch (or nullopt when nothing was removed), or sets `*err`.
    [[nodiscard]] std::optional<protocol::offset> truncate_to(protocol::offset offset, int* err);

    // Roll or clean shutdown: final time-index entry, trimmed index files, trimmed log file.
    [[nodiscard]] int seal();
    // Makes a sealed segment active again (the log was truncated back into it).
    [[nodiscard]] int unseal();
    // Descriptors that a flush of this segment must fsync (the .log, and the index files while
    // they have unsynced changes), and a token for mark_indexes_synced once that flush succeeded:
    // changes made after the token are still unsynced. A sealed segment whose indexes are synced
    // closes their descriptors.
    [[nodiscard]] uint64_t sync_targets(std::vector<std::shared_ptr<file_handle>>& out) const;
    void mark_indexes_synced(uint64_t token) noexcept;
    void mark_indexes_dirty() noexcept { ++index_changes_; }

    // Renames every file "<name>.deleted". Returns the new paths (for the deleter) or sets `*err`.
    [[nodiscard]] std::vector<std::string> rename_to_deleted(int* err);
    // Renames the files from "<name><current suffix>" to "<name><suffix>": the index files
    // first, the .log last, so a complete .log under the new name implies complete indexes.
    [[nodiscard]] int rename_files(std::string_view suffix);
    [[nodiscard]] std::vector<std::string> file_paths() const;
    [[nodiscard]] std::string log_path() const;
    // The .log file's modification time (retention without timestamps, tombstone horizon).
    [[nodiscard]] int64_t last_modified_ms() const noexcept { return last_modified_ms_; }
    [[nodiscard]] int set_last_modified_ms(int64_t ms) noexcept;

private:
    segment(std::string dir, protocol::offset base_offset, std::shared_ptr<file_handle> file, offset_index offsets,
            time_index times, const segment_options& options, int64_t now_ms, std::string_view suffix);

    std::string dir_;
    protocol::offset base_offset_;
    std::shared_ptr<file_handle> file_;
    offset_index offsets_;
    time_index times_;
    segment_options options_;
    // Makes sure the blocks up to `end` are allocated (see the header comment). Best effort: a
    // file system without fallocate, or a full disk, just turns it off for this segment and the
    // write that follows reports any real error.
    void reserve_space_to(uint64_t end) noexcept;

    uint32_t size_ = 0;
    uint64_t reserved_to_ = 0;     // blocks up to here are allocated (KEEP_SIZE), >= size_ when reserving
    bool reserving_ = true;
    uint32_t bytes_since_index_entry_ = 0;
    int64_t max_timestamp_ = -1;
    protocol::offset offset_of_max_timestamp_ = protocol::no_offset;
    int64_t created_ms_ = 0;
    int64_t last_modified_ms_ = 0;
    mutable std::optional<int64_t> first_batch_timestamp_;
    uint64_t index_changes_ = 0;
    uint64_t index_changes_synced_ = 0;
    bool index_created_ = false;
    std::string suffix_;  // "", ".deleted", ".cleaned" or ".swap"
};

} // namespace samsa::storage
