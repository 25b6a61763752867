// The transaction coordinator of this broker: the one service behind InitProducerId for a
// transactional id, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, DescribeTransactions and
// ListTransactions (ctx.transactions()), and the check TxnOffsetCommit makes. It owns the state
// of every transactional id (transaction_metadata.h has the state machine), keeps it durable in
// the internal __transaction_state topic (transaction_log.h), created on first use and loaded
// partition by partition at start-up (ids of a partition still loading answer
// COORDINATOR_LOAD_IN_PROGRESS), and ends transactions by having txn_marker_writer append
// COMMIT/ABORT markers to their partitions; a PrepareCommit/PrepareAbort found at start-up is
// completed the same way. Timers abort transactions past their timeout and forget idle ids.
//
// Owned by the node and built before the server runs; every call is on the loop thread. Its
// constructor arguments outlive it. Writes to __transaction_state are synchronous appends (as
// the group coordinator's are), so every call returns its result at once; when the topic's flush
// policy asks for an fsync, the handler holds the answer until when_durable() reports the write
// on disk (as an acks=-1 Produce would), and markers are sent only after the Prepare record is.
#pragma once

#include "broker/coordinator_log.h"
#include "broker/coordinator_partitions.h"
#include "broker/loop_services.h"
#include "broker/transactions/transaction_config.h"
#include "broker/transactions/transaction_metadata.h"
#include "broker/transactions/txn_marker_writer.h"
#include "protocol/errors.h"
#include "protocol/kafka_ids.h"
#include "protocol/wire.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa::broker {

struct init_producer_id_result {
    protocol::error_code error = protocol::error_code::none;
    protocol::producer_id producer_id = protocol::no_producer_id;
    protocol::producer_epoch producer_epoch = protocol::no_producer_epoch;
};

// EndTxn's answer; v5 (transactions V2) also returns the producer id and epoch to use next.
struct end_txn_result {
    protocol::error_code error = protocol::error_code::none;
    protocol::producer_id producer_id = protocol::no_producer_id;
    protocol::producer_epoch producer_epoch = protocol::no_producer_epoch;
};

struct described_transaction {
    protocol::error_code error = protocol::error_code::none;
    std::string transactional_id;
    txn_state state = txn_state::empty;
    int32_t timeout_ms = 0;
    int64_t start_ms = -1;
    protocol::producer_id producer_id = protocol::no_producer_id;
    protocol::producer_epoch producer_epoch = protocol::no_producer_epoch;
    std::set<txn_topic_partition> partitions;
};

struct listed_transaction {
    std::string transactional_id;
    protocol::producer_id producer_id = protocol::no_producer_id;
    txn_state state = txn_state::empty;
};

struct list_transactions_result {
    protocol::error_code error = protocol::error_code::none;
    std::vector<std::string> unknown_state_filters;
    std::vector<listed_transaction> transactions;
};

class transaction_coordinator {
public:
    // A new producer id, or nullopt when none can be handed out now (retriable for the client).
    using producer_id_source = std::function<std::optional<protocol::producer_id>()>;
    using wall_clock = std::function<int64_t()>;
    // Told when a transaction's markers are on all its partitions, so that the group
    // coordinator makes the producer's transactional offset commits visible (commit) or drops
    // them (abort). Runs on the loop thread.
    using markers_listener = std::function<void(protocol::producer_id producer_id, bool commit)>;

    // `wall` gives milliseconds since the epoch (the timestamps written to the log, timeouts
    // and expiry); by default the system clock.
    transaction_coordinator(transaction_config config, loop_services& loop, coordinator_log& log,
                            txn_marker_writer& markers, producer_id_source producer_ids, wall_clock wall = {});
    ~transaction_coordinator();
    transaction_coordinator(const transaction_coordinator&) = delete;
    transaction_coordinator& operator=(const transaction_coordinator&) = delete;

    void set_markers_listener(markers_listener listener) { listener_ = std::move(listener); }

    // Starts loading an existing __transaction_state (one posted task per chunk, so the loop
    // keeps serving) and the timeout and expiration timers.
    void start();
    // Stops the timers and forgets markers in flight (a restart completes them from the log).
    void close();

    // FindCoordinator for a transactional id: creates __transaction_state on first use.
    [[nodiscard]] protocol::error_code find_coordinator(std::string_view transactional_id);
    [[nodiscard]] protocol::partition_id partition_for(std::string_view transactional_id) const noexcept;
    [[nodiscard]] bool loading(std::string_view transactional_id) const noexcept;
    [[nodiscard]] bool loading_any() const noexcept;

    // A producer's id and the epoch it holds, as a request names them.
    using producer_instance = std::pair<protocol::producer_id, protocol::producer_epoch>;

