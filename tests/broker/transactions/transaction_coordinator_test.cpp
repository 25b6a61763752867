#include "transaction_test_support.h"

#include "protocol/record_batch_builder.h"

#include <doctest/doctest.h>

#include <type_traits>

using namespace samsa;
using namespace samsa::broker;
using namespace samsa::broker::test;
using protocol::error_code;
using samsa::protocol::partition_id;
using samsa::protocol::producer_epoch;
using samsa::protocol::producer_id;

// What the coordinator hands back is typed: a raw integer goes in only by explicit construction.
static_assert(!std::is_convertible_v<int64_t, decltype(init_producer_id_result::producer_id)>);
static_assert(!std::is_convertible_v<int16_t, decltype(init_producer_id_result::producer_epoch)>);

namespace {

const std::set<txn_topic_partition> ab = {{"a", partition_id(0)}, {"b", partition_id(1)}};

// An id with producer 1000 at epoch 0 and an ongoing transaction on a-0 and b-1.
void start_transaction(txn_fixture& f, const std::string& id = "tx") {
    const auto r = f.init(id);
    REQUIRE(r.error == error_code::none);
    REQUIRE(f.c().add_partitions(id, r.producer_id, r.producer_epoch, ab) == error_code::none);
}

// Writes `m` for "tx" to the log and restarts the coordinator over it, as a broker restart would.
void load_state(txn_fixture& f, const transaction_metadata& m) {
    auto key = encode_transaction_log_key("tx");
    auto value = encode_transaction_log_value(m);
    protocol::record_batch_builder b;
    protocol::record_input in;
    in.key = protocol::bytes_view(key);
    in.value = protocol::bytes_view(value);
    b.append(in);
    auto built = b.build();
    REQUIRE(f.log.append(f.c().partition_for("tx"), built.bytes, 0) == error_code::none);
    f.rebuild();
}

} // namespace

// ---- InitProducerId -----------------------------------------------------------------------------

TEST_CASE("transaction_coordinator: a new transactional id gets a new producer id at epoch 0, written as Empty") {
    txn_fixture f;
    const auto r = f.init("tx", 15000);
    CHECK(r.error == error_code::none);
    CHECK(r.producer_id == producer_id(1000));
    CHECK(r.producer_epoch == producer_epoch(0));
    CHECK(f.log.creates == 1);
    const auto rec = f.log.last_for("tx");
    REQUIRE(rec.has_value());
    REQUIRE(rec->value.has_value());
    CHECK(rec->value->state == txn_state::empty);
    CHECK(rec->value->producer_epoch == producer_epoch(0));
    CHECK(rec->value->timeout_ms == 15000);
    CHECK(f.state("tx") == txn_state::empty);
}

TEST_CASE("transaction_coordinator: InitProducerId again bumps the epoch and keeps the producer id") {
    txn_fixture f;
    (void)f.init("tx");
    const auto r = f.init("tx");
    CHECK(r.error == error_code::none);
    CHECK(r.producer_id == producer_id(1000));
    CHECK(r.producer_epoch == producer_epoch(1));
    CHECK(f.next_id == 1001);  // one id handed out
}

TEST_CASE("transaction_coordinator: InitProducerId rejects bad timeouts and empty ids") {
    txn_fixture f;
    CHECK(f.init("tx", 0).error == error_code::invalid_transaction_timeout);
    CHECK(f.init("tx", -5).error == error_code::invalid_transaction_timeout);
    CHECK(f.init("tx", f.config.max_timeout_ms + 1).error == error_code::invalid_transaction_timeout);
    CHECK(f.init("tx", f.config.max_timeout_ms).error == error_code::none);
    CHECK(f.init("", 1000).error == error_code::invalid_request);
}

TEST_CASE("transaction_coordinator: no producer id to hand out is retriable COORDINATOR_LOAD_IN_PROGRESS") {
    txn_fixture f;
    f.ids_available = false;
    const auto r = f.init("tx");
    CHECK(r.error == error_code::coordinator_load_in_progress);
    CHECK(r.producer_id == producer_id(-1));
    CHECK(f.c().find("tx") == nullptr);
}

TEST_CASE("transaction_coordinator: a failed write leaves the state as it was and maps Kafka's errors") {
    txn_fixture f;
    (void)f.init("tx");
    f.log.fail_appends = error_code::kafka_storage_error;
    CHECK(f.init("tx").error == error_code::not_coordinator);
    CHECK(f.c().find("tx")->producer_epoch == producer_epoch(0));
    f.log.fail_appends = error_code::unknown_topic_or_partition;
    CHECK(f.c().add_partitions("tx", producer_id(1000), producer_epoch(0), ab) == error_code::coordinator_not_available);
    CHECK(f.state("tx") == txn_state::empty);
    f.log.fail_appends = error_code::none;
    CHECK(f.init("tx").producer_epoch == producer_epoch(1));
}

