// storage/producer_state_table: Kafka's sequence, epoch and transaction rules for one partition.
#include "storage/producer_state_table.h"

#include <doctest/doctest.h>

#include <limits>
#include <type_traits>
#include <utility>

using namespace samsa::storage;
using samsa::protocol::error_code;
using samsa::protocol::producer_epoch;
using samsa::protocol::producer_id;

namespace {

// A data batch of `count` records from sequence `seq`, written at `offset`.
producer_batch_fields data(int64_t pid, int16_t epoch, int32_t seq, int32_t count, int64_t offset, int64_t ts = 1000,
                           bool transactional = false) {
    producer_batch_fields f;
    f.producer_id = producer_id(pid);
    f.epoch = producer_epoch(epoch);
    f.base_seq = seq;
    f.last_offset_delta = count - 1;
    f.first_offset = offset;
    f.last_offset = offset + count - 1;
    f.max_timestamp = ts;
    f.transactional = transactional;
    return f;
}

producer_batch_fields marker(int64_t pid, int16_t epoch, bool commit, int64_t offset, int32_t coordinator_epoch = 0) {
    producer_batch_fields f;
    f.producer_id = producer_id(pid);
    f.epoch = producer_epoch(epoch);
    f.first_offset = f.last_offset = offset;
    f.max_timestamp = 2000;
    f.transactional = true;
    f.control = true;
    f.commit = commit;
    f.coordinator_epoch = coordinator_epoch;
    return f;
}

// Stages and applies one batch; returns the check.
producer_check append(producer_state_table& t, const producer_batch_fields& f, append_origin origin = append_origin::client) {
    producer_state_update u;
    producer_check c = t.stage(u, f, origin);
    if (c.error == error_code::none && !c.duplicate) t.apply(std::move(u), f.last_offset + 1);
    return c;
}

template <typename T>
concept find_accepts = requires(const producer_state_table& t, T id) { t.find(id); };
} // namespace

// A producer id is not an offset and an epoch is not a sequence: neither goes in by mistake.
static_assert(find_accepts<producer_id>);
static_assert(!find_accepts<int64_t> && !find_accepts<samsa::protocol::offset>);
static_assert(!std::is_assignable_v<decltype((std::declval<producer_batch_fields&>().epoch)), int32_t>);
static_assert(!std::is_assignable_v<decltype((std::declval<producer_batch_fields&>().producer_id)), int64_t>);
static_assert(!std::is_assignable_v<decltype((std::declval<producer_entry&>().epoch)),
                                    samsa::protocol::leader_epoch>);

TEST_CASE("producer_state_table: a new producer may start at any sequence, then must continue in order") {
    producer_state_table t;
    CHECK(append(t, data(7, 0, 42, 3, 0)).error == error_code::none);
    REQUIRE(t.find(producer_id(7)));
    CHECK(t.find(producer_id(7))->last_seq() == 44);
    CHECK(append(t, data(7, 0, 46, 1, 3)).error == error_code::out_of_order_sequence_number);
    CHECK(append(t, data(7, 0, 44, 1, 3)).error == error_code::out_of_order_sequence_number);
    CHECK(append(t, data(7, 0, 45, 2, 3)).error == error_code::none);
    CHECK(t.find(producer_id(7))->last_seq() == 46);
    CHECK(t.find(producer_id(7))->last_offset() == 4);
}

TEST_CASE("producer_state_table: a retry of any of the last five batches is a duplicate with its original offsets") {
    producer_state_table t;
    for (int i = 0; i < 6; ++i) REQUIRE(append(t, data(1, 0, i * 2, 2, 100 + i * 2)).error == error_code::none);
    // Batches 1..5 are retained; batch 0 (sequences 0-1) fell out of the window.
    auto dup = append(t, data(1, 0, 4, 2, 999));
    REQUIRE(dup.duplicate);
    CHECK(dup.error == error_code::none);
    CHECK(dup.duplicate->first_offset == 104);
    CHECK(dup.duplicate->last_offset == 105);
    CHECK(append(t, data(1, 0, 10, 2, 999)).duplicate);
    auto too_old = append(t, data(1, 0, 0, 2, 999));
    CHECK_FALSE(too_old.duplicate);
    CHECK(too_old.error == error_code::out_of_order_sequence_number);
    // A batch overlapping a retained one without matching it exactly is no duplicate.
    CHECK(append(t, data(1, 0, 4, 1, 999)).error == error_code::out_of_order_sequence_number);
    CHECK(t.find(producer_id(1))->batches.size() == producer_entry::max_batches);
}

