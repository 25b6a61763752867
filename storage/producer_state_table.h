// The idempotent and transactional producers of one partition (Kafka's ProducerStateManager):
// per producer id its epoch, the sequences and offsets of its last five batches, the epoch of
// the coordinator that last ended one of its transactions, and the first offset of its ongoing
// transaction. Appends are checked against it before a byte is written; the transactions it
// tracks give the partition's last stable offset. docs/storage.md has the rules and the
// snapshot format (storage/producer_snapshot.h writes it).
//
// Owned by its log; loop thread only. An append is checked in two steps: stage() every batch
// into a producer_state_update (the table is not changed, so a refused append leaves no trace),
// then apply() the update once the bytes are written. Producer ids and epochs have their own
// types (protocol/kafka_ids.h): an id cannot be taken for an offset, nor an epoch for a sequence.
#pragma once

#include "protocol/errors.h"
#include "protocol/kafka_ids.h"
#include "storage/log.h"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace samsa::storage {

using protocol::no_producer_epoch;
using protocol::no_producer_id;
inline constexpr int32_t no_sequence = -1;

// Where one batch of a producer landed.
struct producer_batch {
    int32_t first_seq = no_sequence;
    int32_t last_seq = no_sequence;
    int64_t first_offset = -1;
    int64_t last_offset = -1;
    int64_t timestamp = -1;  // the batch's max timestamp
};

struct producer_entry {
    // Kafka keeps the last five batches: a producer has at most five requests in flight per
    // partition, so a retry of any of them is recognised.
    static constexpr size_t max_batches = 5;

    protocol::producer_id producer_id = no_producer_id;
    protocol::producer_epoch epoch = no_producer_epoch;
    int32_t coordinator_epoch = -1;
    int64_t last_timestamp = -1;
    int64_t current_txn_first_offset = -1;  // -1: no transaction ongoing
    std::deque<producer_batch> batches;     // oldest first

    [[nodiscard]] int32_t last_seq() const noexcept { return batches.empty() ? no_sequence : batches.back().last_seq; }
    [[nodiscard]] int64_t last_offset() const noexcept { return batches.empty() ? -1 : batches.back().last_offset; }
    // A retained batch of this epoch with exactly these sequences (a retried request).
    [[nodiscard]] const producer_batch* find_duplicate(protocol::producer_epoch batch_epoch, int32_t first,
                                                       int32_t last) const noexcept;
    // Records a batch; a new epoch forgets the batches of the old one.
    void add_batch(protocol::producer_epoch batch_epoch, const producer_batch& b);
};

// What the table needs to know of one batch being appended (offsets as they will be assigned).
struct producer_batch_fields {
    protocol::producer_id producer_id = no_producer_id;
    protocol::producer_epoch epoch = no_producer_epoch;
    int32_t base_seq = no_sequence;
    int32_t last_offset_delta = 0;
    int64_t first_offset = -1;
    int64_t last_offset = -1;
    int64_t max_timestamp = -1;
    bool transactional = false;
    // Control batches: the transaction marker they carry (commit or abort), if any.
    bool control = false;
    std::optional<bool> commit;
    int32_t coordinator_epoch = -1;
};

// A transaction a marker ended: its data lies in [first_offset, last_offset] (the marker's offset).
struct completed_txn {
    protocol::producer_id producer_id = no_producer_id;
    int64_t first_offset = -1;
    int64_t last_offset = -1;
    bool aborted = false;
    // For the aborted-transaction index: the first offset still undecided once this one ended
    // (or the marker's offset + 1).
    int64_t last_stable_offset = -1;
};

// The changes one append makes, staged batch by batch.
struct producer_state_update {
    std::map<protocol::producer_id, producer_entry> entries;  // updated copies, by producer id
    std::vector<completed_txn> completed;
};

struct producer_check {
    protocol::error_code error = protocol::error_code::none;
    std::string message;
    // A client's retry of a batch already in the log: its original place, and nothing is written.
    std::optional<producer_batch> duplicate;
};

// The sequence `delta` records after `seq`, wrapping at INT32_MAX to 0 as producers do.
[[nodiscard]] int32_t increment_sequence(int32_t seq, int32_t delta) noexcept;

class producer_state_table {
public:
    // Checks one batch against the table and the batches staged before it, and stages it.
    // Clients: epoch not older (INVALID_PRODUCER_EPOCH), sequence next in line (a new epoch
    // starts at 0; OUT_OF_ORDER_SEQUENCE_NUMBER), no plain write inside a transaction
    // (INVALID_TXN_STATE), and a retried batch reported as a duplicate. Coordinators: epoch
    // and coordinator epoch (TRANSACTION_COORDINATOR_FENCED). Replication: nothing refused.
    [[nodiscard]] producer_check stage(producer_state_update& update, const producer_batch_fields& b,
                                       append_origin origin) const;
    // Makes a staged update the table's state. `end_offset` is the log end offset after it.
    void apply(producer_state_update update, int64_t end_offset);

    [[nodiscard]] const producer_entry* find(protocol::producer_id producer_id) const;
    [[nodiscard]] const std::map<protocol::producer_id, producer_entry>& producers() const noexcept {
        return producers_;
    }
    // The first offset of the earliest ongoing transaction, or nullopt.
    [[nodiscard]] std::optional<int64_t> first_unstable_offset() const;

    // Forgets producers idle (by their last batch's timestamp) for `expiration_ms` or longer
    // that have no transaction ongoing. Returns how many went.
    size_t expire(int64_t now_ms, int64_t expiration_ms);

    // The offset up to which the log has been read into the table.
    [[nodiscard]] int64_t end_offset() const noexcept { return end_offset_; }
    void set_end_offset(int64_t offset) noexcept { end_offset_ = offset; }
    void clear() noexcept;
    // Adds an entry read from a snapshot (its ongoing transaction included).
    void load_entry(producer_entry entry);

private:
    [[nodiscard]] int64_t last_stable_offset_without(protocol::producer_id producer_id,
                                                     const producer_state_update& update) const;

    std::map<protocol::producer_id, producer_entry> producers_;
    std::map<int64_t, protocol::producer_id> ongoing_;  // first offset of an ongoing transaction -> producer id
    int64_t end_offset_ = 0;
};

} // namespace samsa::storage