TEST_CASE("transaction_coordinator: a failed append answers Kafka's coordinator error for it") {
    // Kafka's translation of a failed __transaction_state write: the partition moved or its disk
    // failed (find the coordinator again), it is not there yet or too slow (retry), the batch was
    // too large (a bug); anything else, the coordinator errors included, reaches the client as is.
    const std::pair<error_code, error_code> cases[] = {
        {error_code::kafka_storage_error, error_code::not_coordinator},
        {error_code::not_leader_or_follower, error_code::not_coordinator},
        {error_code::unknown_topic_or_partition, error_code::coordinator_not_available},
        {error_code::not_enough_replicas, error_code::coordinator_not_available},
        {error_code::not_enough_replicas_after_append, error_code::coordinator_not_available},
        {error_code::request_timed_out, error_code::coordinator_not_available},
        {error_code::message_too_large, error_code::unknown_server_error},
        {error_code::record_list_too_large, error_code::unknown_server_error},
        {error_code::coordinator_load_in_progress, error_code::coordinator_load_in_progress},
        {error_code::invalid_fetch_size, error_code::invalid_fetch_size},
    };
    for (const auto& [failure, answer] : cases) {
        const int16_t code = to_int(failure);
        CAPTURE(code);
        txn_fixture f;
        const auto r = f.init("tx");
        REQUIRE(r.error == error_code::none);
        f.log.fail_appends = failure;
        CHECK(f.init("tx").error == answer);
        CHECK(f.c().add_partitions("tx", r.producer_id, r.producer_epoch, ab) == answer);
        f.log.fail_appends = error_code::none;
        CHECK(f.c().find("tx")->producer_epoch == producer_epoch(0));
        CHECK(f.state("tx") == txn_state::empty);
    }
}

TEST_CASE("transaction_coordinator: a v3+ InitProducerId with a stale producer is fenced, a retry gets the same epoch") {
    txn_fixture f;
    const auto first = f.init("tx");
    const auto second = f.init("tx", 10000, std::pair<producer_id, producer_epoch>{first.producer_id, first.producer_epoch});
    CHECK(second.error == error_code::none);
    CHECK(second.producer_epoch == producer_epoch(1));
    // The answer was lost and the producer asks again with what it had.
    const auto retry = f.init("tx", 10000, std::pair<producer_id, producer_epoch>{first.producer_id, first.producer_epoch});
    CHECK(retry.error == error_code::none);
    CHECK(retry.producer_epoch == producer_epoch(1));
    CHECK(f.init("tx", 10000, std::pair<producer_id, producer_epoch>{999, 0}).error == error_code::producer_fenced);
    CHECK(f.init("tx", 10000, std::pair<producer_id, producer_epoch>{1000, 7}).error == error_code::producer_fenced);
}

TEST_CASE("transaction_coordinator: an exhausted epoch rotates to a new producer id") {
    txn_fixture f;
    (void)f.init("tx");
    // Load a state at the last usable epoch, as a restart would.
    transaction_metadata m = *f.c().find("tx");
    m.producer_epoch = producer_epoch(INT16_MAX - 1);
    m.state = txn_state::complete_commit;
    load_state(f, m);
    REQUIRE(f.c().find("tx")->producer_epoch == producer_epoch(INT16_MAX - 1));
    const std::pair<producer_id, producer_epoch> exhausted{1000, INT16_MAX - 1};
    const auto r = f.init("tx", 10000, exhausted);
    CHECK(r.error == error_code::none);
    CHECK(r.producer_id == producer_id(1001));
    CHECK(r.producer_epoch == producer_epoch(0));
    CHECK(f.c().find("tx")->last_producer_id == producer_id(1000));
    // The answer was lost: asking again with the old, exhausted id gets the new id again.
    const auto retry = f.init("tx", 10000, exhausted);
    CHECK(retry.error == error_code::none);
    CHECK(retry.producer_id == producer_id(1001));
    CHECK(retry.producer_epoch == producer_epoch(0));
    CHECK(f.next_id == 1002);
}

// ---- AddPartitionsToTxn -------------------------------------------------------------------------

TEST_CASE("transaction_coordinator: adding partitions starts a transaction, adding them again writes nothing") {
    txn_fixture f;
    const auto r = f.init("tx");
    CHECK(f.c().add_partitions("tx", r.producer_id, r.producer_epoch, ab) == error_code::none);
    CHECK(f.state("tx") == txn_state::ongoing);
    CHECK(f.c().find("tx")->start_ms == f.wall_ms);
    const auto rec = f.log.last_for("tx");
    CHECK(rec->value->state == txn_state::ongoing);
    CHECK(rec->value->partitions == ab);
    const int appends = f.log.appends;
    CHECK(f.c().add_partitions("tx", r.producer_id, r.producer_epoch, {{"a", partition_id(0)}}) == error_code::none);
    CHECK(f.log.appends == appends);
    CHECK(f.c().add_partitions("tx", r.producer_id, r.producer_epoch, {{"c", partition_id(0)}}) == error_code::none);
    CHECK(f.log.appends == appends + 1);
    CHECK(f.c().find("tx")->partitions.size() == 3);
}

