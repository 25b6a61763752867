// Runs the classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the
// membership checks of OffsetCommit) over the classic_group of a group_slot: member ids
// (KIP-394), static members (KIP-345), protocol selection, the initial rebalance delay,
// rebalance and session timeouts. Owned by the group_coordinator, which has already checked
// that the group id is valid and its partition loaded, and which persists group metadata
// when asked (classic_group_store). Loop thread only; parked requests are answered through
// their callbacks, always after the group's state has been updated.
#pragma once

#include "broker/groups/classic_group.h"
#include "broker/groups/group_config.h"
#include "broker/groups/group_table.h"
#include "broker/groups/group_timers.h"
#include "protocol/errors.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa::broker {

// What the classic coordinator needs from its owner.
class classic_group_store {
public:
    virtual ~classic_group_store() = default;
    // Writes the group's GroupMetadata record (generation, members, assignments).
    [[nodiscard]] virtual protocol::error_code store_group(group_slot& slot) = 0;
    // The group called `id`, or null (timers look groups up again when they fire).
    [[nodiscard]] virtual group_slot* find_group(std::string_view id) = 0;
};

struct join_params {
    std::string member_id;  // empty: a new member
    std::optional<std::string> group_instance_id;
    bool require_known_member_id = false;   // JoinGroup v4+ from a dynamic member (KIP-394)
    bool supports_skip_assignment = false;  // JoinGroup v9+
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::string protocol_type;
    std::vector<member_protocol> protocols;
};

struct sync_params {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    int32_t generation = -1;
    std::optional<std::string> protocol_type;  // SyncGroup v5+
    std::optional<std::string> protocol_name;
    std::vector<std::pair<std::string, std::vector<uint8_t>>> assignments;  // the leader's
};

struct member_identity {
    std::string member_id;
    std::optional<std::string> group_instance_id;
};

class classic_group_coordinator {
public:
    // Every argument outlives the coordinator.
    classic_group_coordinator(const group_config& config, group_timers& timers, classic_group_store& store);

    void join(group_slot& slot, join_params params, join_callback done);
    void sync(group_slot& slot, sync_params params, sync_callback done);
    [[nodiscard]] protocol::error_code heartbeat(group_slot& slot, std::string_view member_id,
                                                 const std::optional<std::string>& instance_id, int32_t generation);
    // One member of a LeaveGroup request.
    [[nodiscard]] protocol::error_code leave(group_slot& slot, const member_identity& who);
    // Whether an OffsetCommit from this member may be written (and counts as a heartbeat).
    [[nodiscard]] protocol::error_code validate_commit(group_slot& slot, std::string_view member_id,
                                                       const std::optional<std::string>& instance_id, int32_t generation);

    // A group restored from the log: its members' sessions start now.
    void on_loaded(group_slot& slot);
    // Starts a rebalance of a group whose members must rejoin (a consumer group just turned
    // back into this classic group).
    void rebalance(group_slot& slot);
    // The group goes away (deleted, expired or unloaded): parked requests get `error`, every
    // timer is cancelled and the group is Dead.
    void shut_down(group_slot& slot, protocol::error_code error);

private:
    void join_new_member(group_slot& slot, join_params&& p, join_callback&& done);
    void join_known_member(group_slot& slot, join_params&& p, join_callback&& done);
    void replace_static_member(group_slot& slot, join_params&& p, join_callback&& done);
    void add_member_and_rebalance(group_slot& slot, join_params&& p, std::string member_id, join_callback&& done);
    void update_member_and_rebalance(group_slot& slot, classic_member& m, join_params&& p, join_callback&& done);
    void maybe_prepare_rebalance(group_slot& slot);
    void prepare_rebalance(group_slot& slot);
    void maybe_complete_join(group_slot& slot);
    void complete_join(group_slot& slot);
    void on_join_timer(const std::string& group_id);
    void remove_member(group_slot& slot, const std::string& member_id);
    void reset_and_propagate_assignment_error(group_slot& slot, protocol::error_code error);
    void propagate_assignment(group_slot& slot);
    void schedule_session(group_slot& slot, classic_member& m, uint64_t timeout_ms);
    void on_session_timer(const std::string& group_id, const std::string& member_id);
    void on_pending_timer(const std::string& group_id, const std::string& member_id);
    [[nodiscard]] join_result current_join_result(const classic_group& g, const classic_member& m, bool with_members) const;
    [[nodiscard]] std::string new_member_id(std::string_view prefix);

    const group_config& config_;
    group_timers& timers_;
    classic_group_store& store_;
    std::mt19937_64 random_;
};

// An error-only JoinGroup answer.
[[nodiscard]] join_result join_error(std::string member_id, protocol::error_code error);

} // namespace samsa::broker