    // InitProducerId with a non-null transactional id. `expected` is a v3+ request's producer
    // id and epoch when it gave one (not -1). An Ongoing transaction of an older instance is
    // fenced and aborted, and the answer is CONCURRENT_TRANSACTIONS until that is done.
    [[nodiscard]] init_producer_id_result init_producer_id(const std::string& transactional_id, int32_t timeout_ms,
                                                           std::optional<producer_instance> expected);
    // AddPartitionsToTxn / AddOffsetsToTxn: one error for all the partitions.
    [[nodiscard]] protocol::error_code add_partitions(const std::string& transactional_id, protocol::producer_id producer_id,
                                                      protocol::producer_epoch producer_epoch,
                                                      const std::set<txn_topic_partition>& partitions);
    // The verification form (KIP-890): one error per partition, in order: none when it is in
    // the ongoing transaction, TRANSACTION_ABORTABLE when not.
    [[nodiscard]] std::vector<protocol::error_code> verify_partitions(const std::string& transactional_id,
                                                                      protocol::producer_id producer_id,
                                                                      protocol::producer_epoch producer_epoch,
                                                                      const std::vector<txn_topic_partition>& partitions);
    // EndTxn: none once PrepareCommit/PrepareAbort is on the log; the markers follow.
    [[nodiscard]] protocol::error_code end_transaction(const std::string& transactional_id, protocol::producer_id producer_id,
                                                       protocol::producer_epoch producer_epoch, bool commit);
    // EndTxn v5 (transactions V2, Kafka's rules): PrepareCommit/PrepareAbort at epoch + 1, the
    // new epoch (or, once exhausted, the next producer id at epoch 0) returned. A retry with the
    // epoch before the bump after completion answers none with the current id and epoch; the
    // current epoch after completion starts an abort of an empty transaction (commit:
    // INVALID_TXN_STATE); any other epoch is PRODUCER_FENCED.
    [[nodiscard]] end_txn_result end_transaction_v2(const std::string& transactional_id, protocol::producer_id producer_id,
                                                    protocol::producer_epoch producer_epoch, bool commit);

    // Whether writes for the id wait for an fsync before they count (the flush policy of its
    // __transaction_state partition: the rule of an acks=-1 Produce).
    [[nodiscard]] bool waits_for_fsync(std::string_view transactional_id) const;
    // Calls `done` (loop thread, later) once every write made so far for the id's partition is
    // durable: none, or the error Kafka's coordinator answers for a failed write (NOT_COORDINATOR
    // for a storage error).
    void when_durable(std::string_view transactional_id, std::function<void(protocol::error_code)> done);

    [[nodiscard]] described_transaction describe(const std::string& transactional_id) const;
    // Filters: Kafka's state names (unknown ones are reported back), producer ids, and the
    // time (ms) a transaction must have been running longer than; empty or -1 means no filter.
    [[nodiscard]] list_transactions_result list(const std::vector<std::string>& states,
                                                const std::vector<protocol::producer_id>& producer_ids,
                                                int64_t min_duration_ms) const;

    // Run by the timers; tests with a fake clock call them directly. Return how many they did.
    size_t abort_timed_out_transactions();
    size_t expire_transactional_ids();

    [[nodiscard]] const transaction_metadata* find(std::string_view transactional_id) const;
    [[nodiscard]] size_t size() const noexcept { return table_.size(); }
    [[nodiscard]] size_t markers_in_flight() const noexcept { return in_flight_.size(); }

private:
    struct marker_send {
        protocol::producer_id producer_id = protocol::no_producer_id;
        protocol::producer_epoch producer_epoch = protocol::no_producer_epoch;
        bool commit = false;
        std::set<txn_topic_partition> remaining;
        uint64_t generation = 0;
        bool listener_told = false;
        std::unique_ptr<loop_timer> retry;
    };

    [[nodiscard]] protocol::error_code check_serving(std::string_view transactional_id) const;
    [[nodiscard]] protocol::error_code ensure_topic();
    // Writes `m` (or a tombstone) for the id; the caller makes it current when this succeeds.
    [[nodiscard]] protocol::error_code write(const std::string& transactional_id, const transaction_metadata* m);
    // Fences the producer of an Ongoing transaction and writes PrepareAbort; the markers follow.
    [[nodiscard]] protocol::error_code fence_and_abort(transaction_metadata& current);
    void send_markers(const std::string& transactional_id);
    // send_markers once the Prepare record just written is durable (a crash must not leave
    // markers on the partitions of a transaction whose decision was lost).
    void send_markers_when_durable(const std::string& transactional_id);
    void dispatch_markers(const std::string& transactional_id);
    void on_marker_results(const std::string& transactional_id, uint64_t generation, const std::vector<txn_marker_result>& results);
    void complete(const std::string& transactional_id);
    void retry_later(const std::string& transactional_id, std::function<void()> fn);
    void replay(protocol::bytes_view batches);
    // A partition was read to its end: what it held becomes the table.
    void finish_load();
    void schedule_abort_check();
    void schedule_expiration_check();

    transaction_config config_;
    loop_services& loop_;
    coordinator_log& log_;
    txn_marker_writer& markers_;
    producer_id_source producer_ids_;
    wall_clock wall_;
    markers_listener listener_;
    std::map<std::string, transaction_metadata, std::less<>> table_;
    std::map<std::string, marker_send, std::less<>> in_flight_;
    // Records seen while loading a partition (nullopt: a tombstone), applied when it is done.
    std::map<std::string, std::optional<transaction_metadata>> loaded_;
    coordinator_partitions partitions_;  // of __transaction_state
    std::unique_ptr<loop_timer> abort_timer_;
    std::unique_ptr<loop_timer> expiration_timer_;
    uint64_t next_generation_ = 1;
    // Marker callbacks may arrive after the coordinator is gone (shutdown); they check this.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    bool closed_ = false;
};

} // namespace samsa::broker
