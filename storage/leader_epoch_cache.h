// The partition's leader epochs and the offset each one started at, the contents of
// leader-epoch-checkpoint (format in storage/checkpoint_file.h). Answers OffsetForLeaderEpoch and
// tells followers where to truncate. Kafka's rules: epochs and start offsets only grow; a new entry
// removes any later-or-equal entries it conflicts with; truncating the log's end or start trims
// the entries. Owned by a log, event-loop thread only; the log writes the file (on the flusher
// thread) after every change.
#pragma once

#include "storage/checkpoint_file.h"
#include "storage/log.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace samsa::storage {

class leader_epoch_cache {
public:
    leader_epoch_cache() = default;
    explicit leader_epoch_cache(std::vector<checkpoint::epoch_entry> entries);

    // Records that `epoch` starts at `start_offset`. Returns true when the entries changed.
    bool assign(int32_t epoch, int64_t start_offset);
    [[nodiscard]] int32_t latest_epoch() const noexcept { return entries_.empty() ? -1 : entries_.back().epoch; }
    // OffsetForLeaderEpoch: the largest epoch <= `epoch` and the start offset of the next epoch
    // (the log end offset for the latest epoch); {-1, -1} when undefined.
    [[nodiscard]] epoch_end_offset end_offset_for(int32_t epoch, int64_t log_end_offset) const noexcept;
    // The epoch whose range contains `offset`, -1 when none does.
    [[nodiscard]] int32_t epoch_for(int64_t offset) const noexcept;
    // The log was truncated to `end_offset`: drops entries starting at or after it.
    bool truncate_from_end(int64_t end_offset);
    // The log start offset moved to `start_offset`: drops entries wholly before it and moves the
    // start of the one that contains it. Kafka keeps an entry starting exactly at the new start.
    bool truncate_from_start(int64_t start_offset);
    void clear() noexcept { entries_.clear(); }

    [[nodiscard]] const std::vector<checkpoint::epoch_entry>& entries() const noexcept { return entries_; }

private:
    std::vector<checkpoint::epoch_entry> entries_;
};

} // namespace samsa::storage
