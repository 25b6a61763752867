// An open file descriptor shared by whoever needs the file to stay open: the segment that writes
// it, file ranges on their way to sendfile, the flusher thread that fsyncs it. Closed when the last
// shared_ptr goes, on whichever thread drops it. The descriptor itself is safe to use from any
// thread (pread, pwrite, fdatasync); callers agree elsewhere on who writes where.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace samsa::storage {

class file_handle {
public:
    // open(2) with `flags`; null with `*err` = errno on failure.
    [[nodiscard]] static std::shared_ptr<file_handle> open(const std::string& path, int flags, mode_t mode, int* err);
    // A directory, opened to be fsynced after entries in it were created, renamed or removed.
    [[nodiscard]] static std::shared_ptr<file_handle> open_dir(const std::string& path, int* err);

    explicit file_handle(int fd, std::string path, bool directory) noexcept
        : fd_(fd), path_(std::move(path)), directory_(directory) {}
    ~file_handle();
    file_handle(const file_handle&) = delete;
    file_handle& operator=(const file_handle&) = delete;

    [[nodiscard]] int fd() const noexcept { return fd_; }
    // The path the file was opened under (it may have been renamed since).
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    void set_path(std::string path) { path_ = std::move(path); }

    // fdatasync for files, fsync for directories. 0 or errno.
    [[nodiscard]] int sync() const noexcept;
    // Writes all of `data` at `offset`, retrying short writes and EINTR. 0 or errno.
    [[nodiscard]] int pwrite_all(std::span<const uint8_t> data, uint64_t offset) const noexcept;
    // Reads up to `out.size()` bytes at `offset`; returns the count read (short at end of file)
    // or -errno.
    [[nodiscard]] int64_t pread_some(std::span<uint8_t> out, uint64_t offset) const noexcept;
    // The file's size, or -errno.
    [[nodiscard]] int64_t size() const noexcept;
    [[nodiscard]] int truncate(uint64_t size) const noexcept;

private:
    int fd_;
    std::string path_;
    bool directory_;
};

// Durable small-file helpers shared by checkpoint files and the clean-shutdown marker.
// Each returns 0 or errno. `sync_dir` opens, fsyncs and closes a directory.
[[nodiscard]] int sync_dir(const std::string& path) noexcept;
// Writes `contents` to "<path><temp_tag>.tmp", fsyncs it, renames it over `path` and fsyncs the
// directory, so a reader sees the old file or the new one, never a mix. Two writers of the same
// path on different threads must pass different tags, or one could rename the other's half-written
// temporary file (or find it gone).
[[nodiscard]] int write_file_atomically(const std::string& path, std::string_view contents,
                                        std::string_view temp_tag = {}) noexcept;
// Reads a whole (small) file. -errno on failure (ENOENT when it does not exist).
[[nodiscard]] int read_small_file(const std::string& path, std::string* out) noexcept;
// The directory part of a path ("." when there is none).
[[nodiscard]] std::string parent_dir(const std::string& path);

} // namespace samsa::storage
