// DeleteGroups (key 42): deletes empty groups with their committed offsets (tombstones in
// __consumer_offsets); NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND when unknown.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/delete_groups.h"

namespace samsa::broker {

namespace {

using protocol::delete_groups_request;
using protocol::delete_groups_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    delete_groups_request req;
    if (auto st = protocol::decode_body(body, ctx.api_version(), req); st != protocol::decode_status::ok)
        return handler_result::malformed(st);
    const auto errors = ctx.groups().delete_groups(req.groups_names);
    delete_groups_response resp;
    for (size_t i = 0; i < errors.size(); ++i) resp.results.push_back({req.groups_names[i], to_int(errors[i])});
    return ctx.respond(resp);
}

} // namespace

handler_entry delete_groups_handler() {
    return handler_entry{protocol::api_key::delete_groups, delete_groups_request::min_version,
                         delete_groups_request::max_version, handle};
}

} // namespace samsa::broker
