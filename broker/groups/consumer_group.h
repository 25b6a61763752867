// A consumer group of the KIP-848 protocol (ConsumerGroupHeartbeat): members with their
// subscriptions and member epochs, the group epoch, the target assignment computed by a
// server-side assignor for an assignment epoch, and each member's current assignment on its
// way to the target. Plain in-memory state held by a group_slot; the
// consumer_group_coordinator drives it. Loop thread only.
//
// Group states (derived, never stored):
//   Empty        no members
//   Assigning    the group epoch moved past the assignment epoch (a target is being computed)
//   Reconciling  some member has not reached the target assignment yet
//   Stable       every member owns exactly its target at the assignment epoch
//
// A member's own reconciliation (docs/groups.md draws it):
//
//     +--------+  target drops owned partitions   +----------------------+
//     | Stable |--------------------------------->| UnrevokedPartitions  |--+ rebalance timeout:
//     +--------+  (epoch stays until revoked)     +----------------------+  | fenced
//       ^   |                                        | client no longer owns them:
//       |   | target adds partitions another         | epoch = assignment epoch
//       |   | member still owns                      v
//       |   +--------------------------------->+----------------------+
//       +--------------------------------------| UnreleasedPartitions |
//          the other member released them      +----------------------+
#pragma once

#include "broker/groups/classic_group.h"
#include "protocol/kafka_ids.h"
#include "protocol/wire.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

// One topic's partitions in an assignment, and partitions by topic id: an assignment.
using partition_set = std::set<protocol::partition_id>;
using topic_partitions = std::map<protocol::uuid, partition_set>;

// The wire messages and the group records carry partition ids as plain int32 lists; these two
// convert at that boundary and nowhere else.
template <typename Ints>
void insert_partitions(partition_set& out, const Ints& raw) {
    for (const int32_t p : raw) out.emplace(p);
}
[[nodiscard]] std::vector<int32_t> raw_partitions(const partition_set& parts);

enum class consumer_member_state : uint8_t { stable, unrevoked_partitions, unreleased_partitions };
enum class consumer_group_state : uint8_t { empty, assigning, reconciling, stable, dead };

[[nodiscard]] std::string_view to_string(consumer_group_state s) noexcept;

// A subscription's topic names as members keep them: sorted, each once.
[[nodiscard]] std::vector<std::string> normalized_topics(std::vector<std::string> topics);

// The member epoch a member sends to leave (-1), or to leave for now as a static member (-2).
inline constexpr int32_t leave_group_member_epoch = -1;
inline constexpr int32_t leave_group_static_member_epoch = -2;

// A member that speaks the classic protocol (JoinGroup/SyncGroup/Heartbeat) inside a consumer
// group: the session timeout it asked for and the protocols of its last JoinGroup (Kafka keeps
// both in the member's metadata record as ClassicMemberMetadata).
struct classic_member_info {
    int32_t session_timeout_ms = 0;
    std::vector<member_protocol> protocols;
    bool operator==(const classic_member_info&) const = default;
};

struct consumer_member {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::optional<std::string> rack_id;
    std::string client_id;
    std::string client_host;
    int32_t member_epoch = 0;
    int32_t previous_member_epoch = -1;
    consumer_member_state state = consumer_member_state::stable;
    int32_t rebalance_timeout_ms = 0;
    std::vector<std::string> subscribed_topic_names;  // sorted
    std::optional<std::string> subscribed_topic_regex;
    std::optional<std::string> server_assignor;
    topic_partitions assigned;            // what the member may own now
    topic_partitions pending_revocation;  // what it must give up before moving on
    uint64_t session_deadline_ms = 0;
    uint64_t session_timer = 0;           // group_timers ids, 0 when none
    uint64_t rebalance_timer = 0;
    std::optional<classic_member_info> classic;  // set: a classic member
    // A classic member must send SyncGroup after its JoinGroup, and rejoin when told to, within
    // its rebalance timeout: one timer for whichever deadline comes first.
    uint64_t join_timer = 0;

    [[nodiscard]] bool reconciled_to(int32_t assignment_epoch) const noexcept {
        return state == consumer_member_state::stable && member_epoch == assignment_epoch;
    }
};

class consumer_group {
public:
    consumer_group(std::string id, int64_t now_wall_ms) : empty_since_wall_ms(now_wall_ms), id_(std::move(id)) {}

    [[nodiscard]] const std::string& id() const noexcept { return id_; }
    [[nodiscard]] consumer_group_state state() const noexcept;
    [[nodiscard]] int32_t group_epoch() const noexcept { return group_epoch_; }
    [[nodiscard]] int32_t assignment_epoch() const noexcept { return assignment_epoch_; }
    void set_group_epoch(int32_t e) noexcept { group_epoch_ = e; }
    void set_assignment_epoch(int32_t e) noexcept { assignment_epoch_ = e; }
    // Wall-clock time the group last became empty (or was created), for offset retention.
    int64_t empty_since_wall_ms = 0;

    [[nodiscard]] std::map<std::string, consumer_member, std::less<>>& members() noexcept { return members_; }
    [[nodiscard]] const std::map<std::string, consumer_member, std::less<>>& members() const noexcept { return members_; }
    [[nodiscard]] consumer_member* find(std::string_view member_id) noexcept;
    [[nodiscard]] consumer_member* find_static(std::string_view instance_id) noexcept;
    consumer_member& put(consumer_member m);
    void remove(std::string_view member_id, int64_t now_wall_ms);

    // The target assignment of each member at assignment_epoch().
    [[nodiscard]] std::map<std::string, topic_partitions>& target() noexcept { return target_; }
    [[nodiscard]] const std::map<std::string, topic_partitions>& target() const noexcept { return target_; }
    [[nodiscard]] const topic_partitions& target_of(std::string_view member_id) const;

    // The resolved subscription the last target was computed from: topic name -> (id, partitions).
    struct topic_snapshot {
        protocol::uuid id;
        int32_t partitions = 0;
        bool operator==(const topic_snapshot&) const = default;
    };
    std::map<std::string, topic_snapshot> subscription_metadata;

    // Whether another member than `except` still owns or revokes this partition.
    [[nodiscard]] bool owned_by_other(const protocol::uuid& topic, protocol::partition_id partition,
                                      std::string_view except) const;
    // Whether any member subscribes to `topic` by name (regex matches are in subscription_metadata).
    [[nodiscard]] bool subscribes_to(std::string_view topic) const;
    // The assignor most members prefer, or `fallback`.
    [[nodiscard]] std::string preferred_assignor(const std::string& fallback) const;

private:
    std::string id_;
    int32_t group_epoch_ = 0;
    int32_t assignment_epoch_ = 0;
    std::map<std::string, consumer_member, std::less<>> members_;
    std::map<std::string, topic_partitions> target_;
};

// One step of a member's reconciliation towards its target (Kafka's CurrentAssignmentBuilder):
// the member's next assigned/pending-revocation sets, state and epoch, given what it reported
// owning (`owned`, null when the heartbeat left it out).
[[nodiscard]] consumer_member reconcile(const consumer_member& m, int32_t target_epoch, const topic_partitions& target,
                                        const std::optional<topic_partitions>& owned, const consumer_group& group);

} // namespace samsa::broker
