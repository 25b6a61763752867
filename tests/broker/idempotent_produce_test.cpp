// Idempotent and transactional producers on the data path: InitProducerId, Produce with
// sequences (duplicates, gaps, fenced epochs), DescribeProducers, WriteTxnMarkers (also through
// partition_txn_marker_writer), and what read_committed readers see: Fetch's last stable offset
// and aborted transactions, ListOffsets' latest offset.
#include "broker/transactions/partition_txn_marker_writer.h"
#include "protocol/messages/describe_producers.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/produce.h"
#include "protocol/messages/write_txn_markers.h"
#include "tests/broker/data_path_fixture.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using namespace samsa::protocol;
using samsa::broker::test::data_path_fixture;

namespace {

std::vector<uint8_t> producer_batch(int64_t pid, int16_t epoch, int32_t seq, int count, bool transactional = false) {
    batch_options o;
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    o.transactional = transactional;
    record_batch_builder b(o);
    for (int i = 0; i < count; ++i) {
        const std::string v = "v" + std::to_string(seq + i);
        record_input in;
        in.value = bytes_view(reinterpret_cast<const uint8_t*>(v.data()), v.size());
        in.timestamp = 1700000000000 + i;
        b.append(in);
    }
    auto built = b.build();
    REQUIRE(!built.bytes.empty());
    return built.bytes;
}

produce_response::partition_produce_response produce(data_path_fixture& f, std::vector<uint8_t> batch, int16_t acks = -1) {
    produce_request req;
    req.acks = acks;
    req.topic_data.push_back({"t", {{0, records::from_bytes(batch)}}});
    const auto r = f.call(req, 9);
    return r.responses.at(0).partition_responses.at(0);
}

fetch_response::partition_data fetch(data_path_fixture& f, int8_t isolation, int64_t offset = 0, int16_t version = 12) {
    fetch_request req;
    req.max_wait_ms = 0;
    req.min_bytes = 1;
    req.max_bytes = 1 << 20;
    req.session_id = 0;
    req.session_epoch = -1;
    req.isolation_level = isolation;
    fetch_request::fetch_partition p;
    p.partition = 0;
    p.fetch_offset = offset;
    p.partition_max_bytes = 1 << 20;
    req.topics.push_back({"t", {}, {p}});
    const auto r = f.call(req, version);
    return r.responses.at(0).partitions.at(0);
}

int64_t latest_offset(data_path_fixture& f, int8_t isolation) {
    list_offsets_request req;
    req.replica_id = -1;
    req.isolation_level = isolation;
    list_offsets_request::list_offsets_partition p;
    p.partition_index = 0;
    p.timestamp = -1;
    req.topics.push_back({"t", {p}});
    return f.call(req, 7).topics.at(0).partitions.at(0).offset;
}

write_txn_markers_response::writable_txn_marker_result end_txn(data_path_fixture& f, int64_t pid, int16_t epoch, bool commit,
                                                              int32_t coordinator_epoch = 0, int16_t version = 1) {
    write_txn_markers_request req;
    write_txn_markers_request::writable_txn_marker m;
    m.producer_id = pid;
    m.producer_epoch = epoch;
    m.transaction_result = commit;
    m.coordinator_epoch = coordinator_epoch;
    m.topics.push_back({"t", {0}});
    req.markers.push_back(m);
    return f.call(req, version).markers.at(0);
}

} // namespace

TEST_CASE("init_producer_id: an idempotent producer gets a new id with epoch 0 at every version") {
    data_path_fixture f;
    producer_id_manager ids((f.dir() / "producer-id-block").string(), node_id(1));
    f.set_producer_ids(&ids);
    int64_t last = -1;
    for (int16_t v = init_producer_id_request::min_version; v <= init_producer_id_request::max_version; ++v) {
        init_producer_id_request req;
        req.transactional_id = std::nullopt;
        req.transaction_timeout_ms = 60000;
        if (v >= 3) {
            // KIP-360: the producer's current id and epoch; an idempotent producer still gets a new id.
            req.producer_id = last;
            req.producer_epoch = 0;
        }
        const auto resp = f.call(req, v);
        CHECK(resp.error_code == 0);
        CHECK(resp.producer_epoch == 0);
        CHECK(resp.producer_id > last);
        last = resp.producer_id;
    }
}

TEST_CASE("init_producer_id: without a producer id source the answer is retriable") {
    data_path_fixture f;
    init_producer_id_request req;
    req.transactional_id = std::nullopt;
    const auto resp = f.call(req, 4);
    CHECK(resp.error_code == to_int(error_code::coordinator_load_in_progress));
    CHECK(resp.producer_id == -1);
}

TEST_CASE("produce: an idempotent retry is answered with the original offsets and written once") {
    data_path_fixture f;
    f.create_topic("t", 1);
    REQUIRE(produce(f, producer_batch(10, 0, 0, 3)).base_offset == 0);
    REQUIRE(produce(f, producer_batch(10, 0, 3, 2)).base_offset == 3);
    const auto retry = produce(f, producer_batch(10, 0, 0, 3));
    CHECK(retry.error_code == 0);
    CHECK(retry.base_offset == 0);
    CHECK(f.log("t", 0)->log_end_offset() == offset(5));
    const auto gap = produce(f, producer_batch(10, 0, 6, 1));
    CHECK(gap.error_code == to_int(error_code::out_of_order_sequence_number));
    CHECK(gap.base_offset == -1);
    CHECK(produce(f, producer_batch(10, 0, 5, 1)).error_code == 0);
    CHECK(produce(f, producer_batch(11, 2, 0, 1)).error_code == 0);
    CHECK(produce(f, producer_batch(11, 1, 1, 1)).error_code == to_int(error_code::invalid_producer_epoch));
}

