#include "broker/fetch/fetch_waiter_table.h"

#include <algorithm>

namespace samsa::broker {

fetch_waiter_table::waiter_id fetch_waiter_table::add(std::span<const storage::log* const> logs, on_append fn) {
    const waiter_id id = next_id_++;
    waiter w;
    w.fn = std::make_shared<on_append>(std::move(fn));
    for (const auto* l : logs) {
        if (std::find(w.logs.begin(), w.logs.end(), l) != w.logs.end()) continue;
        w.logs.push_back(l);
        by_log_[l].push_back(id);
    }
    waiters_.emplace(id, std::move(w));
    return id;
}

void fetch_waiter_table::remove(waiter_id id) noexcept {
    const auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    for (const auto* l : it->second.logs) {
        const auto b = by_log_.find(l);
        if (b == by_log_.end()) continue;
        auto& ids = b->second;
        ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
        if (ids.empty()) by_log_.erase(b);
    }
    waiters_.erase(it);
}

void fetch_waiter_table::notify(const storage::log* log, size_t bytes) {
    const auto b = by_log_.find(log);
    if (b == by_log_.end()) return;
    // Callbacks may add or remove waiters: iterate over a copy and skip the ones gone meanwhile.
    const std::vector<waiter_id> ids = b->second;
    for (const waiter_id id : ids) {
        const auto it = waiters_.find(id);
        if (it == waiters_.end()) continue;
        const std::shared_ptr<on_append> fn = it->second.fn;
        (*fn)(bytes);
    }
}

} // namespace samsa::broker
