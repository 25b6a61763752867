// The state of one transactional id as the transaction coordinator keeps it, and the rules for
// moving it from one state to the next (Kafka's TransactionMetadata). A plain value owned by the
// transaction_coordinator's table; every prepare_* is a pure function returning the state to
// be written to __transaction_state, which becomes current only once the write succeeded.
// Any thread; no references are kept.
//
//               InitProducerId                      AddPartitionsToTxn, AddOffsetsToTxn
//  (new id) ──────────────▶ Empty ─────────────────────────────────────▶ Ongoing ◀─┐ more
//                             ▲                                          │ │ │ └──┘ partitions
//                             │ InitProducerId (epoch + 1)               │ │ │
//          ┌──────────────────┘                                          │ │ ▼ InitProducerId of a
//          │                                         EndTxn(commit)      │ │ PrepareEpochFence  new instance,
//    CompleteCommit ◀── markers written ── PrepareCommit ◀───────────────┘ │ │ (epoch + 1, never  or the
//    CompleteAbort  ◀── markers written ── PrepareAbort  ◀─────────────────┴─┘  written)         timeout
//          │                                             EndTxn(abort)
//          ├── AddPartitionsToTxn starts the next transaction ──▶ Ongoing
//          └── idle for transactional.id.expiration.ms (Empty too) ──▶ Dead: a tombstone, forgotten
//
// Transactions V2 (KIP-890, an EndTxn v5 client): PrepareCommit/PrepareAbort carry the epoch + 1
// (the markers are written with it, so a late write of the old epoch is refused), and an abort
// may also start from Empty, CompleteCommit or CompleteAbort (no partitions, no markers). An
// exhausted epoch is replaced by next_producer_id at epoch 0 when the markers are done.
#pragma once

#include "protocol/kafka_ids.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace samsa::broker {

// The numbers are Kafka's, and are what TransactionStatus holds on disk.
enum class txn_state : int8_t {
    empty = 0,
    ongoing = 1,
    prepare_commit = 2,
    prepare_abort = 3,
    complete_commit = 4,
    complete_abort = 5,
    dead = 6,
    prepare_epoch_fence = 7,
};

// Kafka's names ("Empty", "Ongoing", ...), as DescribeTransactions and ListTransactions give them.
[[nodiscard]] std::string_view to_string(txn_state s) noexcept;
[[nodiscard]] std::optional<txn_state> txn_state_from_name(std::string_view name) noexcept;
[[nodiscard]] std::optional<txn_state> txn_state_from_id(int8_t id) noexcept;
// Whether `to` may follow `from` (Kafka's valid previous states).
[[nodiscard]] bool valid_transition(txn_state from, txn_state to) noexcept;
// No transaction under way: Empty, CompleteCommit or CompleteAbort.
[[nodiscard]] bool is_idle(txn_state s) noexcept;

using txn_topic_partition = std::pair<std::string, protocol::partition_id>;

// Epoch steps, spelled out here because the strong epoch type has no arithmetic. Epoch
// INT16_MAX - 1 is the last one a producer may use: one more bump must rotate the producer id.
inline constexpr protocol::producer_epoch last_usable_producer_epoch{INT16_MAX - 1};
inline constexpr protocol::producer_epoch max_producer_epoch{INT16_MAX};
// The epoch after `e`, in 16 bits. Callers keep `e` below INT16_MAX: a fence or a V2 end at the
// last usable epoch reaches INT16_MAX, and the id rotates before anything goes past it.
[[nodiscard]] constexpr protocol::producer_epoch next_producer_epoch(protocol::producer_epoch e) noexcept {
    return protocol::producer_epoch(static_cast<int16_t>(e.value() + 1));
}
// Whether `later` is the epoch right after `earlier` (computed wide: no wrap at INT16_MAX).
[[nodiscard]] constexpr bool follows_producer_epoch(protocol::producer_epoch later, protocol::producer_epoch earlier) noexcept {
    return later.value() == earlier.value() + 1;
}

