#include "storage/leader_epoch_cache.h"

#include <algorithm>

namespace samsa::storage {

leader_epoch_cache::leader_epoch_cache(std::vector<checkpoint::epoch_entry> entries) {
    for (const auto& e : entries) assign(e.epoch, e.start_offset);
}

bool leader_epoch_cache::assign(protocol::leader_epoch epoch, protocol::offset start_offset) {
    if (epoch < protocol::leader_epoch(0) || start_offset < protocol::offset(0)) return false;
    if (!entries_.empty()) {
        const auto& last = entries_.back();
        if (epoch == last.epoch && start_offset >= last.start_offset) return false;
    }
    // Remove entries that would break monotonicity: a later-or-equal epoch, or one that starts at
    // or after the new start offset (that data was truncated away).
    while (!entries_.empty() &&
           (entries_.back().epoch >= epoch || entries_.back().start_offset >= start_offset))
        entries_.pop_back();
    entries_.push_back({epoch, start_offset});
    return true;
}

epoch_end_offset leader_epoch_cache::end_offset_for(protocol::leader_epoch epoch,
                                                    protocol::offset log_end_offset) const noexcept {
    if (epoch < protocol::leader_epoch(0) || entries_.empty()) return {};
    if (epoch == entries_.back().epoch) return {epoch, log_end_offset};
    auto higher = std::upper_bound(
        entries_.begin(), entries_.end(), epoch,
        [](protocol::leader_epoch e, const checkpoint::epoch_entry& x) { return e < x.epoch; });
    if (higher == entries_.end()) return {};
    if (higher == entries_.begin()) return {epoch, higher->start_offset};
    return {std::prev(higher)->epoch, higher->start_offset};
}

protocol::leader_epoch leader_epoch_cache::epoch_for(protocol::offset offset) const noexcept {
    auto after = std::upper_bound(
        entries_.begin(), entries_.end(), offset,
        [](protocol::offset o, const checkpoint::epoch_entry& x) { return o < x.start_offset; });
    if (after == entries_.begin()) return protocol::no_leader_epoch;
    return std::prev(after)->epoch;
}

bool leader_epoch_cache::truncate_from_end(protocol::offset end_offset) {
    bool changed = false;
    while (!entries_.empty() && entries_.back().start_offset >= end_offset) {
        entries_.pop_back();
        changed = true;
    }
    return changed;
}

bool leader_epoch_cache::truncate_from_start(protocol::offset start_offset) {
    // Entries starting at or before the new start: the last of them survives, moved to it.
    size_t n = 0;
    while (n < entries_.size() && entries_[n].start_offset <= start_offset) ++n;
    if (n == 0) return false;
    bool changed = n > 1 || entries_[0].start_offset != start_offset;
    entries_[n - 1].start_offset = start_offset;
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n - 1));
    return changed;
}

} // namespace samsa::storage