TEST_CASE("transaction_coordinator: AddPartitionsToTxn errors: unknown id or producer, stale epoch, empty id") {
    txn_fixture f;
    const auto r = f.init("tx");
    CHECK(f.c().add_partitions("nope", r.producer_id, producer_epoch(0), ab) == error_code::invalid_producer_id_mapping);
    CHECK(f.c().add_partitions("tx", producer_id(r.producer_id.value() + 1), producer_epoch(0), ab)
          == error_code::invalid_producer_id_mapping);
    CHECK(f.c().add_partitions("tx", r.producer_id, producer_epoch(1), ab) == error_code::producer_fenced);
    CHECK(f.c().add_partitions("", r.producer_id, producer_epoch(0), ab) == error_code::invalid_request);
    CHECK(f.state("tx") == txn_state::empty);
}

TEST_CASE("transaction_coordinator: the verification form tells which partitions are in the transaction") {
    txn_fixture f;
    start_transaction(f);
    const auto errors =
        f.c().verify_partitions("tx", producer_id(1000), producer_epoch(0), {{"a", partition_id(0)}, {"z", partition_id(0)}});
    CHECK(errors == std::vector<error_code>{error_code::none, error_code::transaction_abortable});
    CHECK(f.c().verify_partitions("tx", producer_id(1000), producer_epoch(1), {{"a", partition_id(0)}}).front()
          == error_code::producer_fenced);
    CHECK(f.c().verify_partitions("tx", producer_id(1001), producer_epoch(0), {{"a", partition_id(0)}}).front()
          == error_code::invalid_producer_id_mapping);
    CHECK(f.c().verify_partitions("other", producer_id(1000), producer_epoch(0), {{"a", partition_id(0)}}).front()
          == error_code::invalid_producer_id_mapping);
    CHECK(f.state("tx") == txn_state::ongoing);  // nothing added
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    CHECK(f.c().verify_partitions("tx", producer_id(1000), producer_epoch(0), {{"a", partition_id(0)}}).front()
          == error_code::concurrent_transactions);
    f.markers.answer();
    CHECK(f.c().verify_partitions("tx", producer_id(1000), producer_epoch(0), {{"a", partition_id(0)}}).front()
          == error_code::transaction_abortable);
}

// ---- EndTxn -------------------------------------------------------------------------------------

TEST_CASE("transaction_coordinator: a commit writes PrepareCommit, sends COMMIT markers, then writes CompleteCommit") {
    txn_fixture f;
    start_transaction(f);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    CHECK(f.state("tx") == txn_state::prepare_commit);
    CHECK(f.log.last_for("tx")->value->state == txn_state::prepare_commit);
    REQUIRE(f.markers.requests.size() == 1);
    const auto& req = f.markers.requests.front();
    CHECK(req.commit);
    CHECK(req.producer_id == producer_id(1000));
    CHECK(req.producer_epoch == producer_epoch(0));
    CHECK(req.partitions.size() == 2);
    CHECK(f.c().markers_in_flight() == 1);
    CHECK(f.told.empty());

    f.markers.answer();
    CHECK(f.state("tx") == txn_state::complete_commit);
    CHECK(f.c().find("tx")->partitions.empty());
    const auto rec = f.log.last_for("tx");
    CHECK(rec->value->state == txn_state::complete_commit);
    CHECK(rec->value->partitions.empty());
    CHECK(f.c().markers_in_flight() == 0);
    CHECK(f.told == std::vector<std::pair<int64_t, bool>>{{1000, true}});
}

TEST_CASE("transaction_coordinator: an abort sends ABORT markers and ends in CompleteAbort") {
    txn_fixture f;
    start_transaction(f);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), false) == error_code::none);
    CHECK(f.state("tx") == txn_state::prepare_abort);
    CHECK_FALSE(f.markers.requests.front().commit);
    f.markers.answer();
    CHECK(f.state("tx") == txn_state::complete_abort);
    CHECK(f.told == std::vector<std::pair<int64_t, bool>>{{1000, false}});
}

TEST_CASE("transaction_coordinator: while markers are written everything but a retry waits: CONCURRENT_TRANSACTIONS") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::concurrent_transactions);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), false) == error_code::invalid_txn_state);
    CHECK(f.c().add_partitions("tx", producer_id(1000), producer_epoch(0), {{"c", partition_id(0)}})
          == error_code::concurrent_transactions);
    CHECK(f.init("tx").error == error_code::concurrent_transactions);
    f.markers.answer();
    // Retries of a finished EndTxn are answered as done; the other outcome is refused.
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), false) == error_code::invalid_txn_state);
}

