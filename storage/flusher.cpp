#include "storage/flusher.h"

#include "storage/completion_queue.h"
#include "storage/file_handle.h"

#include <cerrno>
#include <unordered_map>

namespace samsa::storage {

flusher::flusher(completion_queue& completions) : completions_(completions) {
    thread_ = std::thread([this] { main(); });
}

flusher::~flusher() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void flusher::sync(std::vector<std::shared_ptr<file_handle>> files, callback done) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(job{std::move(files), {}, std::move(done)});
    }
    cv_.notify_all();
}

void flusher::run(std::function<int()> work, callback done) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(job{{}, std::move(work), std::move(done)});
    }
    cv_.notify_all();
}

uint64_t flusher::sync_count() const noexcept {
    std::lock_guard lock(mu_);
    return syncs_;
}

void flusher::main() {
    for (;;) {
        std::vector<job> batch;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() && stopping_) return;
            batch.swap(queue_);
        }
        // One fsync per distinct file for the whole batch: the group commit.
        std::unordered_map<const file_handle*, int> result;
        uint64_t issued = 0;
        for (const auto& j : batch)
            for (const auto& f : j.files)
                if (f && result.emplace(f.get(), 0).second) {
                    result[f.get()] = f->sync();
                    ++issued;
                }
        {
            std::lock_guard lock(mu_);
            syncs_ += issued;
        }
        for (auto& j : batch) {
            int err = 0;
            for (const auto& f : j.files)
                if (f && err == 0) err = result[f.get()];
            if (j.work) err = j.work();
            if (j.done) {
                // The files are released on the loop thread along with the callback, so a
                // descriptor never closes under a job that still uses it.
                completions_.post([done = std::move(j.done), files = std::move(j.files), err]() mutable {
                    done(err);
                    files.clear();
                });
            }
        }
    }
}

} // namespace samsa::storage
