// ListGroups (key 16): every group this coordinator has loaded, with its protocol type, and
// (v4+) its state, filtered by state case-insensitively, and (v5+) its type (classic or
// consumer). COORDINATOR_LOAD_IN_PROGRESS while partitions of __consumer_offsets still load.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/list_groups.h"

namespace samsa::broker {

namespace {

using protocol::list_groups_request;
using protocol::list_groups_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    list_groups_request req;
    if (auto st = protocol::decode_body(body, ctx.api_version(), req); st != protocol::decode_status::ok)
        return handler_result::malformed(st);
    auto [error, groups] = ctx.groups().list_groups(req.states_filter, req.types_filter);
    list_groups_response resp;
    resp.error_code = to_int(error);
    for (auto& g : groups)
        resp.groups.push_back({std::move(g.group_id), std::move(g.protocol_type), std::move(g.state), std::move(g.type)});
    return ctx.respond(resp);
}

} // namespace

handler_entry list_groups_handler() {
    return handler_entry{protocol::api_key::list_groups, list_groups_request::min_version, list_groups_request::max_version,
                         handle};
}

} // namespace samsa::broker