TEST_CASE("transaction_coordinator: the same for an abort in progress") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), false) == error_code::none);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), false) == error_code::concurrent_transactions);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::invalid_txn_state);
    f.markers.answer();
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), false) == error_code::none);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::invalid_txn_state);
}

TEST_CASE("transaction_coordinator: EndTxn errors: no transaction, unknown producer, stale epoch") {
    txn_fixture f;
    const auto r = f.init("tx");
    CHECK(f.c().end_transaction("tx", r.producer_id, producer_epoch(0), true) == error_code::invalid_txn_state);  // Empty
    CHECK(f.c().end_transaction("nope", r.producer_id, producer_epoch(0), true) == error_code::invalid_producer_id_mapping);
    CHECK(f.c().end_transaction("tx", producer_id(r.producer_id.value() + 5), producer_epoch(0), true)
          == error_code::invalid_producer_id_mapping);
    REQUIRE(f.c().add_partitions("tx", r.producer_id, producer_epoch(0), ab) == error_code::none);
    CHECK(f.c().end_transaction("tx", r.producer_id, producer_epoch(3), true) == error_code::producer_fenced);
    CHECK(f.state("tx") == txn_state::ongoing);
}

TEST_CASE("transaction_coordinator: the next transaction starts from CompleteCommit with a fresh start time") {
    txn_fixture f;
    f.markers.answer_at_once = true;
    start_transaction(f);
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    CHECK(f.state("tx") == txn_state::complete_commit);  // markers answered within the call
    f.wall_ms += 500;
    CHECK(f.c().add_partitions("tx", producer_id(1000), producer_epoch(0), {{"c", partition_id(1)}}) == error_code::none);
    CHECK(f.state("tx") == txn_state::ongoing);
    CHECK(f.c().find("tx")->partitions == std::set<txn_topic_partition>{{"c", partition_id(1)}});
    CHECK(f.c().find("tx")->start_ms == f.wall_ms);
}

// ---- markers --------------------------------------------------------------------------------------

TEST_CASE("transaction_coordinator: markers that failed are sent again after the backoff, to those partitions only") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    auto call = std::move(f.markers.pending.front());
    f.markers.pending.clear();
    call.done({{{"a", protocol::partition_id(0)}, error_code::none},
               {{"b", protocol::partition_id(1)}, error_code::not_leader_or_follower}});
    CHECK(f.state("tx") == txn_state::prepare_commit);
    CHECK(f.markers.requests.size() == 1);
    f.advance(f.config.marker_retry_backoff_ms - 1);
    CHECK(f.markers.requests.size() == 1);
    f.advance(1);
    REQUIRE(f.markers.requests.size() == 2);
    REQUIRE(f.markers.requests.back().partitions.size() == 1);
    CHECK(f.markers.requests.back().partitions.front().topic == "b");
    f.markers.answer();
    CHECK(f.state("tx") == txn_state::complete_commit);
    CHECK(f.told.size() == 1);
}

TEST_CASE("transaction_coordinator: a deleted topic or a newer producer epoch on a partition ends its marker") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), false) == error_code::none);
    auto call = std::move(f.markers.pending.front());
    f.markers.pending.clear();
    call.done({{{"a", protocol::partition_id(0)}, error_code::unknown_topic_or_partition},
               {{"b", protocol::partition_id(1)}, error_code::invalid_producer_epoch}});
    CHECK(f.state("tx") == txn_state::complete_abort);
}

TEST_CASE("transaction_coordinator: a failed CompleteCommit write is tried again") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    f.log.fail_appends = error_code::kafka_storage_error;
    f.markers.answer();
    CHECK(f.state("tx") == txn_state::prepare_commit);
    f.log.fail_appends = error_code::none;
    f.advance(f.config.marker_retry_backoff_ms);
    CHECK(f.state("tx") == txn_state::complete_commit);
    CHECK(f.told.size() == 1);  // the group coordinator is told once
}

TEST_CASE("transaction_coordinator: marker answers after close or destruction are ignored") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    auto call = std::move(f.markers.pending.front());
    f.markers.pending.clear();
    f.coordinator.reset();
    call.done(fake_marker_writer::results_for(call.request, error_code::none));  // must not crash
    CHECK(f.told.empty());
}

// ---- fencing and timeouts ---------------------------------------------------------------------------

