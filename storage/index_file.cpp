#include "storage/index_file.h"

#include "storage/file_handle.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace samsa::storage {

std::unique_ptr<index_file> index_file::open(const std::string& path, size_t entry_size, bool writable,
                                             size_t max_bytes, int* err) {
    std::unique_ptr<index_file> f(new index_file(path, entry_size));
    f->handle_ = file_handle::open(path, writable ? (O_RDWR | O_CREAT) : O_RDONLY, 0644, err);
    if (!f->handle_) return nullptr;
    int64_t size = f->handle_->size();
    if (size < 0) {
        *err = static_cast<int>(-size);
        return nullptr;
    }
    f->entries_ = static_cast<size_t>(size) / entry_size;
    f->partial_entry_ = static_cast<size_t>(size) % entry_size != 0;
    if (writable) {
        size_t bytes = std::max(max_bytes / entry_size, f->entries_) * entry_size;
        if (static_cast<size_t>(size) != bytes) {
            if ((*err = f->handle_->truncate(bytes)) != 0) return nullptr;
        }
        if ((*err = f->map(bytes, true)) != 0) return nullptr;
    } else {
        if ((*err = f->map(f->entries_ * entry_size, false)) != 0) return nullptr;
        f->handle_.reset();  // a read-only index needs no descriptor once mapped
    }
    *err = 0;
    return f;
}

index_file::~index_file() { unmap(); }

int index_file::map(size_t bytes, bool writable) noexcept {
    unmap();
    writable_ = writable;
    if (bytes == 0) return 0;
    void* p = ::mmap(nullptr, bytes, writable ? (PROT_READ | PROT_WRITE) : PROT_READ, MAP_SHARED, handle_->fd(), 0);
    if (p == MAP_FAILED) return errno;
    map_ = static_cast<uint8_t*>(p);
    map_bytes_ = bytes;
    return 0;
}

void index_file::unmap() noexcept {
    if (map_) ::munmap(map_, map_bytes_);
    map_ = nullptr;
    map_bytes_ = 0;
}

bool index_file::append(std::span<const uint8_t> e) noexcept {
    if (!writable_ || e.size() != entry_size_ || (entries_ + 1) * entry_size_ > map_bytes_) return false;
    std::memcpy(map_ + entries_ * entry_size_, e.data(), entry_size_);
    ++entries_;
    return true;
}

void index_file::truncate_entries(size_t n) noexcept {
    if (n >= entries_) return;
    if (writable_) std::memset(map_ + n * entry_size_, 0, (entries_ - n) * entry_size_);
    entries_ = n;
}

int index_file::seal() noexcept {
    if (!writable_) return 0;
    unmap();
    int err = handle_->truncate(entries_ * entry_size_);
    if (err) return err;
    return map(entries_ * entry_size_, false);
}

int index_file::unseal(size_t max_bytes) noexcept {
    if (writable_) return 0;
    int err = 0;
    auto h = file_handle::open(path_, O_RDWR | O_CREAT, 0644, &err);
    if (!h) return err;
    handle_ = std::move(h);
    size_t bytes = std::max(max_bytes / entry_size_, entries_) * entry_size_;
    if ((err = handle_->truncate(bytes)) != 0) return err;
    return map(bytes, true);
}

void index_file::release_handle() noexcept {
    if (!writable_) handle_.reset();
}

int index_file::rename(const std::string& new_path) noexcept {
    if (::rename(path_.c_str(), new_path.c_str()) < 0) return errno;
    try {
        path_ = new_path;
        if (handle_) handle_->set_path(new_path);
    } catch (...) {
        return ENOMEM;
    }
    return 0;
}

} // namespace samsa::storage
