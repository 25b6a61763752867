// Tests broker/admin/connection_quotas.cpp with a fake clock: Kafka's per-IP limit and its
// overrides, max.connections, the broker-wide creation rate and the `ip` entity's
// connection_creation_rate quota.
#include "broker/admin/connection_quotas.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using verdict = connection_quotas::verdict;

namespace {

void set_ip_quota(client_quota_table& table, std::optional<std::string> ip, double rate) {
    quota_alteration a;
    a.entity = {{"ip", ip}};
    a.entity_as_sent = {{"ip", ip}};
    a.ops = {{"connection_creation_rate", rate, false}};
    REQUIRE(client_quota_table::check(a).error == samsa::protocol::error_code::none);
    table.apply(a);
}

} // namespace

TEST_CASE("connection_quotas: a connection over max.connections.per.ip is refused; other IPs are not") {
    broker_config cfg;
    cfg.max_connections_per_ip = 2;
    connection_quotas q(cfg, nullptr);
    CHECK(q.admit("127.0.0.1", 0).what == verdict::accept);
    CHECK(q.admit("127.0.0.1", 0).what == verdict::accept);
    const auto third = q.admit("127.0.0.1", 0);
    CHECK(third.what == verdict::too_many);
    CHECK(third.limit == 2);
    CHECK(q.admit("10.0.0.1", 0).what == verdict::accept);
    // The refused connection is counted until it is closed, as in Kafka.
    CHECK(q.count("127.0.0.1") == 3);
    q.release("127.0.0.1");
    q.release("127.0.0.1");
    CHECK(q.admit("127.0.0.1", 0).what == verdict::accept);
    CHECK(q.total() == 3);
}

TEST_CASE("connection_quotas: overrides win over max.connections.per.ip, in any address spelling") {
    broker_config cfg;
    cfg.max_connections_per_ip = 0;
    cfg.max_connections_per_ip_overrides = {{"127.0.0.1", 1}, {"0:0:0:0:0:0:0:1", 2}};
    connection_quotas q(cfg, nullptr);
    CHECK(q.limit_for("127.0.0.1") == 1);
    CHECK(q.limit_for("::1") == 2);
    CHECK(q.limit_for("::ffff:127.0.0.1") == 1);  // an IPv4 client of a dual-stack listener
    CHECK(q.admit("10.0.0.1", 0).what == verdict::too_many);
    CHECK(q.admit("127.0.0.1", 0).what == verdict::accept);
    CHECK(q.admit("127.0.0.1", 0).what == verdict::too_many);
    // A dynamic change is seen at the next connection.
    cfg.max_connections_per_ip_overrides = {{"127.0.0.1", 5}};
    CHECK(q.limit_for("127.0.0.1") == 5);
    CHECK(q.limit_for("::1") == 0);
}

TEST_CASE("connection_quotas: max.connections leaves no slot once the broker has that many") {
    broker_config cfg;
    cfg.max_connections = 2;
    connection_quotas q(cfg, nullptr);
    CHECK(q.slot_available());
    CHECK(q.admit("127.0.0.1", 0).what == verdict::accept);
    CHECK(q.admit("10.0.0.1", 0).what == verdict::accept);
    CHECK_FALSE(q.slot_available());
    q.release("10.0.0.1");
    CHECK(q.slot_available());
}

TEST_CASE("connection_quotas: over max.connection.creation.rate the acceptor waits, at most one window") {
    broker_config cfg;
    cfg.max_connection_creation_rate = 2;
    connection_quotas q(cfg, nullptr);
    // 2 per second measured over Kafka's (11 - 1) one-second windows: 20 connections at once fit.
    for (int i = 0; i < 20; ++i) CHECK(q.record_creation(0) == 0);
    const int64_t wait = q.record_creation(0);
    CHECK(wait == 500);  // (2.1 - 2) / 2 * 10 s
    for (int i = 0; i < 100; ++i) (void)q.record_creation(0);
    CHECK(q.record_creation(0) == 1000);  // bounded by quota.window.size.seconds
    // Without a limit nothing is measured.
    broker_config unlimited;
    connection_quotas u(unlimited, nullptr);
    for (int i = 0; i < 1000; ++i) CHECK(u.record_creation(0) == 0);
}

TEST_CASE("connection_quotas: an IP over its connection_creation_rate is throttled, uncounted; other IPs are not") {
    broker_config cfg;
    client_quota_table table;
    set_ip_quota(table, std::string("127.0.0.1"), 1);
    connection_quotas q(cfg, &table);
    for (int i = 0; i < 10; ++i) REQUIRE(q.admit("127.0.0.1", 0).what == verdict::accept);
    const auto over = q.admit("127.0.0.1", 0);
    CHECK(over.what == verdict::throttled);
    CHECK(over.throttle_ms == 1000);  // (1.1 - 1) / 1 * 10 s, bounded by one window
    CHECK(q.count("127.0.0.1") == 10);
    // The throttled attempt was taken back: after the windows have passed the IP may connect.
    CHECK(q.admit("127.0.0.1", 12000).what == verdict::accept);
    for (int i = 0; i < 50; ++i) CHECK(q.admit("10.0.0.1", 0).what == verdict::accept);

    // The <default> IP entity applies to every IP without its own quota.
    set_ip_quota(table, std::nullopt, 2);
    for (int i = 0; i < 20; ++i) REQUIRE(q.admit("10.0.0.2", 20000).what == verdict::accept);
    CHECK(q.admit("10.0.0.2", 20000).what == verdict::throttled);
}
