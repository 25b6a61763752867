#include "broker/input_buffer.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace samsa::broker {

input_buffer::input_buffer(size_t resting) : resting_(resting) {
    // The first read needs the resting capacity anyway; an allocation failure this early is
    // reported by the first reserve() instead.
    (void)reallocate(resting_);
}

void input_buffer::consume(size_t n) noexcept {
    n = std::min(n, size_);
    if (n < size_) std::memmove(bytes_.get(), bytes_.get() + n, size_ - n);
    size_ -= n;
}

size_t input_buffer::capacity_for(size_t total) const noexcept {
    if (total <= capacity_) return capacity_;
    return std::max(total, capacity_ * 2);
}

bool input_buffer::reserve(size_t total) noexcept {
    if (total <= capacity_ && bytes_) return true;
    return reallocate(capacity_for(std::max(total, resting_)));
}

bool input_buffer::release_idle(size_t idle_cap) noexcept {
    if (size_ != 0 || capacity_ <= idle_cap || capacity_ <= resting_) return false;
    return reallocate(resting_);
}

bool input_buffer::reallocate(size_t capacity) noexcept {
    // new[] of a trivial type without an initialiser leaves the bytes uninitialised: the socket
    // writes them before anything reads them.
    std::unique_ptr<uint8_t[]> fresh(new (std::nothrow) uint8_t[capacity]);
    if (!fresh) return false;
    if (size_ > 0) std::memcpy(fresh.get(), bytes_.get(), size_);
    bytes_ = std::move(fresh);
    capacity_ = capacity;
    return true;
}

} // namespace samsa::broker
