// How a Kafka API handler plugs into the dispatcher and how it answers.
//
// A handler is a function `handler_result fn(request_context&, bytes_view body)` listed once in
// a handler_entry with its version range. It answers in one of two phases:
//   - now:   `return ctx.respond(response);`          (or handler_result::no_response())
//   - later: `auto d = ctx.defer(); ...keep d...; return handler_result::deferred();`
//            and later, on the loop thread, `d.respond(response);`.
// Either way the connection writes responses in request order. The body bytes and the context
// are valid only during the call; a handler that answers later keeps copies, not views.
// Loop thread only.
#pragma once

#include "broker/response_frame.h"
#include "broker/response_queue.h"
#include "protocol/errors.h"
#include "protocol/frame_decoder.h"
#include "protocol/messages/api_table.h"
#include "protocol/wire.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace samsa::broker {

class request_context;

// Encodes a response with the request's quota throttle (KIP-219) in its throttle_time_ms, for
// the messages that have one; a larger value the handler set stays.
template <typename Message>
[[nodiscard]] protocol::output_buffer encode_throttled(int16_t version, int32_t correlation_id, const Message& body,
                                                       int32_t throttle_ms) {
    if constexpr (requires { body.throttle_time_ms; }) {
        if (throttle_ms > body.throttle_time_ms) {
            Message copy = body;
            copy.throttle_time_ms = throttle_ms;
            return encode_response(version, correlation_id, copy);
        }
    }
    return encode_response(version, correlation_id, body);
}

// Charges the request's handler time to its client's request quota, once (later calls return
// 0), and keeps the throttle that calls for on the slot. Kafka records a request's time when its
// response is sent, so the request that goes over the quota is the one throttled.
inline int32_t charge_request_time(response_slot& slot, double handler_ns) {
    if (!slot.charge_request_time) return 0;
    const auto charge = std::move(slot.charge_request_time);
    slot.charge_request_time = nullptr;
    const int32_t ms = charge(handler_ns);
    if (ms > slot.throttle_ms) slot.throttle_ms = ms;
    return ms;
}

class handler_result {
public:
    enum class kind : uint8_t {
        ready,        // `frame` is the whole response frame
        no_response,  // the request gets no response (Produce acks=0)
        deferred,     // the handler took ctx.defer() and will answer through it
        malformed,    // the body could not be decoded: the connection closes, as Kafka does
        close,        // the client learns of a failure only by a disconnect (Produce acks=0)
    };

    [[nodiscard]] static handler_result ready(protocol::output_buffer frame) {
        handler_result r(kind::ready);
        r.frame_ = std::move(frame);
        return r;
    }
    [[nodiscard]] static handler_result no_response() { return handler_result(kind::no_response); }
    [[nodiscard]] static handler_result deferred() { return handler_result(kind::deferred); }
    [[nodiscard]] static handler_result malformed(protocol::decode_status why) {
        handler_result r(kind::malformed);
        r.why_ = why;
        return r;
    }

    [[nodiscard]] static handler_result close(std::string reason) {
        handler_result r(kind::close);
        r.reason_ = std::move(reason);
        return r;
    }

    [[nodiscard]] kind what() const noexcept { return kind_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
    [[nodiscard]] protocol::output_buffer& frame() noexcept { return frame_; }
    [[nodiscard]] protocol::decode_status why() const noexcept { return why_; }

private:
    explicit handler_result(kind k) : kind_(k) {}
    kind kind_;
    protocol::output_buffer frame_;
    protocol::decode_status why_ = protocol::decode_status::ok;
    std::string reason_;  // for kind::close, the log line's reason
};

// The second phase of a request that answers later: a move-only, one-shot handle on the
// request's response slot. Use it on the loop thread only (hop there with
// loop_services::post from other threads). Dropping it unanswered is a bug: the connection
// is closed rather than left waiting forever.
class deferred_response {
public:
    deferred_response() = default;
    explicit deferred_response(std::shared_ptr<response_slot> slot) : slot_(std::move(slot)) {}
    deferred_response(deferred_response&&) noexcept = default;
    deferred_response& operator=(deferred_response&& o) noexcept {
        if (this != &o) {
            abandon();
            slot_ = std::move(o.slot_);
        }
        return *this;
    }
    deferred_response(const deferred_response&) = delete;
    deferred_response& operator=(const deferred_response&) = delete;
    ~deferred_response() { abandon(); }

    // Encodes `body` at the request's version and correlation id and releases it in order.
    template <typename Message>
    void respond(const Message& body) {
        if (!slot_) return;
        (void)charge_request_time();
        respond_frame(encode_throttled(slot_->api_version, slot_->correlation_id, body, slot_->throttle_ms));
    }
    // Charges the handler's time to the client's request quota now (respond() does it; a caller
    // that encodes its own frame calls it first) and returns the throttle it calls for.
    int32_t charge_request_time() {
        if (!slot_) return 0;
        return broker::charge_request_time(*slot_, slot_->handler_ns);
    }
    // A quota throttle for this request (the longest one asked for wins); returns it.
    int32_t throttle(int32_t ms) noexcept {
        if (!slot_) return 0;
        if (ms > slot_->throttle_ms) slot_->throttle_ms = ms;
        return slot_->throttle_ms;
    }
    // Releases an already encoded frame (size prefix, header, body).
    void respond_frame(protocol::output_buffer frame) {
        if (!slot_) return;
        (void)charge_request_time();  // the throttle then mutes the connection only
        slot_->settle(response_slot::state::ready, std::move(frame));
        slot_.reset();
    }
    // The request turns out to need no response.
    void respond_none() {
        if (!slot_) return;
        slot_->settle(response_slot::state::no_response);
        slot_.reset();
    }

    // True once the connection is gone: answering is then harmless and pointless.
    [[nodiscard]] bool cancelled() const noexcept { return !slot_ || slot_->queue == nullptr; }
    // Runs `hook` if the connection closes before the answer (e.g. to drop a long-poll wait).
    void on_cancel(std::function<void()> hook) {
        if (slot_) slot_->on_cancel = std::move(hook);
    }
    [[nodiscard]] bool pending() const noexcept { return slot_ != nullptr; }
    [[nodiscard]] int16_t api_version() const noexcept { return slot_ ? slot_->api_version : -1; }
    [[nodiscard]] int32_t correlation_id() const noexcept { return slot_ ? slot_->correlation_id : 0; }

private:
    void abandon() noexcept {
        if (slot_) {
            slot_->settle(response_slot::state::failed);
            slot_.reset();
        }
    }
    std::shared_ptr<response_slot> slot_;
};

using handler_fn = handler_result (*)(request_context& ctx, protocol::bytes_view body);

// One row of the handler table. The range may be narrower than the schema's only with a
// written `narrower_because`.
struct handler_entry {
    protocol::api_key key;
    int16_t min_version;
    int16_t max_version;
    handler_fn handle;
    std::string_view narrower_because = {};
    // The handler also receives versions outside its range and answers them itself
    // (ApiVersions answers UNSUPPORTED_VERSION with v0 and its own range, as Kafka does).
    bool answers_unsupported_versions = false;

    [[nodiscard]] bool supports(int16_t v) const noexcept { return v >= min_version && v <= max_version; }
};

} // namespace samsa::broker
