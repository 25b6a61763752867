// The in-order response queue of one connection. Each request gets a slot when its frame is
// read; a slot settles now (the handler answered at once) or later (deferred_response), in any
// order, and frames leave from the head only, so responses go out in request order (Kafka
// requires it). Owned by the connection; loop thread only. A slot is shared with the
// deferred_response of its request, which may outlive the connection: a closed connection
// detaches its slots (they become "cancelled") and runs their cancel hooks.
#pragma once

#include "protocol/wire.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace samsa::broker {

class response_queue;

// One request's place in the queue.
struct response_slot {
    enum class state : uint8_t {
        waiting,      // the handler has not answered yet
        ready,        // `frame` holds the encoded response
        no_response,  // the request has no response (Produce with acks=0)
        failed,       // the handler broke its contract; the connection must close
    };
    state st = state::waiting;
    protocol::output_buffer frame;
    int16_t api_key = -1;
    int16_t api_version = -1;
    int32_t correlation_id = 0;
    response_queue* queue = nullptr;  // null once the connection is gone
    // Client quotas (KIP-219): the connection stops reading for this long once the response is
    // handed to the writer, and encoders stamp it into the response's throttle_time_ms.
    int32_t throttle_ms = 0;
    // Request-time quota (KIP-124): records handler time (ns) against the request's client and
    // returns the throttle that calls for. Set by the dispatcher when a quota applies and run
    // once, when the response is built (broker/handler.h). `handler_ns` is the time the handler
    // of a deferred request took before it returned, which is what such a request is charged.
    std::function<int32_t(double handler_ns)> charge_request_time;
    double handler_ns = 0;
    std::function<void()> on_cancel;  // run when the connection closes while waiting

    // Settles a waiting slot; later calls are ignored (one answer per request).
    void settle(state s, protocol::output_buffer f = {});
};

class response_queue {
public:
    // `on_settled` runs (synchronously) whenever a slot settles, so the owner can flush.
    explicit response_queue(std::function<void()> on_settled) : on_settled_(std::move(on_settled)) {}
    ~response_queue() { cancel_all(); }
    response_queue(const response_queue&) = delete;
    response_queue& operator=(const response_queue&) = delete;

    // Reserves the slot of the next request.
    [[nodiscard]] std::shared_ptr<response_slot> push();

    enum class head_state { empty, waiting, failed };
    // Moves the settled frames at the head into `out` (dropping no_response slots) and says
    // what stopped it: nothing left, a slot still waiting, or a failed slot. `throttle_ms`, when
    // given, becomes the longest throttle of the slots released.
    [[nodiscard]] head_state pop_ready(std::vector<protocol::output_buffer>& out, int32_t* throttle_ms = nullptr);

    [[nodiscard]] size_t size() const noexcept { return slots_.size(); }

    // Detaches every slot and runs the cancel hooks of those still waiting.
    void cancel_all() noexcept;

private:
    friend struct response_slot;
    std::deque<std::shared_ptr<response_slot>> slots_;
    std::function<void()> on_settled_;
};

} // namespace samsa::broker