TEST_CASE("producer_state_table: an older epoch is fenced and a new epoch must restart at sequence 0") {
    producer_state_table t;
    REQUIRE(append(t, data(3, 5, 0, 10, 0)).error == error_code::none);
    CHECK(append(t, data(3, 4, 10, 1, 10)).error == error_code::invalid_producer_epoch);
    CHECK(append(t, data(3, 6, 10, 1, 10)).error == error_code::out_of_order_sequence_number);
    CHECK(append(t, data(3, 6, 0, 1, 10)).error == error_code::none);
    CHECK(t.find(producer_id(3))->epoch == producer_epoch(6));
    CHECK(t.find(producer_id(3))->batches.size() == 1);
    // The old epoch's batches are forgotten: its retry is fenced, not a duplicate.
    CHECK(append(t, data(3, 5, 0, 10, 11)).error == error_code::invalid_producer_epoch);
}

TEST_CASE("producer_state_table: sequences wrap from INT32_MAX to 0") {
    constexpr int32_t max = std::numeric_limits<int32_t>::max();
    CHECK(increment_sequence(max, 1) == 0);
    CHECK(increment_sequence(max - 1, 3) == 1);
    producer_state_table t;
    REQUIRE(append(t, data(9, 0, max - 2, 3, 0)).error == error_code::none);
    CHECK(t.find(producer_id(9))->last_seq() == max);
    CHECK(append(t, data(9, 0, 0, 2, 3)).error == error_code::none);
    CHECK(t.find(producer_id(9))->last_seq() == 1);
    // A batch that itself wraps ends at the wrapped sequence.
    producer_state_table w;
    REQUIRE(append(w, data(9, 0, max - 1, 4, 0)).error == error_code::none);
    CHECK(w.find(producer_id(9))->last_seq() == 1);
    CHECK(append(w, data(9, 0, max - 1, 4, 10)).duplicate);
}

TEST_CASE("producer_state_table: a refused append leaves the table as it was") {
    producer_state_table t;
    REQUIRE(append(t, data(1, 0, 0, 1, 0)).error == error_code::none);
    producer_state_update u;
    REQUIRE(t.stage(u, data(1, 0, 1, 1, 1), append_origin::client).error == error_code::none);
    CHECK(t.stage(u, data(1, 0, 5, 1, 2), append_origin::client).error == error_code::out_of_order_sequence_number);
    // Not applied: the table still expects sequence 1.
    CHECK(t.find(producer_id(1))->last_seq() == 0);
    CHECK(append(t, data(1, 0, 1, 1, 1)).error == error_code::none);
}

TEST_CASE("producer_state_table: batches staged in one append are checked against each other") {
    producer_state_table t;
    REQUIRE(append(t, data(1, 0, 0, 2, 0)).error == error_code::none);
    producer_state_update u;
    REQUIRE(t.stage(u, data(1, 0, 2, 2, 2), append_origin::client).error == error_code::none);
    CHECK(t.stage(u, data(1, 0, 2, 2, 4), append_origin::client).error == error_code::out_of_order_sequence_number);
    // As in Kafka, a producer the table does not know yet is not checked within its first append.
    producer_state_update fresh;
    REQUIRE(t.stage(fresh, data(2, 0, 0, 2, 0), append_origin::client).error == error_code::none);
    CHECK(t.stage(fresh, data(2, 0, 9, 2, 2), append_origin::client).error == error_code::none);
}

