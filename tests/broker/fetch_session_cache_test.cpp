// Tests broker/fetch/fetch_session_cache.cpp: the KIP-227 request table, what an incremental
// response carries, and the bounded cache's eviction.
#include "broker/fetch/fetch_session_cache.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using samsa::protocol::error_code;
using samsa::protocol::partition_id;

namespace {

fetch_partition_request part(const std::string& topic, int32_t p, int64_t offset = 0) {
    fetch_partition_request r;
    r.key.topic = topic;
    r.key.partition = partition_id(p);
    r.params.fetch_offset = samsa::protocol::offset(offset);
    r.params.max_bytes = 1000;
    return r;
}

// What a response said about one partition: record bytes, high watermark, log start offset.
fetch_partition_summary summary(size_t records_bytes, int64_t high_watermark, int64_t log_start_offset, error_code e) {
    return fetch_partition_summary{records_bytes, samsa::protocol::offset(high_watermark),
                                   samsa::protocol::offset(log_start_offset), e};
}

// Opens a session of `n` partitions at `now`; returns its id.
int32_t open(fetch_session_cache& c, int n, int64_t now) {
    std::vector<fetch_partition_request> ps;
    for (int i = 0; i < n; ++i) ps.push_back(part("t", i));
    auto ctx = c.new_context(0, 0, ps, {}, false, now);
    REQUIRE(ctx.what == fetch_context::kind::full);
    std::vector<fetch_partition_summary> read(ps.size(), summary(0, 10, 0, error_code::none));
    return c.finish(ctx, read, now).session_id;
}

} // namespace

TEST_CASE("fetch_session_cache: the session id and epoch pick the context") {
    fetch_session_cache c;
    CHECK(c.new_context(0, -1, {part("t", 0)}, {}, false, 0).what == fetch_context::kind::sessionless);
    const int32_t id = open(c, 2, 0);
    REQUIRE(id > 0);
    CHECK(c.size() == 1);

    auto bad = c.new_context(id, 5, {}, {}, false, 1);
    CHECK(bad.what == fetch_context::kind::error);
    CHECK(bad.error == error_code::invalid_fetch_session_epoch);
    CHECK(c.new_context(id + 1, 1, {}, {}, false, 1).error == error_code::fetch_session_id_not_found);
    CHECK(c.new_context(id, 1, {}, {}, true, 1).error == error_code::fetch_session_topic_id_error);

    auto inc = c.new_context(id, 1, {part("t", 7)}, {}, false, 1);
    CHECK(inc.what == fetch_context::kind::incremental);
    CHECK(inc.partitions.size() == 3);
    CHECK(c.find(id)->epoch() == 2);

    // Forgetting every partition closes the session.
    const fetch_partition_key keys[] = {part("t", 0).key, part("t", 1).key, part("t", 7).key};
    auto last = c.new_context(id, 2, {}, keys, false, 2);
    CHECK(last.what == fetch_context::kind::sessionless);
    CHECK(c.size() == 0);

    // A full request naming a session closes it and opens another.
    const int32_t a = open(c, 1, 3);
    auto again = c.new_context(a, 0, {part("t", 0)}, {}, false, 4);
    CHECK(again.what == fetch_context::kind::full);
    CHECK(c.find(a) == nullptr);
}

TEST_CASE("fetch_session_cache: an incremental response carries only partitions with news") {
    fetch_session_cache c;
    const int32_t id = open(c, 3, 0);
    auto ctx = c.new_context(id, 1, {}, {}, false, 1);
    REQUIRE(ctx.partitions.size() == 3);
    std::vector<fetch_partition_summary> read{
        summary(0, 10, 0, error_code::none),                 // nothing new
        summary(50, 12, 0, error_code::none),                // records
        summary(0, 10, 0, error_code::offset_out_of_range),  // an error
    };
    auto a = c.finish(ctx, read, 1);
    CHECK(a.session_id == id);
    CHECK(a.include == std::vector<bool>{false, true, true});
    // The partitions that were sent moved to the end: t-0 is read first next time.
    auto next = c.new_context(id, 2, {}, {}, false, 2);
    CHECK(next.partitions[0].key.partition == partition_id(0));
    // The high watermark moved on t-0: it is sent even without records; t-2 is sent again after
    // its error even though nothing else changed.
    std::vector<fetch_partition_summary> read2{
        summary(0, 11, 0, error_code::none), summary(0, 12, 0, error_code::none), summary(0, 10, 0, error_code::none)};
    auto b = c.finish(next, read2, 2);
    CHECK(b.include == std::vector<bool>{true, false, true});
}

TEST_CASE("fetch_session_cache: a full cache evicts a stale session, or a smaller old one") {
    fetch_session_cache c(2, 1000);
    const int32_t small = open(c, 1, 0);
    const int32_t big = open(c, 5, 0);
    REQUIRE(small > 0);
    REQUIRE(big > 0);
    // Nothing is old enough yet: no room for a third session.
    CHECK(open(c, 10, 500) == 0);
    CHECK(c.size() == 2);
    // Both are older than the eviction time but were used recently: the smaller one makes room for
    // a larger session, not for a smaller one.
    (void)c.new_context(small, 1, {}, {}, false, 1500);
    (void)c.new_context(big, 1, {}, {}, false, 1500);
    CHECK(open(c, 1, 1600) == 0);
    const int32_t third = open(c, 3, 1600);
    CHECK(third > 0);
    CHECK(c.find(small) == nullptr);
    CHECK(c.find(big) != nullptr);
    // A session unused for longer than the eviction time goes first, whatever its size.
    const int32_t fourth = open(c, 1, 2700);
    CHECK(fourth > 0);
    CHECK(c.find(big) == nullptr);
}

TEST_CASE("fetch_session_cache: a preview changes nothing, so a throttled answer leaves the news for later") {
    fetch_session_cache c;
    const int32_t id = open(c, 2, 0);  // both partitions last sent with high watermark 10
    auto ctx = c.new_context(id, 1, {}, {}, false, 1);
    REQUIRE(ctx.what == fetch_context::kind::incremental);
    const std::vector<fetch_partition_summary> read = {summary(0, 10, 0, error_code::none), summary(100, 12, 0, error_code::none)};
    const auto preview = c.preview(ctx, read);
    CHECK(preview.session_id == id);
    CHECK(preview.include == std::vector<bool>{false, true});

    // Throttled (KIP-219): no partition, the session kept at its new epoch.
    const auto throttled = fetch_session_cache::throttled(ctx);
    CHECK(throttled.error == error_code::none);
    CHECK(throttled.session_id == id);
    CHECK(throttled.include.empty());
    CHECK(c.find(id)->epoch() == 2);

    // The next incremental fetch still owes the client partition 1.
    auto next = c.new_context(id, 2, {}, {}, false, 2);
    const auto answer = c.finish(next, read, 2);
    CHECK(answer.include == std::vector<bool>{false, true});
}

TEST_CASE("fetch_session_cache: throttled answers create no session and do not repeat session errors") {
    fetch_session_cache c;
    auto full = c.new_context(0, 0, {part("t", 0)}, {}, false, 0);
    const auto answer = fetch_session_cache::throttled(full);
    CHECK(answer.session_id == 0);
    CHECK(answer.error == error_code::none);
    CHECK(c.size() == 0);
    // As Kafka's default throttled response: a session error context answers NONE, without a session.
    auto missing = c.new_context(42, 3, {}, {}, false, 0);
    REQUIRE(missing.what == fetch_context::kind::error);
    CHECK(fetch_session_cache::throttled(missing).error == error_code::none);
    CHECK(fetch_session_cache::throttled(missing).session_id == 0);
}
