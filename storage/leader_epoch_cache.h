// The partition's leader epochs and the offset each one started at, the contents of
// leader-epoch-checkpoint (format in storage/checkpoint_file.h). Answers OffsetForLeaderEpoch and
// tells followers where to truncate. Kafka's rules: epochs and start offsets only grow; a new entry
// removes any later-or-equal entries it conflicts with; truncating the log's end or start trims
// the entries. Owned by a log, event-loop thread only; the log writes the file (on the flusher
// thread) after every change. Epochs and offsets have their own types (protocol/kafka_ids.h) so
// the two arguments of assign and end_offset_for cannot be swapped.
#pragma once

#include "protocol/kafka_ids.h"
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
    bool assign(protocol::leader_epoch epoch, protocol::offset start_offset);
    // The same for a batch's epoch read in log order: only an epoch above the latest one counts.
    bool assign_if_newer(protocol::leader_epoch epoch, protocol::offset start_offset) {
        return epoch > latest_epoch() && assign(epoch, start_offset);
    }
    // The latest epoch, no_leader_epoch when there is none.
    [[nodiscard]] protocol::leader_epoch latest_epoch() const noexcept {
        return entries_.empty() ? protocol::no_leader_epoch : entries_.back().epoch;
    }
    // OffsetForLeaderEpoch: the largest epoch <= `epoch` and the start offset of the next epoch
    // (the log end offset for the latest epoch); {-1, -1} when undefined.
    [[nodiscard]] epoch_end_offset end_offset_for(protocol::leader_epoch epoch,
                                                  protocol::offset log_end_offset) const noexcept;
    // The epoch whose range contains `offset`, no_leader_epoch when none does.
    [[nodiscard]] protocol::leader_epoch epoch_for(protocol::offset offset) const noexcept;
    // The log was truncated to `end_offset`: drops entries starting at or after it.
    bool truncate_from_end(protocol::offset end_offset);
    // The log start offset moved to `start_offset`: drops entries wholly before it and moves the
    // start of the one that contains it. Kafka keeps an entry starting exactly at the new start.
    bool truncate_from_start(protocol::offset start_offset);
    void clear() noexcept { entries_.clear(); }

    [[nodiscard]] const std::vector<checkpoint::epoch_entry>& entries() const noexcept { return entries_; }

private:
    std::vector<checkpoint::epoch_entry> entries_;
};

} // namespace samsa::storage
