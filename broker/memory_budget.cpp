#include "broker/memory_budget.h"

#include <vector>

namespace samsa::broker {

bool memory_budget::try_acquire(size_t n) noexcept {
    if (limit_ >= 0 && used_ != 0 && used_ + n > static_cast<size_t>(limit_)) return false;
    used_ += n;
    return true;
}

void memory_budget::release(size_t n) noexcept {
    used_ = n > used_ ? 0 : used_ - n;
    if (waiters_.empty() || notifying_ || exhausted()) return;
    // A waiter may acquire, release or wait again; run a snapshot, not the live map.
    notifying_ = true;
    auto ready = std::move(waiters_);
    waiters_.clear();
    for (auto& [id, fn] : ready) {
        if (fn) fn();
    }
    notifying_ = false;
}

void memory_budget::wait(uint64_t id, std::function<void()> fn) { waiters_[id] = std::move(fn); }

} // namespace samsa::broker
