// storage/log (log_producers.cpp): idempotent appends, producer snapshots and recovery,
// transaction markers, the last stable offset and the aborted-transaction index.
#include "storage/log.h"

#include "protocol/record_batch_builder.h"
#include "storage/layout.h"
#include "storage/producer_state_table.h"
#include "storage/txn_index.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

using namespace samsa::storage;
using namespace samsa::storage::test;
using samsa::protocol::error_code;
using samsa::protocol::offset;
namespace pb = samsa::protocol::batch;

namespace {

log_config small_config() {
    log_config c;
    c.segment_bytes = 4096;
    c.index_interval_bytes = 256;
    c.segment_index_bytes = 4096;
    c.message_timestamp_after_max_ms = no_limit;
    return c;
}

// `count` records of producer `pid` from sequence `seq`.
std::vector<uint8_t> id_batch(int64_t pid, int16_t epoch, int32_t seq, int count, bool transactional = false) {
    std::vector<test_record> recs;
    for (int i = 0; i < count; ++i) recs.push_back({std::nullopt, "v" + std::to_string(seq + i), 100 + i});
    batch_options o;
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    o.attributes = transactional ? static_cast<int16_t>(pb::transactional_flag) : int16_t{0};
    return make_batch(recs, o);
}

std::vector<uint8_t> marker_batch(int64_t pid, int16_t epoch, bool commit, int32_t coordinator_epoch = 0) {
    samsa::protocol::batch_options o;
    o.producer_id = pid;
    o.producer_epoch = epoch;
    auto built = samsa::protocol::build_control_batch(
        o, {commit ? samsa::protocol::control_type::commit : samsa::protocol::control_type::abort, coordinator_epoch}, 500);
    REQUIRE(!built.bytes.empty());
    return built.bytes;
}

append_result produce(samsa::storage::log& l, std::vector<uint8_t> bytes) { return l.append(bytes, at(1000)); }

// A clean stop: snapshot at the end, trimmed indexes, flushed.
void close_cleanly(log_fixture& fx, samsa::storage::log& l) {
    l.prepare_close();
    REQUIRE(fx.flush_and_wait(l) == error_code::none);
    fx.settle();
    l.close();
}

} // namespace

TEST_CASE("log: a retried idempotent batch gets its original offsets and is not written again") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    REQUIRE(produce(*l, make_simple_batch(2, 10, 100)).error == error_code::none);
    auto first = produce(*l, id_batch(5, 0, 0, 3));
    REQUIRE(first.error == error_code::none);
    CHECK(first.base_offset == offset(2));
    REQUIRE(produce(*l, id_batch(5, 0, 3, 2)).base_offset == offset(5));
    const auto end = l->log_end_offset();
    const auto bytes = read_all(*l);

    auto retry = produce(*l, id_batch(5, 0, 0, 3));
    CHECK(retry.error == error_code::none);
    CHECK(retry.duplicate);
    CHECK(retry.base_offset == offset(2));
    CHECK(retry.last_offset == offset(4));
    CHECK(l->log_end_offset() == end);
    CHECK(read_all(*l) == bytes);
}

TEST_CASE("log: idempotent appends out of order or from a fenced epoch are refused and not written") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    REQUIRE(produce(*l, id_batch(5, 2, 0, 3)).error == error_code::none);
    auto gap = produce(*l, id_batch(5, 2, 4, 1));
    CHECK(gap.error == error_code::out_of_order_sequence_number);
    CHECK_FALSE(gap.error_message.empty());
    CHECK(produce(*l, id_batch(5, 1, 3, 1)).error == error_code::invalid_producer_epoch);
    CHECK(produce(*l, id_batch(5, 3, 3, 1)).error == error_code::out_of_order_sequence_number);
    CHECK(l->log_end_offset() == offset(3));
    CHECK(produce(*l, id_batch(5, 3, 0, 1)).base_offset == offset(3));
}

