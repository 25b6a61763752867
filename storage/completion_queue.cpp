#include "storage/completion_queue.h"

#include <chrono>

namespace samsa::storage {

void completion_queue::post(std::function<void()> fn) {
    {
        std::lock_guard lock(mu_);
        items_.push_back(std::move(fn));
    }
    cv_.notify_all();
    if (notify_) notify_();
}

size_t completion_queue::run() {
    std::vector<std::function<void()>> batch;
    {
        std::lock_guard lock(mu_);
        batch.swap(items_);
    }
    for (auto& fn : batch) fn();
    return batch.size();
}

size_t completion_queue::wait_and_run(int64_t timeout_ms) {
    {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return !items_.empty(); });
    }
    return run();
}

size_t completion_queue::pending() const {
    std::lock_guard lock(mu_);
    return items_.size();
}

} // namespace samsa::storage