TEST_CASE("transaction_coordinator: a new instance fences the old one: its transaction is aborted with a bumped epoch") {
    txn_fixture f;
    start_transaction(f);
    const auto r = f.init("tx");
    CHECK(r.error == error_code::concurrent_transactions);
    CHECK(f.state("tx") == txn_state::prepare_abort);
    const auto rec = f.log.last_for("tx");
    CHECK(rec->value->state == txn_state::prepare_abort);  // PrepareEpochFence is never written
    CHECK(rec->value->producer_epoch == producer_epoch(1));
    REQUIRE(f.markers.requests.size() == 1);
    CHECK_FALSE(f.markers.requests.front().commit);
    CHECK(f.markers.requests.front().producer_epoch == producer_epoch(1));
    // The zombie is fenced.
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::producer_fenced);
    CHECK(f.c().add_partitions("tx", producer_id(1000), producer_epoch(0), ab) == error_code::producer_fenced);
    CHECK(f.init("tx").error == error_code::concurrent_transactions);
    f.markers.answer();
    CHECK(f.state("tx") == txn_state::complete_abort);
    const auto again = f.init("tx");
    CHECK(again.error == error_code::none);
    CHECK(again.producer_id == producer_id(1000));
    CHECK(again.producer_epoch == producer_epoch(2));
}

TEST_CASE("transaction_coordinator: a transaction past its timeout is aborted by the timer and its producer fenced") {
    txn_fixture f;
    const auto r = f.init("tx", 5000);
    REQUIRE(f.c().add_partitions("tx", r.producer_id, r.producer_epoch, ab) == error_code::none);
    f.advance(5000);  // five checks, none past the timeout yet (start + timeout < now is Kafka's test)
    CHECK(f.state("tx") == txn_state::ongoing);
    f.advance(1000);
    CHECK(f.state("tx") == txn_state::prepare_abort);
    CHECK(f.c().find("tx")->producer_epoch == producer_epoch(1));
    f.markers.answer();
    CHECK(f.state("tx") == txn_state::complete_abort);
    CHECK(f.c().end_transaction("tx", r.producer_id, producer_epoch(0), true) == error_code::producer_fenced);
}

TEST_CASE("transaction_coordinator: only Ongoing transactions time out") {
    txn_fixture f;
    (void)f.init("idle", 1000);
    start_transaction(f, "ending");
    REQUIRE(f.c().end_transaction("ending", producer_id(1001), producer_epoch(0), true) == error_code::none);
    f.wall_ms += 100000;
    CHECK(f.c().abort_timed_out_transactions() == 0);
    CHECK(f.state("idle") == txn_state::empty);
    CHECK(f.state("ending") == txn_state::prepare_commit);
}

TEST_CASE("transaction_coordinator: idle transactional ids expire with a tombstone, busy ones stay") {
    txn_fixture f;
    f.markers.answer_at_once = true;
    (void)f.init("idle");
    start_transaction(f, "busy");
    f.wall_ms += f.config.id_expiration_ms - 1;
    CHECK(f.c().expire_transactional_ids() == 0);
    f.wall_ms += 1;
    CHECK(f.c().expire_transactional_ids() == 1);
    CHECK(f.c().find("idle") == nullptr);
    CHECK(f.c().find("busy") != nullptr);
    const auto rec = f.log.last_for("idle");
    REQUIRE(rec.has_value());
    CHECK_FALSE(rec->value.has_value());
    CHECK(f.c().describe("idle").error == error_code::transactional_id_not_found);
    // A new producer with the same id starts over with a new producer id.
    CHECK(f.init("idle").producer_id == producer_id(1002));
}

TEST_CASE("transaction_coordinator: the expiration timer runs on its interval") {
    txn_fixture f;
    (void)f.init("idle");
    f.wall_ms += f.config.id_expiration_ms;
    f.advance(f.config.expiration_check_interval_ms);
    CHECK(f.c().find("idle") == nullptr);
}

// ---- persistence ------------------------------------------------------------------------------------

TEST_CASE("transaction_coordinator: state is loaded at start-up; ids of a loading partition wait") {
    txn_fixture f;
    start_transaction(f);
    (void)f.init("other");
    f.coordinator.reset();
    f.coordinator = std::make_unique<transaction_coordinator>(
        f.config, f.loop, f.log, f.markers, [] { return std::optional<producer_id>(5000); }, [&f] { return f.wall_ms; });
    f.coordinator->start();
    CHECK(f.c().loading("tx"));
    CHECK(f.init("tx").error == error_code::coordinator_load_in_progress);
    CHECK(f.c().add_partitions("tx", producer_id(1000), producer_epoch(0), ab) == error_code::coordinator_load_in_progress);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::coordinator_load_in_progress);
    CHECK(f.c().describe("tx").error == error_code::coordinator_load_in_progress);
    CHECK(f.c().list({}, {}, -1).error == error_code::coordinator_load_in_progress);
    f.loop.run_posted();
    CHECK_FALSE(f.c().loading_any());
    CHECK(f.state("tx") == txn_state::ongoing);
    CHECK(f.c().find("tx")->partitions == ab);
    CHECK(f.c().find("tx")->producer_id == producer_id(1000));
    CHECK(f.state("other") == txn_state::empty);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
}

