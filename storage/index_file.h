// A memory-mapped file of fixed-size entries, the storage under offset_index and time_index.
// While its segment is active the file is preallocated to segment.index.bytes (a sparse
// ftruncate) and mapped read-write; when the segment rolls it is trimmed to its entries and mapped
// read-only. Owned by one segment, used only on the event-loop thread (the log cleaner builds its
// own). The descriptor is shared with the flusher while a flush of the segment is pending.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace samsa::storage {

class file_handle;

class index_file {
public:
    // Opens or creates `path`. The entry count is the file size / `entry_size` (a file cut mid-entry
    // loses the partial entry); callers validate the entries before trusting them. `writable`
    // extends the file to `max_bytes` (rounded down to whole entries) and maps it read-write.
    [[nodiscard]] static std::unique_ptr<index_file> open(const std::string& path, size_t entry_size, bool writable,
                                                          size_t max_bytes, int* err);
    ~index_file();
    index_file(const index_file&) = delete;
    index_file& operator=(const index_file&) = delete;

    [[nodiscard]] size_t entries() const noexcept { return entries_; }
    // Entries the mapping has room for (the entry count when sealed).
    [[nodiscard]] size_t capacity() const noexcept { return writable_ ? map_bytes_ / entry_size_ : entries_; }
    [[nodiscard]] size_t entry_size() const noexcept { return entry_size_; }
    [[nodiscard]] bool writable() const noexcept { return writable_; }
    [[nodiscard]] const uint8_t* entry(size_t i) const noexcept { return map_ + i * entry_size_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    // The file's size was not a whole number of entries when opened (Kafka treats that as a
    // corrupt index).
    [[nodiscard]] bool had_partial_entry() const noexcept { return partial_entry_; }

    // False when the file is full or sealed.
    [[nodiscard]] bool append(std::span<const uint8_t> entry) noexcept;
    // Keeps the first `n` entries and zeroes the rest (writable only).
    void truncate_entries(size_t n) noexcept;

    // Trims the file to its entries and maps it read-only. The descriptor stays open (for the
    // flush that follows a roll) until release_handle(). 0 or errno.
    [[nodiscard]] int seal() noexcept;
    // Reopens a sealed file read-write, extended to `max_bytes` again. 0 or errno.
    [[nodiscard]] int unseal(size_t max_bytes) noexcept;
    // The open descriptor, for fsync; null once released.
    [[nodiscard]] std::shared_ptr<file_handle> handle() const noexcept { return handle_; }
    void release_handle() noexcept;
    [[nodiscard]] int rename(const std::string& new_path) noexcept;

private:
    index_file(std::string path, size_t entry_size) : path_(std::move(path)), entry_size_(entry_size) {}
    [[nodiscard]] int map(size_t bytes, bool writable) noexcept;
    void unmap() noexcept;

    std::string path_;
    size_t entry_size_;
    std::shared_ptr<file_handle> handle_;
    uint8_t* map_ = nullptr;
    size_t map_bytes_ = 0;
    size_t entries_ = 0;
    bool writable_ = false;
    bool partial_entry_ = false;
};

} // namespace samsa::storage