TEST_CASE("producer_state_table: transactions set the first unstable offset until their marker") {
    producer_state_table t;
    CHECK_FALSE(t.first_unstable_offset());
    REQUIRE(append(t, data(1, 0, 0, 2, 10, 1000, true)).error == error_code::none);
    REQUIRE(append(t, data(2, 0, 0, 1, 12, 1000, true)).error == error_code::none);
    REQUIRE(append(t, data(1, 0, 2, 1, 13, 1000, true)).error == error_code::none);
    CHECK(t.first_unstable_offset() == 10);
    CHECK(t.find(producer_id(1))->current_txn_first_offset == 10);
    // A plain write inside an open transaction is refused.
    CHECK(append(t, data(1, 0, 3, 1, 14)).error == error_code::invalid_txn_state);

    producer_state_update u;
    REQUIRE(t.stage(u, marker(1, 0, false, 14), append_origin::coordinator).error == error_code::none);
    REQUIRE(u.completed.size() == 1);
    const completed_txn done = u.completed.front();
    CHECK(done.aborted);
    CHECK(done.first_offset == 10);
    CHECK(done.last_offset == 14);
    CHECK(done.last_stable_offset == 12);  // producer 2's transaction is still open
    t.apply(std::move(u), 15);
    CHECK(t.first_unstable_offset() == 12);
    CHECK(t.find(producer_id(1))->current_txn_first_offset == -1);

    producer_state_update c;
    REQUIRE(t.stage(c, marker(2, 0, true, 15), append_origin::coordinator).error == error_code::none);
    CHECK_FALSE(c.completed.front().aborted);
    CHECK(c.completed.front().last_stable_offset == 16);
    t.apply(std::move(c), 16);
    CHECK_FALSE(t.first_unstable_offset());
}

TEST_CASE("producer_state_table: markers from an older producer epoch or coordinator epoch are fenced") {
    producer_state_table t;
    REQUIRE(append(t, data(1, 3, 0, 1, 0, 1000, true)).error == error_code::none);
    REQUIRE(append(t, marker(1, 3, true, 1, 5), append_origin::coordinator).error == error_code::none);
    CHECK(t.find(producer_id(1))->coordinator_epoch == 5);
    CHECK(append(t, marker(1, 3, true, 2, 4), append_origin::coordinator).error == error_code::transaction_coordinator_fenced);
    CHECK(append(t, marker(1, 2, true, 2, 5), append_origin::coordinator).error == error_code::invalid_producer_epoch);
    // A marker with a newer epoch (the coordinator fenced the producer) moves the epoch on.
    CHECK(append(t, marker(1, 4, false, 2, 5), append_origin::coordinator).error == error_code::none);
    CHECK(t.find(producer_id(1))->epoch == producer_epoch(4));
    CHECK(append(t, data(1, 3, 1, 1, 3)).error == error_code::invalid_producer_epoch);
}

TEST_CASE("producer_state_table: replication is never refused") {
    producer_state_table t;
    REQUIRE(append(t, data(1, 5, 0, 1, 0)).error == error_code::none);
    CHECK(append(t, data(1, 4, 7, 1, 1), append_origin::replication).error == error_code::none);
    CHECK(append(t, data(1, 5, 9, 1, 2), append_origin::replication).error == error_code::none);
}

TEST_CASE("producer_state_table: idle producers expire, producers with an open transaction stay") {
    producer_state_table t;
    REQUIRE(append(t, data(1, 0, 0, 1, 0, 1000)).error == error_code::none);
    REQUIRE(append(t, data(2, 0, 0, 1, 1, 5000)).error == error_code::none);
    REQUIRE(append(t, data(3, 0, 0, 1, 2, 1000, true)).error == error_code::none);
    CHECK(t.expire(1999, 1000) == 0);
    CHECK(t.expire(2000, 1000) == 1);
    CHECK_FALSE(t.find(producer_id(1)));
    CHECK(t.find(producer_id(2)));
    CHECK(t.find(producer_id(3)));
    // An expired producer is unknown again: it may continue at any sequence.
    CHECK(append(t, data(1, 0, 17, 1, 3)).error == error_code::none);
}
