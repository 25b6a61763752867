#include "broker/transactions/transaction_log.h"

#include "protocol/messages/transaction_log.h"

#include <doctest/doctest.h>

using namespace samsa;
using namespace samsa::broker;
using samsa::protocol::partition_id;
using samsa::protocol::producer_epoch;
using samsa::protocol::producer_id;

namespace {

transaction_metadata sample(txn_state state) {
    transaction_metadata m;
    m.transactional_id = "orders-tx";
    m.producer_id = producer_id(4001);
    m.producer_epoch = producer_epoch(17);
    m.timeout_ms = 60000;
    m.state = state;
    if (state != txn_state::empty) m.partitions = {{"orders", partition_id(0)}, {"orders", partition_id(3)}, {"__consumer_offsets", partition_id(12)}};
    m.start_ms = 1'700'000'000'123;
    m.last_update_ms = 1'700'000'000'456;
    return m;
}

} // namespace

TEST_CASE("transaction_log: a value round-trips with every field Kafka writes") {
    for (const auto state : {txn_state::ongoing, txn_state::prepare_commit, txn_state::prepare_abort}) {
        const auto m = sample(state);
        const auto bytes = encode_transaction_log_value(m);
        const auto back = decode_transaction_log_value(bytes);
        REQUIRE(back.has_value());
        CHECK(back->producer_id == producer_id(4001));
        CHECK(back->producer_epoch == producer_epoch(17));
        CHECK(back->timeout_ms == 60000);
        CHECK(back->state == state);
        CHECK(back->partitions == m.partitions);
        CHECK(back->start_ms == m.start_ms);
        CHECK(back->last_update_ms == m.last_update_ms);
        CHECK(back->transactional_id.empty());  // the id is the key's
    }
}

TEST_CASE("transaction_log: the value is version 1 with Kafka's field order and Empty has null partitions") {
    const auto bytes = encode_transaction_log_value(sample(txn_state::empty));
    protocol::reader r(bytes);
    CHECK(r.read_int16() == 1);
    protocol::transaction_log_value v;
    v.decode(r, 1);
    REQUIRE(r.ok());
    CHECK(r.remaining() == 0);
    CHECK(v.producer_id == 4001);
    CHECK(v.transaction_status == 0);
    CHECK_FALSE(v.transaction_partitions.has_value());
    // int16 version + int64 pid + int16 epoch + int32 timeout + int8 status + varint 0 (null
    // compact array) + two int64 timestamps + varint 0 (no tagged field: all at their defaults).
    CHECK(bytes.size() == 2 + 8 + 2 + 4 + 1 + 1 + 8 + 8 + 1);
}

TEST_CASE("transaction_log: a version 0 value written before transaction.version 1 is still read") {
    protocol::transaction_log_value v;
    v.producer_id = 77;
    v.producer_epoch = 4;
    v.transaction_timeout_ms = 100;
    v.transaction_status = static_cast<int8_t>(txn_state::complete_abort);
    v.transaction_partitions = std::vector<protocol::transaction_log_value::partitions_schema>{};
    protocol::output_buffer out;
    out.bytes.reserve(v.size(0) + 2);
    protocol::writer w(out);
    w.write_int16(0);
    v.encode(w, 0);
    const auto m = decode_transaction_log_value(out.bytes);
    REQUIRE(m.has_value());
    CHECK(m->producer_id == producer_id(77));
    CHECK(m->state == txn_state::complete_abort);
    CHECK(m->client_transaction_version == 0);
    CHECK(m->last_producer_id == producer_id(-1));
    CHECK(m->next_producer_id == producer_id(-1));
}

TEST_CASE("transaction_log: partitions are grouped by topic on disk") {
    const auto bytes = encode_transaction_log_value(sample(txn_state::ongoing));
    protocol::reader r(bytes);
    (void)r.read_int16();
    protocol::transaction_log_value v;
    v.decode(r, 1);
    REQUIRE(v.transaction_partitions.has_value());
    REQUIRE(v.transaction_partitions->size() == 2);
    CHECK(v.transaction_partitions->at(0).topic == "__consumer_offsets");
    CHECK(v.transaction_partitions->at(1).topic == "orders");
    CHECK(v.transaction_partitions->at(1).partition_ids == std::vector<int32_t>{0, 3});
}

TEST_CASE("transaction_log: a key round-trips and unknown key versions are not ours") {
    const auto key = encode_transaction_log_key("orders-tx");
    CHECK(key.size() == 2 + 2 + 9);
    CHECK(decode_transaction_log_key(key) == std::optional<std::string>("orders-tx"));
    auto other = key;
    other[1] = 1;  // version 1 is no transaction key
    CHECK_FALSE(decode_transaction_log_key(other).has_value());
    CHECK_FALSE(decode_transaction_log_key(std::vector<uint8_t>{0}).has_value());
}

TEST_CASE("transaction_log: the V2 tagged fields round-trip (previous and next producer id, client version)") {
    auto m = sample(txn_state::prepare_commit);
    m.last_producer_id = producer_id(4000);
    m.next_producer_id = producer_id(4002);
    m.client_transaction_version = transaction_version_2;
    const auto bytes = encode_transaction_log_value(m);
    const auto back = decode_transaction_log_value(bytes);
    REQUIRE(back.has_value());
    CHECK(back->last_producer_id == producer_id(4000));
    CHECK(back->next_producer_id == producer_id(4002));
    CHECK(back->client_transaction_version == 2);
    // As Kafka's generated code reads them: tags 0, 1 and 2 of the value.
    protocol::reader r(bytes);
    (void)r.read_int16();
    protocol::transaction_log_value v;
    v.decode(r, 1);
    REQUIRE(r.ok());
    CHECK(v.previous_producer_id == 4000);
    CHECK(v.next_producer_id == 4002);
    CHECK(v.client_transaction_version == 2);
}

TEST_CASE("transaction_log: truncated values and statuses Kafka never writes are rejected") {
    auto bytes = encode_transaction_log_value(sample(txn_state::ongoing));
    for (size_t cut = 0; cut < bytes.size(); ++cut)
        CHECK_FALSE(decode_transaction_log_value(std::span<const uint8_t>(bytes.data(), cut)).has_value());
    auto fence = sample(txn_state::ongoing);
    fence.state = txn_state::prepare_epoch_fence;
    CHECK_FALSE(decode_transaction_log_value(encode_transaction_log_value(fence)).has_value());
    // status byte: after version(2) + pid(8) + epoch(2) + timeout(4)
    bytes[16] = 42;
    CHECK_FALSE(decode_transaction_log_value(bytes).has_value());
}

TEST_CASE("transaction_log: ids land on Kafka's partition, abs(String.hashCode) % partitions") {
    // "hello".hashCode() == 99162322; "polygenelubricants".hashCode() == Integer.MIN_VALUE.
    CHECK(transaction_log_partition("hello", 50).value() == 99162322 % 50);
    CHECK(transaction_log_partition("polygenelubricants", 50).value() == 0);
    // "ab".hashCode() == 3105; a negative hash: "transactional-id-1".hashCode() is checked by sign only.
    CHECK(transaction_log_partition("ab", 7).value() == 3105 % 7);
    for (const auto* id : {"a", "tx-0", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80"}) {
        const int32_t p = transaction_log_partition(id, 50).value();
        CHECK(p >= 0);
        CHECK(p < 50);
    }
    // "é" is one UTF-16 unit (0xE9), so its hash is 0xE9.
    CHECK(transaction_log_partition("\xc3\xa9", 1000).value() == 0xE9);
}
