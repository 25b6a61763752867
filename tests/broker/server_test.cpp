// Event-loop tests of broker/server.cpp, broker/connection.cpp and broker/socket_writer.cpp
// on real loopback sockets with a raw TCP client. Each test ends by stopping the server and
// checking that the loop closed with no handle left and that every accepted connection closed.
#include "broker/handlers/handlers.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/sasl_handshake.h"
#include "storage/layout.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <fcntl.h>

using namespace samsa::broker;
using namespace samsa::protocol;
using test::tcp_client;

namespace {

std::vector<uint8_t> api_versions_frame(int32_t corr, int16_t version = 3) {
    api_versions_request req;
    req.client_software_name = "raw-client";
    req.client_software_version = "1";
    return test::encode_request(req, version, corr);
}

void expect_api_versions(tcp_client& c, int32_t corr) {
    const auto frame = c.read_frame();
    REQUIRE(frame.has_value());
    const auto resp = test::decode_response<api_versions_response>(*frame, 3, corr);
    CHECK(resp.error_code == 0);
}

void check_clean(test::node_fixture& f) {
    CHECK(f.stop());
    CHECK(f.stats().accepted == f.stats().closed);
}

// A raw response frame: size, correlation id, payload.
output_buffer raw_frame(int32_t corr, const std::vector<uint8_t>& payload = {}) {
    output_buffer out;
    writer w(out);
    w.write_int32(static_cast<int32_t>(4 + payload.size()));
    w.write_int32(corr);
    w.write_raw(payload);
    return out;
}

// Loop-thread state of the test handlers below; cleared between tests after the loop stopped.
std::vector<std::unique_ptr<loop_timer>> timers;
std::atomic<int> cancel_hooks{0};

// Heartbeat stand-in: answers after (10 - corr) * 5 ms for the first ten requests, at once
// after that, so later requests complete first; corr 1000+ waits 300 ms; corr -1 drops its
// deferred_response; corr -2 waits forever but counts a cancel hook.
handler_result delayed(request_context& ctx, bytes_view) {
    const int32_t corr = ctx.correlation_id();
    auto d = std::make_shared<deferred_response>(ctx.defer());
    if (corr == -1) return handler_result::deferred();  // `d` dies here: a broken handler
    if (corr == -2) {
        d->on_cancel([] { ++cancel_hooks; });
        timers.push_back(ctx.loop().start_timer(60000, [d] { d->respond_frame(raw_frame(-2)); }));
        return handler_result::deferred();
    }
    const uint64_t delay = corr >= 1000 ? 300 : corr < 10 ? static_cast<uint64_t>(10 - corr) * 5 : 0;
    if (delay == 0) {
        d->respond_frame(raw_frame(corr));
        return handler_result::deferred();
    }
    timers.push_back(ctx.loop().start_timer(delay, [d, corr] { d->respond_frame(raw_frame(corr)); }));
    return handler_result::deferred();
}

// SaslHandshake stand-in: a response whose middle is a file range sent with sendfile.
int spliced_fd = -1;
constexpr int32_t spliced_length = 16 << 20;
handler_result spliced(request_context& ctx, bytes_view) {
    output_buffer out;
    writer w(out);
    w.write_int32(4 + spliced_length + 4);
    w.write_int32(ctx.correlation_id());
    out.splices.push_back({out.bytes.size(), file_range{spliced_fd, 0, spliced_length, nullptr}});
    w.write_raw(std::vector<uint8_t>{'E', 'N', 'D', '!'});
    return handler_result::ready(std::move(out));
}

std::vector<handler_entry> test_handlers() {
    return {
        handler_entry{api_key::heartbeat, heartbeat_request::min_version, heartbeat_request::max_version, delayed},
        handler_entry{api_key::sasl_handshake, sasl_handshake_request::min_version, sasl_handshake_request::max_version, spliced},
    };
}

std::vector<uint8_t> heartbeat_frame(int32_t corr) { return test::encode_request(heartbeat_request{}, 0, corr); }

} // namespace

TEST_CASE("server: 1,000 pipelined requests are answered in order") {
    test::node_fixture f;
    {
        tcp_client c(f.port());
        std::vector<uint8_t> all;
        for (int32_t i = 0; i < 1000; ++i) {
            const auto frame = i % 2 == 0 ? api_versions_frame(i) : test::encode_request(metadata_request{}, 12, i);
            all.insert(all.end(), frame.begin(), frame.end());
        }
        c.send(all);
        for (int32_t i = 0; i < 1000; ++i) {
            const auto frame = c.read_frame();
            REQUIRE(frame.has_value());
            REQUIRE(test::frame_correlation_id(*frame) == i);
        }
    }
    CHECK(f.stats().requests == 1000);
    check_clean(f);
}

