#include "storage/time_index.h"

#include "protocol/record_batch.h"

#include <limits>

namespace samsa::storage {

using protocol::batch::load_be32;
using protocol::batch::load_be64;
using protocol::batch::store_be32;
using protocol::batch::store_be64;

time_offset time_index::entry(size_t i) const noexcept {
    const uint8_t* p = file_->entry(i);
    return {static_cast<int64_t>(load_be64(p)), base_offset_ + static_cast<int32_t>(load_be32(p + 8))};
}

bool time_index::maybe_append(int64_t timestamp, int64_t offset, bool final_entry) noexcept {
    if (timestamp <= 0) return false;
    int64_t relative = offset - base_offset_;
    if (relative < 0 || relative > std::numeric_limits<int32_t>::max()) return false;
    if (auto last = last_entry(); last && (timestamp <= last->timestamp || offset < last->offset)) return false;
    if (!final_entry && full()) return false;
    uint8_t e[entry_size];
    store_be64(e, static_cast<uint64_t>(timestamp));
    store_be32(e + 8, static_cast<uint32_t>(relative));
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

void time_index::truncate_to(int64_t offset) noexcept {
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
    int64_t prev_offset = base_offset_;
    for (size_t i = 0; i < entries(); ++i) {
        auto relative = static_cast<int32_t>(load_be32(file_->entry(i) + 8));
        time_offset e = entry(i);
        if (relative < 0 || e.timestamp <= prev_ts || e.offset < prev_offset) return false;
        prev_ts = e.timestamp;
        prev_offset = e.offset;
    }
    return true;
}

} // namespace samsa::storage