TEST_CASE("describe_producers: reports each producer's epoch, last sequence and open transaction") {
    data_path_fixture f;
    f.create_topic("t", 1);
    REQUIRE(produce(f, producer_batch(10, 1, 0, 3)).error_code == 0);
    REQUIRE(produce(f, producer_batch(20, 0, 0, 2, true)).error_code == 0);
    describe_producers_request req;
    req.topics.push_back({"t", {0, 7}});
    const auto resp = f.call(req, 0);
    const auto& parts = resp.topics.at(0).partitions;
    REQUIRE(parts.size() == 2);
    CHECK(parts[1].error_code == to_int(error_code::unknown_topic_or_partition));
    REQUIRE(parts[0].active_producers.size() == 2);
    const auto& a = parts[0].active_producers[0];
    CHECK(a.producer_id == 10);
    CHECK(a.producer_epoch == 1);
    CHECK(a.last_sequence == 2);
    CHECK(a.last_timestamp == 1700000000002);
    CHECK(a.current_txn_start_offset == -1);
    CHECK(parts[0].active_producers[1].current_txn_start_offset == 3);
}

TEST_CASE("read_committed: the LSO holds at an open transaction and aborted transactions are listed") {
    data_path_fixture f;
    f.create_topic("t", 1);
    REQUIRE(produce(f, producer_batch(1, 0, 0, 2)).error_code == 0);        // 0-1, idempotent
    REQUIRE(produce(f, producer_batch(2, 0, 0, 2, true)).error_code == 0);  // 2-3, transaction to abort
    REQUIRE(produce(f, producer_batch(3, 0, 0, 1, true)).error_code == 0);  // 4, transaction to commit

    auto committed = fetch(f, 1);
    CHECK(committed.high_watermark == 5);
    CHECK(committed.last_stable_offset == 2);
    REQUIRE(committed.aborted_transactions.has_value());
    CHECK(committed.aborted_transactions->empty());
    CHECK(test::read_records(committed.records.bytes()).size() == 2);
    auto uncommitted = fetch(f, 0);
    CHECK(uncommitted.last_stable_offset == 2);
    CHECK_FALSE(uncommitted.aborted_transactions.has_value());
    CHECK(test::read_records(uncommitted.records.bytes()).size() == 5);
    CHECK(latest_offset(f, 1) == 2);
    CHECK(latest_offset(f, 0) == 5);

    const auto aborted = end_txn(f, 2, 0, false);
    REQUIRE(aborted.topics.at(0).partitions.at(0).error_code == 0);
    CHECK(fetch(f, 1).last_stable_offset == 4);
    const auto done = end_txn(f, 3, 0, true, 0, 0);
    REQUIRE(done.topics.at(0).partitions.at(0).error_code == 0);

    committed = fetch(f, 1);
    CHECK(committed.last_stable_offset == 7);
    REQUIRE(committed.aborted_transactions.has_value());
    REQUIRE(committed.aborted_transactions->size() == 1);
    CHECK(committed.aborted_transactions->at(0).producer_id == 2);
    CHECK(committed.aborted_transactions->at(0).first_offset == 2);
    CHECK(latest_offset(f, 1) == 7);
    // Fetching after the aborted transaction lists none.
    CHECK(fetch(f, 1, 6).aborted_transactions->empty());
    // Fetch v4 (the first with isolation levels) carries the same.
    CHECK(fetch(f, 1, 0, 4).aborted_transactions->size() == 1);
}

TEST_CASE("write_txn_markers: fenced producer and coordinator epochs and unknown partitions are refused") {
    data_path_fixture f;
    f.create_topic("t", 1);
    REQUIRE(produce(f, producer_batch(5, 3, 0, 1, true)).error_code == 0);
    CHECK(end_txn(f, 5, 2, true).topics.at(0).partitions.at(0).error_code == to_int(error_code::invalid_producer_epoch));
    CHECK(end_txn(f, 5, 3, true, 4).topics.at(0).partitions.at(0).error_code == 0);
    CHECK(end_txn(f, 5, 3, false, 3).topics.at(0).partitions.at(0).error_code ==
          to_int(error_code::transaction_coordinator_fenced));

    partition_txn_marker_writer writer(f.partitions());
    std::vector<txn_marker_result> got;
    int calls = 0;
    const std::vector<txn_marker_partition> parts{{"t", partition_id(0)}, {"nope", partition_id(0)}, {"t", partition_id(9)}};
    writer.write_markers({producer_id(5), producer_epoch(3), 4, true, parts}, [&](std::vector<txn_marker_result> r) {
        got = std::move(r);
        ++calls;
    });
    REQUIRE(calls == 1);
    REQUIRE(got.size() == 3);
    CHECK(got[0].error == error_code::none);
    CHECK(got[1].error == error_code::unknown_topic_or_partition);
    CHECK(got[2].partition.partition == partition_id(9));
    CHECK(got[2].error == error_code::unknown_topic_or_partition);
}

TEST_CASE("write_txn_markers: with a flush policy the answer waits for the fsync") {
    data_path_fixture f;
    f.create_topic("t", 1, {{"flush.messages", "1"}});
    REQUIRE(produce(f, producer_batch(5, 0, 0, 1, true), 1).error_code == 0);
    partition_txn_marker_writer writer(f.partitions());
    int calls = 0;
    writer.write_markers({producer_id(5), producer_epoch(0), 0, true, {{"t", partition_id(0)}}}, [&](std::vector<txn_marker_result> r) {
        CHECK(r.at(0).error == error_code::none);
        ++calls;
    });
    CHECK(calls == 0);
    CHECK(f.pump_until([&] { return calls == 1; }));
    CHECK(f.log("t", 0)->last_stable_offset() == offset(2));
}