TEST_CASE("server: with few requests allowed in flight, reading pauses and order holds") {
    test::node_fixture f(test::config_settings{{"queued.max.requests", "4"}, {"queued.max.request.bytes", "2048"}});
    {
        tcp_client c(f.port());
        std::vector<uint8_t> all;
        for (int32_t i = 0; i < 300; ++i) {
            const auto frame = test::encode_request(metadata_request{}, 12, i);
            all.insert(all.end(), frame.begin(), frame.end());
        }
        c.send(all);
        for (int32_t i = 0; i < 300; ++i) {
            const auto frame = c.read_frame();
            REQUIRE(frame.has_value());
            REQUIRE(test::frame_correlation_id(*frame) == i);
        }
    }
    CHECK(f.stats().read_pauses > 0);
    check_clean(f);
}

TEST_CASE("server: an oversized frame closes that connection only, and is logged") {
    test::log_capture logs;
    test::node_fixture f(test::config_settings{{"socket.request.max.bytes", "1024"}});
    tcp_client good(f.port());
    good.send(api_versions_frame(1));
    expect_api_versions(good, 1);
    {
        tcp_client bad(f.port());
        bad.send({0, 0, 0x07, 0xd0});  // 2000 bytes announced
        CHECK(bad.closed_by_peer());
    }
    good.send(api_versions_frame(2));
    expect_api_versions(good, 2);
    good.close();
    CHECK(logs.contains("frame size 2000 is over socket.request.max.bytes (1024)"));
    CHECK(f.stats().rejected_frames == 1);
    check_clean(f);
}

TEST_CASE("server: garbage bytes close the connection and the broker keeps serving") {
    test::log_capture logs;
    test::node_fixture f;
    const std::vector<std::vector<uint8_t>> garbage{
        {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '0', '\r', '\n', '\r', '\n'},
        {0xff, 0xff, 0xff, 0xfe, 1, 2, 3},
        {0, 0, 0, 2, 0x12, 0x34},
    };
    for (const auto& bytes : garbage) {
        tcp_client bad(f.port());
        bad.send(bytes);
        CHECK(bad.closed_by_peer());
    }
    tcp_client good(f.port());
    good.send(api_versions_frame(9));
    expect_api_versions(good, 9);
    good.close();
    CHECK(logs.contains("over socket.request.max.bytes"));
    CHECK(logs.contains("is negative"));
    CHECK(logs.contains("malformed request header"));
    check_clean(f);
}

TEST_CASE("server: an unknown API key closes the connection with a log line") {
    test::log_capture logs;
    test::node_fixture f;
    {
        tcp_client c(f.port());
        c.send(test::header_only_frame(4242, 0, 77));
        CHECK(c.closed_by_peer());
    }
    CHECK(logs.contains("key 4242 v0, which this broker does not serve (correlation id 77)"));
    check_clean(f);
}

TEST_CASE("server: an unsupported ApiVersions version gets a v0 answer with the range") {
    test::node_fixture f;
    {
        tcp_client c(f.port());
        c.send(api_versions_frame(5, 9));
        const auto frame = c.read_frame();
        REQUIRE(frame.has_value());
        const auto resp = test::decode_response<api_versions_response>(*frame, 0, 5);
        CHECK(resp.error_code == to_int(error_code::unsupported_version));
        REQUIRE(resp.api_keys.size() == 1);
        CHECK(resp.api_keys[0].api_key == 18);
        CHECK(resp.api_keys[0].max_version == 4);
        // The connection stays usable: the client retries with a version both know.
        c.send(api_versions_frame(6));
        expect_api_versions(c, 6);
    }
    check_clean(f);
}

TEST_CASE("server: an unsupported version of another API is answered and the connection keeps serving") {
    test::log_capture logs;
    test::node_fixture f;
    {
        tcp_client c(f.port());
        c.send(test::header_only_frame(12, 99, 8, {0}));
        c.send(api_versions_frame(9));
        const auto frame = c.read_frame();
        REQUIRE(frame.has_value());
        CHECK(test::decode_response<heartbeat_response>(*frame, 4, 8).error_code == to_int(error_code::unsupported_version));
        expect_api_versions(c, 9);
    }
    CHECK(logs.contains("Heartbeat v99 is outside the supported versions 0-4; answered UNSUPPORTED_VERSION (correlation id 8)"));
    check_clean(f);
}

