// One partition's log: an ordered list of segments (storage/segment.h) under
// <log dir>/<topic>-<partition>/, the log start and end offsets, the leader-epoch cache, and the
// flush, roll, retention and truncation rules. docs/storage.md describes the files.
//
// Threading: every member function runs on the broker's event-loop thread.
// Appends are write() calls into the page cache; fsync runs on the flusher thread, file deletion on
// the file_deleter thread and compaction on the log_cleaner thread. Their results come back as
// closures that completion_queue::run() executes on the loop thread, so callbacks passed here
// (flush) always run on the loop thread, never from inside the call that registered them.
//
// Ownership: log_manager holds every log in a shared_ptr; background work holds weak references.
// `append` borrows its input for the call only (and patches offsets in place). The file ranges
// `read` returns own a reference to the segment's file, which stays open until the last range is
// dropped, even after the segment was deleted or the log closed.
#pragma once

#include "protocol/errors.h"
#include "protocol/kafka_ids.h"
#include "protocol/wire.h"
#include "storage/log_config.h"
#include "storage/topic_partition.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace samsa::storage {

class completion_queue;
class file_deleter;
class flusher;
class leader_epoch_cache;
class segment;
class log_cleaner;
class producer_state_table;
class txn_index;
struct aborted_txn;
struct batch_info;
struct producer_state_update;

// Who is appending: a producer (offsets assigned, control batches refused, timestamps checked),
// a coordinator of this broker (offsets assigned, control batches allowed: transaction markers,
// group metadata), or replication from a leader (offsets kept and checked for order).
enum class append_origin : uint8_t { client, coordinator, replication };

struct append_options {
    int64_t now_ms = 0;                            // wall clock: LogAppendTime, timestamp bounds, roll by time
    append_origin origin = append_origin::client;
    // Stamped into each batch when >= 0 (not for replication).
    protocol::leader_epoch leader_epoch = protocol::no_leader_epoch;
};

// One record the append's record checks refused (Produce v8+ record_errors).
struct record_error {
    int32_t batch_index = 0;  // the record's position in its batch
    std::string message;
};

struct append_result {
    protocol::error_code error = protocol::error_code::none;
    std::string error_message;                     // why, for the response's error_message
    std::vector<record_error> record_errors;       // the refused records, when the record checks failed
    protocol::offset base_offset = protocol::no_offset;  // first offset assigned (first batch's base offset)
    protocol::offset last_offset = protocol::no_offset;  // last offset assigned
    int64_t log_append_time = -1;                        // the stamped time under LogAppendTime, else -1
    protocol::offset log_start_offset = protocol::no_offset;
    int32_t batch_count = 0;
    int32_t record_count = 0;
    // An idempotent producer's retry of a batch already in the log: nothing was written and the
    // offsets (and log_append_time, Kafka's way: the batch's timestamp) are the original's.
    bool duplicate = false;
};

struct read_result {
    protocol::error_code error = protocol::error_code::none;  // none or offset_out_of_range
    std::vector<protocol::file_range> ranges;                 // whole batches, in offset order
    protocol::offset first_batch_offset = protocol::no_offset; // base offset of the first batch, -1 when empty

    [[nodiscard]] size_t size() const noexcept;
};

struct copy_read_result {
    protocol::error_code error = protocol::error_code::none;
    std::vector<uint8_t> bytes;                               // whole batches, in offset order
};

struct timestamp_offset {
    int64_t timestamp = -1;
    protocol::offset offset = protocol::no_offset;
    protocol::leader_epoch leader_epoch = protocol::no_leader_epoch;
};

struct epoch_end_offset {
    protocol::leader_epoch epoch = protocol::no_leader_epoch; // -1: undefined
    protocol::offset end_offset = protocol::no_offset;        // -1: undefined
};

struct delete_records_result {
    protocol::error_code error = protocol::error_code::none;  // none or offset_out_of_range
    protocol::offset low_watermark = protocol::no_offset;     // the log start offset afterwards
};

// What the log dir knows about this log before it is opened (log_manager reads it from the
// checkpoint files; absent values mean "missing checkpoint").
struct log_load_state {
    bool clean_shutdown = false;
    std::optional<protocol::offset> recovery_point;
    std::optional<protocol::offset> log_start_offset;
    int64_t now_ms = 0;
};