// Kafka's transaction.version levels: 0 the original protocol, 1 flexible __transaction_state
// values, 2 the epoch bump at the end of every transaction (what an EndTxn v5 client speaks).
inline constexpr int16_t transaction_version_0 = 0;
inline constexpr int16_t transaction_version_1 = 1;
inline constexpr int16_t transaction_version_2 = 2;
// What ApiVersions reports. This broker implements the coordinator's side of level 2 (EndTxn v5)
// but not the partition leader's: a level-2 client skips AddPartitionsToTxn and AddOffsetsToTxn
// and relies on Produce v12 and TxnOffsetCommit v5 to add partitions, versions outside the
// protocol this broker speaks. So level 1 is finalized: clients that follow it (Kafka's Java
// client) stay on V1, and EndTxn v5 still gets the V2 rules for a client that asks for them.
inline constexpr int16_t supported_transaction_version_max = transaction_version_2;
inline constexpr int16_t finalized_transaction_version = transaction_version_1;

struct transaction_metadata {
    std::string transactional_id;
    protocol::producer_id producer_id = protocol::no_producer_id;
    // The id before the last rotation and the epoch before the last bump: an InitProducerId
    // (or a V2 EndTxn) retried after its answer was lost is recognised by them. The id is kept
    // in the v1 value (PreviousProducerId); the epoch is memory only, as in Kafka.
    protocol::producer_id last_producer_id = protocol::no_producer_id;
    protocol::producer_epoch producer_epoch = protocol::no_producer_epoch;
    protocol::producer_epoch last_producer_epoch = protocol::no_producer_epoch;
    int32_t timeout_ms = 0;
    txn_state state = txn_state::empty;
    std::set<txn_topic_partition> partitions;
    int64_t start_ms = -1;        // when the first partition joined the current transaction
    int64_t last_update_ms = -1;  // the last state change (transactional.id.expiration.ms counts from it)
    // Transactions V2: the id that replaces an exhausted one once this transaction's markers
    // are written (PrepareCommit/PrepareAbort only), and the transaction.version of the client
    // request that made this state (0 for AddPartitionsToTxn v0-3 and EndTxn v0-4, 2 for EndTxn
    // v5), as Kafka records them in the value's tagged fields.
    protocol::producer_id next_producer_id = protocol::no_producer_id;
    int16_t client_transaction_version = transaction_version_0;

    // The last usable epoch is reached: the next bump rotates the id.
    [[nodiscard]] bool epoch_exhausted() const noexcept { return producer_epoch >= last_usable_producer_epoch; }

    // ---- InitProducerId (Empty, CompleteCommit, CompleteAbort -> Empty) ------------------------
    // The next epoch. `expected_epoch` is what a v3+ request says the producer has: a retry of
    // the last bump gets the same epoch again, a stale one gets nullopt (PRODUCER_FENCED).
    [[nodiscard]] std::optional<transaction_metadata>
    prepare_epoch_bump(int32_t new_timeout_ms, std::optional<protocol::producer_epoch> expected_epoch, int64_t now_ms) const;
    // A new producer id at epoch 0, once the epoch is exhausted.
    [[nodiscard]] transaction_metadata prepare_producer_id_rotation(protocol::producer_id new_producer_id,
                                                                    int32_t new_timeout_ms, bool record_last_epoch,
                                                                    int64_t now_ms) const;

    // ---- a transaction --------------------------------------------------------------------
    [[nodiscard]] transaction_metadata prepare_add_partitions(const std::set<txn_topic_partition>& added, int64_t now_ms) const;
    // Ongoing -> PrepareEpochFence: the epoch moves on so that the old instance is fenced.
    [[nodiscard]] transaction_metadata prepare_fence() const;
    // Ongoing (or PrepareEpochFence) -> PrepareCommit / PrepareAbort.
    [[nodiscard]] transaction_metadata prepare_end(bool commit, int64_t now_ms) const;
    // Transactions V2: -> PrepareCommit / PrepareAbort at epoch + 1 (the last epoch is kept for
    // retries). `next_id` replaces an exhausted epoch's id at completion (no_producer_id when not
    // exhausted); `no_partitions` is an abort with nothing added, which starts now.
    [[nodiscard]] transaction_metadata prepare_end_v2(bool commit, protocol::producer_id next_id, bool no_partitions,
                                                      int64_t now_ms) const;
    // PrepareCommit -> CompleteCommit, PrepareAbort -> CompleteAbort; the partitions are done.
    // Under V2 a pending next_producer_id becomes the producer id, at epoch 0.
    [[nodiscard]] transaction_metadata prepare_complete(int64_t now_ms) const;
    // The id expired: it is removed (a tombstone in the log).
    [[nodiscard]] transaction_metadata prepare_dead() const;
};

} // namespace samsa::broker