TEST_CASE("server: a client that disconnects mid-request is closed and others are served") {
    test::log_capture logs;
    test::node_fixture f;
    tcp_client other(f.port());
    {
        tcp_client c(f.port());
        auto frame = api_versions_frame(1);
        frame.resize(frame.size() / 2);
        c.send(frame);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    other.send(api_versions_frame(2));
    expect_api_versions(other, 2);
    other.close();
    for (int i = 0; i < 100 && !logs.contains("in the middle of a request"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(logs.contains("in the middle of a request"));
    check_clean(f);
}

TEST_CASE("server: idle connections close after connections.max.idle.ms") {
    test::node_fixture f(test::config_settings{{"connections.max.idle.ms", "200"}});
    {
        tcp_client c(f.port());
        c.send(api_versions_frame(1));
        expect_api_versions(c, 1);
        const auto start = std::chrono::steady_clock::now();
        CHECK(c.closed_by_peer(3000));
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
    }
    CHECK(f.stats().idle_closed == 1);
    check_clean(f);
}

TEST_CASE("server: deferred responses are written in request order") {
    timers.clear();
    test::server_fixture f(test_handlers());
    {
        tcp_client c(f.port());
        std::vector<uint8_t> all;
        for (int32_t i = 0; i < 50; ++i) {
            const auto frame = heartbeat_frame(i);
            all.insert(all.end(), frame.begin(), frame.end());
        }
        c.send(all);
        for (int32_t i = 0; i < 50; ++i) {
            const auto frame = c.read_frame();
            REQUIRE(frame.has_value());
            REQUIRE(test::frame_correlation_id(*frame) == i);
        }
    }
    CHECK(f.stop());
    CHECK(f.stats().accepted == f.stats().closed);
    timers.clear();
}

TEST_CASE("server: a dropped deferred response closes the connection instead of hanging") {
    timers.clear();
    test::log_capture logs;
    test::server_fixture f(test_handlers());
    {
        tcp_client c(f.port());
        c.send(heartbeat_frame(-1));
        CHECK(c.closed_by_peer());
    }
    CHECK(logs.contains("could not be answered"));
    CHECK(f.stop());
    timers.clear();
}

TEST_CASE("server: a client leaving while a request waits runs its cancel hook") {
    timers.clear();
    cancel_hooks = 0;
    test::server_fixture f(test_handlers());
    {
        tcp_client c(f.port());
        c.send(heartbeat_frame(-2));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (int i = 0; i < 200 && cancel_hooks == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(cancel_hooks == 1);
    CHECK(f.stop());
    CHECK(f.stats().accepted == f.stats().closed);
    timers.clear();
}

TEST_CASE("server: shutdown finishes requests in flight before closing") {
    timers.clear();
    test::server_fixture f(test_handlers());
    tcp_client c(f.port());
    c.send(heartbeat_frame(1000));  // answered after 300 ms
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::thread stopper([&] { CHECK(f.stop()); });
    const auto frame = c.read_frame(3000);
    REQUIRE(frame.has_value());
    CHECK(test::frame_correlation_id(*frame) == 1000);
    CHECK(c.closed_by_peer());
    stopper.join();
    timers.clear();
}

TEST_CASE("server: file ranges are sent with sendfile, in order, through a full socket") {
    test::temp_dir dir;
    const auto path = dir.path() / "segment";
    std::vector<uint8_t> content(static_cast<size_t>(spliced_length));
    for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
    {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
        ::close(fd);
    }
    spliced_fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(spliced_fd >= 0);
    timers.clear();
    test::server_fixture f(test_handlers());
    {
        tcp_client c(f.port());
        std::vector<uint8_t> both = test::encode_request(sasl_handshake_request{}, 1, 1);
        const auto hb = heartbeat_frame(2);
        both.insert(both.end(), hb.begin(), hb.end());
        c.send(both);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the socket fill up
        const auto frame = c.read_frame(10000);
        REQUIRE(frame.has_value());
        REQUIRE(frame->size() == 4 + content.size() + 4);
        CHECK(test::frame_correlation_id(*frame) == 1);
        CHECK(std::equal(content.begin(), content.end(), frame->begin() + 4));
        CHECK(std::string(frame->end() - 4, frame->end()) == "END!");
        const auto next = c.read_frame();
        REQUIRE(next.has_value());
        CHECK(test::frame_correlation_id(*next) == 2);
    }
    CHECK(f.stop());
    CHECK(f.stats().write_waits > 0);
    ::close(spliced_fd);
    timers.clear();
}

TEST_CASE("node: topics created over the wire are there after a restart") {
    test::temp_dir dir;
    std::string cluster_id;
    for (int round = 0; round < 2; ++round) {
        auto cfg = test::test_config(dir.path());
        node n(cfg);
        const uint16_t port = n.bound_port("PLAINTEXT");
        std::atomic<bool> clean{false};
        std::thread loop([&] { clean = n.run(); });
        {
            tcp_client c(port);
            metadata_request req;
            req.topics = std::vector<metadata_request::metadata_request_topic>{{{}, std::string("durable")}};
            req.allow_auto_topic_creation = round == 0;
            c.send(test::encode_request(req, 12, 1));
            const auto frame = c.read_frame();
            REQUIRE(frame.has_value());
            const auto resp = test::decode_response<metadata_response>(*frame, 12, 1);
            REQUIRE(resp.topics.size() == 1);
            CHECK(resp.topics[0].error_code == 0);
            if (round == 0) cluster_id = *resp.cluster_id;
            else CHECK(*resp.cluster_id == cluster_id);
        }
        n.request_shutdown();
        loop.join();
        CHECK(clean);
        CHECK(std::filesystem::exists(dir.path() / "durable-0"));
    }
}

TEST_CASE("node: a node destroyed without running shuts down cleanly before its parts go") {
    test::temp_dir dir;
    {
        node never_run(test::test_config(dir.path()));
        CHECK(never_run.bound_port("PLAINTEXT") != 0);
    }
    // The shutdown hook ran with the storage still alive: it wrote the clean-shutdown marker.
    CHECK(std::filesystem::exists(dir.path() / samsa::storage::layout::clean_shutdown_file));
}
