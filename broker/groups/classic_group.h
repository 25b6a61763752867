// A classic consumer group (JoinGroup/SyncGroup/Heartbeat, KIP-345 static members, KIP-394
// member ids): its members, generation, selected protocol, leader and state. Plain in-memory
// state held by a group_slot of the group_table; the classic_group_coordinator drives it and
// owns every decision. Loop thread only. Callbacks stored in members answer parked JoinGroup
// and SyncGroup requests; they must not throw.
//
// The state machine (Kafka's):
//
//              member joins                 every member rejoined, or
//     +-------+  (first)   +--------------------+  rebalance timeout   +---------------------+
//     | Empty |----------->| PreparingRebalance |--------------------->| CompletingRebalance |
//     +-------+            +--------------------+                      +---------------------+
//       ^   |                 ^     |  no member left                    |  ^          |
//       |   |                 |     +--------------> Empty               |  |          | leader's
//       |   |                 |  join / leave / expiry / metadata change |  |          | SyncGroup
//       |   |                 +------------------------------------------+  |          v
//       |   |                 +---------------------------------------------|---+----------+
//       |   |                 |  join (new, changed or leader) / leave / expiry  |  Stable  |
//       |   |                 +-------------------------------------------------+----------+
//       |   v
//     (any state) --DeleteGroups / all offsets expired / coordinator unload--> Dead
//
// Generation bumps when PreparingRebalance completes (to CompletingRebalance, or to Empty when
// nobody rejoined). Assignments are the leader's bytes, kept exactly as sent.
#pragma once

#include "protocol/errors.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace samsa::broker {

enum class classic_group_state : uint8_t { empty, preparing_rebalance, completing_rebalance, stable, dead };

// Kafka's names, as DescribeGroups and ListGroups report them.
[[nodiscard]] std::string_view to_string(classic_group_state s) noexcept;

struct member_protocol {
    std::string name;
    std::vector<uint8_t> metadata;
    bool operator==(const member_protocol&) const = default;
};

// One member as the leader sees it in its JoinGroup response.
struct join_member_entry {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::vector<uint8_t> metadata;
};

struct join_result {
    protocol::error_code error = protocol::error_code::none;
    int32_t generation = -1;
    std::optional<std::string> protocol_type;
    std::optional<std::string> protocol_name;
    std::string leader;
    std::string member_id;
    bool skip_assignment = false;
    std::vector<join_member_entry> members;  // the leader's only
};

struct sync_result {
    protocol::error_code error = protocol::error_code::none;
    std::optional<std::string> protocol_type;
    std::optional<std::string> protocol_name;
    std::vector<uint8_t> assignment;  // empty is a valid (empty) assignment, never null
};

using join_callback = std::function<void(join_result)>;
using sync_callback = std::function<void(sync_result)>;

struct classic_member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    int32_t rebalance_timeout_ms = 0;
    int32_t session_timeout_ms = 0;
    std::string protocol_type;
    std::vector<member_protocol> protocols;  // the member's preference order
    std::vector<uint8_t> assignment;
    join_callback awaiting_join;  // set while a JoinGroup is parked
    sync_callback awaiting_sync;  // set while a SyncGroup is parked
    bool is_new = false;          // joined in the current rebalance and has not been answered
    bool supports_skip_assignment = false;  // its last JoinGroup was v9+
    uint64_t session_deadline_ms = 0;       // when the session expires without a heartbeat
    uint64_t session_timer = 0;             // group_timers id, 0 when none is pending

    [[nodiscard]] bool is_static() const noexcept { return group_instance_id.has_value(); }
    [[nodiscard]] bool awaiting_join_now() const noexcept { return static_cast<bool>(awaiting_join); }
    [[nodiscard]] bool awaiting_sync_now() const noexcept { return static_cast<bool>(awaiting_sync); }
    // The metadata the member sent for `protocol`, or null when it does not support it.
    [[nodiscard]] const std::vector<uint8_t>* metadata_for(std::string_view protocol) const noexcept;
    // Same protocols, same metadata, same order.
    [[nodiscard]] bool matches(const std::vector<member_protocol>& other) const noexcept { return protocols == other; }
};

class classic_group {
public:
    classic_group(std::string id, uint64_t now_ms) : id_(std::move(id)), state_timestamp_ms_(now_ms) {}

    [[nodiscard]] const std::string& id() const noexcept { return id_; }
    [[nodiscard]] classic_group_state state() const noexcept { return state_; }
    [[nodiscard]] bool is(classic_group_state s) const noexcept { return state_ == s; }
    [[nodiscard]] bool can_transition_to(classic_group_state next) const noexcept;
    // Moves to `next`; a transition Kafka does not allow is a coordinator bug (asserted).
    void transition_to(classic_group_state next, uint64_t now_ms) noexcept;
    [[nodiscard]] uint64_t state_timestamp_ms() const noexcept { return state_timestamp_ms_; }

