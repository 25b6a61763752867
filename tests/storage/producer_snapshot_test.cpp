// storage/producer_snapshot: the snapshot layout, and refusing damaged snapshots.
#include "storage/producer_snapshot.h"

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"

#include <doctest/doctest.h>

#include <vector>

using namespace samsa::storage;
namespace pb = samsa::protocol::batch;

namespace {

producer_state_table sample_table() {
    producer_state_table t;
    producer_state_update u;
    producer_batch_fields a;
    a.producer_id = samsa::protocol::producer_id(1000);
    a.epoch = samsa::protocol::producer_epoch(3);
    a.base_seq = 10;
    a.last_offset_delta = 4;
    a.first_offset = 50;
    a.last_offset = 54;
    a.max_timestamp = 1700000000000;
    REQUIRE(t.stage(u, a, append_origin::client).error == samsa::protocol::error_code::none);
    producer_batch_fields b = a;
    b.producer_id = samsa::protocol::producer_id(1001);
    b.epoch = samsa::protocol::producer_epoch(0);
    b.base_seq = 0;
    b.last_offset_delta = 0;
    b.first_offset = b.last_offset = 55;
    b.transactional = true;
    REQUIRE(t.stage(u, b, append_origin::client).error == samsa::protocol::error_code::none);
    t.apply(std::move(u), 56);
    return t;
}

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

} // namespace

TEST_CASE("producer_snapshot: the layout is version, CRC-32C of the rest, count, then 46-byte entries") {
    const auto bytes = bytes_of(encode_producer_snapshot(sample_table()));
    REQUIRE(bytes.size() == producer_snapshot_header_size + 2 * producer_snapshot_entry_size);
    CHECK(pb::load_be16(bytes.data()) == 1);
    CHECK(pb::load_be32(bytes.data() + 2) == samsa::protocol::crc32c(std::span<const uint8_t>(bytes).subspan(6)));
    CHECK(pb::load_be32(bytes.data() + 6) == 2);
    const uint8_t* e = bytes.data() + producer_snapshot_header_size;
    CHECK(pb::load_be64(e) == 1000);                              // producer id
    CHECK(pb::load_be16(e + 8) == 3);                             // epoch
    CHECK(pb::load_be32(e + 10) == 14);                           // last sequence
    CHECK(pb::load_be64(e + 14) == 54);                           // last offset
    CHECK(pb::load_be32(e + 22) == 4);                            // offset delta
    CHECK(pb::load_be64(e + 26) == 1700000000000);                // timestamp
    CHECK(static_cast<int32_t>(pb::load_be32(e + 34)) == -1);     // coordinator epoch
    CHECK(static_cast<int64_t>(pb::load_be64(e + 38)) == -1);     // no transaction open
    CHECK(pb::load_be64(e + producer_snapshot_entry_size + 38) == 55);
}

TEST_CASE("producer_snapshot: decoding gives each producer back with its last batch") {
    std::string why;
    const auto bytes = bytes_of(encode_producer_snapshot(sample_table()));
    auto entries = decode_producer_snapshot(bytes, &why);
    REQUIRE(entries);
    REQUIRE(entries->size() == 2);
    const producer_entry& a = (*entries)[0];
    CHECK(a.producer_id == samsa::protocol::producer_id(1000));
    CHECK(a.epoch == samsa::protocol::producer_epoch(3));
    REQUIRE(a.batches.size() == 1);
    CHECK(a.batches[0].first_seq == 10);
    CHECK(a.batches[0].last_seq == 14);
    CHECK(a.batches[0].first_offset == 50);
    CHECK(a.batches[0].last_offset == 54);
    CHECK((*entries)[1].current_txn_first_offset == 55);

    producer_state_table t;
    for (auto& e : *entries) t.load_entry(e);
    CHECK(t.first_unstable_offset() == 55);
    // The last batch is still recognised as a duplicate after a reload.
    producer_state_update u;
    producer_batch_fields retry;
    retry.producer_id = samsa::protocol::producer_id(1000);
    retry.epoch = samsa::protocol::producer_epoch(3);
    retry.base_seq = 10;
    retry.last_offset_delta = 4;
    CHECK(t.stage(u, retry, append_origin::client).duplicate);
}

TEST_CASE("producer_snapshot: a flipped byte, a cut file or an unknown version is refused") {
    const auto good = bytes_of(encode_producer_snapshot(sample_table()));
    std::string why;
    for (size_t at : {size_t{0}, size_t{3}, size_t{12}, good.size() - 1}) {
        auto bad = good;
        bad[at] ^= 0x20;
        CHECK_FALSE(decode_producer_snapshot(bad, &why));
    }
    auto cut = good;
    cut.resize(good.size() - 5);
    CHECK_FALSE(decode_producer_snapshot(cut, &why));
    CHECK_FALSE(decode_producer_snapshot(std::vector<uint8_t>(4, 0), &why));
    // An empty table is a valid snapshot.
    auto empty = decode_producer_snapshot(bytes_of(encode_producer_snapshot(producer_state_table{})), &why);
    REQUIRE(empty);
    CHECK(empty->empty());
}
