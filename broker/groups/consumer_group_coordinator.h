// Runs the KIP-848 consumer group protocol (ConsumerGroupHeartbeat) over the consumer_group of
// a group_slot: joining (epoch 0), leaving (-1) and static leaving (-2), member epochs and
// fencing, subscription resolution (names and, v1, a regular expression), the target
// assignment of a server-side assignor at each group epoch, incremental revocation and
// assignment, and the session and rebalance timeouts. Owned by the group_coordinator, which
// has checked the group id and that its partition is loaded. Every change is made durable
// through the consumer_group_store (Kafka's consumer group records) before a heartbeat is
// answered; a change the log refused is undone. Loop thread only.
#pragma once

#include "broker/groups/classic_group_coordinator.h"
#include "broker/groups/consumer_group.h"
#include "broker/groups/group_config.h"
#include "broker/groups/group_table.h"
#include "broker/groups/group_timers.h"
#include "broker/groups/topic_regex.h"
#include "broker/groups/topic_source.h"
#include "protocol/errors.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

class consumer_group_store {
public:
    virtual ~consumer_group_store() = default;
    [[nodiscard]] virtual group_slot* find_group(std::string_view id) = 0;
    [[nodiscard]] virtual int64_t wall_clock_ms() const = 0;
    // Writes what changed in the group since its last write. `member`: the one member a change
    // without a new group or assignment epoch touched (null: compare them all).
    [[nodiscard]] virtual protocol::error_code store_consumer_group(group_slot& slot, const std::string* member) = 0;
    // A member left or was fenced, its removal not written yet: the owner may turn the group back
    // into a classic group (group.consumer.migration.policy), the removal and the conversion in
    // one write. True: converted, `slot.consumer` is gone; false: the caller writes the removal.
    [[nodiscard]] virtual bool member_removed(group_slot& slot) = 0;
    // A classic static member (`joining`, already in the group, not written yet) took the place
    // of the group's last KIP-848 member: as member_removed, without a rebalance afterwards.
    [[nodiscard]] virtual bool static_member_replaced(group_slot& slot, const std::string& joining) = 0;
};

struct consumer_heartbeat_params {
    std::string member_id;
    int32_t member_epoch = 0;
    std::optional<std::string> instance_id;
    std::optional<std::string> rack_id;
    int32_t rebalance_timeout_ms = -1;
    std::optional<std::vector<std::string>> subscribed_topic_names;
    std::optional<std::string> subscribed_topic_regex;
    std::optional<std::string> server_assignor;
    std::optional<topic_partitions> owned;  // null: not reported in this heartbeat
    std::string client_id;
    std::string client_host;
};

struct consumer_heartbeat_result {
    protocol::error_code error = protocol::error_code::none;
    std::optional<std::string> error_message;
    std::optional<std::string> member_id;
    int32_t member_epoch = 0;
    int32_t heartbeat_interval_ms = 0;
    std::optional<topic_partitions> assignment;  // sent when it changed, on joining, or when asked
};

class consumer_group_coordinator {
public:
    consumer_group_coordinator(const group_config& config, group_timers& timers, const topic_source& topics,
                               consumer_group_store& store);

    // The checks Kafka makes before touching the group (INVALID_REQUEST, UNSUPPORTED_ASSIGNOR).
    [[nodiscard]] std::optional<consumer_heartbeat_result> validate(const std::string& group_id,
                                                                    const consumer_heartbeat_params& p,
                                                                    int16_t version) const;
    [[nodiscard]] consumer_heartbeat_result heartbeat(group_slot& slot, consumer_heartbeat_params p);

    // OffsetCommit from a member of this group (KIP-848 rules: member epoch, v9+).
    [[nodiscard]] protocol::error_code validate_commit(group_slot& slot, std::string_view member_id, int32_t member_epoch,
                                                       int16_t api_version);
    // OffsetFetch v9+ with a member id and epoch.
    [[nodiscard]] protocol::error_code validate_fetch(group_slot& slot, const std::optional<std::string>& member_id,
                                                      int32_t member_epoch);

