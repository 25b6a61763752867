// The answer of a request that wrote to a coordinator's internal topic (__transaction_state,
// __consumer_offsets), held until the write is as durable as an acks=-1 produce to that topic:
// when the topic's flush policy asks for an fsync, the response waits for it (run on storage's
// flusher thread, never the loop's); otherwise it is sent at once, as before. A failed fsync
// turns the answer into the coordinator's error (NOT_COORDINATOR, Kafka's answer to a failed
// append) through the handler's `on_failure(response&, error)`.
//
// Header-only helper for the handlers; loop thread only. The coordinator outlives the request;
// the response is copied into the wait.
#pragma once

#include "broker/handler.h"
#include "broker/logger.h"
#include "broker/request_context.h"
#include "protocol/errors.h"

#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace samsa::broker {

// `keys` are the transactional ids or group ids whose partitions the request wrote to.
template <typename Coordinator, typename Response, typename OnFailure>
[[nodiscard]] handler_result respond_when_durable(request_context& ctx, Coordinator* coordinator, const std::vector<std::string>& keys,
                                                  Response resp, OnFailure on_failure) {
    std::vector<std::string> waiting;
    if (coordinator != nullptr)
        for (const auto& k : keys)
            if (coordinator->waits_for_fsync(k)) waiting.push_back(k);
    if (waiting.empty()) return ctx.respond(resp);

    struct wait_state {
        deferred_response reply;
        Response resp;
        OnFailure on_failure;
        size_t left;
        protocol::error_code error = protocol::error_code::none;
    };
    auto state = std::make_shared<wait_state>(wait_state{ctx.defer(), std::move(resp), std::move(on_failure), waiting.size()});
    for (const auto& k : waiting)
        coordinator->when_durable(k, [state](protocol::error_code e) noexcept {
            // Runs among storage's completions: nothing may escape it.
            try {
                if (e != protocol::error_code::none && state->error == protocol::error_code::none) state->error = e;
                if (--state->left > 0) return;
                if (state->error != protocol::error_code::none) state->on_failure(state->resp, state->error);
                state->reply.respond(state->resp);
            } catch (const std::exception& ex) {
                log_error("cannot answer a request after its coordinator write, its connection is closed: ", ex.what());
                state->reply = deferred_response();
            }
        });
    return handler_result::deferred();
}

template <typename Coordinator, typename Response, typename OnFailure>
[[nodiscard]] handler_result respond_when_durable(request_context& ctx, Coordinator* coordinator, const std::string& key,
                                                  Response resp, OnFailure on_failure) {
    if (coordinator == nullptr || !coordinator->waits_for_fsync(key)) return ctx.respond(resp);
    return respond_when_durable(ctx, coordinator, std::vector<std::string>{key}, std::move(resp), std::move(on_failure));
}

} // namespace samsa::broker
