// SyncGroup (key 14): the leader hands in the assignment of every member and each member waits,
// parked, for its own bytes, which are returned exactly as the leader sent them (an empty
// assignment is an empty blob). v5 checks and returns the protocol type and name.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/sync_group.h"

#include <memory>

namespace samsa::broker {

namespace {

using protocol::sync_group_request;
using protocol::sync_group_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    sync_group_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    sync_params p;
    p.member_id = std::move(req.member_id);
    p.group_instance_id = std::move(req.group_instance_id);
    p.generation = req.generation_id;
    p.protocol_type = std::move(req.protocol_type);
    p.protocol_name = std::move(req.protocol_name);
    for (auto& a : req.assignments) p.assignments.emplace_back(std::move(a.member_id), std::move(a.assignment));

    // The callback is copyable; the one reply it answers is shared with it.
    auto reply = std::make_shared<deferred_response>(ctx.defer());
    auto* groups = &ctx.groups();
    ctx.groups().sync_group(req.group_id, std::move(p), [reply, groups, group_id = req.group_id](sync_result r) {
        sync_group_response resp;
        resp.error_code = to_int(r.error);
        resp.protocol_type = std::move(r.protocol_type);
        resp.protocol_name = std::move(r.protocol_name);
        resp.assignment = std::move(r.assignment);
        if (r.error != protocol::error_code::none) return reply->respond(resp);
        // The group's metadata (the leader's assignment) is on __consumer_offsets: answered once
        // it is durable, as Kafka answers after its group metadata append.
        respond_when_durable(std::move(*reply), groups, group_id, std::move(resp), [](sync_group_response& out, protocol::error_code e) {
            out.error_code = to_int(e);
            out.assignment.clear();
        });
    });
    return handler_result::deferred();
}

} // namespace

handler_entry sync_group_handler() {
    return handler_entry{protocol::api_key::sync_group, sync_group_request::min_version, sync_group_request::max_version, handle};
}

} // namespace samsa::broker
