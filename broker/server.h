// The network server (transport): owns the libuv loop, the listening sockets, the client
// connections, the signal handlers, the idle sweep and the shutdown sequence. Built and run by
// the node; libuv stays behind this header (pimpl), so the layers above never see <uv.h>.
// Single-threaded: everything runs on the thread that calls run(), except request_shutdown().
// A new connection is served only within Kafka's connection limits (admin/connection_quotas.h):
// it may wait in the listen queue, be closed at once, or be held unread and then closed.
//
// Shutdown: stop accepting -> connections stop reading and finish their requests (up to
// samsa.shutdown.timeout.ms, then they are closed) -> the shutdown hook runs (storage is
// flushed and closed) -> every handle closes -> run() returns.
#pragma once

#include "broker/config.h"
#include "broker/connection_stats.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace samsa::broker {

class dispatcher;
class loop_services;
struct broker_services;

class server {
public:
    // Initialises the loop. Throws std::runtime_error at start-up.
    explicit server(const broker_config& cfg);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    [[nodiscard]] loop_services& loop();

    // Binds and listens on every served listener. `d` and `services` outlive the server.
    // Throws std::runtime_error naming the listener when one cannot be bound.
    void listen(const dispatcher& d, const broker_services& services);
    // The port bound for listener `name` (the real one when the config said 0), or 0.
    [[nodiscard]] uint16_t bound_port(std::string_view name) const;

    // SIGTERM and SIGINT start the shutdown (the samsa binary; tests do without).
    void handle_signals();
    // Runs on the loop once every connection is closed, before the last handles close.
    void on_shutdown(std::function<void()> hook);

    // Runs the loop until shutdown is complete. True when the loop then closed with no handle
    // left open (the clean case); false means a leak, which is logged.
    [[nodiscard]] bool run();
    // Any thread: starts the shutdown.
    void request_shutdown();
    // For an owner going away before run(): the shutdown sequence, hook included, runs now,
    // while what the hook uses is still alive. Does nothing once run() was called.
    void shut_down_unrun();

    [[nodiscard]] const server_stats& stats() const noexcept;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

} // namespace samsa::broker