TEST_CASE("transaction_coordinator: a PrepareCommit found at start-up is completed") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    f.markers.pending.clear();  // the broker stopped before the markers were written
    f.markers.requests.clear();
    f.rebuild();
    REQUIRE(f.markers.requests.size() == 1);
    CHECK(f.markers.requests.front().commit);
    CHECK(f.markers.requests.front().partitions.size() == 2);
    CHECK(f.state("tx") == txn_state::prepare_commit);
    f.markers.answer();
    CHECK(f.state("tx") == txn_state::complete_commit);
    f.rebuild();
    CHECK(f.markers.requests.size() == 1);  // nothing left to complete
    CHECK(f.state("tx") == txn_state::complete_commit);
}

TEST_CASE("transaction_coordinator: a fence found at start-up is completed as an abort with the bumped epoch") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.init("tx").error == error_code::concurrent_transactions);
    f.markers.pending.clear();
    f.markers.requests.clear();
    f.rebuild();
    REQUIRE(f.markers.requests.size() == 1);
    CHECK_FALSE(f.markers.requests.front().commit);
    CHECK(f.markers.requests.front().producer_epoch == producer_epoch(1));
}

TEST_CASE("transaction_coordinator: an expired id stays expired after a restart") {
    txn_fixture f;
    (void)f.init("idle");
    f.wall_ms += f.config.id_expiration_ms;
    REQUIRE(f.c().expire_transactional_ids() == 1);
    f.rebuild();
    CHECK(f.c().find("idle") == nullptr);
    CHECK(f.c().size() == 0);
}

TEST_CASE("transaction_coordinator: a partition read back in several chunks loads the id's last state") {
    txn_fixture f;
    start_transaction(f);  // Empty, then Ongoing: two batches
    f.log.batches_per_read = 1;
    f.rebuild();
    CHECK_FALSE(f.c().loading_any());
    CHECK(f.state("tx") == txn_state::ongoing);
    CHECK(f.c().find("tx")->partitions == ab);
}

TEST_CASE("transaction_coordinator: an unreadable partition keeps its ids loading") {
    txn_fixture f;
    (void)f.init("tx");
    f.log.fail_reads = true;
    f.rebuild();
    CHECK(f.c().loading("tx"));
    CHECK(f.init("tx").error == error_code::coordinator_load_in_progress);
}

TEST_CASE("transaction_coordinator: FindCoordinator creates __transaction_state once") {
    txn_fixture f;
    CHECK(f.c().find_coordinator("") == error_code::invalid_request);
    CHECK(f.log.creates == 0);
    CHECK(f.c().find_coordinator("tx") == error_code::none);
    CHECK(f.c().find_coordinator("ty") == error_code::none);
    CHECK(f.log.creates == 1);
    CHECK(f.log.partitions() == f.config.log_partitions);
    CHECK(f.c().partition_for("hello") == transaction_log_partition("hello", f.config.log_partitions));
}

TEST_CASE("transaction_coordinator: after close every request is COORDINATOR_NOT_AVAILABLE and timers stop") {
    txn_fixture f;
    start_transaction(f);
    f.c().close();
    CHECK(f.init("tx").error == error_code::coordinator_not_available);
    CHECK(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::coordinator_not_available);
    CHECK(f.c().find_coordinator("tx") == error_code::coordinator_not_available);
    f.wall_ms += 1'000'000;
    f.advance(100000);
    CHECK(f.state("tx") == txn_state::ongoing);
    CHECK(f.loop.live_timers() == 0);
}

// ---- DescribeTransactions, ListTransactions ---------------------------------------------------------

TEST_CASE("transaction_coordinator: describe gives the producer, state, timeout, start and partitions") {
    txn_fixture f;
    const auto r = f.init("tx", 20000);
    REQUIRE(f.c().add_partitions("tx", r.producer_id, r.producer_epoch, ab) == error_code::none);
    const auto d = f.c().describe("tx");
    CHECK(d.error == error_code::none);
    CHECK(d.state == txn_state::ongoing);
    CHECK(d.timeout_ms == 20000);
    CHECK(d.start_ms == f.wall_ms);
    CHECK(d.producer_id == producer_id(1000));
    CHECK(d.producer_epoch == producer_epoch(0));
    CHECK(d.partitions == ab);
    CHECK(f.c().describe("missing").error == error_code::transactional_id_not_found);
    CHECK(f.c().describe("").error == error_code::transactional_id_not_found);
}