// What opening a log found and did (start-up messages, tests).
struct log_load_info {
    bool clean_shutdown = false;
    size_t segments = 0;
    size_t recovered_segments = 0;   // scanned batch by batch (after the recovery point, or unclean)
    size_t rebuilt_indexes = 0;      // indexes found missing or corrupt and rebuilt from the log
    size_t removed_segments = 0;     // segments after the first invalid byte
    uint64_t truncated_bytes = 0;    // bytes cut at the first invalid byte
    std::string problem;             // what the first invalid byte was, in words
};

// The background services a log hands slow work to; owned by log_manager (or a test), and they
// must outlive every log that uses them.
struct log_context {
    flusher& flush;
    file_deleter& deleter;
    completion_queue& completions;
};

using flush_callback = std::function<void(protocol::error_code)>;

class log : public std::enable_shared_from_this<log> {
public:
    // Opens (or creates) the partition directory `dir` and loads its segments, recovering them
    // as docs/storage.md describes when `state.clean_shutdown` is false. Blocks: start-up only or
    // when a partition is created. Returns nullptr with `*error` set on an I/O failure.
    [[nodiscard]] static std::shared_ptr<log> open(const std::string& dir, topic_partition tp, log_config config,
                                                   log_context ctx, const log_load_state& state, std::string* error);
    ~log();
    log(const log&) = delete;
    log& operator=(const log&) = delete;

    // Validates every v2 batch of `batches` (header, magic, CRC-32C, sizes, timestamps) before
    // writing anything, assigns offsets by patching base offsets in place, stamps LogAppendTime
    // when the topic asks for it, and writes the bytes at the end of the active segment.
    [[nodiscard]] append_result append(std::span<uint8_t> batches, const append_options& options);

    // Whole batches starting with the one that contains `offset`, at most `max_bytes` (but always
    // the first batch when `min_one_batch`), from one segment, and none that reaches `upper_bound`
    // (exclusive: the high watermark or the log end offset). offset_out_of_range below the log
    // start offset or above the log end offset. A range may shrink if the log is truncated while
    // it is being sent: the transport must treat a short sendfile at end of file as an error.
    [[nodiscard]] read_result read(protocol::offset offset, int32_t max_bytes, protocol::offset upper_bound,
                                   bool min_one_batch = true) const;
    // The same bytes, copied (for internal readers: coordinators, tests, tools).
    [[nodiscard]] copy_read_result read_copy(protocol::offset offset, int32_t max_bytes, protocol::offset upper_bound,
                                             bool min_one_batch = true) const;

    [[nodiscard]] protocol::offset log_start_offset() const noexcept { return log_start_offset_; }
    [[nodiscard]] protocol::offset log_end_offset() const noexcept { return log_end_offset_; }
    [[nodiscard]] protocol::offset high_watermark() const noexcept { return high_watermark_; }
    // Set by the broker (replication); clamped to [log start offset, log end offset]. It starts at
    // the log end offset when the log is opened and does not follow appends by itself (a broker
    // with one replica sets it to the log end after each append). Retention, DeleteRecords and
    // compaction never pass it.
    void set_high_watermark(protocol::offset offset) noexcept;
    // The last stable offset: the first offset of the earliest transaction still open, or the
    // high watermark when that is lower or none is open. read_committed readers stop here.
    [[nodiscard]] protocol::offset last_stable_offset() const noexcept;
    // The producers of this partition (storage/producer_state_table.h), for DescribeProducers.
    [[nodiscard]] const producer_state_table& producers() const noexcept { return *producers_; }
    // The aborted transactions that overlap [fetch_offset, upper_bound), from the .txnindex files
    // of the segments from the one holding fetch_offset on (read_committed Fetch).
    [[nodiscard]] std::vector<aborted_txn> aborted_transactions(protocol::offset fetch_offset,
                                                                   protocol::offset upper_bound) const;
    // Forgets producers idle for producer.id.expiration.ms (log_manager calls it periodically).
    size_t expire_producers(int64_t now_ms, int64_t expiration_ms);
    // Offsets below this were made durable (fsync) and are not scanned after an unclean stop.
    [[nodiscard]] protocol::offset recovery_point() const noexcept { return recovery_point_; }

