// The background thread that makes data durable, so fsync never runs on the event loop: it
// fsyncs segment and index files (and their directory after a create or rename), and runs the
// small durable writes storage needs (checkpoint files). Owned by log_manager (or a test).
//
// Group commit: the thread takes every job queued since its last pass at once and fsyncs each
// distinct file once for all of them, so many appends waiting for durability share one fsync.
// Completions are posted to the completion_queue and run on the loop thread. Jobs hold shared_ptrs
// to their files, which therefore stay open until the job is done. The destructor finishes the
// queued jobs, then joins.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace samsa::storage {

class completion_queue;
class file_handle;

class flusher {
public:
    // Receives 0 or the errno of the first failure, on the loop thread.
    using callback = std::function<void(int error)>;

    explicit flusher(completion_queue& completions);
    ~flusher();
    flusher(const flusher&) = delete;
    flusher& operator=(const flusher&) = delete;

    // fsyncs every file in `files` (file_handle::sync), then posts `done`. Any thread.
    void sync(std::vector<std::shared_ptr<file_handle>> files, callback done);
    // Runs `work` on the flusher thread (it returns 0 or errno), then posts `done`. Jobs of this
    // kind run in the order they were submitted. Any thread.
    void run(std::function<int()> work, callback done);

    // How many fsyncs of files the thread has issued (tests prove group commit with it).
    [[nodiscard]] uint64_t sync_count() const noexcept;

private:
    struct job {
        std::vector<std::shared_ptr<file_handle>> files;
        std::function<int()> work;
        callback done;
    };
    void main();

    completion_queue& completions_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<job> queue_;
    bool stopping_ = false;
    uint64_t syncs_ = 0;
    std::thread thread_;
};

} // namespace samsa::storage
