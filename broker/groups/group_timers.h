// Every deadline of the group coordinator (session expiries, rebalance and join delays, offset
// retention) in one sorted set, served by a single loop timer armed for the earliest one. Owned
// by the group_coordinator; loop thread only. Thousands of groups therefore cost one libuv
// timer and a set entry per pending deadline (about a hundred bytes each), and no CPU while
// nothing is due. Heartbeats do not touch the set at all: a member's session entry is checked
// when it fires and moved to the member's latest deadline if a heartbeat arrived meanwhile.
#pragma once

#include "broker/loop_services.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

namespace samsa::broker {

class group_timers {
public:
    using timer_id = uint64_t;  // 0 is never a valid id

    // `loop` outlives this object.
    explicit group_timers(loop_services& loop) : loop_(loop) {}
    ~group_timers() { close(); }
    group_timers(const group_timers&) = delete;
    group_timers& operator=(const group_timers&) = delete;

    // Runs `fn` on the loop once `now_ms() >= at_ms`, unless cancelled first. `fn` must not
    // throw; it may schedule and cancel timers (its own id is already gone when it runs).
    [[nodiscard]] timer_id schedule_at(uint64_t at_ms, std::function<void()> fn);
    [[nodiscard]] timer_id schedule_in(uint64_t delay_ms, std::function<void()> fn) {
        return schedule_at(now_ms() + delay_ms, std::move(fn));
    }
    // Cancels a pending timer; unknown or fired ids (and 0) are ignored.
    void cancel(timer_id id) noexcept;
    // When `id` is due, or nullopt-like UINT64_MAX when it is not pending.
    [[nodiscard]] uint64_t due_at(timer_id id) const noexcept;

    // A deadline renewed far more often than it falls due (a member's session, renewed by every
    // heartbeat), kept in the caller's `timer` and `deadline_ms`. renew() records the new
    // deadline and touches the set only when the pending entry would fire after it; the entry's
    // callback asks passed(), which re-arms it for the recorded deadline while that is ahead.
    // `make_on_due()` builds the callback, only when an entry is scheduled.
    template <typename MakeOnDue>
    void renew(timer_id& timer, uint64_t& deadline_ms, uint64_t new_deadline_ms, MakeOnDue&& make_on_due) {
        deadline_ms = new_deadline_ms;
        if (due_at(timer) <= new_deadline_ms) return;
        cancel(timer);
        timer = schedule_at(new_deadline_ms, make_on_due());
    }
    template <typename MakeOnDue>
    [[nodiscard]] bool passed(timer_id& timer, uint64_t deadline_ms, MakeOnDue&& make_on_due) {
        timer = 0;
        if (now_ms() >= deadline_ms) return true;
        timer = schedule_at(deadline_ms, make_on_due());
        return false;
    }

    [[nodiscard]] uint64_t now_ms() const noexcept { return loop_.now_ms(); }
    [[nodiscard]] size_t pending() const noexcept { return by_id_.size(); }

    // Runs every timer due at now_ms(), in deadline order. Called by the loop timer; tests with
    // a fake clock may call it directly. Returns how many ran.
    size_t run_due();
    // Drops every pending timer and the loop timer (shutdown).
    void close() noexcept;

private:
    using key = std::pair<uint64_t, timer_id>;
    void arm();

    loop_services& loop_;
    std::map<key, std::function<void()>> by_deadline_;
    std::unordered_map<timer_id, uint64_t> by_id_;
    std::unique_ptr<loop_timer> armed_;
    uint64_t armed_for_ = UINT64_MAX;
    timer_id next_id_ = 1;
    bool running_ = false;
};

} // namespace samsa::broker
