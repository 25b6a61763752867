// Log compaction, the algorithm (cleanup.policy=compact): given a log's cleanable segments,
// keep only the latest record of every key and write the survivors to new segment files.
// Runs on the log cleaner's thread over a snapshot taken on the loop thread; it reads the source
// segments through their shared descriptors (sealed segments do not change while it runs; a
// truncation makes the loop thread discard the result) and creates new files named
// "<base>.log.cleaned" (with indexes), fully written, trimmed and fsynced. storage/log_cleaner
// swaps them in. The rules, in the order they apply to a record:
//
//   control batches (transaction markers) ....................... kept as they are
//   batches of a transaction whose marker is not in the range .... kept as they are
//   batches of an aborted transaction ............................ removed (*)
//   a record without a key ....................................... kept
//   a record whose key appears again at a higher offset
//     in the dirty part of the log ............................... removed
//   a tombstone (null value) in a segment last modified at or
//     before the delete horizon (delete.retention.ms) ............ removed
//   anything else ................................................ kept
//
// (*) A producer's last batch in the range is kept as an empty batch (header only, no records)
// when all its records go, so its offsets and sequence numbers survive, as Kafka does. Batches
// that lose some records are rebuilt with the same base offset, producer fields, epoch and codec
// (compressed batches are decompressed and compressed again); untouched batches are copied.
#pragma once

#include "storage/segment.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace samsa::storage {

class file_handle;

struct compaction_source {
    std::shared_ptr<segment> seg;             // kept alive; only its descriptor is used off the loop
    std::shared_ptr<file_handle> file;
    int64_t base_offset = 0;
    int64_t next_base_offset = 0;             // where the next segment starts
    uint32_t size = 0;
    int64_t last_modified_ms = 0;
};

struct compaction_plan {
    std::string dir;
    std::vector<compaction_source> segments;  // from the log's first segment, in order, all sealed
    size_t first_dirty = 0;                   // index of the first segment not cleaned before
    int64_t delete_horizon_ms = 0;            // see above; INT64_MIN keeps every tombstone
    segment_options options;
    size_t map_budget_bytes = 0;              // log.cleaner.dedupe.buffer.size
    int64_t now_ms = 0;
    const std::atomic<bool>* stop = nullptr;  // set when the cleaner shuts down
};

struct compacted_segment {
    enum class outcome : uint8_t {
        unchanged,   // nothing to remove: the source stays
        replaced,    // `cleaned` replaces the source
        emptied,     // nothing survives: the source can go (never the log's first segment)
    };
    outcome what = outcome::unchanged;
    std::shared_ptr<segment> cleaned;         // sealed, fsynced, files named *.cleaned
};

struct compaction_result {
    int error = 0;                            // errno, or EIO for a malformed batch
    std::string message;
    size_t processed = 0;                     // segments [0, processed) were compacted
    int64_t next_dirty_offset = 0;            // the new cleaner offset
    std::vector<compacted_segment> segments;  // one per processed segment
    uint64_t bytes_before = 0;
    uint64_t bytes_after = 0;
    uint64_t records_removed = 0;
};

[[nodiscard]] compaction_result compact(const compaction_plan& plan);

} // namespace samsa::storage
