// The group coordinator of this broker: the one service behind every group API
// (ctx.groups()). It owns the group_table, the timers, the classic and consumer (KIP-848)
// protocol coordinators and the committed offsets, and keeps them durable in the internal
// __consumer_offsets topic (Kafka's record format, group_records.h): created on first use,
// loaded partition by partition at start-up (groups of a partition still loading answer
// COORDINATOR_LOAD_IN_PROGRESS), compacted, with offset retention. Owned by the node and built
// before the server runs; every call is on the loop thread. Its arguments outlive it.
// A non-empty group may change type while its members run (group.consumer.migration.policy):
// classic members may join a consumer group, and the group converts between the two types.
#pragma once

#include "broker/coordinator_log.h"
#include "broker/coordinator_partitions.h"
#include "broker/groups/classic_group_coordinator.h"
#include "broker/groups/consumer_group_coordinator.h"
#include "broker/groups/consumer_group_records.h"
#include "broker/groups/group_config.h"
#include "broker/groups/group_records.h"
#include "broker/groups/group_table.h"
#include "broker/groups/group_timers.h"
#include "broker/groups/topic_source.h"
#include "broker/groups/txn_offset_table.h"
#include "broker/loop_services.h"
#include "protocol/errors.h"
#include "protocol/kafka_ids.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

// ---- what the handlers pass and get back -----------------------------------------------------

struct offset_commit_entry {
    std::string topic;
    protocol::partition_id partition;
    protocol::offset offset;
    protocol::leader_epoch leader_epoch = protocol::no_leader_epoch;
    std::optional<std::string> metadata;
    int64_t commit_timestamp_ms = -1;  // OffsetCommit v1 only
};

struct offset_commit_request_params {
    std::string group_id;
    int32_t generation_or_epoch = -1;
    std::string member_id;
    std::optional<std::string> group_instance_id;
    int64_t retention_time_ms = -1;  // v2-v4
    int16_t api_version = 0;
    std::vector<offset_commit_entry> offsets;
};

struct offset_fetch_partition {
    std::string topic;
    protocol::partition_id partition;
    protocol::offset offset = protocol::no_offset;
    protocol::leader_epoch leader_epoch = protocol::no_leader_epoch;
    std::optional<std::string> metadata;
    protocol::error_code error = protocol::error_code::none;
};

struct offset_fetch_group_result {
    protocol::error_code error = protocol::error_code::none;
    std::vector<offset_fetch_partition> partitions;
};

struct offset_fetch_request_params {
    std::string group_id;
    // null: every committed offset
    std::optional<std::vector<std::pair<std::string, std::vector<protocol::partition_id>>>> topics;
    std::optional<std::string> member_id;  // v9+
    int32_t member_epoch = -1;
    bool require_stable = false;  // v7+: offsets of an undecided transaction are UNSTABLE_OFFSET_COMMIT
};

// TxnOffsetCommit: offsets written as part of a producer's transaction.
struct txn_offset_commit_params {
    std::string group_id;
    protocol::producer_id producer_id = protocol::no_producer_id;
    protocol::producer_epoch producer_epoch = protocol::no_producer_epoch;
    int32_t generation_id = -1;  // v3+; -1: not checked
    std::string member_id;       // v3+; empty: not checked
    std::optional<std::string> group_instance_id;
    std::vector<offset_commit_entry> offsets;
};

struct listed_group {
    std::string group_id;
    std::string protocol_type;
    std::string state;
    std::string type;
};

struct described_member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    std::vector<uint8_t> metadata;
    std::vector<uint8_t> assignment;
};

struct described_group {
    protocol::error_code error = protocol::error_code::none;
    std::string group_id;
    std::string state;
    std::string protocol_type;
    std::string protocol_data;
    std::vector<described_member> members;
};

struct consumer_described_member {
    const consumer_member* member = nullptr;
    topic_partitions target;
};

struct consumer_described_group {
    protocol::error_code error = protocol::error_code::none;
    std::optional<std::string> error_message;
    std::string group_id;
    std::string state;
    int32_t group_epoch = 0;
    int32_t assignment_epoch = 0;
    std::string assignor;
    std::vector<consumer_described_member> members;  // valid until the next coordinator call
};

// ---- the service ------------------------------------------------------------------------------

class group_coordinator final : private classic_group_store, private consumer_group_store {
public:
    using wall_clock = std::function<int64_t()>;

