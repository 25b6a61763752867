#include "broker/transactions/transaction_metadata.h"

#include <array>
#include <utility>

namespace samsa::broker {

namespace {

constexpr std::array<std::string_view, 8> names = {"Empty",          "Ongoing",       "PrepareCommit", "PrepareAbort",
                                                   "CompleteCommit", "CompleteAbort", "Dead",          "PrepareEpochFence"};

// InitProducerId's common end: Empty, with the request's timeout and no partitions.
transaction_metadata reset_to_empty(transaction_metadata next, int32_t timeout_ms, int64_t now_ms) {
    next.state = txn_state::empty;
    next.timeout_ms = timeout_ms;
    next.partitions.clear();
    next.start_ms = -1;
    next.last_update_ms = now_ms;
    return next;
}

} // namespace

std::string_view to_string(txn_state s) noexcept {
    const auto i = static_cast<size_t>(s);
    return i < names.size() ? names[i] : "Unknown";
}

std::optional<txn_state> txn_state_from_name(std::string_view name) noexcept {
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return static_cast<txn_state>(i);
    return std::nullopt;
}

std::optional<txn_state> txn_state_from_id(int8_t id) noexcept {
    if (id < 0 || static_cast<size_t>(id) >= names.size()) return std::nullopt;
    return static_cast<txn_state>(id);
}

bool is_idle(txn_state s) noexcept {
    return s == txn_state::empty || s == txn_state::complete_commit || s == txn_state::complete_abort;
}

bool valid_transition(txn_state from, txn_state to) noexcept {
    using enum txn_state;
    switch (to) {
        case empty: return from == empty || from == complete_commit || from == complete_abort;
        case ongoing: return from == ongoing || from == empty || from == complete_commit || from == complete_abort;
        case prepare_commit: return from == ongoing;
        // Kafka 4's set: a V2 client may abort with nothing in its transaction.
        case prepare_abort: return from == ongoing || from == prepare_epoch_fence || is_idle(from);
        case complete_commit: return from == prepare_commit;
        case complete_abort: return from == prepare_abort;
        case dead: return from == empty || from == complete_commit || from == complete_abort;
        case prepare_epoch_fence: return from == ongoing;
    }
    return false;
}

std::optional<transaction_metadata>
transaction_metadata::prepare_epoch_bump(int32_t new_timeout_ms, std::optional<protocol::producer_epoch> expected_epoch,
                                         int64_t now_ms) const {
    const auto bumped = next_producer_epoch(producer_epoch);
    transaction_metadata next = *this;
    if (!expected_epoch || producer_epoch == protocol::no_producer_epoch || *expected_epoch == producer_epoch) {
        next.producer_epoch = bumped;
        // Only a producer that said which epoch it had may retry into the same answer.
        next.last_producer_epoch = expected_epoch ? producer_epoch : protocol::no_producer_epoch;
    } else if (*expected_epoch == last_producer_epoch) {
        // A retry of the bump that produced the current epoch: the same answer again.
    } else {
        return std::nullopt;
    }
    return reset_to_empty(std::move(next), new_timeout_ms, now_ms);
}

transaction_metadata transaction_metadata::prepare_producer_id_rotation(protocol::producer_id new_producer_id,
                                                                        int32_t new_timeout_ms, bool record_last_epoch,
                                                                        int64_t now_ms) const {
    transaction_metadata next = *this;
    next.last_producer_id = producer_id;
    next.producer_id = new_producer_id;
    next.last_producer_epoch = record_last_epoch ? producer_epoch : protocol::no_producer_epoch;
    next.producer_epoch = protocol::producer_epoch(0);
    return reset_to_empty(std::move(next), new_timeout_ms, now_ms);
}

transaction_metadata transaction_metadata::prepare_add_partitions(const std::set<txn_topic_partition>& added,
                                                                  int64_t now_ms) const {
    transaction_metadata next = *this;
    if (state == txn_state::empty || state == txn_state::complete_commit || state == txn_state::complete_abort)
        next.start_ms = now_ms;
    next.state = txn_state::ongoing;
    // A client's AddPartitionsToTxn (v0-3) or AddOffsetsToTxn is transaction.version 0 (Kafka).
    next.client_transaction_version = transaction_version_0;
    next.partitions.insert(added.begin(), added.end());
    next.last_update_ms = now_ms;
    return next;
}

transaction_metadata transaction_metadata::prepare_fence() const {
    transaction_metadata next = *this;
    // The last epoch a producer may hold is INT16_MAX - 1, so one more step always fits; past
    // it the next InitProducerId rotates the producer id.
    if (producer_epoch < max_producer_epoch) next.producer_epoch = next_producer_epoch(producer_epoch);
    next.last_producer_epoch = protocol::no_producer_epoch;
    next.state = txn_state::prepare_epoch_fence;
    return next;
}

transaction_metadata transaction_metadata::prepare_end(bool commit, int64_t now_ms) const {
    transaction_metadata next = *this;
    next.state = commit ? txn_state::prepare_commit : txn_state::prepare_abort;
    next.client_transaction_version = transaction_version_0;  // EndTxn v0-4 and fencing (Kafka's V1 path)
    next.last_update_ms = now_ms;
    return next;
}

transaction_metadata transaction_metadata::prepare_end_v2(bool commit, protocol::producer_id next_id, bool no_partitions,
                                                          int64_t now_ms) const {
    transaction_metadata next = prepare_end(commit, now_ms);
    // The caller rotates the id before the epoch can pass INT16_MAX - 1, so + 1 always fits.
    next.last_producer_epoch = producer_epoch;
    next.producer_epoch = next_producer_epoch(producer_epoch);
    next.next_producer_id = next_id;
    next.client_transaction_version = transaction_version_2;
    if (no_partitions) next.start_ms = now_ms;
    return next;
}

transaction_metadata transaction_metadata::prepare_complete(int64_t now_ms) const {
    transaction_metadata next = *this;
    next.state = state == txn_state::prepare_commit ? txn_state::complete_commit : txn_state::complete_abort;
    next.partitions.clear();
    next.last_update_ms = now_ms;
    if (client_transaction_version >= transaction_version_2 && next_producer_id != protocol::no_producer_id) {
        // The epoch ran out: the client continues with the new id. last_producer_epoch stays the
        // last epoch it used, so that a retried EndTxn of the old id is still recognised.
        next.last_producer_id = producer_id;
        next.producer_id = next_producer_id;
        next.producer_epoch = protocol::producer_epoch(0);
    }
    next.next_producer_id = protocol::no_producer_id;
    return next;
}

transaction_metadata transaction_metadata::prepare_dead() const {
    transaction_metadata next = *this;
    next.state = txn_state::dead;
    next.partitions.clear();
    return next;
}

} // namespace samsa::broker
