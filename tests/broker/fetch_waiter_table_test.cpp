// Tests broker/fetch/fetch_waiter_table.cpp: appends wake the waiters of their log only, and a
// callback may remove waiters while notify() runs.
#include "broker/fetch/fetch_waiter_table.h"

#include <doctest/doctest.h>

using namespace samsa::broker;

namespace {
// Logs are keys only: any distinct addresses do.
const auto* log_a = reinterpret_cast<const samsa::storage::log*>(0x1000);
const auto* log_b = reinterpret_cast<const samsa::storage::log*>(0x2000);
} // namespace

TEST_CASE("fetch_waiter_table: an append runs the callbacks of the waiters on that log") {
    fetch_waiter_table t;
    size_t a_bytes = 0, ab_calls = 0;
    const samsa::storage::log* only_a[] = {log_a};
    const samsa::storage::log* both[] = {log_a, log_b, log_a};
    const auto wa = t.add(only_a, [&](size_t n) { a_bytes += n; });
    const auto wab = t.add(both, [&](size_t) { ++ab_calls; });
    t.notify(log_b, 10);
    CHECK(a_bytes == 0);
    CHECK(ab_calls == 1);
    t.notify(log_a, 7);
    CHECK(a_bytes == 7);
    CHECK(ab_calls == 2);  // registered twice on log_a, called once
    t.remove(wa);
    t.remove(wa);
    t.notify(log_a, 5);
    CHECK(a_bytes == 7);
    CHECK(ab_calls == 3);
    t.remove(wab);
    CHECK(t.size() == 0);
    t.notify(log_a, 1);
    CHECK(ab_calls == 3);
}

TEST_CASE("fetch_waiter_table: a callback may remove itself and others") {
    fetch_waiter_table t;
    const samsa::storage::log* logs[] = {log_a};
    int first = 0, second = 0;
    fetch_waiter_table::waiter_id w1 = 0, w2 = 0;
    w1 = t.add(logs, [&](size_t) {
        ++first;
        t.remove(w1);
        t.remove(w2);
    });
    w2 = t.add(logs, [&](size_t) { ++second; });
    t.notify(log_a, 1);
    CHECK(first == 1);
    CHECK(second == 0);
    CHECK(t.size() == 0);
}
