// Tests broker/admin/topic_compression.cpp: compression.type recompresses batches as Kafka does
// and keeps every record.
#include "broker/admin/topic_compression.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"

#include <doctest/doctest.h>

using namespace samsa;
using namespace samsa::broker;

namespace {

std::vector<uint8_t> batch_of(protocol::batch::compression codec, int n) {
    protocol::batch_options o;
    o.codec = codec;
    o.producer_id = 42;
    o.producer_epoch = 3;
    o.base_sequence = 7;
    protocol::record_batch_builder b(o);
    std::vector<std::string> values;
    for (int i = 0; i < n; ++i) values.push_back("value-" + std::to_string(i));
    const std::string key = "k";
    for (int i = 0; i < n; ++i) {
        const protocol::bytes_view k(reinterpret_cast<const uint8_t*>(key.data()), key.size());
        const protocol::bytes_view v(reinterpret_cast<const uint8_t*>(values[static_cast<size_t>(i)].data()), values[static_cast<size_t>(i)].size());
        b.append({k, v, {}, 1000 + i});
    }
    return b.build().bytes;
}

} // namespace

TEST_CASE("topic_compression: producer and an equal codec keep the batch as it came") {
    const auto plain = batch_of(protocol::batch::compression::none, 3);
    CHECK_FALSE(recompress_for_topic(plain, "producer").rebuilt.has_value());
    CHECK_FALSE(recompress_for_topic(plain, "uncompressed").rebuilt.has_value());
}

TEST_CASE("topic_compression: another codec rebuilds the batch with every record and the producer fields") {
    auto two = batch_of(protocol::batch::compression::none, 5);
    const auto more = batch_of(protocol::batch::compression::lz4, 2);
    two.insert(two.end(), more.begin(), more.end());
    const auto r = recompress_for_topic(two, "gzip");
    REQUIRE(r.error == protocol::error_code::none);
    REQUIRE(r.rebuilt.has_value());
    size_t at = 0;
    int batches = 0, records = 0;
    while (at < r.rebuilt->size()) {
        const auto h = protocol::batch::header_view::parse(std::span(*r.rebuilt).subspan(at));
        REQUIRE(h.has_value());
        CHECK(h->codec() == protocol::batch::compression::gzip);
        CHECK(h->producer_id() == 42);
        CHECK(h->base_sequence() == 7);
        CHECK(h->crc_ok());
        protocol::record_reader reader(protocol::bytes_view(h->bytes().data(), h->bytes().size()));
        protocol::record rec;
        while (reader.next(rec)) {
            CHECK(rec.timestamp >= 1000);
            ++records;
        }
        CHECK(reader.ok());
        at += h->total_size();
        ++batches;
    }
    CHECK(batches == 2);
    CHECK(records == 7);
}