TEST_CASE("log: a duplicate is still caught after a clean restart, from the snapshot") {
    temp_dir dir;
    {
        log_fixture fx;
        auto l = fx.open(dir / "t-0", small_config(), clean_state());
        REQUIRE(produce(*l, id_batch(9, 0, 0, 2)).error == error_code::none);
        REQUIRE(produce(*l, id_batch(9, 0, 2, 2)).error == error_code::none);
        close_cleanly(fx, *l);
    }
    CHECK(file_exists(dir / "t-0/00000000000000000004.snapshot"));
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    CHECK(l->load_info().problem.empty());
    REQUIRE(l->producers().find(samsa::protocol::producer_id(9)));
    auto retry = produce(*l, id_batch(9, 0, 2, 2));
    CHECK(retry.duplicate);
    CHECK(retry.base_offset == offset(2));
    CHECK(produce(*l, id_batch(9, 0, 5, 1)).error == error_code::out_of_order_sequence_number);
    CHECK(produce(*l, id_batch(9, 0, 4, 1)).base_offset == offset(4));
}

TEST_CASE("log: after an unclean stop the producer state is rebuilt from the log") {
    temp_dir dir;
    {
        log_fixture fx;
        auto l = fx.open(dir / "t-0", small_config(), clean_state());
        for (int i = 0; i < 4; ++i) REQUIRE(produce(*l, id_batch(9, 0, i * 2, 2)).error == error_code::none);
        fx.settle();
        l->close();  // no snapshot, no clean-shutdown marker
    }
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), unclean_state(offset(0)));
    REQUIRE(l->producers().find(samsa::protocol::producer_id(9)));
    CHECK(l->producers().find(samsa::protocol::producer_id(9))->batches.size() == 4);
    // Every batch still in the window is recognised, not only the last.
    CHECK(produce(*l, id_batch(9, 0, 2, 2)).duplicate);
    CHECK(produce(*l, id_batch(9, 0, 6, 2)).duplicate);
    CHECK(l->log_end_offset() == offset(8));
}

TEST_CASE("log: a corrupt snapshot is ignored and the state rebuilt from the log") {
    temp_dir dir;
    {
        log_fixture fx;
        auto l = fx.open(dir / "t-0", small_config(), clean_state());
        REQUIRE(produce(*l, id_batch(9, 0, 0, 2)).error == error_code::none);
        REQUIRE(produce(*l, id_batch(9, 0, 2, 2)).error == error_code::none);
        close_cleanly(fx, *l);
    }
    const std::string snap = dir / "t-0/00000000000000000004.snapshot";
    REQUIRE(file_exists(snap));
    flip_byte(snap, 12);
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    CHECK(l->load_info().problem.find("snapshot") != std::string::npos);
    CHECK_FALSE(file_exists(snap));
    REQUIRE(l->producers().find(samsa::protocol::producer_id(9)));
    CHECK(produce(*l, id_batch(9, 0, 0, 2)).duplicate);
    CHECK(produce(*l, id_batch(9, 0, 4, 1)).base_offset == offset(4));
}

TEST_CASE("log: a roll writes a snapshot named after the new segment, and retention removes it") {
    temp_dir dir;
    log_fixture fx;
    log_config cfg = small_config();
    cfg.retention_bytes = 1;
    auto l = fx.open(dir / "t-0", cfg, clean_state());
    int32_t seq = 0;
    while (l->segment_count() < 3) {
        REQUIRE(produce(*l, id_batch(4, 0, seq, 5)).error == error_code::none);
        seq += 5;
    }
    fx.settle();
    l->set_high_watermark(l->log_end_offset());
    std::vector<int64_t> snapshots;
    for (int64_t o = 1; o <= l->log_end_offset().value(); ++o)
        if (file_exists(layout::segment_path(dir / "t-0", o, layout::snapshot_suffix))) snapshots.push_back(o);
    REQUIRE(snapshots.size() >= 2);
    // Retention deletes the old segments, and their snapshots with them.
    REQUIRE(l->delete_old_segments(2000) >= 1);
    REQUIRE(l->log_start_offset() > offset(snapshots.front()));
    for (int64_t o : snapshots)
        CHECK(file_exists(layout::segment_path(dir / "t-0", o, layout::snapshot_suffix)) == (offset(o) >= l->log_start_offset()));
    // The producer is still known: Kafka keeps state whose batches were deleted.
    CHECK(l->producers().find(samsa::protocol::producer_id(4)));
}

