// The broker-wide budget for request and response memory (queued.max.request.bytes). A
// connection takes bytes before it buffers a frame and gives them back when the frame has
// been handled; response bytes are counted from when they are queued until written. Over the
// budget, connections stop reading (backpressure) and wait to be called back when bytes are
// released. Owned by the server; loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>

namespace samsa::broker {

class memory_budget {
public:
    // `limit` < 0: no limit.
    explicit memory_budget(int64_t limit) : limit_(limit) {}

    // Takes `n` bytes if they fit, or if nothing is held at all (so a single request larger
    // than the whole budget still gets through instead of waiting forever).
    [[nodiscard]] bool try_acquire(size_t n) noexcept;
    // Counts bytes that exist already (an encoded response), over the limit if need be.
    void force_acquire(size_t n) noexcept { used_ += n; }
    void release(size_t n) noexcept;

    [[nodiscard]] bool exhausted() const noexcept { return limit_ >= 0 && used_ >= static_cast<size_t>(limit_); }
    [[nodiscard]] size_t used() const noexcept { return used_; }

    // Registers `fn` to run once, after the next release. Replaces an earlier wait by `id`.
    void wait(uint64_t id, std::function<void()> fn);
    void cancel_wait(uint64_t id) noexcept { waiters_.erase(id); }

private:
    int64_t limit_;
    size_t used_ = 0;
    std::map<uint64_t, std::function<void()>> waiters_;
    bool notifying_ = false;
};

} // namespace samsa::broker
