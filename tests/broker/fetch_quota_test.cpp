// Tests how broker/fetch/fetch_operation.cpp and broker/handlers/fetch.cpp apply client quotas,
// as Kafka does: a fetch over the consumer byte rate is answered empty with throttle_time_ms and
// its bytes are not charged, the fetch session is kept for the next fetch (KIP-219, KIP-227), and
// one fetch is capped at what the quota allows over its windows. Also that the request-time quota
// is charged when the response is built (broker/dispatcher.cpp), so the request that goes over it
// carries the throttle. Rates run on the fixture's manual clock.
#include "protocol/messages/api_versions.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/produce.h"
#include "tests/broker/data_path_fixture.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using namespace samsa::protocol;
using samsa::broker::test::data_path_fixture;
using samsa::broker::test::make_batch;

namespace {

constexpr int16_t fetch_version = 12;

// Appends one batch of `count` records of `value_size` bytes to t-0.
void produce(data_path_fixture& f, int count, size_t value_size) {
    std::vector<test::test_record> records;
    for (int i = 0; i < count; ++i) records.push_back({"k", std::string(value_size, 'v'), {}});
    const auto batch = make_batch(records);  // the request borrows these bytes
    produce_request req;
    req.acks = 1;
    req.topic_data.push_back({"t", {{0, records::from_bytes(batch)}}});
    const auto r = f.call(req, 9);
    REQUIRE(r.responses.at(0).partition_responses.at(0).error_code == 0);
}

fetch_request fetch_from(int64_t offset, int32_t session_id = 0, int32_t epoch = -1, bool list_partition = true) {
    fetch_request req;
    req.max_wait_ms = 0;
    req.min_bytes = 1;
    req.max_bytes = 50 << 20;
    req.session_id = session_id;
    req.session_epoch = epoch;
    if (list_partition) {
        fetch_request::fetch_partition p;
        p.partition = 0;
        p.fetch_offset = offset;
        p.partition_max_bytes = 1 << 20;
        req.topics.push_back({"t", {}, {p}});
    }
    return req;
}

size_t record_bytes(const fetch_response& r) {
    size_t n = 0;
    for (const auto& t : r.responses)
        for (const auto& p : t.partitions)
            if (!p.records.is_null()) n += p.records.size();
    return n;
}

} // namespace

TEST_CASE("fetch quota: over the consumer byte rate, the response is empty with throttle_time_ms and is not charged") {
    data_path_fixture f;
    f.create_topic("t", 1);
    produce(f, 5, 1000);
    // 1000 B/s over Kafka's default 11 one-second windows: 10,000 bytes fit in the first windows.
    f.set_quota("broker-test", "consumer_byte_rate", 1000);

    const auto first = f.call(fetch_from(0), fetch_version);
    CHECK(first.throttle_time_ms == 0);
    REQUIRE(record_bytes(first) > 5000);

    // The same bytes again take the rate over 1000 B/s: nothing is sent, the client is told to wait.
    const auto second = f.call(fetch_from(0), fetch_version);
    CHECK(second.error_code == 0);
    CHECK(second.responses.empty());
    CHECK(second.throttle_time_ms > 0);
    CHECK(second.throttle_time_ms < 2000);
    // Had the empty response been charged with the bytes it did not carry, the next throttle would
    // be much longer; it is the same.
    const auto third = f.call(fetch_from(0), fetch_version);
    CHECK(third.responses.empty());
    CHECK(third.throttle_time_ms == second.throttle_time_ms);

    // Until 10 s have passed a new client's rate is measured over 10 s, so its budget there is
    // 10,000 bytes; once the window holding the first fetch has expired, it gets its records again.
    f.loop().advance(11000);
    const auto later = f.call(fetch_from(0), fetch_version);
    CHECK(later.throttle_time_ms == 0);
    CHECK(record_bytes(later) > 5000);
}

