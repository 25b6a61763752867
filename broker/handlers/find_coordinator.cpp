// FindCoordinator (key 10): this node coordinates every group and every transactional id.
// v0-v3 ask for one key, v4+ for a batch; a group key creates __consumer_offsets on first use,
// a transactional id __transaction_state.
// Key type 0 is a group, 1 a transactional id; anything else is INVALID_REQUEST.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/transactions/transaction_coordinator.h"
#include "protocol/messages/find_coordinator.h"

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::find_coordinator_request;
using protocol::find_coordinator_response;

constexpr int8_t group_key_type = 0;
constexpr int8_t transaction_key_type = 1;

find_coordinator_response::coordinator answer(request_context& ctx, const std::string& key, int8_t key_type) {
    error_code err = error_code::none;
    if (key_type == group_key_type) err = ctx.groups().find_coordinator(key);
    else if (key_type == transaction_key_type)
        err = ctx.transactions() ? ctx.transactions()->find_coordinator(key)
                                 : (key.empty() ? error_code::invalid_request : error_code::none);
    else err = error_code::invalid_request;

    find_coordinator_response::coordinator c;
    c.key = key;
    c.error_code = to_int(err);
    if (err == error_code::none) {
        c.node_id = ctx.metadata().node_id().value();
        c.host = ctx.connection().advertised_host;
        c.port = ctx.connection().advertised_port;
        c.error_message = std::nullopt;
    } else {
        c.node_id = protocol::no_node_id.value();
        c.port = -1;
        c.error_message = std::string(err == error_code::invalid_request ? "Invalid coordinator key or key type"
                                                                         : "The coordinator is not available");
    }
    return c;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    find_coordinator_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    find_coordinator_response resp;
    if (v >= 4) {
        for (const auto& key : req.coordinator_keys) resp.coordinators.push_back(answer(ctx, key, req.key_type));
        return ctx.respond(resp);
    }
    auto c = answer(ctx, req.key, v >= 1 ? req.key_type : group_key_type);
    resp.error_code = c.error_code;
    resp.error_message = c.error_message;
    resp.node_id = c.node_id;
    resp.host = std::move(c.host);
    resp.port = c.port;
    return ctx.respond(resp);
}

} // namespace

handler_entry find_coordinator_handler() {
    return handler_entry{protocol::api_key::find_coordinator, find_coordinator_request::min_version,
                         find_coordinator_request::max_version, handle};
}

} // namespace samsa::broker
