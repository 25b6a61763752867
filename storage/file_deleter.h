// The background thread that removes files and directories storage no longer needs: segment
// files already renamed "*.deleted" (after file.delete.delay.ms, so readers that still hold them
// finish; an open descriptor keeps the data readable after the unlink anyway) and partition
// directories renamed "*-delete". Unlinking a large file can take a long time, so it never runs on
// the event loop. A removal that fails for want of file descriptors is tried again later. Owned
// by log_manager (or a test); the destructor carries out everything still queued, then joins.
// Any thread may call schedule().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace samsa::storage {

class file_deleter {
public:
    file_deleter();
    ~file_deleter();
    file_deleter(const file_deleter&) = delete;
    file_deleter& operator=(const file_deleter&) = delete;

    // Removes each path (files, or directories with everything under them) after `delay_ms`.
    void schedule(std::vector<std::string> paths, int64_t delay_ms);
    // Carries out everything queued now, each removal once more at most, and blocks until done.
    void drain();
    [[nodiscard]] uint64_t removed_count() const noexcept;
    // Removals queued again because descriptors had run out.
    [[nodiscard]] uint64_t retried_count() const noexcept;

private:
    struct item {
        std::chrono::steady_clock::time_point due;
        std::vector<std::string> paths;
    };
    void main();

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<item> items_;
    bool stopping_ = false;
    bool busy_ = false;
    bool draining_ = false;  // drain() waits: failed removals are not tried again
    uint64_t removed_ = 0;
    uint64_t retried_ = 0;
    std::thread thread_;
};

// Removes a file or a whole directory tree; missing paths are not an error. 0 or errno.
[[nodiscard]] int remove_tree(const std::string& path) noexcept;

} // namespace samsa::storage
