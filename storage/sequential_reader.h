// Reads a range of a file front to back in large chunks, for recovery's scan of a whole segment.
// A helper thread reads the next chunks (pread into a small ring of reused buffers) while the
// caller checks the current one, so checking and disk reads overlap; the file is marked
// sequential for the kernel's read-ahead while it runs. Owned by one caller on one thread (the
// loop thread during start-up); the file must stay open until the reader is destroyed, which
// stops and joins the helper. Without a helper (it could not be started) the reads are inline.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace samsa::storage {

class file_handle;

struct sequential_reader_options {
    size_t chunk_bytes = size_t{4} << 20;  // one pread
    size_t buffers = 3;                    // the caller's chunk and up to buffers - 1 read ahead
    bool helper_thread = true;
};

class sequential_reader {
public:
    sequential_reader(const file_handle& file, uint64_t from, uint64_t end, sequential_reader_options options = {});
    ~sequential_reader();
    sequential_reader(const sequential_reader&) = delete;
    sequential_reader& operator=(const sequential_reader&) = delete;

    // The next chunk, valid until the next call. Empty at the end of the range, at the end of the
    // file (a short read) or after a read error (error() then says which).
    [[nodiscard]] std::span<const uint8_t> next() noexcept;
    // Where the chunk last returned starts in the file.
    [[nodiscard]] uint64_t chunk_position() const noexcept { return chunk_position_; }
    // 0, or the errno of the read that failed.
    [[nodiscard]] int error() const noexcept { return error_; }

private:
    struct slot {
        std::vector<uint8_t> bytes;
        uint64_t position = 0;
        size_t length = 0;
        int error = 0;
    };
    // Reads the chunk at `at` into `s`; false when it was the last one (end, short read, error).
    bool fill(slot& s, uint64_t at) noexcept;
    void run_helper() noexcept;

    const file_handle& file_;
    const uint64_t from_;
    const uint64_t end_;
    const size_t chunk_bytes_;
    std::vector<slot> slots_;
    // Shared with the helper under mutex_: chunks read so far and chunks the caller is done with.
    std::mutex mutex_;
    std::condition_variable changed_;
    uint64_t produced_ = 0;
    uint64_t consumed_ = 0;
    bool helper_done_ = false;
    bool stop_ = false;
    std::thread helper_;
    bool threaded_ = false;
    bool advised_ = false;
    // The caller's side.
    bool holding_ = false;
    bool finished_ = false;
    uint64_t inline_next_ = 0;
    uint64_t chunk_position_ = 0;
    int error_ = 0;
};

} // namespace samsa::storage
