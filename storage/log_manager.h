// All partition logs of the broker's log dirs (log.dirs): loads them at start-up (recovering
// after an unclean stop), creates, looks up and deletes them, and owns the background threads
// they share (flusher, file_deleter, log_cleaner) and the per-dir checkpoint files:
// recovery-point-offset-checkpoint, log-start-offset-checkpoint, cleaner-offset-checkpoint and the
// clean-shutdown marker. docs/storage.md describes the layout.
//
// Threading: construct, `open`, every lookup, `tick`, `run_completions` and `close` on the broker's
// event-loop thread. Background threads report completions through `wake`, which they call from
// their own thread (the broker passes something like uv_async_send); the broker then calls
// `run_completions()` on the loop thread. `open` and `close` block (start-up and shutdown).
#pragma once

#include "protocol/errors.h"
#include "storage/log.h"
#include "storage/log_config.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace samsa::storage {

struct log_manager_config {
    std::vector<std::string> log_dirs;                      // log.dirs
    log_config defaults;                                    // the broker's topic defaults
    // The settings of a topic found on disk at start-up (the broker's metadata); `defaults` when
    // empty or when it returns nullopt.
    std::function<std::optional<log_config>(const std::string& topic)> topic_config;
    int64_t flush_offset_checkpoint_interval_ms = 60000;    // log.flush.offset.checkpoint.interval.ms
    int64_t flush_start_offset_checkpoint_interval_ms = 60000;  // log.flush.start.offset.checkpoint.interval.ms
    int64_t retention_check_interval_ms = 300000;           // log.retention.check.interval.ms
    bool cleaner_enable = true;                             // log.cleaner.enable
    int64_t cleaner_backoff_ms = 15000;                     // log.cleaner.backoff.ms
    int64_t cleaner_dedupe_buffer_size = 128LL * 1024 * 1024;  // log.cleaner.dedupe.buffer.size
    int64_t producer_id_expiration_ms = 86400000;           // producer.id.expiration.ms
    int64_t producer_id_expiration_check_interval_ms = 600000;  // producer.id.expiration.check.interval.ms
};

class completion_queue;
class file_deleter;
class flusher;
class log_cleaner;

class log_manager {
public:
    // `wake` may be empty when the owner polls run_completions() itself (tests, tools).
    log_manager(log_manager_config config, std::function<void()> wake);
    ~log_manager();
    log_manager(const log_manager&) = delete;
    log_manager& operator=(const log_manager&) = delete;

    // Locks every log dir, reads its checkpoints, removes the clean-shutdown marker and opens every
    // partition directory in it (recovering what an unclean stop left). Blocks. False with `*error`
    // when a dir cannot be used.
    [[nodiscard]] bool open(int64_t now_ms, std::string* error);

    [[nodiscard]] std::shared_ptr<log> get(const topic_partition& tp) const;
    // Creates the partition's log in the log dir holding the fewest partitions, or returns the
    // existing one. Null with `*error` on an I/O failure; the directory it made then goes again.
    [[nodiscard]] std::shared_ptr<log> get_or_create(const topic_partition& tp, const log_config& config,
                                                     int64_t now_ms, std::string* error);
    // Closes the log, renames its directory "<topic>-<partition>.<id>-delete" and removes it on
    // the deleter thread. False when there is no such log.
    bool remove(const topic_partition& tp);
    [[nodiscard]] std::vector<topic_partition> partitions() const;
    [[nodiscard]] size_t size() const noexcept { return logs_.size(); }

    // Periodic duties; call every ~100 ms to a few seconds with the wall clock: flush by flush.ms,
    // retention every log.retention.check.interval.ms, checkpoints at their intervals, and
    // handing compaction work to the cleaner.
    void tick(int64_t now_ms);
    // Runs the completions background threads have posted. Returns how many ran.
    size_t run_completions();
    // Blocks until at least one completion arrived (or `timeout_ms` passed), then runs them.
    size_t wait_and_run_completions(int64_t timeout_ms);

    // Clean shutdown: trims and flushes every log, writes every checkpoint and then the
    // clean-shutdown marker, and stops the background threads. Blocks.
    void close();

    [[nodiscard]] completion_queue& completions() noexcept { return *completions_; }
    // Null when log.cleaner.enable is false.
    [[nodiscard]] log_cleaner* cleaner() noexcept { return cleaner_.get(); }

    // Writes the recovery-point, log-start-offset and cleaner-offset checkpoints of every dir now
    // (on the flusher thread); `wait` blocks until they are durable.
    void write_checkpoints(bool wait);

private:
    struct dir_state;

    [[nodiscard]] bool open_dir(dir_state& d, int64_t now_ms, std::string* error);
    [[nodiscard]] log_context context() noexcept;
    // Renames the partition directory `dir` (in log dir `parent`, named `name`) "*-delete", so
    // that neither a new log nor the next start-up takes it for a partition, and removes it on
    // the deleter thread.
    void discard_dir(const std::string& parent, const std::string& dir, const std::string& name);
    // Runs `work` on the flusher thread and waits for it, running completions meanwhile.
    int run_on_flusher(std::function<int()> work);
    void wait_for(const std::function<bool()>& done);

    log_manager_config config_;
    std::unique_ptr<completion_queue> completions_;
    std::unique_ptr<flusher> flusher_;
    std::unique_ptr<file_deleter> deleter_;
    std::unique_ptr<log_cleaner> cleaner_;
    std::vector<std::unique_ptr<dir_state>> dirs_;
    std::map<topic_partition, std::shared_ptr<log>> logs_;
    std::map<topic_partition, size_t> dir_of_;            // index into dirs_
    std::map<topic_partition, protocol::offset> written_start_offsets_;
    int64_t last_recovery_checkpoint_ms_ = 0;
    int64_t last_start_checkpoint_ms_ = 0;
    int64_t last_retention_ms_ = 0;
    int64_t last_cleaner_ms_ = 0;
    int64_t last_producer_expiry_ms_ = 0;
    bool cleaner_offsets_moved_ = false;
    bool opened_ = false;
    bool closed_ = false;
};

} // namespace samsa::storage
