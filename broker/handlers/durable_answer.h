// The answer of a request that wrote to a coordinator's internal topic (__transaction_state,
// __consumer_offsets), held until the write is as durable as an acks=-1 produce to that topic:
// when the topic's flush policy asks for an fsync, the response waits for it (run on storage's
// flusher thread, never the loop's); otherwise it is sent at once, as before. A failed fsync
// turns the answer into the coordinator's error (NOT_COORDINATOR, Kafka's answer to a failed
// append) through the handler's `on_failure(response&, error)`.
//
// A group request answered from the coordinator's state (Heartbeat, LeaveGroup, OffsetDelete,
// ConsumerGroupHeartbeat) waits instead for every write to its group's partition that is not
// durable yet, its own included: Kafka's coordinator runtime holds such an answer behind the
// writes pending before it, as the answer may rest on them. DeleteGroups waits so for the
// partitions of every group it names: the tombstones of the groups it deleted are among those
// writes, and a group it could not delete (unknown, not empty) is answered after them too.
//
// Header-only helper for the handlers; loop thread only. The coordinator outlives the request;
// the response is moved into the wait. Handlers that answer at once pass their context; those
// whose answer was already deferred (a request parked in the coordinator) pass its reply.
#pragma once

#include "broker/handler.h"
#include "broker/logger.h"
#include "broker/request_context.h"
#include "protocol/errors.h"

#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace samsa::broker {

namespace durable_answer_detail {

// The keys (transactional ids, group ids) whose partitions `wait` says to wait for.
template <typename Coordinator, typename Wait>
[[nodiscard]] std::vector<std::string> waiting_keys(Coordinator* coordinator, const std::vector<std::string>& keys, Wait wait) {
    std::vector<std::string> waiting;
    if (coordinator != nullptr)
        for (const auto& k : keys)
            if (wait(*coordinator, k)) waiting.push_back(k);
    return waiting;
}

inline constexpr auto fsync_policy = [](const auto& coordinator, const std::string& key) { return coordinator.waits_for_fsync(key); };
inline constexpr auto pending_writes = [](const auto& coordinator, const std::string& key) { return coordinator.has_pending_writes(key); };

// Answers `reply` once every key in `waiting` (not empty) is durable. A failed key is passed to
// `on_failure(response&, error, key)` when it takes one (each key's result is its own), else the
// first failure to `on_failure(response&, error)`.
template <typename Coordinator, typename Response, typename OnFailure>
void answer_after(deferred_response reply, Coordinator* coordinator, const std::vector<std::string>& waiting, Response resp,
                  OnFailure on_failure) {
    struct wait_state {
        deferred_response reply;
        Response resp;
        OnFailure on_failure;
        size_t left;
        std::vector<std::pair<std::string, protocol::error_code>> failed;
    };
    auto state = std::make_shared<wait_state>(wait_state{std::move(reply), std::move(resp), std::move(on_failure), waiting.size(), {}});
    for (const auto& k : waiting)
        coordinator->when_durable(k, [state, k](protocol::error_code e) noexcept {
            // Runs among storage's completions: nothing may escape it.
            try {
                if (e != protocol::error_code::none) state->failed.emplace_back(k, e);
                if (--state->left > 0) return;
                if constexpr (std::is_invocable_v<OnFailure&, Response&, protocol::error_code, const std::string&>) {
                    for (const auto& [key, error] : state->failed) state->on_failure(state->resp, error, key);
                } else if (!state->failed.empty()) {
                    state->on_failure(state->resp, state->failed.front().second);
                }
                state->reply.respond(state->resp);
            } catch (const std::exception& ex) {
                log_error("cannot answer a request after its coordinator write, its connection is closed: ", ex.what());
                state->reply = deferred_response();
            }
        });
}

// Answers at once when nothing is waited for, else once every key in `waiting` is durable.
template <typename Coordinator, typename Response, typename OnFailure>
[[nodiscard]] handler_result respond(request_context& ctx, Coordinator* coordinator, const std::vector<std::string>& waiting,
                                     Response resp, OnFailure on_failure) {
    if (waiting.empty()) return ctx.respond(resp);
    answer_after(ctx.defer(), coordinator, waiting, std::move(resp), std::move(on_failure));
    return handler_result::deferred();
}

} // namespace durable_answer_detail

// `keys` are the transactional ids or group ids whose partitions the request wrote to.
template <typename Coordinator, typename Response, typename OnFailure>
[[nodiscard]] handler_result respond_when_durable(request_context& ctx, Coordinator* coordinator, const std::vector<std::string>& keys,
                                                  Response resp, OnFailure on_failure) {
    return durable_answer_detail::respond(ctx, coordinator,
                                          durable_answer_detail::waiting_keys(coordinator, keys, durable_answer_detail::fsync_policy),
                                          std::move(resp), std::move(on_failure));
}

template <typename Coordinator, typename Response, typename OnFailure>
[[nodiscard]] handler_result respond_when_durable(request_context& ctx, Coordinator* coordinator, const std::string& key,
                                                  Response resp, OnFailure on_failure) {
    return respond_when_durable(ctx, coordinator, std::vector<std::string>{key}, std::move(resp), std::move(on_failure));
}

// Answers once every write to the partitions of `keys` that waits for its fsync is durable (at
// once when there is none), or with `on_failure`'s error for a key whose partition's fsync fails
// (per key when `on_failure` takes the key, as for respond_when_durable).
template <typename Coordinator, typename Response, typename OnFailure>
[[nodiscard]] handler_result respond_after_pending_writes(request_context& ctx, Coordinator* coordinator,
                                                          const std::vector<std::string>& keys, Response resp, OnFailure on_failure) {
    return durable_answer_detail::respond(ctx, coordinator,
                                          durable_answer_detail::waiting_keys(coordinator, keys, durable_answer_detail::pending_writes),
                                          std::move(resp), std::move(on_failure));
}

template <typename Coordinator, typename Response, typename OnFailure>
[[nodiscard]] handler_result respond_after_pending_writes(request_context& ctx, Coordinator* coordinator, const std::string& key,
                                                          Response resp, OnFailure on_failure) {
    return respond_after_pending_writes(ctx, coordinator, std::vector<std::string>{key}, std::move(resp), std::move(on_failure));
}

// The same for an answer already deferred: `reply` answers now, or once `key` is durable.
template <typename Coordinator, typename Response, typename OnFailure>
void respond_when_durable(deferred_response reply, Coordinator* coordinator, const std::string& key, Response resp,
                          OnFailure on_failure) {
    const auto waiting = durable_answer_detail::waiting_keys(coordinator, {key}, durable_answer_detail::fsync_policy);
    if (waiting.empty()) return reply.respond(resp);
    durable_answer_detail::answer_after(std::move(reply), coordinator, waiting, std::move(resp), std::move(on_failure));
}

} // namespace samsa::broker
