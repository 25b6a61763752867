#include "storage/file_deleter.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace samsa::storage {

namespace {

// How long a removal that ran out of file descriptors waits before it tries again.
constexpr auto retry_delay = std::chrono::milliseconds(200);

} // namespace

int remove_tree(const std::string& path) noexcept {
    try {
        struct stat st{};
        if (::lstat(path.c_str(), &st) < 0) return errno == ENOENT ? 0 : errno;
        if (!S_ISDIR(st.st_mode)) return (::unlink(path.c_str()) < 0 && errno != ENOENT) ? errno : 0;
        DIR* d = ::opendir(path.c_str());
        if (!d) return errno;
        std::vector<std::string> children;
        while (dirent* e = ::readdir(d)) {
            if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
            children.push_back(path + "/" + e->d_name);
        }
        ::closedir(d);
        int first = 0;
        for (const auto& c : children) {
            int err = remove_tree(c);
            if (err && !first) first = err;
        }
        if (::rmdir(path.c_str()) < 0 && errno != ENOENT && !first) first = errno;
        return first;
    } catch (...) {
        return ENOMEM;
    }
}

file_deleter::file_deleter() {
    thread_ = std::thread([this] { main(); });
}

file_deleter::~file_deleter() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void file_deleter::schedule(std::vector<std::string> paths, int64_t delay_ms) {
    auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, delay_ms));
    {
        std::lock_guard lock(mu_);
        items_.push_back(item{due, std::move(paths)});
    }
    cv_.notify_all();
}

void file_deleter::drain() {
    {
        std::lock_guard lock(mu_);
        draining_ = true;  // one attempt each: a retry could wait for descriptors for ever
        for (auto& i : items_) i.due = std::chrono::steady_clock::time_point::min();
    }
    cv_.notify_all();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return items_.empty() && !busy_; });
    draining_ = false;
}

uint64_t file_deleter::removed_count() const noexcept {
    std::lock_guard lock(mu_);
    return removed_;
}

uint64_t file_deleter::retried_count() const noexcept {
    std::lock_guard lock(mu_);
    return retried_;
}

void file_deleter::main() {
    std::unique_lock lock(mu_);
    for (;;) {
        if (items_.empty()) {
            if (stopping_) return;
            cv_.wait(lock);
            continue;
        }
        auto next = std::min_element(items_.begin(), items_.end(),
                                     [](const item& a, const item& b) { return a.due < b.due; });
        if (!stopping_ && next->due > std::chrono::steady_clock::now()) {
            cv_.wait_until(lock, next->due);
            continue;
        }
        item it = std::move(*next);
        items_.erase(next);
        busy_ = true;
        const bool last_chance = stopping_ || draining_;
        lock.unlock();
        uint64_t n = 0;
        std::vector<std::string> retry;
        for (auto& p : it.paths) {
            const int err = remove_tree(p);
            if (err == 0) ++n;
            // Out of descriptors passes (they run out in a burst of creations, whose rollback
            // gives them back): try again rather than leave the files until the next start-up,
            // which removes what a last attempt could not.
            else if ((err == EMFILE || err == ENFILE) && !last_chance) retry.push_back(std::move(p));
        }
        lock.lock();
        retried_ += retry.size();
        if (!retry.empty()) items_.push_back(item{std::chrono::steady_clock::now() + retry_delay, std::move(retry)});
        busy_ = false;
        removed_ += n;
        cv_.notify_all();
    }
}

} // namespace samsa::storage
