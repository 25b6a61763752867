#include "broker/transactions/transaction_metadata.h"

#include <doctest/doctest.h>

#include <map>
#include <ostream>
#include <set>
#include <type_traits>

using namespace samsa::broker;
using samsa::protocol::no_producer_epoch;
using samsa::protocol::partition_id;
using samsa::protocol::producer_epoch;
using samsa::protocol::producer_id;

namespace {

constexpr txn_state all_states[] = {txn_state::empty,           txn_state::ongoing,       txn_state::prepare_commit,
                                    txn_state::prepare_abort,   txn_state::complete_commit, txn_state::complete_abort,
                                    txn_state::dead,            txn_state::prepare_epoch_fence};

transaction_metadata ongoing(int16_t epoch = 3) {
    transaction_metadata m;
    m.producer_id = producer_id(7);
    m.producer_epoch = producer_epoch(epoch);
    m.timeout_ms = 1000;
    m.state = txn_state::ongoing;
    m.partitions = {{"a", partition_id(0)}, {"b", partition_id(1)}};
    m.start_ms = 50;
    m.last_update_ms = 60;
    return m;
}

// A raw integer (a wire field, a count) is stored as a producer id or epoch only by explicit
// construction.
static_assert(!std::is_convertible_v<int64_t, decltype(transaction_metadata::producer_id)>);
static_assert(!std::is_assignable_v<decltype(transaction_metadata::producer_id)&, int64_t>);
static_assert(!std::is_convertible_v<int16_t, decltype(transaction_metadata::producer_epoch)>);
static_assert(!std::is_assignable_v<decltype(transaction_metadata::producer_epoch)&, int16_t>);
// The epoch steps: 16 bits up to INT16_MAX, and the retry check computed wide (no wrap).
static_assert(next_producer_epoch(producer_epoch(INT16_MAX - 1)) == max_producer_epoch);
static_assert(follows_producer_epoch(max_producer_epoch, last_usable_producer_epoch));
static_assert(!follows_producer_epoch(producer_epoch(INT16_MIN), max_producer_epoch));

} // namespace

TEST_CASE("transaction_metadata: exactly Kafka's transitions are valid") {
    using enum txn_state;
    const std::map<txn_state, std::set<txn_state>> allowed = {
        {empty, {empty, complete_commit, complete_abort}},
        {ongoing, {ongoing, empty, complete_commit, complete_abort}},
        {prepare_commit, {ongoing}},
        {prepare_abort, {ongoing, prepare_epoch_fence, empty, complete_commit, complete_abort}},
        {complete_commit, {prepare_commit}},
        {complete_abort, {prepare_abort}},
        {dead, {empty, complete_commit, complete_abort}},
        {prepare_epoch_fence, {ongoing}},
    };
    for (const auto to : all_states)
        for (const auto from : all_states) {
            CAPTURE(to_string(from));
            CAPTURE(to_string(to));
            CHECK(valid_transition(from, to) == allowed.at(to).contains(from));
        }
}

TEST_CASE("transaction_metadata: state names and ids are Kafka's and round-trip") {
    CHECK(to_string(txn_state::prepare_epoch_fence) == "PrepareEpochFence");
    CHECK(to_string(txn_state::complete_commit) == "CompleteCommit");
    for (const auto s : all_states) {
        CHECK(txn_state_from_name(to_string(s)) == s);
        CHECK(txn_state_from_id(static_cast<int8_t>(s)) == s);
    }
    CHECK(static_cast<int>(txn_state::prepare_abort) == 3);
    CHECK_FALSE(txn_state_from_name("ongoing").has_value());  // case matters, as in Kafka
    CHECK_FALSE(txn_state_from_id(8).has_value());
    CHECK_FALSE(txn_state_from_id(-1).has_value());
}

TEST_CASE("transaction_metadata: an epoch bump empties the transaction and takes the new timeout") {
    auto m = ongoing();
    m.state = txn_state::complete_commit;
    const auto next = m.prepare_epoch_bump(5000, std::nullopt, 99);
    REQUIRE(next.has_value());
    CHECK(next->state == txn_state::empty);
    CHECK(next->producer_epoch == producer_epoch(4));
    CHECK(next->last_producer_epoch == no_producer_epoch);
    CHECK(next->timeout_ms == 5000);
    CHECK(next->partitions.empty());
    CHECK(next->start_ms == -1);
    CHECK(next->last_update_ms == 99);
    CHECK(m.producer_epoch == producer_epoch(3));  // pure: the current state is untouched
}

