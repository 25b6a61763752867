// Heartbeat (key 12): keeps a classic group member's session alive and tells it whether a
// rebalance is in progress (REBALANCE_IN_PROGRESS) or it must rejoin. Under a flush policy it
// answers after the writes to its group's partition that are not durable yet (durable_answer.h).
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/heartbeat.h"

namespace samsa::broker {

namespace {

using protocol::heartbeat_request;
using protocol::heartbeat_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    heartbeat_request req;
    if (auto st = protocol::decode_body(body, ctx.api_version(), req); st != protocol::decode_status::ok)
        return handler_result::malformed(st);
    auto& groups = ctx.groups();
    heartbeat_response resp;
    resp.error_code = to_int(groups.heartbeat(req.group_id, req.member_id, req.group_instance_id, req.generation_id));
    return respond_after_pending_writes(ctx, &groups, req.group_id, resp,
                                        [](heartbeat_response& out, protocol::error_code e) { out.error_code = to_int(e); });
}

} // namespace

handler_entry heartbeat_handler() {
    return handler_entry{protocol::api_key::heartbeat, heartbeat_request::min_version, heartbeat_request::max_version, handle};
}

} // namespace samsa::broker