    // `wall` gives milliseconds since the epoch (commit timestamps, retention); by default the
    // system clock.
    group_coordinator(group_config config, loop_services& loop, coordinator_log& log, const topic_source& topics,
                      wall_clock wall = {});
    ~group_coordinator() override;
    group_coordinator(const group_coordinator&) = delete;
    group_coordinator& operator=(const group_coordinator&) = delete;

    // Starts loading every partition of an existing __consumer_offsets topic (one posted task
    // per partition, so the loop keeps serving) and the retention timer.
    void start();
    // Cancels every timer and answers parked requests with NOT_COORDINATOR (shutdown).
    void close();

    // FindCoordinator for a group key: creates __consumer_offsets on first use. none, or why
    // this node cannot coordinate it (INVALID_REQUEST for an empty key, COORDINATOR_NOT_AVAILABLE).
    [[nodiscard]] protocol::error_code find_coordinator(std::string_view group_id);
    // __consumer_offsets partition of a group (Kafka's: abs(java hashCode) % partitions).
    [[nodiscard]] protocol::partition_id partition_for(std::string_view group_id) const noexcept;
    [[nodiscard]] bool loading(std::string_view group_id) const noexcept;
    [[nodiscard]] bool loading_any() const noexcept;

    // Classic protocol. `done` may run before these return.
    void join_group(const std::string& group_id, join_params params, join_callback done);
    void sync_group(const std::string& group_id, sync_params params, sync_callback done);
    [[nodiscard]] protocol::error_code heartbeat(const std::string& group_id, std::string_view member_id,
                                                 const std::optional<std::string>& instance_id, int32_t generation);
    // The group-level error (v0-v2 report only that) and one error per member.
    [[nodiscard]] std::pair<protocol::error_code, std::vector<protocol::error_code>> leave_group(
        const std::string& group_id, const std::vector<member_identity>& members);

    // KIP-848.
    [[nodiscard]] consumer_heartbeat_result consumer_heartbeat(const std::string& group_id, consumer_heartbeat_params params,
                                                               int16_t version);
    [[nodiscard]] std::vector<consumer_described_group> consumer_describe(const std::vector<std::string>& group_ids);

    // Offsets. One error per entry, in order.
    [[nodiscard]] std::vector<protocol::error_code> commit_offsets(const offset_commit_request_params& request);
    [[nodiscard]] offset_fetch_group_result fetch_offsets(const offset_fetch_request_params& request);
    // TxnOffsetCommit: written to __consumer_offsets as the producer's transactional records and
    // held pending until complete_txn_offsets. The transaction coordinator has checked the
    // producer. One error per entry, in order.
    [[nodiscard]] std::vector<protocol::error_code> commit_txn_offsets(const txn_offset_commit_params& request);
    // The producer's transaction ended and its markers are written: its pending offsets become
    // committed offsets (commit) or are dropped (abort).
    void complete_txn_offsets(protocol::producer_id producer, bool commit);
    // OffsetDelete: the group-level error and one error per (topic, partition).
    [[nodiscard]] std::pair<protocol::error_code, std::vector<protocol::error_code>> delete_offsets(
        const std::string& group_id, const std::vector<std::pair<std::string, protocol::partition_id>>& partitions);

    // Whether writes for the group wait for an fsync before they count (the flush policy of its
    // __consumer_offsets partition: the rule of an acks=-1 Produce).
    [[nodiscard]] bool waits_for_fsync(std::string_view group_id) const;
    // Calls `done` (loop thread, later) once every write made so far to the group's partition is
    // durable: none, or Kafka's answer for a failed write (NOT_COORDINATOR for a storage error).
    void when_durable(std::string_view group_id, std::function<void(protocol::error_code)> done);
    // Whether writes to the group's partition wait for an fsync that has not completed yet (only
    // under a flush policy): requests answered from the group's state answer after them.
    [[nodiscard]] bool has_pending_writes(std::string_view group_id) const;
    // Batches appended to __consumer_offsets so far: a handler compares it around a call to learn
    // whether the call wrote, and so must answer only once the write is durable.
    [[nodiscard]] uint64_t appends() const noexcept { return appends_; }

    // Administration.
    [[nodiscard]] std::pair<protocol::error_code, std::vector<listed_group>> list_groups(
        const std::vector<std::string>& states, const std::vector<std::string>& types) const;
    [[nodiscard]] std::vector<described_group> describe_groups(const std::vector<std::string>& group_ids) const;
    [[nodiscard]] std::vector<protocol::error_code> delete_groups(const std::vector<std::string>& group_ids);

