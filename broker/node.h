// The composition root of one Samsa node: creates the data directories, loads the metadata,
// opens storage, builds the handler table and the services behind it, and runs the server.
// It is what `samsa` (and the loop tests) start; handlers never see it. Constructed and run
// on one thread; request_shutdown() may be called from any thread.
#pragma once

#include "broker/config.h"
#include "broker/connection_stats.h"

#include <cstdint>
#include <memory>
#include <string_view>

namespace samsa::broker {

class node {
public:
    // Prepares everything and binds the listeners, so clients can connect once it returns.
    // Throws std::runtime_error (or config_error) with a readable reason at start-up.
    explicit node(broker_config cfg);
    ~node();
    node(const node&) = delete;
    node& operator=(const node&) = delete;

    // SIGTERM/SIGINT start a graceful shutdown (the samsa binary).
    void handle_signals();
    // Serves until shut down. True when everything closed cleanly (storage closed, marker
    // written, no libuv handle leaked).
    [[nodiscard]] bool run();
    void request_shutdown();

    [[nodiscard]] uint16_t bound_port(std::string_view listener) const;
    [[nodiscard]] const server_stats& stats() const noexcept;
    [[nodiscard]] const broker_config& config() const noexcept;

    struct parts;

private:
    std::unique_ptr<parts> parts_;
};

} // namespace samsa::broker
