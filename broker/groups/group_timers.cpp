#include "broker/groups/group_timers.h"

#include <vector>

namespace samsa::broker {

group_timers::timer_id group_timers::schedule_at(uint64_t at_ms, std::function<void()> fn) {
    const timer_id id = next_id_++;
    by_deadline_.emplace(key{at_ms, id}, std::move(fn));
    by_id_.emplace(id, at_ms);
    if (!running_ && at_ms < armed_for_) arm();
    return id;
}

void group_timers::cancel(timer_id id) noexcept {
    const auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    by_deadline_.erase(key{it->second, id});
    by_id_.erase(it);
    // The loop timer stays armed: firing early with nothing due just re-arms it.
}

uint64_t group_timers::due_at(timer_id id) const noexcept {
    const auto it = by_id_.find(id);
    return it == by_id_.end() ? UINT64_MAX : it->second;
}

size_t group_timers::run_due() {
    running_ = true;
    size_t ran = 0;
    const uint64_t now = now_ms();
    while (!by_deadline_.empty() && by_deadline_.begin()->first.first <= now) {
        auto node = by_deadline_.extract(by_deadline_.begin());
        by_id_.erase(node.key().second);
        if (node.mapped()) node.mapped()();
        ++ran;
    }
    running_ = false;
    armed_for_ = UINT64_MAX;
    armed_.reset();
    arm();
    return ran;
}

void group_timers::arm() {
    if (by_deadline_.empty()) {
        armed_.reset();
        armed_for_ = UINT64_MAX;
        return;
    }
    const uint64_t at = by_deadline_.begin()->first.first;
    const uint64_t now = now_ms();
    armed_for_ = at;
    armed_ = loop_.start_timer(at > now ? at - now : 0, [this] { run_due(); });
}

void group_timers::close() noexcept {
    armed_.reset();
    armed_for_ = UINT64_MAX;
    by_deadline_.clear();
    by_id_.clear();
}

} // namespace samsa::broker