TEST_CASE("transaction_coordinator: list filters by state, producer id and duration, and reports unknown states") {
    txn_fixture f;
    (void)f.init("empty");                 // producer 1000
    start_transaction(f, "running");        // producer 1001
    f.wall_ms += 10000;
    auto all = f.c().list({}, {}, -1);
    CHECK(all.error == error_code::none);
    CHECK(all.transactions.size() == 2);
    auto ongoing = f.c().list({"Ongoing", "Bogus"}, {}, -1);
    REQUIRE(ongoing.transactions.size() == 1);
    CHECK(ongoing.transactions.front().transactional_id == "running");
    CHECK(ongoing.transactions.front().state == txn_state::ongoing);
    CHECK(ongoing.unknown_state_filters == std::vector<std::string>{"Bogus"});
    CHECK(f.c().list({"Bogus"}, {}, -1).transactions.empty());
    auto by_pid = f.c().list({}, {producer_id(1000)}, -1);
    REQUIRE(by_pid.transactions.size() == 1);
    CHECK(by_pid.transactions.front().transactional_id == "empty");
    CHECK(f.c().list({"Ongoing"}, {}, 9999).transactions.size() == 1);
    CHECK(f.c().list({"Ongoing"}, {}, 10000).transactions.empty());
}

// ---- EndTxn v5: transactions V2 ------------------------------------------------------------------

TEST_CASE("transaction_coordinator: a V2 commit writes PrepareCommit at epoch + 1, the markers carry it, the answer too") {
    txn_fixture f;
    start_transaction(f);
    CHECK(f.c().find("tx")->client_transaction_version == 0);  // AddPartitionsToTxn v0-3
    const auto r = f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), true);
    CHECK(r.error == error_code::none);
    CHECK(r.producer_id == producer_id(1000));
    CHECK(r.producer_epoch == producer_epoch(1));
    const auto prepared = f.log.last_for("tx")->value;
    REQUIRE(prepared.has_value());
    CHECK(prepared->state == txn_state::prepare_commit);
    CHECK(prepared->producer_epoch == producer_epoch(1));
    CHECK(prepared->client_transaction_version == 2);
    CHECK(prepared->partitions == ab);
    REQUIRE(f.markers.requests.size() == 1);
    CHECK(f.markers.requests.front().commit);
    CHECK(f.markers.requests.front().producer_epoch == producer_epoch(1));
    f.markers.answer();
    CHECK(f.state("tx") == txn_state::complete_commit);
    CHECK(f.c().find("tx")->producer_epoch == producer_epoch(1));
    CHECK(f.c().find("tx")->last_producer_epoch == producer_epoch(0));
    CHECK(f.log.last_for("tx")->value->client_transaction_version == 2);
    CHECK(f.told == std::vector<std::pair<int64_t, bool>>{{1000, true}});
    // The next transaction runs at the new epoch; the old one is fenced from it.
    CHECK(f.c().add_partitions("tx", producer_id(1000), producer_epoch(0), ab) == error_code::producer_fenced);
    CHECK(f.c().add_partitions("tx", producer_id(1000), producer_epoch(1), ab) == error_code::none);
}

TEST_CASE("transaction_coordinator: a V2 retry with the epoch before the bump waits for the markers, then succeeds") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), true).error == error_code::none);
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), true).error
          == error_code::concurrent_transactions);
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), false).error == error_code::invalid_txn_state);
    // The bumped epoch is no retry while the markers are written.
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(1), true).error == error_code::producer_fenced);
    f.markers.answer();
    const auto retry = f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), true);
    CHECK(retry.error == error_code::none);
    CHECK(retry.producer_id == producer_id(1000));
    CHECK(retry.producer_epoch == producer_epoch(1));
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), false).error == error_code::invalid_txn_state);
    CHECK(f.markers.requests.size() == 1);  // nothing written again
}

TEST_CASE("transaction_coordinator: after a V2 end the current epoch may abort an empty transaction, never commit it") {
    txn_fixture f;
    f.markers.answer_at_once = true;
    start_transaction(f);
    REQUIRE(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), true).error == error_code::none);
    REQUIRE(f.state("tx") == txn_state::complete_commit);
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(1), true).error == error_code::invalid_txn_state);
    f.wall_ms += 100;
    const auto aborted = f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(1), false);
    CHECK(aborted.error == error_code::none);
    CHECK(aborted.producer_epoch == producer_epoch(2));
    CHECK(f.state("tx") == txn_state::complete_abort);  // no partitions: completed at once
    CHECK(f.c().find("tx")->start_ms == f.wall_ms);
    // An abort answered as done is a retry; the same epoch aborts again (another bump).
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(1), false).producer_epoch == producer_epoch(2));
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(2), false).producer_epoch == producer_epoch(3));
    // Further back is neither current nor a retry.
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), false).error == error_code::producer_fenced);
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), true).error == error_code::producer_fenced);
}

