#include "storage/file_handle.h"

#include "storage/layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace samsa::storage {

std::shared_ptr<file_handle> file_handle::open(const std::string& path, int flags, mode_t mode, int* err) {
    int fd;
    do {
        fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        if (err) *err = errno;
        return nullptr;
    }
    if (err) *err = 0;
    return std::make_shared<file_handle>(fd, path, false);
}

std::shared_ptr<file_handle> file_handle::open_dir(const std::string& path, int* err) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (err) *err = errno;
        return nullptr;
    }
    if (err) *err = 0;
    return std::make_shared<file_handle>(fd, path, true);
}

file_handle::~file_handle() {
    if (fd_ >= 0) ::close(fd_);
}

int file_handle::sync() const noexcept {
    int rc;
    do {
        rc = directory_ ? ::fsync(fd_) : ::fdatasync(fd_);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? errno : 0;
}

int file_handle::pwrite_all(std::span<const uint8_t> data, uint64_t offset) const noexcept {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EIO;
        done += static_cast<size_t>(n);
    }
    return 0;
}

int64_t file_handle::pread_some(std::span<uint8_t> out, uint64_t offset) const noexcept {
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    return static_cast<int64_t>(done);
}

int64_t file_handle::size() const noexcept {
    struct stat st{};
    if (::fstat(fd_, &st) < 0) return -errno;
    return st.st_size;
}

int file_handle::truncate(uint64_t size) const noexcept {
    int rc;
    do {
        rc = ::ftruncate(fd_, static_cast<off_t>(size));
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? errno : 0;
}

int sync_dir(const std::string& path) noexcept {
    int err = 0;
    auto dir = file_handle::open_dir(path, &err);
    if (!dir) return err;
    return dir->sync();
}

std::string parent_dir(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

int write_file_atomically(const std::string& path, std::string_view contents, std::string_view temp_tag) noexcept {
    try {
        std::string tmp = path + std::string(temp_tag) + std::string(layout::temp_suffix);
        int err = 0;
        auto f = file_handle::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644, &err);
        if (!f) return err;
        std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(contents.data()), contents.size());
        if ((err = f->pwrite_all(bytes, 0)) != 0) return err;
        if ((err = f->sync()) != 0) return err;
        f.reset();
        if (::rename(tmp.c_str(), path.c_str()) < 0) return errno;
        return sync_dir(parent_dir(path));
    } catch (...) {
        return ENOMEM;
    }
}

int read_small_file(const std::string& path, std::string* out) noexcept {
    try {
        int err = 0;
        auto f = file_handle::open(path, O_RDONLY, 0, &err);
        if (!f) return -err;
        out->clear();
        uint8_t buf[4096];
        uint64_t at = 0;
        for (;;) {
            int64_t n = f->pread_some(buf, at);
            if (n < 0) return static_cast<int>(n);
            if (n == 0) break;
            out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
            at += static_cast<uint64_t>(n);
            if (static_cast<size_t>(n) < sizeof buf) break;
        }
        return 0;
    } catch (...) {
        return -ENOMEM;
    }
}

} // namespace samsa::storage
