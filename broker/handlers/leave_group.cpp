// LeaveGroup (key 13): members leave a classic group, which rebalances. v0-v2 name one member
// and report one error; v3+ name a batch (static members by group.instance.id, KIP-345) and
// report an error per member. A leave that wrote to __consumer_offsets (a consumer group's
// classic member, a static member's removal) is answered once the write is durable.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/leave_group.h"

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::leave_group_request;
using protocol::leave_group_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    leave_group_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    std::vector<member_identity> who;
    if (v < 3) who.push_back({req.member_id, std::nullopt});
    for (auto& m : req.members) who.push_back({std::move(m.member_id), std::move(m.group_instance_id)});
    auto& groups = ctx.groups();
    const auto [group_error, member_errors] = groups.leave_group(req.group_id, who);

    leave_group_response resp;
    resp.error_code = to_int(group_error);
    if (v < 3) {
        if (group_error == error_code::none && !member_errors.empty()) resp.error_code = to_int(member_errors.front());
    } else {
        for (size_t i = 0; i < member_errors.size(); ++i)
            resp.members.push_back({who[i].member_id, who[i].group_instance_id, to_int(member_errors[i])});
    }
    // Answered once the removal (a classic member leaving a consumer group) and the writes before
    // it are durable; a failed write answers its error alone, as Kafka's coordinator does.
    return respond_after_pending_writes(ctx, &groups, req.group_id, std::move(resp), [](leave_group_response& out, error_code e) {
        out = leave_group_response{};
        out.error_code = to_int(e);
    });
}

} // namespace

handler_entry leave_group_handler() {
    return handler_entry{protocol::api_key::leave_group, leave_group_request::min_version, leave_group_request::max_version, handle};
}

} // namespace samsa::broker
