#include "storage/time_index.h"

#include "protocol/record_batch.h"

namespace samsa::storage {

using protocol::batch::load_be32;
using protocol::batch::load_be64;
using protocol::batch::store_be32;
using protocol::batch::store_be64;

protocol::relative_offset time_index::relative_at(size_t i) const noexcept {
    return protocol::relative_offset(static_cast<int32_t>(load_be32(file_->entry(i) + 8)));
}

time_offset time_index::entry(size_t i) const noexcept {
    return {static_cast<int64_t>(load_be64(file_->entry(i))), protocol::absolute_offset(base_offset_, relative_at(i))};
}

bool time_index::maybe_append(int64_t timestamp, protocol::offset offset, bool final_entry) noexcept {
    if (timestamp <= 0) return false;
    const auto relative = protocol::relative_to(base_offset_, offset);
    if (!relative) return false;
    if (auto last = last_entry(); last && (timestamp <= last->timestamp || offset < last->offset)) return false;
    if (!final_entry && full()) return false;
    uint8_t e[entry_size];
    store_be64(e, static_cast<uint64_t>(timestamp));
    store_be32(e + 8, static_cast<uint32_t>(relative->value()));
    return file_->append(e);
}

time_offset time_index::lookup(int64_t target) const noexcept {
    size_t lo = 0, hi = entries();
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry(mid).timestamp <= target) lo = mid + 1;
        else hi = mid;
    }
    return lo == 0 ? time_offset{-1, base_offset_} : entry(lo - 1);
}

std::optional<time_offset> time_index::last_entry() const noexcept {
    if (entries() == 0) return std::nullopt;
    return entry(entries() - 1);
}

void time_index::truncate_to(protocol::offset offset) noexcept {
    size_t lo = 0, hi = entries();
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry(mid).offset < offset) lo = mid + 1;
        else hi = mid;
    }
    file_->truncate_entries(lo);
}

bool time_index::validate() const noexcept {
    int64_t prev_ts = 0;
    protocol::offset prev_offset = base_offset_;
    for (size_t i = 0; i < entries(); ++i) {
        time_offset e = entry(i);
        if (relative_at(i) < protocol::relative_offset(0) || e.timestamp <= prev_ts || e.offset < prev_offset) return false;
        prev_ts = e.timestamp;
        prev_offset = e.offset;
    }
    return true;
}

} // namespace samsa::storage
