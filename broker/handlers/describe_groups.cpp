// DescribeGroups (key 15): state, protocol and members of classic groups; a Stable group also
// shows each member's metadata and assignment. An unknown group is reported Dead, as Kafka
// does before v6.
#include "broker/groups/client_host.h"
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/describe_groups.h"

namespace samsa::broker {

namespace {

using protocol::describe_groups_request;
using protocol::describe_groups_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    describe_groups_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    describe_groups_response resp;
    for (auto& g : ctx.groups().describe_groups(req.groups)) {
        describe_groups_response::described_group d;
        d.error_code = to_int(g.error);
        d.group_id = std::move(g.group_id);
        d.group_state = std::move(g.state);
        d.protocol_type = std::move(g.protocol_type);
        d.protocol_data = std::move(g.protocol_data);
        for (auto& m : g.members)
            d.members.push_back({std::move(m.member_id), std::move(m.group_instance_id), std::move(m.client_id),
                                 std::move(m.client_host), std::move(m.metadata), std::move(m.assignment)});
        if (v >= 3 && req.include_authorized_operations) d.authorized_operations = all_group_operations;
        resp.groups.push_back(std::move(d));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry describe_groups_handler() {
    return handler_entry{protocol::api_key::describe_groups, describe_groups_request::min_version,
                         describe_groups_request::max_version, handle};
}

} // namespace samsa::broker