    [[nodiscard]] int32_t generation() const noexcept { return generation_; }
    [[nodiscard]] const std::optional<std::string>& protocol_type() const noexcept { return protocol_type_; }
    [[nodiscard]] const std::optional<std::string>& protocol_name() const noexcept { return protocol_name_; }
    [[nodiscard]] const std::optional<std::string>& leader() const noexcept { return leader_; }
    [[nodiscard]] bool is_leader(std::string_view member_id) const noexcept { return leader_ && *leader_ == member_id; }

    // Members, by member id.
    [[nodiscard]] const std::map<std::string, classic_member, std::less<>>& members() const noexcept { return members_; }
    [[nodiscard]] std::map<std::string, classic_member, std::less<>>& members() noexcept { return members_; }
    [[nodiscard]] size_t size() const noexcept { return members_.size(); }
    [[nodiscard]] bool empty() const noexcept { return members_.empty(); }
    [[nodiscard]] classic_member* find(std::string_view member_id) noexcept;
    [[nodiscard]] const classic_member* find(std::string_view member_id) const noexcept;
    // Adds a member (the first one also sets the protocol type and becomes leader).
    classic_member& add(classic_member m);
    // Removes a member (its callbacks must have been answered) and picks another leader.
    void remove(std::string_view member_id);

    // Static members (group.instance.id -> member id).
    [[nodiscard]] const std::string* static_member_id(std::string_view instance_id) const noexcept;
    // True when `instance_id` belongs to another member id than `member_id` (FENCED_INSTANCE_ID).
    [[nodiscard]] bool is_static_member_fenced(std::string_view member_id,
                                               const std::optional<std::string>& instance_id) const noexcept;
    // Gives the static member of `instance_id` the id `new_member_id` (KIP-345 replacement).
    classic_member& replace_static_member(std::string_view instance_id, std::string new_member_id);

    // Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet (KIP-394).
    [[nodiscard]] bool is_pending(std::string_view member_id) const noexcept { return pending_.contains(member_id); }
    void add_pending(std::string member_id) { pending_.insert(std::move(member_id)); }
    void remove_pending(std::string_view member_id);
    [[nodiscard]] size_t pending_count() const noexcept { return pending_.size(); }

    // Whether a member with these protocols may join: same protocol type, and at least one
    // protocol every current member also supports (any non-empty set for an empty group).
    [[nodiscard]] bool supports_protocols(std::string_view protocol_type, const std::vector<member_protocol>& protocols) const;
    // The protocol every member supports that most members prefer (Kafka's vote).
    [[nodiscard]] std::optional<std::string> select_protocol() const;

    [[nodiscard]] size_t awaiting_join_count() const noexcept;
    [[nodiscard]] bool all_members_joined() const noexcept {
        return awaiting_join_count() == members_.size() && pending_.empty();
    }
    // The longest rebalance timeout of the members (how long a rebalance may wait).
    [[nodiscard]] int32_t rebalance_timeout_ms() const noexcept;
    // When the leader has not rejoined, makes some member that has the leader. False when no
    // member rejoined at all.
    bool elect_joined_leader();

    // Starts the next generation: CompletingRebalance with the selected protocol, or Empty.
    void init_next_generation(uint64_t now_ms);
    // Every member with its metadata for the selected protocol (the leader's JoinGroup answer).
    [[nodiscard]] std::vector<join_member_entry> member_metadata() const;
    // For protocol type "consumer": the topics the members subscribe to (decoded from their
    // metadata); nullopt when the group is not a consumer group or a subscription is unreadable.
    [[nodiscard]] std::optional<std::set<std::string>> subscribed_topics() const;

    // Restores a loaded (or test) group in one step; members keep no callbacks.
    void restore(int32_t generation, std::optional<std::string> protocol_type, std::optional<std::string> protocol_name,
                 std::optional<std::string> leader, uint64_t state_timestamp_ms);

    // True during an initial delayed join (an Empty group waiting for more members).
    bool new_member_added = false;
    // The pending join timer (DelayedJoin / InitialDelayedJoin), 0 when none.
    uint64_t join_timer = 0;
    bool initial_join_delay = false;  // the join timer is an initial delay, not a deadline
    int32_t initial_delay_remaining_ms = 0;

private:
    std::string id_;
    classic_group_state state_ = classic_group_state::empty;
    uint64_t state_timestamp_ms_ = 0;
    int32_t generation_ = 0;
    std::optional<std::string> protocol_type_;
    std::optional<std::string> protocol_name_;
    std::optional<std::string> leader_;
    std::map<std::string, classic_member, std::less<>> members_;
    std::map<std::string, std::string, std::less<>> static_members_;
    std::set<std::string, std::less<>> pending_;

    // How many members name each protocol: one pass over every member's list, so a member that
    // names many protocols costs linear time, not quadratic (the views point into members_).
    [[nodiscard]] std::unordered_map<std::string_view, size_t> supporters() const;
};

} // namespace samsa::broker