TEST_CASE("fetch quota: a throttled incremental fetch keeps its session, and the next fetch carries the data") {
    data_path_fixture f;
    f.create_topic("t", 1);
    produce(f, 5, 1000);
    f.set_quota("broker-test", "consumer_byte_rate", 1000);

    const auto full = f.call(fetch_from(0, 0, 0), fetch_version);
    REQUIRE(full.session_id != 0);
    REQUIRE(record_bytes(full) > 5000);
    const int64_t next = full.responses.at(0).partitions.at(0).high_watermark;

    produce(f, 5, 1000);
    const auto throttled = f.call(fetch_from(next, full.session_id, 1), fetch_version);
    CHECK(throttled.error_code == 0);
    CHECK(throttled.session_id == full.session_id);
    CHECK(throttled.responses.empty());
    REQUIRE(throttled.throttle_time_ms > 0);

    // The session moved on to the next epoch, and it still owes the client the new batch and
    // high watermark: an incremental fetch listing nothing gets them.
    f.loop().advance(11000);
    const auto after = f.call(fetch_from(next, full.session_id, 2, false), fetch_version);
    CHECK(after.error_code == 0);
    CHECK(after.throttle_time_ms == 0);
    REQUIRE(after.responses.size() == 1);
    CHECK(after.responses[0].partitions.at(0).high_watermark == next + 5);
    CHECK(record_bytes(after) > 5000);
}

TEST_CASE("fetch quota: a throttled full fetch creates no session") {
    data_path_fixture f;
    f.create_topic("t", 1);
    produce(f, 6, 1000);
    f.set_quota("broker-test", "consumer_byte_rate", 1000);
    REQUIRE(record_bytes(f.call(fetch_from(0), fetch_version)) > 6000);

    const auto full = f.call(fetch_from(0, 0, 0), fetch_version);
    CHECK(full.throttle_time_ms > 0);
    CHECK(full.error_code == 0);
    CHECK(full.session_id == 0);
    CHECK(full.responses.empty());
    CHECK(f.partitions().sessions().size() == 0);
}

TEST_CASE("fetch quota: one fetch is capped at what the quota allows over its windows") {
    data_path_fixture f;
    f.create_topic("t", 1);
    for (int i = 0; i < 3; ++i) produce(f, 1, 600);
    // Without a quota, one fetch takes all three batches.
    const auto free = f.call(fetch_from(0), fetch_version);
    const size_t all = record_bytes(free);
    CHECK(all > 1800);
    // 100 B/s * (11 - 1) windows of 1 s = 1000 bytes: the first batch (always returned) and no more.
    f.set_quota("broker-test", "consumer_byte_rate", 100);
    const auto capped = f.call(fetch_from(0), fetch_version);
    CHECK(capped.throttle_time_ms == 0);
    CHECK(record_bytes(capped) > 600);
    CHECK(record_bytes(capped) < all / 2);
}

TEST_CASE("request quota: the request whose handler time goes over request_percentage carries the throttle") {
    data_path_fixture f;
    // Any handler time is over a millionth of a percent of a thread.
    f.set_quota("broker-test", "request_percentage", 0.000001);
    api_versions_request req;
    req.client_software_name = "t";
    req.client_software_version = "1";
    const auto limited = f.call(req, 3);
    CHECK(limited.throttle_time_ms > 0);
    CHECK(limited.throttle_time_ms <= 1000);  // at most one quota window, as in Kafka

    std::vector<uint8_t> frame = test::encode_request(req, 3, 8, std::string("unlimited"));
    const auto other = f.send(frame);
    REQUIRE(other.answered());
    CHECK(test::decode_response<api_versions_response>(other.frame(), 3, 8).throttle_time_ms == 0);
}

TEST_CASE("request quota: a waiting fetch is charged when it is answered, with its handler time only") {
    data_path_fixture f;
    f.create_topic("t", 1);
    f.set_quota("broker-test", "request_percentage", 0.000001);
    auto req = fetch_from(0);
    req.max_wait_ms = 500;
    auto waiting = f.start(req, fetch_version);
    REQUIRE(waiting.waiting());
    f.loop().advance(500);
    REQUIRE(waiting.answered());
    const auto resp = test::decode_response<fetch_response>(waiting.frame(), fetch_version, 7);
    CHECK(resp.throttle_time_ms > 0);
    CHECK(resp.throttle_time_ms <= 1000);
    CHECK(waiting.slot->throttle_ms == resp.throttle_time_ms);
}
