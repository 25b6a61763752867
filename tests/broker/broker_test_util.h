// Helpers shared by the broker tests: temporary directories, request encoding and response
// decoding over raw bytes, a blocking loopback TCP client (and a request/response client over
// it), a log capture, and fixtures that run a node (or a bare server with a custom handler
// table) on a background thread.
#pragma once

#include "broker/config.h"
#include "broker/dispatcher.h"
#include "broker/logger.h"
#include "broker/metadata_service.h"
#include "broker/node.h"
#include "broker/partition_storage.h"
#include "broker/request_context.h"
#include "broker/server.h"
#include "protocol/frame_decoder.h"
#include "protocol/wire.h"
#include "storage/log_manager.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace samsa::broker::test {

using config_settings = std::vector<std::pair<std::string, std::string>>;

class temp_dir {
public:
    temp_dir() {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("samsa-broker-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Collects log lines while alive (and still lets warnings reach stderr for debugging).
class log_capture {
public:
    log_capture() {
        set_log_sink([this](log_level, std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.emplace_back(line);
        });
    }
    ~log_capture() { set_log_sink({}); }
    [[nodiscard]] bool contains(std::string_view needle) const {
        std::lock_guard lock(mutex_);
        for (const auto& l : lines_)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
    [[nodiscard]] size_t count(std::string_view needle) const {
        std::lock_guard lock(mutex_);
        size_t n = 0;
        for (const auto& l : lines_)
            if (l.find(needle) != std::string::npos) ++n;
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

// A request frame (size prefix, header, body) as a client sends it.
template <typename Request>
std::vector<uint8_t> encode_request(const Request& body, int16_t version, int32_t correlation_id,
                                    std::optional<std::string> client_id = std::string("broker-test")) {
    protocol::output_buffer out;
    protocol::writer w(out);
    w.write_int32(0);
    w.write_int16(Request::api_key);
    w.write_int16(version);
    w.write_int32(correlation_id);
    const int16_t hv = protocol::request_header_version(Request::api_key, version);
    if (hv >= 1) w.write_nullable_string(client_id, false);
    if (hv >= 2) w.write_uvarint(0);
    body.encode(w, version);
    w.patch_int32(0, static_cast<int32_t>(out.bytes.size() - 4));
    return out.bytes;
}

// A frame holding only a request header (v1 layout) and `extra` body bytes.
inline std::vector<uint8_t> header_only_frame(int16_t key, int16_t version, int32_t correlation_id,
                                              std::vector<uint8_t> extra = {}) {
    protocol::output_buffer out;
    protocol::writer w(out);
    w.write_int32(0);
    w.write_int16(key);
    w.write_int16(version);
    w.write_int32(correlation_id);
    w.write_nullable_string(std::string("t"), false);
    w.write_raw(extra);
    w.patch_int32(0, static_cast<int32_t>(out.bytes.size() - 4));
    return out.bytes;
}

inline int32_t frame_correlation_id(const std::vector<uint8_t>& frame) {
    REQUIRE(frame.size() >= 4);
    protocol::reader r(frame);
    return r.read_int32();
}

// Decodes a response frame (without its size prefix) at `version`; checks the correlation id.
template <typename Response>
Response decode_response(const std::vector<uint8_t>& frame, int16_t version, int32_t expected_correlation_id) {
    protocol::reader r(frame);
    CHECK(r.read_int32() == expected_correlation_id);
    if (protocol::response_header_version(Response::api_key, version) >= 1) {
        const uint32_t tags = r.read_uvarint();
        for (uint32_t i = 0; i < tags; ++i) {
            (void)r.read_uvarint();
            r.skip(r.read_uvarint());
        }
    }
    Response out;
    out.decode(r, version);
    REQUIRE(r.ok());
    CHECK(r.remaining() == 0);
    return out;
}

// A blocking loopback client with timeouts.
class tcp_client {
public:
    explicit tcp_client(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        int one = 1;
        (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~tcp_client() { close(); }
    tcp_client(const tcp_client&) = delete;
    tcp_client& operator=(const tcp_client&) = delete;

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void set_receive_buffer(int bytes) { (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes); }

    void send(const std::vector<uint8_t>& bytes) {
        size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            REQUIRE(n > 0);
            done += static_cast<size_t>(n);
        }
    }

    // Reads exactly `n` bytes; false on EOF, error or timeout.
    bool read_exact(uint8_t* out, size_t n, int timeout_ms) {
        size_t done = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (done < n) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (left <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
            const ssize_t got = ::recv(fd_, out + done, n - done, 0);
            if (got <= 0) return false;
            done += static_cast<size_t>(got);
        }
        return true;
    }

    // The next response frame without its size prefix, or nullopt on EOF/timeout.
    std::optional<std::vector<uint8_t>> read_frame(int timeout_ms = 5000) {
        uint8_t prefix[4];
        if (!read_exact(prefix, 4, timeout_ms)) return std::nullopt;
        const uint32_t size = (uint32_t{prefix[0]} << 24) | (uint32_t{prefix[1]} << 16) | (uint32_t{prefix[2]} << 8) | prefix[3];
        std::vector<uint8_t> frame(size);
        if (size > 0 && !read_exact(frame.data(), size, timeout_ms)) return std::nullopt;
        return frame;
    }

    // True when the broker closes the connection within `timeout_ms` (EOF or reset).
    bool closed_by_peer(int timeout_ms = 5000) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (left <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
            uint8_t buf[4096];
            const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
            if (got <= 0) return true;
        }
    }

private:
    int fd_ = -1;
};

// A test acting as the Kafka client over a tcp_client: numbers its requests, sends each one
// encoded at the version asked under `client_id`, and decodes the answer at the same version
// (the correlation id checked). For handler tests and for compat tests of APIs no installed
// client sends. Blocking, on the test's thread.
class wire_client {
public:
    explicit wire_client(uint16_t port, std::string client_id = "broker-test")
        : tcp_(port), client_id_(std::move(client_id)) {}

    // The response to `req`, which must come within `timeout_ms`.
    template <typename Request>
    typename Request::response_type call(const Request& req, int16_t version, int timeout_ms = 10000) {
        const int32_t id = ++correlation_;
        tcp_.send(encode_request(req, version, id, client_id_));
        const auto frame = tcp_.read_frame(timeout_ms);
        REQUIRE(frame.has_value());
        return decode_response<typename Request::response_type>(*frame, version, id);
    }
    void close() { tcp_.close(); }

private:
    tcp_client tcp_;
    std::string client_id_;
    int32_t correlation_ = 0;
};

inline broker_config test_config(const std::filesystem::path& dir,
                                 std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::vector<std::pair<std::string, std::string>> settings{
        {"listeners", "PLAINTEXT://127.0.0.1:0"},
        {"log.dir", dir.string()},
    };
    for (auto& e : extra) settings.push_back(std::move(e));
    return build_config(settings, {});
}

// A whole node serving on a loopback port from a background thread.
class node_fixture {
public:
    explicit node_fixture(std::vector<std::pair<std::string, std::string>> extra = {})
        : node_(test_config(dir_.path(), std::move(extra))) {
        port_ = node_.bound_port("PLAINTEXT");
        thread_ = std::thread([this] { clean_ = node_.run(); });
    }
    ~node_fixture() {
        if (thread_.joinable()) (void)stop();
    }
    [[nodiscard]] uint16_t port() const { return port_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
    // Shuts the node down and returns whether the loop closed cleanly.
    [[nodiscard]] bool stop() {
        node_.request_shutdown();
        thread_.join();
        return clean_;
    }
    [[nodiscard]] const server_stats& stats() const { return node_.stats(); }

private:
    temp_dir dir_;
    node node_;
    uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> clean_{false};
};

// A bare server with a custom handler table (transport tests), on a background thread.
class server_fixture {
public:
    explicit server_fixture(std::vector<handler_entry> handlers, std::vector<std::pair<std::string, std::string>> extra = {})
        : cfg_(test_config(dir_.path(), std::move(extra))), store_(dir_.path()),
          metadata_(cfg_, store_, storage_, metadata_service::open_image(cfg_, store_)),
          logs_(storage::log_manager_config{{(dir_.path() / "logs").string()}, {}, {}}, {}), dispatcher_(std::move(handlers)),
          server_(cfg_), services_{metadata_, logs_, server_.loop(), cfg_} {
        server_.listen(dispatcher_, services_);
        port_ = server_.bound_port("PLAINTEXT");
        thread_ = std::thread([this] { clean_ = server_.run(); });
    }
    ~server_fixture() {
        if (thread_.joinable()) (void)stop();
    }
    [[nodiscard]] uint16_t port() const { return port_; }
    [[nodiscard]] bool stop() {
        server_.request_shutdown();
        thread_.join();
        return clean_;
    }
    [[nodiscard]] const server_stats& stats() const { return server_.stats(); }

private:
    temp_dir dir_;
    broker_config cfg_;
    metadata_store store_;
    metadata_only_storage storage_;
    metadata_service metadata_;
    storage::log_manager logs_;
    dispatcher dispatcher_;
    server server_;
    broker_services services_;
    uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> clean_{false};
};

} // namespace samsa::broker::test
