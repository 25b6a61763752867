// A connection's input buffer: the bytes read from its socket and not yet handled. It grows
// geometrically for large frames without zero-filling (only the held bytes are copied), is reused
// from request to request, and gives back capacity over an idle cap once empty, so that one huge
// request does not pin its size for the rest of an idle connection's life.
//
// Owned by one connection (loop thread). A view of the held bytes is valid until the next call
// that changes the buffer (commit, consume, reserve, release_idle).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace samsa::broker {

class input_buffer {
public:
    // Starts with `resting` bytes of capacity, the size it returns to when idle.
    explicit input_buffer(size_t resting);

    [[nodiscard]] uint8_t* data() noexcept { return bytes_.get(); }
    [[nodiscard]] size_t size() const noexcept { return size_; }          // bytes held
    [[nodiscard]] size_t capacity() const noexcept { return capacity_; }
    [[nodiscard]] std::span<uint8_t> held() noexcept { return {bytes_.get(), size_}; }
    // Where the next read goes: [size, capacity).
    [[nodiscard]] std::span<uint8_t> free_space() noexcept { return {bytes_.get() + size_, capacity_ - size_}; }

    // `n` bytes were read into free_space().
    void commit(size_t n) noexcept { size_ += n; }
    // Drops the first `n` held bytes (handled frames) and moves the rest to the front.
    void consume(size_t n) noexcept;

    // The capacity reserve(total) would leave: at least `total`, and at least double the
    // current capacity, so a frame that arrives in pieces costs a logarithmic number of copies.
    [[nodiscard]] size_t capacity_for(size_t total) const noexcept;
    // Makes room for `total` held bytes. False when the memory cannot be had (nothing changes).
    [[nodiscard]] bool reserve(size_t total) noexcept;
    // When empty with more than `idle_cap` bytes of capacity, returns to the resting size.
    // Returns whether it did.
    bool release_idle(size_t idle_cap) noexcept;

private:
    [[nodiscard]] bool reallocate(size_t capacity) noexcept;

    size_t resting_;
    std::unique_ptr<uint8_t[]> bytes_;
    size_t capacity_ = 0;
    size_t size_ = 0;
};

} // namespace samsa::broker
