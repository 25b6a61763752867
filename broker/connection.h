// One client connection (transport): reads bytes into the connection's input buffer, splits
// them into frames (size cap first), hands each frame to the dispatcher with a response slot,
// and writes responses in request order through its socket_writer. Many requests may be in
// flight (pipelining); reading stops while too many are, while its queued responses hold too
// much memory, or while the broker-wide memory budget is spent. A response carrying a quota
// throttle mutes the connection (no reading, no new requests) for that long once it is handed
// to the writer, as Kafka mutes a throttled channel (KIP-219).
//
//   open --drain() (shutdown)--> draining --all answered--> closing
//   open / draining --close(): EOF, error, bad frame, idle--> closing --handles closed--> closed
//
// Created and owned by the server, which frees it in the `on_closed` callback once closed.
// Loop thread only. The input buffer belongs to the connection; a frame is lent to the
// dispatcher for one call, and response frames belong to the writer until written.
#pragma once

#include "broker/config.h"
#include "broker/connection_stats.h"
#include "broker/dispatcher.h"
#include "broker/input_buffer.h"
#include "broker/logger.h"
#include "broker/memory_budget.h"
#include "broker/request_context.h"
#include "broker/response_queue.h"
#include "broker/socket_writer.h"

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace samsa::broker {

class connection;

// What every connection of one server shares. Owned by the server.
struct transport_context {
    uv_loop_t* loop;
    const broker_config& config;
    const dispatcher& dispatch;
    const broker_services& services;
    memory_budget& budget;
    server_stats& stats;
    std::function<void(connection*)> on_closed;
};

class connection {
public:
    enum class state { open, draining, closing, closed };

    connection(transport_context& ctx, connection_info info);
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() = default;

    // Initialises the socket handle, accepts from `listener` and learns the peer's address
    // (info().peer), without reading yet. False on failure: the connection then closes itself
    // and may already be freed (through on_closed).
    [[nodiscard]] bool accept_from(uv_stream_t* listener) noexcept;
    // Starts serving an accepted connection (the server first applies its connection limits).
    void start() noexcept;

    // Stops reading and closes once every request read so far is answered (shutdown).
    void drain() noexcept;
    // The one way to close: stops reading, cancels waiting requests, closes the handles.
    void close(std::string_view reason, log_level level) noexcept;

    [[nodiscard]] bool idle_since(uint64_t now_ms, uint64_t idle_ms) const noexcept;
    [[nodiscard]] state current_state() const noexcept { return state_; }
    [[nodiscard]] const connection_info& info() const noexcept { return info_; }

    // Responses a connection may have queued in memory before it stops reading.
    static constexpr size_t max_queued_response_bytes = 32u << 20;
    // Bytes read from the socket at a time, and the input buffer's resting size.
    static constexpr size_t read_chunk = 64u << 10;
    // Input capacity an idle connection keeps for its next large request (charged against the
    // memory budget like any other): requests up to about this size reuse the buffer, and one
    // larger request does not pin its size while the connection idles.
    static constexpr size_t max_idle_input = 1u << 20;

private:
    static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf) noexcept;
    static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void on_tcp_closed(uv_handle_t* h) noexcept;

    void process_input() noexcept;
    void flush() noexcept;
    void update_reading() noexcept;
    void mute_for(int32_t throttle_ms) noexcept;
    [[nodiscard]] bool grow_input(size_t total) noexcept;
    void charge_input() noexcept;
    void handle_closed() noexcept;
    [[nodiscard]] size_t in_flight() const noexcept { return queue_.size() + writer_.queued_frames(); }

    transport_context& ctx_;
    connection_info info_;
    state state_ = state::open;
    uv_tcp_t tcp_{};
    socket_writer writer_;
    response_queue queue_;

    input_buffer in_{read_chunk};  // the unread bytes
    size_t charged_input_ = 0;     // capacity of in_ beyond read_chunk counted against the budget
    size_t expected_frame_ = 0;    // prefix + body of a partly read, admitted frame
    bool reading_ = false;
    bool waiting_budget_ = false;  // a frame waits for budget before it can be buffered
    bool processing_ = false;      // inside process_input: settle notifications are deferred
    bool settled_meanwhile_ = false;
    bool flushing_ = false;        // inside flush(): a nested flush only asks for another round
    bool flush_again_ = false;
    uint64_t last_activity_ms_ = 0;
    int pending_closes_ = 0;
    uint64_t muted_until_ms_ = 0;           // loop time; reading resumes then (quota throttle)
    std::unique_ptr<loop_timer> unmute_timer_;
};

} // namespace samsa::broker