    // Removes every batch whose last offset is >= `offset`; the log end offset becomes `offset`,
    // or the base offset of a batch that straddles it. Replication only.
    [[nodiscard]] protocol::error_code truncate_to(protocol::offset offset);
    // Deletes every segment and starts an empty log at `offset` (a follower far behind).
    [[nodiscard]] protocol::error_code truncate_fully_and_start_at(protocol::offset offset, int64_t now_ms);
    // DeleteRecords: moves the log start offset to `offset` (<= high watermark) and deletes the
    // segments that lie wholly before it.
    [[nodiscard]] delete_records_result delete_records_before(protocol::offset offset);

    // ListOffsets: the first record with timestamp >= `timestamp`, or nullopt when none has.
    [[nodiscard]] std::optional<timestamp_offset> offset_for_timestamp(int64_t timestamp) const;
    // ListOffsets MAX_TIMESTAMP: the record with the largest timestamp (offset -1 when empty).
    [[nodiscard]] timestamp_offset max_timestamp() const;
    // ListOffsets v0 (the old form): at most `max_count` offsets, largest first, taken from the
    // segments' base offsets (at least the log start offset) and the log end offset, starting at
    // the last one whose segment was written at or before `timestamp` (-1: the end, -2: the start).
    // A segment's time is its largest record timestamp, or its last write without one.
    [[nodiscard]] std::vector<protocol::offset> legacy_offsets_before(int64_t timestamp, int32_t max_count, int64_t now_ms) const;

    // Leader epochs (leader-epoch-checkpoint): the latest epoch (-1 when none), the end offset of
    // an epoch for OffsetForLeaderEpoch, and the epoch of the batch holding an offset.
    [[nodiscard]] protocol::leader_epoch latest_epoch() const noexcept;
    [[nodiscard]] epoch_end_offset end_offset_for_epoch(protocol::leader_epoch epoch) const;
    [[nodiscard]] protocol::leader_epoch epoch_for_offset(protocol::offset offset) const;
    // This broker became leader in `epoch`: the epoch starts at the log end offset.
    void assign_leader_epoch(protocol::leader_epoch epoch);

    // Makes everything appended so far durable. Appends made while an fsync runs share the next
    // one (group commit). `done` runs on the loop thread with none or kafka_storage_error.
    void flush(flush_callback done = {});
    // Periodic duties, called by log_manager::tick: flush by flush.ms.
    void tick(int64_t now_ms);
    // Retention: deletes whole segments past retention.ms / retention.bytes (cleanup.policy
    // delete) or wholly before the log start offset. Returns how many segments went.
    size_t delete_old_segments(int64_t now_ms);
    // Starts a new segment at the log end offset (an empty active segment is kept as is).
    [[nodiscard]] protocol::error_code roll(int64_t now_ms);

    [[nodiscard]] const log_config& config() const noexcept { return config_; }
    void set_config(const log_config& config);
    [[nodiscard]] const topic_partition& partition() const noexcept { return tp_; }
    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
    [[nodiscard]] std::optional<protocol::uuid> topic_id() const noexcept { return topic_id_; }
    // Records the topic id in partition.metadata (written on the flusher thread).
    void set_topic_id(const protocol::uuid& id);
    [[nodiscard]] uint64_t size_bytes() const noexcept;
    [[nodiscard]] size_t segment_count() const noexcept { return segments_.size(); }
    // Set after an I/O error: every later append, truncation or flush fails with
    // kafka_storage_error, as Kafka takes a failed log dir offline.
    [[nodiscard]] bool offline() const noexcept { return offline_; }
    [[nodiscard]] const std::string& offline_reason() const noexcept { return offline_reason_; }
    [[nodiscard]] const log_load_info& load_info() const noexcept { return load_info_; }
    // Compaction: offsets below this have been cleaned (cleaner-offset-checkpoint). log_manager
    // restores it at start-up; the log cleaner advances it.
    [[nodiscard]] protocol::offset cleaner_offset() const noexcept { return cleaner_offset_; }
    void set_cleaner_offset(protocol::offset offset) noexcept { cleaner_offset_ = offset; }

