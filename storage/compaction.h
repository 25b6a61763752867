// Log compaction, the algorithm (cleanup.policy=compact), after Kafka's log cleaner: given a
// log's cleanable segments, keep only the latest record of every key, drop aborted transactional
// data, and write the survivors to new segments. Runs on the log cleaner's thread over a snapshot
// taken on the loop thread; it reads the source segments through their shared descriptors
// (sealed segments do not change while it runs; a truncation makes the loop thread discard the
// result). Consecutive sources are merged into one output segment per group
// (storage/segment_groups.h), named after the group's first base offset:
// "<base>.log.cleaned" with its indexes and, when needed, "<base>.txnindex.cleaned", fully
// written, trimmed and fsynced. storage/log_cleaner swaps them in.
//
// The rules, for each batch in offset order (`now` is the plan's clock):
//
//   data of a transaction whose marker is not in the range ....... kept as it is
//   data of an aborted transaction ............................... removed (*)
//   a record whose key appears again at a higher offset
//     in the dirty part of the log ............................... removed (*)
//   a tombstone (null value) in a batch whose delete horizon
//     has passed (now >= horizon) ................................ removed (*)
//   a tombstone in a batch without a delete horizon .............. kept; the batch gets one (**)
//   a COMMIT/ABORT marker while data of its transaction is
//     still in the log ........................................... kept
//   a marker with no data of its transaction left: without a
//     horizon it gets one (**); once the horizon has passed ...... removed
//   anything else (records without a key, other control batches) . kept
//
// (*) A producer's last data batch in the range is kept as an empty batch (header only) when all
// its records go, so its offsets and sequence numbers survive (Kafka's RETAIN_EMPTY): rebuilding
// producer state from the log still finds the producer's last sequence.
// (**) KIP-534: the batch is rebuilt with base_timestamp = now + delete.retention.ms and the
// delete-horizon attribute bit, so the horizon travels with the batch (replicas, re-cleanings).
// Batches that lose records or gain a horizon are rebuilt with the same base offset, producer
// fields, epoch and codec (compressed batches are decompressed and compressed again); untouched
// batches are copied byte for byte. The output's .txnindex lists exactly the aborted
// transactions whose ABORT marker it keeps while data of theirs was still read in this pass.
#pragma once

#include "storage/segment.h"
#include "storage/txn_index.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::storage {

class file_handle;

struct compaction_source {
    std::shared_ptr<segment> seg;             // kept alive; only its descriptor is used off the loop
    std::shared_ptr<file_handle> file;
    protocol::offset base_offset;
    protocol::offset next_base_offset;        // where the next segment starts
    uint32_t size = 0;
    int64_t last_modified_ms = 0;
    size_t offset_index_entries = 0;          // for grouping (segment.index.bytes)
    size_t time_index_entries = 0;
    bool has_txn_index = false;               // a <base>.txnindex exists for it
    std::vector<aborted_txn> aborted;         // its .txnindex entries
};

struct compaction_plan {
    std::string dir;
    std::vector<compaction_source> segments;  // from the log's first segment, in order, all sealed
    size_t first_dirty = 0;                   // index of the first segment not cleaned before
    int64_t delete_retention_ms = 0;          // delete.retention.ms: the horizon is now + this
    segment_options options;                  // segment_bytes and index_max_bytes bound a group
    size_t map_budget_bytes = 0;              // log.cleaner.dedupe.buffer.size
    int64_t now_ms = 0;
    const std::atomic<bool>* stop = nullptr;  // set when the cleaner shuts down
};

// One group of consecutive sources and what became of it.
struct compacted_group {
    enum class outcome : uint8_t {
        unchanged,   // a single source with nothing to change: it stays
        replaced,    // `cleaned` replaces sources [first, end)
        emptied,     // nothing survives: the sources can go (never with the log's first segment)
    };
    size_t first = 0;
    size_t end = 0;
    outcome what = outcome::unchanged;
    std::shared_ptr<segment> cleaned;         // sealed, fsynced, files named *.cleaned
    // The cleaned segment's aborted transactions; written to "<base>.txnindex.cleaned" when
    // `txn_index_written` (whenever it has entries or a source had a .txnindex to replace).
    std::vector<aborted_txn> aborted;
    bool txn_index_written = false;
};

struct compaction_result {
    int error = 0;                            // errno, or EIO for a malformed batch
    std::string message;
    size_t processed = 0;                     // segments [0, processed) were compacted
    protocol::offset next_dirty_offset;       // the new cleaner offset
    std::vector<compacted_group> groups;      // covering [0, processed), in order
    uint64_t bytes_before = 0;
    uint64_t bytes_after = 0;
    uint64_t records_removed = 0;
    uint64_t batches_rebuilt = 0;             // batches rewritten (records removed or a horizon set)
    uint64_t markers_removed = 0;
};

[[nodiscard]] compaction_result compact(const compaction_plan& plan);

} // namespace samsa::storage
