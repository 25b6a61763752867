// loop_services on a libuv loop (transport): one uv_timer_t per started timer, a uv_async_t
// for work posted from other threads. Owned by the server, which calls close() during
// shutdown; every handle it made is closed by then, so the loop can close cleanly. Timers
// still held by handlers afterwards are inert. Loop thread only, except post().
#pragma once

#include "broker/loop_services.h"

#include <uv.h>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace samsa::broker {

class uv_loop_services final : public loop_services {
public:
    // Throws std::runtime_error if the async handle cannot be set up (start-up).
    explicit uv_loop_services(uv_loop_t* loop);
    ~uv_loop_services() override;

    [[nodiscard]] std::unique_ptr<loop_timer> start_timer(uint64_t delay_ms, std::function<void()> fn) override;
    bool post(std::function<void()> fn) override;
    [[nodiscard]] uint64_t now_ms() const noexcept override { return uv_now(loop_); }

    // Closes every open timer and the async handle; posting fails from here on.
    void close() noexcept;
    [[nodiscard]] size_t open_timers() const noexcept { return timers_.size(); }

    struct timer_state;  // one started timer, shared with its loop_timer handle

private:
    static void on_async(uv_async_t* h) noexcept;
    void run_posted() noexcept;

    uv_loop_t* loop_;
    uv_async_t* async_ = nullptr;  // heap: freed in its close callback
    std::mutex posted_mutex_;
    std::vector<std::function<void()>> posted_;  // guarded by posted_mutex_
    bool closed_ = false;                        // guarded by posted_mutex_
    std::unordered_map<timer_state*, std::shared_ptr<timer_state>> timers_;
};

} // namespace samsa::broker