TEST_CASE("log: transaction markers move the last stable offset and aborted transactions reach the txnindex") {
    temp_dir dir;
    {
        log_fixture fx;
        auto l = fx.open(dir / "t-0", small_config(), clean_state());
        REQUIRE(produce(*l, make_simple_batch(2, 10, 100)).error == error_code::none);          // 0-1
        REQUIRE(produce(*l, id_batch(1, 0, 0, 2, true)).error == error_code::none);       // 2-3
        REQUIRE(produce(*l, id_batch(2, 0, 0, 1, true)).error == error_code::none);       // 4
        CHECK(l->high_watermark() == offset(0));  // the broker moves it; here it stays where it started
        l->set_high_watermark(l->log_end_offset());
        CHECK(l->last_stable_offset() == offset(2));
        // Clients may not write markers.
        CHECK(produce(*l, marker_batch(1, 0, false)).error == error_code::invalid_record);
        auto abort = append_copy(*l, marker_batch(1, 0, false), at(1000, append_origin::coordinator));
        REQUIRE(abort.error == error_code::none);
        CHECK(abort.base_offset == offset(5));
        l->set_high_watermark(l->log_end_offset());
        CHECK(l->last_stable_offset() == offset(4));
        auto aborted = l->aborted_transactions(offset(0), l->log_end_offset());
        REQUIRE(aborted.size() == 1);
        CHECK(aborted[0].producer_id == 1);
        CHECK(aborted[0].first_offset == 2);
        CHECK(aborted[0].last_offset == 5);
        CHECK(aborted[0].last_stable_offset == 4);
        auto commit = append_copy(*l, marker_batch(2, 0, true), at(1000, append_origin::coordinator));
        REQUIRE(commit.error == error_code::none);
        l->set_high_watermark(l->log_end_offset());
        CHECK(l->last_stable_offset() == l->log_end_offset());
        CHECK(l->aborted_transactions(offset(0), l->log_end_offset()).size() == 1);
        // A range after the abort sees none.
        CHECK(l->aborted_transactions(offset(6), l->log_end_offset()).empty());
        fx.settle();
        l->close();  // unclean: the txnindex and the producers are rebuilt from the log
    }
    // One entry, in the .txnindex of the segment the ABORT marker (offset 5) landed in.
    int64_t index_bytes = 0;
    for (int64_t base = 0; base <= 5; ++base)
        index_bytes += std::max<int64_t>(0, file_size(layout::segment_path(dir / "t-0", base, layout::txn_index_suffix)));
    CHECK(index_bytes == static_cast<int64_t>(txn_index_entry_size));
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), unclean_state(offset(0)));
    CHECK(l->last_stable_offset() == l->log_end_offset());
    auto aborted = l->aborted_transactions(offset(0), l->log_end_offset());
    REQUIRE(aborted.size() == 1);
    CHECK(aborted[0] == aborted_txn{1, 2, 5, 4});
    CHECK(l->producers().find(samsa::protocol::producer_id(2))->current_txn_first_offset == -1);
}

TEST_CASE("log: a transaction left open across a restart keeps the last stable offset at its start") {
    temp_dir dir;
    {
        log_fixture fx;
        auto l = fx.open(dir / "t-0", small_config(), clean_state());
        REQUIRE(produce(*l, make_simple_batch(3, 10, 100)).error == error_code::none);
        REQUIRE(produce(*l, id_batch(1, 0, 0, 2, true)).error == error_code::none);
        close_cleanly(fx, *l);
    }
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    CHECK(l->high_watermark() == offset(5));
    CHECK(l->last_stable_offset() == offset(3));
}

TEST_CASE("log: truncation rebuilds the producer state from before the cut") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    REQUIRE(produce(*l, id_batch(3, 0, 0, 2)).error == error_code::none);
    REQUIRE(produce(*l, id_batch(3, 0, 2, 2)).error == error_code::none);
    REQUIRE(l->truncate_to(offset(2)) == error_code::none);
    REQUIRE(l->producers().find(samsa::protocol::producer_id(3)));
    CHECK(l->producers().find(samsa::protocol::producer_id(3))->last_seq() == 1);
    CHECK(produce(*l, id_batch(3, 0, 2, 2)).base_offset == offset(2));
    CHECK(produce(*l, id_batch(3, 0, 2, 2)).duplicate);
}