TEST_CASE("transaction_metadata: a bump with the expected epoch remembers it, a retry gets the same epoch, a stale one none") {
    auto m = ongoing();
    m.state = txn_state::empty;
    const auto bumped = m.prepare_epoch_bump(1000, producer_epoch(3), 1);
    REQUIRE(bumped.has_value());
    CHECK(bumped->producer_epoch == producer_epoch(4));
    CHECK(bumped->last_producer_epoch == producer_epoch(3));
    const auto retry = bumped->prepare_epoch_bump(1000, producer_epoch(3), 2);
    REQUIRE(retry.has_value());
    CHECK(retry->producer_epoch == producer_epoch(4));
    CHECK_FALSE(bumped->prepare_epoch_bump(1000, producer_epoch(1), 3).has_value());
}

TEST_CASE("transaction_metadata: a new id's first bump gives epoch 0 whatever epoch is expected") {
    transaction_metadata m;
    m.producer_id = producer_id(5);
    const auto next = m.prepare_epoch_bump(1000, producer_epoch(12), 1);
    REQUIRE(next.has_value());
    CHECK(next->producer_epoch == producer_epoch(0));
}

TEST_CASE("transaction_metadata: rotation moves to a new producer id at epoch 0 and remembers the old one") {
    auto m = ongoing(INT16_MAX - 1);
    m.state = txn_state::complete_abort;
    CHECK(m.epoch_exhausted());
    const auto next = m.prepare_producer_id_rotation(producer_id(8), 2000, true, 5);
    CHECK(next.producer_id == producer_id(8));
    CHECK(next.last_producer_id == producer_id(7));
    CHECK(next.producer_epoch == producer_epoch(0));
    CHECK(next.last_producer_epoch == producer_epoch(INT16_MAX - 1));
    CHECK(next.state == txn_state::empty);
    CHECK_FALSE(next.epoch_exhausted());
}

TEST_CASE("transaction_metadata: adding partitions starts the clock only for a new transaction") {
    auto m = ongoing();
    m.state = txn_state::complete_commit;
    m.partitions.clear();
    auto first = m.prepare_add_partitions({{"x", partition_id(0)}}, 500);
    CHECK(first.state == txn_state::ongoing);
    CHECK(first.start_ms == 500);
    auto more = first.prepare_add_partitions({{"y", partition_id(2)}}, 700);
    CHECK(more.start_ms == 500);
    CHECK(more.last_update_ms == 700);
    CHECK(more.partitions == std::set<txn_topic_partition>{{"x", partition_id(0)}, {"y", partition_id(2)}});
}

TEST_CASE("transaction_metadata: fencing bumps the epoch and aborting keeps the partitions until complete") {
    const auto m = ongoing();
    const auto fenced = m.prepare_fence();
    CHECK(fenced.state == txn_state::prepare_epoch_fence);
    CHECK(fenced.producer_epoch == producer_epoch(4));
    const auto aborting = fenced.prepare_end(false, 70);
    CHECK(aborting.state == txn_state::prepare_abort);
    CHECK(aborting.partitions == m.partitions);
    const auto done = aborting.prepare_complete(80);
    CHECK(done.state == txn_state::complete_abort);
    CHECK(done.partitions.empty());
    CHECK(done.start_ms == 50);
    CHECK(m.prepare_end(true, 70).prepare_complete(90).state == txn_state::complete_commit);
}

TEST_CASE("transaction_metadata: the last epoch a producer may use is INT16_MAX - 1") {
    CHECK_FALSE(ongoing(INT16_MAX - 2).epoch_exhausted());
    CHECK(ongoing(INT16_MAX - 1).epoch_exhausted());
    // Fencing an exhausted epoch still moves it on once; the next InitProducerId rotates the id.
    CHECK(ongoing(INT16_MAX - 1).prepare_fence().producer_epoch == producer_epoch(INT16_MAX));
    CHECK(ongoing(INT16_MAX).prepare_fence().producer_epoch == producer_epoch(INT16_MAX));
}

TEST_CASE("transaction_metadata: an expired id becomes Dead without partitions") {
    auto m = ongoing();
    m.state = txn_state::complete_commit;
    const auto dead = m.prepare_dead();
    CHECK(dead.state == txn_state::dead);
    CHECK(dead.partitions.empty());
}