    // Classic members of a consumer group (Kafka's online migration; consumer_group_classic.cpp):
    // JoinGroup with protocol type "consumer" takes part in the server-side assignment,
    // SyncGroup hands out the member's current assignment, Heartbeat answers
    // REBALANCE_IN_PROGRESS when the member must rejoin to move on. The group has members.
    void classic_join(group_slot& slot, join_params p, const join_callback& done);
    [[nodiscard]] sync_result classic_sync(group_slot& slot, const sync_params& p);
    [[nodiscard]] protocol::error_code classic_heartbeat(group_slot& slot, std::string_view member_id,
                                                         const std::optional<std::string>& instance_id, int32_t generation);
    // One member of a LeaveGroup request: fenced, not written (the caller offers member_removed, then writes).
    [[nodiscard]] protocol::error_code classic_leave(group_slot& slot, const member_identity& who);

    // The topics the group's members subscribe to, resolved now (describe, retention).
    [[nodiscard]] std::map<std::string, consumer_group::topic_snapshot> resolve_subscriptions(const consumer_group& g) const;
    // Cancels every timer of the group (delete, unload, shutdown).
    void shut_down(group_slot& slot);
    // A group restored from the log: every member gets a fresh session, and a member that was
    // revoking partitions a fresh rebalance timeout (Kafka does the same when it loads a group).
    void on_loaded(group_slot& slot);

private:
    consumer_heartbeat_result apply_heartbeat(group_slot& slot, consumer_heartbeat_params p);
    // Steps 2 and 3 of every join or heartbeat: puts `updated` in the group, bumps the group
    // epoch when asked or when subscribed topics changed, computes a new target when the epoch
    // moved, moves the member one step towards its target and renews its session.
    consumer_member& settle(group_slot& slot, consumer_member updated, bool bump, bool replaced,
                            const std::optional<topic_partitions>& owned);
    // Looks up the member a classic request names (by instance id for a static member).
    [[nodiscard]] std::pair<consumer_member*, protocol::error_code> classic_member_of(
        group_slot& slot, std::string_view member_id, const std::optional<std::string>& instance_id);
    // Whether a classic member must rejoin to move towards its target (a REBALANCE_IN_PROGRESS).
    [[nodiscard]] bool classic_must_rejoin(const consumer_group& g, const consumer_member& m) const;
    // A static member's new incarnation `member_id` takes over the member `replaced` that had
    // its instance id: the old member's timers stop and its target assignment moves over.
    void take_over_static_member(group_slot& slot, const std::string& replaced, const std::string& member_id,
                                 const std::string& instance_id);
    // A classic member must rejoin (after REBALANCE_IN_PROGRESS) or send SyncGroup (after its
    // JoinGroup) within its rebalance timeout, or it is fenced.
    enum class classic_wait : uint8_t { rejoin, sync };
    void schedule_classic_deadline(group_slot& slot, consumer_member& m, classic_wait wait);
    void on_join_timer(const std::string& group_id, const std::string& member_id, std::string_view why);
    // Puts the group back as it was before a change the log refused, keeping timers consistent.
    void roll_back(group_slot& slot, consumer_group before);
    void schedule_rebalance(group_slot& slot, consumer_member& m);
    consumer_heartbeat_result leave(group_slot& slot, const consumer_heartbeat_params& p);
    void fence(group_slot& slot, const std::string& member_id, std::string_view why);
    // A fence nobody waits for (timers): written, or left for the group's next write.
    void fence_and_store(group_slot& slot, const std::string& member_id, std::string_view why);
    void compute_target(consumer_group& g);
    void schedule_session(group_slot& slot, consumer_member& m);
    void on_session_timer(const std::string& group_id, const std::string& member_id);
    void on_rebalance_timer(const std::string& group_id, const std::string& member_id, int32_t epoch);
    [[nodiscard]] std::string new_member_id();
    // A subscription pattern, compiled once and shared by every member and heartbeat that names
    // it (a compile is milliseconds for a long pattern; settling a group matches on every beat).
    [[nodiscard]] std::shared_ptr<const topic_regex> compiled_pattern(std::string_view pattern) const;

    const group_config& config_;
    group_timers& timers_;
    const topic_source& topics_;
    consumer_group_store& store_;
    std::mt19937_64 random_;
    // Patterns that compiled. Emptied when it reaches max_compiled_patterns (holders keep theirs
    // alive): at most 64 programs of at most 256 KiB each, and groups seldom use more than a few.
    static constexpr size_t max_compiled_patterns = 64;
    mutable std::map<std::string, std::shared_ptr<const topic_regex>, std::less<>> compiled_patterns_;
};

} // namespace samsa::broker
