// The KIP-848 consumer group as __consumer_offsets holds it: Kafka's six record types (key
// versions 3-8, group_records.h), what they say about one group (consumer_group_log_state), the
// records that turn one state into another in the order Kafka writes them, replay of read
// records, and the rebuilding of a consumer_group from them at start-up. Pure functions and
// plain values; the group_coordinator keeps one consumer_group_log_state per consumer group
// (what its log holds) and writes the difference after every change. No I/O; any thread.
//
//   key 3 ConsumerGroupMetadata          group epoch
//   key 4 ConsumerGroupPartitionMetadata the subscribed topics (id, name, partitions)
//   key 5 ConsumerGroupMemberMetadata    per member: ids, client, subscription, assignor
//   key 6 ConsumerGroupTargetAssignmentMetadata  assignment epoch
//   key 7 ConsumerGroupTargetAssignmentMember    per member: its target partitions
//   key 8 ConsumerGroupCurrentMemberAssignment   per member: epochs, state, owned and revoking partitions
#pragma once

#include "broker/groups/consumer_group.h"
#include "broker/groups/group_records.h"
#include "protocol/messages/offsets_topic.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace samsa::broker {

// Kafka's MemberState byte in the current assignment record.
[[nodiscard]] int8_t to_record_state(consumer_member_state s) noexcept;
[[nodiscard]] consumer_member_state from_record_state(int8_t s) noexcept;

struct consumer_member_log_state {
    std::optional<protocol::consumer_group_member_metadata_value> metadata;         // key 5
    std::optional<protocol::consumer_group_target_assignment_member_value> target;  // key 7
    std::optional<protocol::consumer_group_current_member_assignment_value> current; // key 8
    bool operator==(const consumer_member_log_state&) const = default;
};

struct consumer_group_log_state {
    std::optional<protocol::consumer_group_metadata_value> metadata;                   // key 3
    std::optional<protocol::consumer_group_partition_metadata_value> subscription;     // key 4
    std::optional<protocol::consumer_group_target_assignment_metadata_value> target;   // key 6
    std::map<std::string, consumer_member_log_state, std::less<>> members;
    // A write failed after memory changed: the next write compares every member, not one.
    bool lagging = false;

    [[nodiscard]] bool empty() const noexcept { return !metadata && !subscription && !target && members.empty(); }
};

// What the log should hold for the group as it is now: everything, or the group-level records
// and one member (the others are left out of the result).
[[nodiscard]] consumer_group_log_state log_state_of(const consumer_group& g);
[[nodiscard]] consumer_group_log_state log_state_of(const consumer_group& g, const std::string& member_id);

// The records that turn `from` into `to` (tombstones for what `to` lacks), in the order Kafka's
// coordinator writes them, so that Kafka can replay them too: tombstones of members first
// (current assignment, target, metadata), then member metadata, subscribed topics, group epoch,
// targets, assignment epoch, current assignments; a deleted group's own records go last. With
// `only_member`, members other than that one are not compared.
[[nodiscard]] std::vector<group_record> records_between(const std::string& group_id, const consumer_group_log_state& from,
                                                        const consumer_group_log_state& to,
                                                        const std::string* only_member = nullptr);
// Makes `logged` what `to` says (after records_between's records were written).
void commit_log_state(consumer_group_log_state& logged, consumer_group_log_state to, const std::string* only_member = nullptr);

// Replays one read record into the group's state; false when the value does not decode (the
// record is skipped, as Kafka's loader would fail on it).
[[nodiscard]] bool replay_consumer_record(consumer_group_log_state& state, const group_record_key& key,
                                          const std::optional<protocol::bytes_view>& value);

// The group the records describe: epochs, subscribed topics, members with their subscriptions,
// epochs, states and partitions, and the target assignment. Timers are not set.
[[nodiscard]] consumer_group restore_consumer_group(const std::string& group_id, const consumer_group_log_state& state,
                                                    int64_t now_wall_ms);

} // namespace samsa::broker
