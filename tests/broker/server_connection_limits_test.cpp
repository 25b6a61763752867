// Event-loop tests of the connection limits in broker/server.cpp (decided by
// broker/admin/connection_quotas.h) on a node with real loopback sockets: a connection over
// max.connections.per.ip is closed at once, one over max.connections waits in the listen queue
// until another closes, and one over its IP's connection_creation_rate is held unread and closed.
// Each test ends by stopping the node and checking that every accepted connection closed.
#include "protocol/messages/alter_client_quotas.h"
#include "protocol/messages/api_versions.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <chrono>

using namespace samsa::broker;
using namespace samsa::protocol;
using test::tcp_client;

namespace {

std::vector<uint8_t> api_versions_frame(int32_t corr) {
    api_versions_request req;
    req.client_software_name = "raw-client";
    req.client_software_version = "1";
    return test::encode_request(req, 3, corr);
}

bool answers(tcp_client& c, int32_t corr, int timeout_ms = 5000) {
    c.send(api_versions_frame(corr));
    const auto frame = c.read_frame(timeout_ms);
    return frame.has_value() && test::frame_correlation_id(*frame) == corr;
}

void check_clean(test::node_fixture& f) {
    CHECK(f.stop());
    CHECK(f.stats().accepted == f.stats().closed);
}

} // namespace

TEST_CASE("server: a connection over max.connections.per.ip is closed at once, the others keep serving") {
    test::log_capture logs;
    test::node_fixture f(test::config_settings{{"max.connections.per.ip", "1"}});
    {
        tcp_client first(f.port());
        CHECK(answers(first, 1));
        tcp_client second(f.port());
        CHECK(second.closed_by_peer(5000));
        CHECK(answers(first, 2));
    }
    CHECK(logs.contains("already has the configured maximum of 1 connections"));
    check_clean(f);
}

TEST_CASE("server: at max.connections a new connection waits until another closes") {
    test::node_fixture f(test::config_settings{{"max.connections", "1"}});
    {
        tcp_client first(f.port());
        CHECK(answers(first, 1));
        // The second connection is established by the kernel but not taken by the broker.
        tcp_client second(f.port());
        second.send(api_versions_frame(2));
        CHECK_FALSE(second.read_frame(300).has_value());
        first.close();
        const auto frame = second.read_frame(5000);
        REQUIRE(frame.has_value());
        CHECK(test::frame_correlation_id(*frame) == 2);
    }
    check_clean(f);
}

TEST_CASE("server: a connection over its IP's connection_creation_rate is held unread, then closed") {
    // Two one-second windows: the rate is measured over at least one second.
    test::node_fixture f(test::config_settings{{"quota.window.num", "2"}});
    {
        tcp_client admin(f.port());
        alter_client_quotas_request req;
        req.entries.push_back({{{"ip", std::string("127.0.0.1")}}, {{"connection_creation_rate", 1, false}}});
        admin.send(test::encode_request(req, 1, 1));
        const auto frame = admin.read_frame();
        REQUIRE(frame.has_value());
        const auto resp = test::decode_response<alter_client_quotas_response>(*frame, 1, 1);
        REQUIRE(resp.entries.size() == 1);
        REQUIRE(resp.entries[0].error_code == 0);

        tcp_client within(f.port());  // one connection in the last second: within the quota
        CHECK(answers(within, 2));
        const auto start = std::chrono::steady_clock::now();
        tcp_client over(f.port());
        over.send(api_versions_frame(3));
        CHECK(over.closed_by_peer(5000));  // closed without an answer
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
        CHECK(answers(within, 4));
    }
    check_clean(f);
}
