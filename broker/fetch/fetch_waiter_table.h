// The fetches that wait for data (long polling): each registers the logs it reads and a callback,
// and every append to one of those logs runs the callback with the number of bytes appended, so a
// waiting fetch can answer as soon as min_bytes have arrived instead of at max_wait_ms.
//
// Owned by the partition_manager; loop thread only. Callbacks run inside notify(), that is inside
// the append that produced the data; a callback may remove its own entry (or others) while it runs.
// Logs are keys only and never dereferenced: a deleted log simply never notifies again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

namespace samsa::storage {
class log;
}

namespace samsa::broker {

class fetch_waiter_table {
public:
    using waiter_id = uint64_t;
    using on_append = std::function<void(size_t appended_bytes)>;

    // Registers `fn` for appends to any of `logs` (duplicates are ignored). Returns its id.
    [[nodiscard]] waiter_id add(std::span<const storage::log* const> logs, on_append fn);
    // Unregisters a waiter; unknown ids (already removed) are ignored.
    void remove(waiter_id id) noexcept;
    // `bytes` were appended to `log`: runs the callback of every waiter on it.
    void notify(const storage::log* log, size_t bytes);

    [[nodiscard]] size_t size() const noexcept { return waiters_.size(); }

private:
    struct waiter {
        std::vector<const storage::log*> logs;
        std::shared_ptr<on_append> fn;  // shared so that a running callback survives its removal
    };
    std::unordered_map<waiter_id, waiter> waiters_;
    std::unordered_map<const storage::log*, std::vector<waiter_id>> by_log_;
    waiter_id next_id_ = 1;
};

} // namespace samsa::broker
