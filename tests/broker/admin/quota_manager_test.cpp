// Tests broker/admin/quota_rate.cpp and quota_manager.cpp with a fake clock: Kafka's windowed
// rate, the throttle time it yields, and who is throttled.
#include "broker/admin/quota_manager.h"

#include <doctest/doctest.h>

using namespace samsa::broker;

TEST_CASE("quota_rate: a new rate is measured over at least samples - 1 windows") {
    quota_rate r(11, 1000);
    r.record(1000, 0);
    CHECK(r.window_size(0) == 10000);
    CHECK(r.rate(0) == doctest::Approx(100.0));
    CHECK(r.window_size(12000) == 10000);  // the old window was forgotten
    CHECK(r.rate(12000) == doctest::Approx(0.0));
}

TEST_CASE("quota_rate: the throttle brings the rate back to the bound") {
    quota_rate r(11, 1000);
    r.record(20000, 0);  // 2000 B/s over the 10 s minimum window
    const int64_t wait = r.throttle_ms(1000, 0);
    CHECK(wait == 10000);  // (2000 - 1000) / 1000 * 10 s
    // A client that has been sending for longer than the window: its rate is measured over the
    // time elapsed, so waiting the throttle time brings it to the bound.
    quota_rate steady(11, 1000);
    for (int64_t t = 0; t <= 10000; t += 100) steady.record(100, t);  // 1000 B/s
    steady.record(5000, 10000);
    const int64_t back_off = steady.throttle_ms(1000, 10000);
    CHECK(back_off > 0);
    CHECK(steady.rate(10000 + back_off) <= 1000.0 * 1.01);
    CHECK(r.throttle_ms(1000, 20000) == 0);  // the burst's window was forgotten
}

TEST_CASE("quota_manager: a client over its byte rate is throttled, another client is not") {
    broker_config cfg;
    client_quota_table table;
    quota_alteration a;
    a.entity = {{"client-id", std::string("limited")}};
    a.entity_as_sent = {{"client-id", std::string("limited")}};
    a.ops = {{"producer_byte_rate", 1000, false}};
    table.apply(a);
    quota_manager q(cfg, table);
    int32_t limited = 0;
    for (int64_t t = 0; t < 2000; t += 100) limited = q.record(quota_kind::produce, anonymous_user, "limited", 2000, t);
    CHECK(limited > 0);
    for (int64_t t = 0; t < 2000; t += 100) CHECK(q.record(quota_kind::produce, anonymous_user, "free", 1e6, t) == 0);
    CHECK(q.record(quota_kind::fetch, anonymous_user, "limited", 1e6, 2000) == 0);  // no consumer quota
}

TEST_CASE("quota_manager: request time is a percentage, and its throttle is at most one window") {
    broker_config cfg;
    client_quota_table table;
    quota_alteration a;
    a.entity = {{"user", std::nullopt}};
    a.entity_as_sent = {{"user", std::nullopt}};
    a.ops = {{"request_percentage", 10, false}};
    table.apply(a);
    quota_manager q(cfg, table);
    CHECK(q.applies(quota_kind::request, anonymous_user, "c"));
    CHECK_FALSE(q.applies(quota_kind::fetch, anonymous_user, "c"));
    // 5 s of handler time within the first second: 50% of a thread over the 10 s window, and the
    // request that recorded it is the one throttled (Kafka charges a request when it is answered).
    CHECK(q.record(quota_kind::request, anonymous_user, "c", 5e9, 0) == 1000);
    CHECK(q.rate(quota_kind::request, anonymous_user, "c", 0) == doctest::Approx(50.0));
}

TEST_CASE("quota_manager: an unrecorded fetch no longer counts, and one fetch is capped by the window") {
    broker_config cfg;
    client_quota_table table;
    quota_alteration a;
    a.entity = {{"client-id", std::string("reader")}};
    a.entity_as_sent = {{"client-id", std::string("reader")}};
    a.ops = {{"consumer_byte_rate", 1000, false}};
    table.apply(a);
    quota_manager q(cfg, table);
    // 1000 B/s over (11 - 1) one-second windows.
    CHECK(q.max_value_in_window(quota_kind::fetch, anonymous_user, "reader") == doctest::Approx(10000.0));
    CHECK_FALSE(q.max_value_in_window(quota_kind::fetch, anonymous_user, "other").has_value());
    CHECK(q.record(quota_kind::fetch, anonymous_user, "reader", 30000, 0) > 0);
    q.unrecord(quota_kind::fetch, anonymous_user, "reader", 30000, 0);
    CHECK(q.rate(quota_kind::fetch, anonymous_user, "reader", 0) == doctest::Approx(0.0));
    CHECK(q.record(quota_kind::fetch, anonymous_user, "reader", 10000, 0) == 0);
}
