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
#pragma once

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

using txn_topic_partition = std::pair<std::string, int32_t>;

inline constexpr int16_t no_producer_epoch = -1;
inline constexpr int64_t no_producer_id = -1;

struct transaction_metadata {
    std::string transactional_id;
    int64_t producer_id = no_producer_id;
    // The id before the last rotation and the epoch before the last bump: an InitProducerId
    // retried after its answer was lost is recognised by them. Memory only, as in Kafka's v0 record.
    int64_t last_producer_id = no_producer_id;
    int16_t producer_epoch = no_producer_epoch;
    int16_t last_producer_epoch = no_producer_epoch;
    int32_t timeout_ms = 0;
    txn_state state = txn_state::empty;
    std::set<txn_topic_partition> partitions;
    int64_t start_ms = -1;        // when the first partition joined the current transaction
    int64_t last_update_ms = -1;  // the last state change (transactional.id.expiration.ms counts from it)

    // Epoch INT16_MAX - 1 is the last one a producer may use: one more bump must rotate the id.
    [[nodiscard]] bool epoch_exhausted() const noexcept { return producer_epoch >= INT16_MAX - 1; }

    // ---- InitProducerId (Empty, CompleteCommit, CompleteAbort -> Empty) ------------------------
    // The next epoch. `expected_epoch` is what a v3+ request says the producer has: a retry of
    // the last bump gets the same epoch again, a stale one gets nullopt (PRODUCER_FENCED).
    [[nodiscard]] std::optional<transaction_metadata> prepare_epoch_bump(int32_t new_timeout_ms,
                                                                         std::optional<int16_t> expected_epoch,
                                                                         int64_t now_ms) const;
    // A new producer id at epoch 0, once the epoch is exhausted.
    [[nodiscard]] transaction_metadata prepare_producer_id_rotation(int64_t new_producer_id, int32_t new_timeout_ms,
                                                                    bool record_last_epoch, int64_t now_ms) const;

    // ---- a transaction --------------------------------------------------------------------
    [[nodiscard]] transaction_metadata prepare_add_partitions(const std::set<txn_topic_partition>& added, int64_t now_ms) const;
    // Ongoing -> PrepareEpochFence: the epoch moves on so that the old instance is fenced.
    [[nodiscard]] transaction_metadata prepare_fence() const;
    // Ongoing (or PrepareEpochFence) -> PrepareCommit / PrepareAbort.
    [[nodiscard]] transaction_metadata prepare_end(bool commit, int64_t now_ms) const;
    // PrepareCommit -> CompleteCommit, PrepareAbort -> CompleteAbort; the partitions are done.
    [[nodiscard]] transaction_metadata prepare_complete(int64_t now_ms) const;
    // The id expired: it is removed (a tombstone in the log).
    [[nodiscard]] transaction_metadata prepare_dead() const;
};

} // namespace samsa::broker
