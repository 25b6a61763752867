#include "storage/offset_index.h"

#include "protocol/record_batch.h"

namespace samsa::storage {

using protocol::batch::load_be32;
using protocol::batch::store_be32;

protocol::relative_offset offset_index::relative_at(size_t i) const noexcept {
    return protocol::relative_offset(static_cast<int32_t>(load_be32(file_->entry(i))));
}

offset_position offset_index::entry(size_t i) const noexcept {
    return {protocol::absolute_offset(base_offset_, relative_at(i)), load_be32(file_->entry(i) + 4)};
}

bool offset_index::append(protocol::offset offset, uint32_t position) noexcept {
    const auto relative = protocol::relative_to(base_offset_, offset);
    if (!relative) return false;
    if (auto last = last_entry(); last && (offset <= last->offset || position <= last->position)) return false;
    uint8_t e[entry_size];
    store_be32(e, static_cast<uint32_t>(relative->value()));
    store_be32(e + 4, position);
    return file_->append(e);
}

offset_position offset_index::lookup(protocol::offset target) const noexcept {
    // Binary search for the last entry with offset <= target.
    size_t lo = 0, hi = entries();
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry(mid).offset <= target) lo = mid + 1;
        else hi = mid;
    }
    return lo == 0 ? offset_position{base_offset_, 0} : entry(lo - 1);
}

offset_position offset_index::lookup_position(uint32_t position) const noexcept {
    size_t lo = 0, hi = entries();
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry(mid).position <= position) lo = mid + 1;
        else hi = mid;
    }
    return lo == 0 ? offset_position{base_offset_, 0} : entry(lo - 1);
}

std::optional<offset_position> offset_index::last_entry() const noexcept {
    if (entries() == 0) return std::nullopt;
    return entry(entries() - 1);
}

void offset_index::truncate_to_position(uint32_t position) noexcept {
    size_t lo = 0, hi = entries();
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry(mid).position < position) lo = mid + 1;
        else hi = mid;
    }
    file_->truncate_entries(lo);
}

bool offset_index::validate(uint64_t log_size) const noexcept {
    protocol::offset prev_offset = base_offset_ - 1;
    uint32_t prev_position = 0;
    for (size_t i = 0; i < entries(); ++i) {
        offset_position e = entry(i);
        if (relative_at(i) < protocol::relative_offset(0) || e.offset <= prev_offset || e.position <= prev_position ||
            e.position >= log_size)
            return false;
        prev_offset = e.offset;
        prev_position = e.position;
    }
    return true;
}

} // namespace samsa::storage
