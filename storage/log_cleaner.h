// The log cleaner: compaction for logs with cleanup.policy=compact, off the event loop. The loop
// thread decides what to clean (log_manager::tick picks the dirtiest log), snapshots the log's
// sealed segments and hands them to the cleaner's own thread, which runs storage/compaction and
// posts the result back; the loop thread then swaps the cleaned segments in. One log at a time.
//
// What is cleanable: sealed segments wholly below min(active segment, high watermark) whose
// newest record is older than min.compaction.lag.ms. The dirty part starts at the cleaner offset
// (cleaner-offset-checkpoint). A log is due when dirty bytes / cleanable bytes reaches
// min.cleanable.dirty.ratio, or when its oldest dirty record is older than max.compaction.lag.ms.
//
// The swap, for each group of sources merged into one cleaned segment (Kafka's scheme; the
// recovery rules are in docs/storage.md):
//
//   cleaner thread   write <base>.log.cleaned (+ .index, .timeindex, .txnindex .cleaned), fsync
//   loop thread      rename *.cleaned -> *.swap (indexes first, .log last)
//   flusher thread   fsync the directory: from here a restart completes the swap
//   loop thread      rename the group's other sources *.deleted, then *.swap -> final names
//                    (replacing the first source's files, .log last), and put the new segment
//                    in the log's list in place of the group
//   flusher thread   fsync the directory
//
// Readers holding ranges of a replaced segment keep reading the old file through its open
// descriptor. A truncation while a cleaning runs discards the result (its key map may rest on
// records the truncation removed). Owned by log_manager (or a test), created and used on the loop
// thread; the destructor stops the thread, abandoning work in progress (its *.cleaned files are
// removed at the next start).
#pragma once

#include "storage/log.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace samsa::storage {

struct compaction_result;

struct cleaning_report {
    bool ran = false;                // false: abandoned (truncation, shutdown) or failed
    std::string error;
    protocol::offset cleaner_offset = protocol::no_offset;  // the log's cleaner offset afterwards
    size_t segments_replaced = 0;    // sources replaced by cleaned segments
    size_t groups_merged = 0;        // cleaned segments that replaced more than one source
    size_t segments_removed = 0;
    uint64_t bytes_before = 0;
    uint64_t bytes_after = 0;
    uint64_t records_removed = 0;
    uint64_t batches_rebuilt = 0;
    uint64_t markers_removed = 0;
};

struct log_dirtiness {
    uint64_t clean_bytes = 0;
    uint64_t dirty_bytes = 0;
    double ratio = 0;                // dirty / (clean + dirty)
    bool forced = false;             // max.compaction.lag.ms passed
    bool due = false;
};

class log_cleaner {
public:
    using callback = std::function<void(const cleaning_report&)>;

    log_cleaner(log_context ctx, size_t dedupe_buffer_bytes);
    ~log_cleaner();
    log_cleaner(const log_cleaner&) = delete;
    log_cleaner& operator=(const log_cleaner&) = delete;

    // How dirty `l` is now and whether it is due (loop thread).
    [[nodiscard]] static log_dirtiness measure(const log& l, int64_t now_ms);
    // Starts cleaning `l` when it is due, or whenever it has dirty segments if `force`. False
    // when the cleaner is busy or there is nothing to do. `done` runs on the loop thread.
    bool start(const std::shared_ptr<log>& l, int64_t now_ms, bool force, callback done = {});
    [[nodiscard]] bool busy() const noexcept { return busy_; }

private:
    struct job;
    void main();
    void finish(const std::shared_ptr<job>& j, std::shared_ptr<compaction_result> result);
    void complete_swap(const std::shared_ptr<job>& j, int fsync_error);
    void end(const std::shared_ptr<job>& j, cleaning_report report);

    log_context ctx_;
    size_t dedupe_buffer_bytes_;
    bool busy_ = false;
    std::shared_ptr<bool> alive_;  // completions posted to the loop check it: the cleaner may be gone
    std::atomic<bool> stopping_{false};
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::function<void()>> work_;
    std::thread thread_;
};

} // namespace samsa::storage
