// Transactional offset commits not yet decided: for each producer id, the offsets its ongoing
// transaction wrote to __consumer_offsets with TxnOffsetCommit, by group. They become the
// group's committed offsets when the transaction's COMMIT marker is written and are dropped on
// ABORT; until then OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT for their
// partitions. Plain in-memory state owned by the group_coordinator; loop thread only.
#pragma once

#include "broker/groups/offset_table.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace samsa::broker {

class txn_offset_table {
public:
    struct entry {
        std::string group;
        std::string topic;
        protocol::partition_id partition;
        committed_offset value;
    };

    // A later offset for the same partition in the same transaction replaces the earlier one.
    void add(protocol::producer_id producer, std::string group, std::string topic, protocol::partition_id partition,
             committed_offset value);
    // Removes the producer's pending offsets and returns them, in (group, topic, partition) order.
    [[nodiscard]] std::vector<entry> take(protocol::producer_id producer);
    [[nodiscard]] bool pending(std::string_view group, std::string_view topic, protocol::partition_id partition) const;
    [[nodiscard]] size_t producers() const noexcept { return by_producer_.size(); }

private:
    using key = std::tuple<std::string, std::string, protocol::partition_id>;  // group, topic, partition
    std::map<protocol::producer_id, std::map<key, committed_offset>> by_producer_;
};

} // namespace samsa::broker