    // Clean shutdown, step one: appends the final time-index entry and trims the active
    // segment's indexes (and a preallocated log file) to their contents. The caller then flushes.
    void prepare_close();
    // Stops using the files: no flush. Used before the directory is deleted or after close.
    void close() noexcept;

private:
    friend class log_cleaner;

    log(std::string dir, topic_partition tp, log_config config, log_context ctx);

    [[nodiscard]] bool load(const log_load_state& state, std::string* error);
    [[nodiscard]] bool load_segments(const log_load_state& state, std::vector<protocol::offset> bases,
                                     const std::vector<protocol::offset>& rebuild, bool rebuild_epochs, std::string* error);
    [[nodiscard]] size_t segment_index_for(protocol::offset offset) const noexcept;
    [[nodiscard]] bool should_roll(const segment& active, uint64_t incoming_bytes, protocol::offset last_offset,
                                   int64_t max_timestamp, size_t batch_count) const;
    [[nodiscard]] protocol::error_code roll_to(protocol::offset base_offset, int64_t now_ms);
    void delete_front_segments(size_t count);
    void retire_segment(const std::shared_ptr<segment>& seg);
    void go_offline(std::string why);
    void write_leader_epoch_checkpoint();
    void write_partition_metadata();
    // Makes the segments below `target` durable (all of them when it is the log end offset).
    void flush_until(protocol::offset target, flush_callback done);
    void on_flushed(protocol::offset offset, uint64_t truncations_at_request, int error);
    [[nodiscard]] std::optional<timestamp_offset> find_in_segment(const segment& seg, int64_t timestamp) const;

    // Producer state and transactions (storage/log_producers.cpp).
    // Checks the producer fields of the batches about to be written (offsets as they will be
    // assigned from `first_offset`); fills `out` with the refusal or the duplicate's offsets.
    [[nodiscard]] bool stage_producers(std::span<const uint8_t> batches, const std::vector<batch_info>& infos,
                                       protocol::offset first_offset, const append_options& options,
                                       producer_state_update& update, append_result& out) const;
    // After the write: the table takes the update; aborted transactions go to the txn index.
    void apply_producers(producer_state_update update);
    // Start-up and truncation: the latest valid snapshot at or below the log end offset, then
    // the log after it. Without any snapshot after a clean stop, the log had no producers.
    void rebuild_producer_state(bool clean_shutdown);
    // Writes `<log end offset>.snapshot`: on the flusher thread, or now when `now` (shutdown).
    void write_producer_snapshot(bool now);
    // Drops snapshots and txn indexes outside [first segment, log end offset].
    void prune_producer_files();
    [[nodiscard]] txn_index* txn_index_for(protocol::offset segment_base);

    std::string dir_;
    topic_partition tp_;
    log_config config_;
    log_context ctx_;
    std::vector<std::shared_ptr<segment>> segments_;  // by base offset; the last one is active
    std::unique_ptr<leader_epoch_cache> epochs_;
    std::unique_ptr<producer_state_table> producers_;
    std::map<protocol::offset, std::unique_ptr<txn_index>> txn_indexes_;  // by segment base offset
    std::optional<protocol::uuid> topic_id_;
    // Cleaned segments renamed *.swap and waiting for the directory fsync before they replace
    // their source (storage/log_cleaner.h); retiring a source retires its swap too.
    std::vector<std::pair<const segment*, std::shared_ptr<segment>>> pending_swaps_;
    // The batch list of the previous append, lent to the next one for its capacity: no
    // allocation per append.
    std::vector<batch_info> spare_batches_;

    protocol::offset log_start_offset_{0};
    protocol::offset log_end_offset_{0};
    protocol::offset high_watermark_{0};
    protocol::offset recovery_point_{0};
    int64_t clock_ms_ = 0;              // the latest wall-clock time the log was given
    protocol::offset cleaner_offset_{0};
    uint64_t truncations_ = 0;          // bumped by every truncation: stale flush results are ignored
    int64_t unflushed_messages_ = 0;
    int64_t last_flush_ms_ = 0;
    bool dir_dirty_ = true;             // a file was created or renamed since the last flush
    bool offline_ = false;
    bool closed_ = false;
    std::string offline_reason_;
    log_load_info load_info_;
};

} // namespace samsa::storage
