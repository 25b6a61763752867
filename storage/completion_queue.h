// The way background threads (flusher, deleter, cleaner) hand results back to the event loop:
// they post closures here from their own thread; the loop thread runs them with run(). After each
// post the queue calls `notify` on the posting thread so the owner can wake its loop (the broker
// passes a uv_async_send wrapper; storage never includes <uv.h>). Owned by log_manager (or a test)
// and must outlive every thread that posts to it. Closures must not throw.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace samsa::storage {

class completion_queue {
public:
    explicit completion_queue(std::function<void()> notify = {}) : notify_(std::move(notify)) {}
    completion_queue(const completion_queue&) = delete;
    completion_queue& operator=(const completion_queue&) = delete;

    // Any thread.
    void post(std::function<void()> fn);

    // Loop thread: runs what was posted before the call (closures posted while running wait for
    // the next call). Returns how many ran.
    size_t run();
    // Loop thread: waits until something was posted or `timeout_ms` passed, then run()s.
    size_t wait_and_run(int64_t timeout_ms);
    [[nodiscard]] size_t pending() const;

private:
    std::function<void()> notify_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::function<void()>> items_;
};

} // namespace samsa::storage