TEST_CASE("transaction_coordinator: V2 EndTxn from Empty and Ongoing: errors follow Kafka's table") {
    txn_fixture f;
    f.markers.answer_at_once = true;
    (void)f.init("tx");
    (void)f.init("tx");  // epoch 1
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(1), true).error == error_code::invalid_txn_state);
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), false).error == error_code::producer_fenced);
    CHECK(f.c().end_transaction_v2("nope", producer_id(1000), producer_epoch(1), false).error
          == error_code::invalid_producer_id_mapping);
    CHECK(f.c().end_transaction_v2("tx", producer_id(1005), producer_epoch(1), false).error
          == error_code::invalid_producer_id_mapping);
    CHECK(f.c().end_transaction_v2("", producer_id(1000), producer_epoch(1), false).error == error_code::invalid_request);
    const auto empty_abort = f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(1), false);
    CHECK(empty_abort.error == error_code::none);
    CHECK(empty_abort.producer_epoch == producer_epoch(2));
    REQUIRE(f.c().add_partitions("tx", producer_id(1000), producer_epoch(2), ab) == error_code::none);
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(1), true).error == error_code::producer_fenced);
    CHECK(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(3), true).error == error_code::producer_fenced);
    CHECK(f.state("tx") == txn_state::ongoing);
    // A failed write answers its error and leaves the transaction as it was.
    f.log.fail_appends = error_code::kafka_storage_error;
    const auto failed = f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(2), true);
    CHECK(failed.error == error_code::not_coordinator);
    CHECK(failed.producer_epoch == producer_epoch(-1));
    CHECK(f.state("tx") == txn_state::ongoing);
    CHECK(f.c().find("tx")->producer_epoch == producer_epoch(2));
}

TEST_CASE("transaction_coordinator: a V2 end at the last epoch hands over the next producer id at epoch 0") {
    txn_fixture f;
    (void)f.init("tx");
    transaction_metadata m = *f.c().find("tx");
    m.producer_epoch = producer_epoch(INT16_MAX - 1);
    m.state = txn_state::ongoing;
    m.partitions = ab;
    m.start_ms = f.wall_ms;
    load_state(f, m);
    const auto r = f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(INT16_MAX - 1), true);
    CHECK(r.error == error_code::none);
    CHECK(r.producer_id == producer_id(1001));
    CHECK(r.producer_epoch == producer_epoch(0));
    const auto prepared = f.log.last_for("tx")->value;
    CHECK(prepared->producer_id == producer_id(1000));
    CHECK(prepared->producer_epoch == producer_epoch(INT16_MAX));
    CHECK(prepared->next_producer_id == producer_id(1001));
    REQUIRE(f.markers.requests.size() == 1);
    CHECK(f.markers.requests.front().producer_epoch == producer_epoch(INT16_MAX));
    // The client already holds the new id: it waits for the markers.
    CHECK(f.c().add_partitions("tx", producer_id(1001), producer_epoch(0), ab) == error_code::concurrent_transactions);
    f.markers.answer();
    const auto* done = f.c().find("tx");
    CHECK(done->state == txn_state::complete_commit);
    CHECK(done->producer_id == producer_id(1001));
    CHECK(done->producer_epoch == producer_epoch(0));
    CHECK(done->last_producer_id == producer_id(1000));
    CHECK(done->next_producer_id == producer_id(-1));
    // A retry names the old id at its last epoch.
    const auto retry = f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(INT16_MAX - 1), true);
    CHECK(retry.error == error_code::none);
    CHECK(retry.producer_id == producer_id(1001));
    CHECK(retry.producer_epoch == producer_epoch(0));
    CHECK(f.c().add_partitions("tx", producer_id(1001), producer_epoch(0), ab) == error_code::none);
    CHECK(f.next_id == 1002);
}

TEST_CASE("transaction_coordinator: a V2 PrepareCommit found at start-up completes with its bumped epoch and keeps the retry rule") {
    txn_fixture f;
    start_transaction(f);
    REQUIRE(f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), true).error == error_code::none);
    f.markers.pending.clear();  // the broker stopped before the markers were written
    f.markers.requests.clear();
    f.rebuild();
    REQUIRE(f.markers.requests.size() == 1);
    CHECK(f.markers.requests.front().producer_epoch == producer_epoch(1));
    CHECK(f.c().find("tx")->client_transaction_version == 2);
    f.markers.answer();
    CHECK(f.state("tx") == txn_state::complete_commit);
    f.rebuild();
    CHECK(f.c().find("tx")->producer_epoch == producer_epoch(1));
    CHECK(f.c().find("tx")->client_transaction_version == 2);
    const auto retry = f.c().end_transaction_v2("tx", producer_id(1000), producer_epoch(0), true);
    CHECK(retry.error == error_code::none);
    CHECK(retry.producer_epoch == producer_epoch(1));
}

TEST_CASE("transaction_coordinator: a V1 EndTxn keeps the epoch and records transaction.version 0") {
    txn_fixture f;
    f.markers.answer_at_once = true;
    start_transaction(f);
    REQUIRE(f.c().end_transaction("tx", producer_id(1000), producer_epoch(0), true) == error_code::none);
    CHECK(f.c().find("tx")->producer_epoch == producer_epoch(0));
    CHECK(f.c().find("tx")->client_transaction_version == 0);
    CHECK(f.markers.requests.front().producer_epoch == producer_epoch(0));
}
