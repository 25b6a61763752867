// What handlers and services may ask of the event loop without seeing libuv: one-shot timers
// (long-poll deadlines), posting work onto the loop from another thread (a flush thread
// completing an acks=-1 produce), and the loop's millisecond clock. Implemented by the
// transport (uv_loop_services); owned by the server and outliving every request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace samsa::broker {

// A pending timer. Destroying it, or cancel(), stops it; the callback then never runs.
class loop_timer {
public:
    virtual ~loop_timer() = default;
    virtual void cancel() noexcept = 0;
};

class loop_services {
public:
    virtual ~loop_services() = default;
    // Loop thread only: runs `fn` once on the loop after `delay_ms`, unless cancelled first.
    // `fn` must not throw (an exception is caught and logged).
    [[nodiscard]] virtual std::unique_ptr<loop_timer> start_timer(uint64_t delay_ms, std::function<void()> fn) = 0;
    // Any thread: runs `fn` on the loop thread soon. Dropped (returns false) after shutdown.
    virtual bool post(std::function<void()> fn) = 0;
    // Loop thread: the loop's monotonic clock in milliseconds.
    [[nodiscard]] virtual uint64_t now_ms() const noexcept = 0;
};

} // namespace samsa::broker
