#include "storage/sequential_reader.h"

#include "storage/file_handle.h"

#include <fcntl.h>

#include <algorithm>
#include <system_error>

namespace samsa::storage {

sequential_reader::sequential_reader(const file_handle& file, uint64_t from, uint64_t end,
                                     sequential_reader_options options)
    : file_(file),
      from_(from),
      end_(std::max(from, end)),
      chunk_bytes_(std::max<size_t>(options.chunk_bytes, 4096)),
      inline_next_(from) {
    const size_t chunks = static_cast<size_t>((end_ - from_ + chunk_bytes_ - 1) / chunk_bytes_);
    // Doubles the kernel's read-ahead window for this descriptor; undone in the destructor, as
    // fetches later share the descriptor and read at random. One chunk is one read: no need.
    advised_ = chunks > 1;
    if (advised_)
        (void)::posix_fadvise(file_.fd(), static_cast<off_t>(from_), static_cast<off_t>(end_ - from_),
                              POSIX_FADV_SEQUENTIAL);
    const size_t count = std::clamp<size_t>(options.buffers, 1, std::max<size_t>(chunks, 1));
    slots_.resize(options.helper_thread && chunks > 1 ? std::max<size_t>(count, 2) : 1);
    for (auto& s : slots_) s.bytes.resize(static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, end_ - from_)));
    if (slots_.size() > 1) {
        try {
            helper_ = std::thread([this] { run_helper(); });
            threaded_ = true;
        } catch (const std::system_error&) {
            slots_.resize(1);  // no thread to be had: read inline
        }
    }
}

sequential_reader::~sequential_reader() {
    if (threaded_) {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        changed_.notify_all();
        helper_.join();
    }
    if (advised_)
        (void)::posix_fadvise(file_.fd(), static_cast<off_t>(from_), static_cast<off_t>(end_ - from_),
                              POSIX_FADV_NORMAL);
}

bool sequential_reader::fill(slot& s, uint64_t at) noexcept {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, end_ - at));
    const int64_t n = file_.pread_some({s.bytes.data(), want}, at);
    s.position = at;
    s.length = n > 0 ? static_cast<size_t>(n) : 0;
    s.error = n < 0 ? static_cast<int>(-n) : 0;
    return n == static_cast<int64_t>(want) && at + want < end_;
}

void sequential_reader::run_helper() noexcept {
    uint64_t at = from_;
    bool more = at < end_;
    while (more) {
        slot* s = nullptr;
        {
            std::unique_lock lock(mutex_);
            // Chunks read and not yet released, the caller's current one included, fill the slots.
            changed_.wait(lock, [&] { return stop_ || produced_ - consumed_ < slots_.size(); });
            if (stop_) break;
            s = &slots_[produced_ % slots_.size()];
        }
        more = fill(*s, at);
        at += s->length;
        {
            std::lock_guard lock(mutex_);
            ++produced_;
        }
        changed_.notify_all();
    }
    {
        std::lock_guard lock(mutex_);
        helper_done_ = true;
    }
    changed_.notify_all();
}

std::span<const uint8_t> sequential_reader::next() noexcept {
    if (finished_) return {};
    if (!threaded_) {
        slot& s = slots_.front();
        if (inline_next_ >= end_) {
            finished_ = true;
            return {};
        }
        const bool more = fill(s, inline_next_);
        inline_next_ += s.length;
        if (!more) inline_next_ = end_;
        if (s.error != 0 || s.length == 0) {
            error_ = s.error;
            finished_ = true;
            return {};
        }
        chunk_position_ = s.position;
        return {s.bytes.data(), s.length};
    }
    std::unique_lock lock(mutex_);
    if (holding_) {
        ++consumed_;
        holding_ = false;
        changed_.notify_all();
    }
    changed_.wait(lock, [&] { return produced_ > consumed_ || helper_done_; });
    if (produced_ == consumed_) {
        finished_ = true;
        return {};
    }
    const slot& s = slots_[consumed_ % slots_.size()];
    if (s.error != 0 || s.length == 0) {
        error_ = s.error;
        finished_ = true;
        return {};
    }
    holding_ = true;
    chunk_position_ = s.position;
    return {s.bytes.data(), s.length};
}

} // namespace samsa::storage