    // Offset retention, run by the retention timer every offsets.retention.check.interval.ms.
    // Returns how many offsets expired.
    size_t expire_offsets();

    [[nodiscard]] size_t group_count() const noexcept { return groups_.size(); }
    [[nodiscard]] const group_table& groups() const noexcept { return groups_; }
    [[nodiscard]] group_timers& timers() noexcept { return timers_; }
    [[nodiscard]] const group_config& config() const noexcept { return config_; }

private:
    struct pending_record {
        std::vector<uint8_t> key;
        std::optional<std::vector<uint8_t>> value;  // null: tombstone
    };

    // classic_group_store / consumer_group_store
    [[nodiscard]] protocol::error_code store_group(group_slot& slot) override;
    [[nodiscard]] protocol::error_code store_consumer_group(group_slot& slot, const std::string* member) override;
    // group_migration.cpp: a classic group of the consumer protocol becomes a consumer group when
    // a KIP-848 member joins it (none, or the error the joining member gets), and a consumer
    // group whose members all use the classic protocol becomes a classic group again.
    // GROUP_ID_NOT_FOUND when the group cannot convert; `why`, when given, gets Kafka's message
    // for a refusal it explains (malformed bytes, a custom assignor's userData).
    // `previous` gets the classic group, for undo_upgrade until the joining member's write (which
    // carries the conversion) succeeds.
    [[nodiscard]] protocol::error_code upgrade_to_consumer_group(group_slot& slot, std::string* why,
                                                                 std::unique_ptr<classic_group>* previous);
    void undo_upgrade(group_slot& slot, std::unique_ptr<classic_group> previous);
    [[nodiscard]] bool member_removed(group_slot& slot) override;
    [[nodiscard]] bool static_member_replaced(group_slot& slot, const std::string& joining) override;
    // Both of the above: `joining` null after a removal (the classic group then rebalances).
    [[nodiscard]] bool downgrade_to_classic_group(group_slot& slot, const std::string* joining);
    // The tombstones that remove a group's own records (not its offsets) from the log.
    [[nodiscard]] std::vector<pending_record> group_tombstones(const group_slot& slot) const;
    [[nodiscard]] group_slot* find_group(std::string_view id) override { return groups_.find(id); }
    [[nodiscard]] int64_t wall_clock_ms() const override { return wall_(); }

    [[nodiscard]] protocol::error_code ensure_topic();
    // What both commit forms (OffsetCommit, TxnOffsetCommit) check per entry: the partition
    // exists and the metadata string fits offset.metadata.max.bytes.
    [[nodiscard]] protocol::error_code offset_entry_error(const std::string& topic, protocol::partition_id partition,
                                                          const std::optional<std::string>& metadata) const;
    // Appends one built batch, counted in appends(); Kafka's error for a failed write.
    [[nodiscard]] protocol::error_code append(protocol::partition_id partition, std::span<uint8_t> batch, int64_t now_ms);
    // Appends the records as one batch; `base_offset`, when given, receives the log offset of the
    // first (the others follow it one by one).
    [[nodiscard]] protocol::error_code write(protocol::partition_id partition, const std::vector<pending_record>& records,
                                             protocol::offset* base_offset = nullptr);
    [[nodiscard]] protocol::error_code check_group(std::string_view group_id, bool allow_empty) const;
    void replay(protocol::partition_id partition, protocol::bytes_view batches);
    void finish_load(protocol::partition_id partition);
    void schedule_retention();
    void remove_group(group_slot& slot, protocol::error_code parked_error);
    [[nodiscard]] bool subscribed(const group_slot& slot, std::string_view topic) const;

    group_config config_;
    loop_services& loop_;
    coordinator_log& log_;
    const topic_source& topics_;
    wall_clock wall_;
    group_timers timers_;
    group_table groups_;
    classic_group_coordinator classic_;
    consumer_group_coordinator consumer_;
    coordinator_partitions partitions_;  // of __consumer_offsets
    // Group metadata seen while loading a partition, applied when the partition is done.
    std::map<std::string, std::optional<protocol::group_metadata_value>> loaded_metadata_;
    std::map<std::string, consumer_group_log_state> loaded_consumer_groups_;
    txn_offset_table txn_offsets_;
    uint64_t retention_timer_ = 0;
    uint64_t appends_ = 0;
    bool closed_ = false;
};

} // namespace samsa::broker
