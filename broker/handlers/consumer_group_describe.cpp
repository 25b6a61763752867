// ConsumerGroupDescribe (key 69): a KIP-848 group's state, epochs, assignor and members, each
// with its current and target assignment (topic ids and names). GROUP_ID_NOT_FOUND for an
// unknown group or a classic one.
#include "broker/groups/client_host.h"
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/consumer_group_describe.h"

namespace samsa::broker {

namespace {

using protocol::consumer_group_describe_request;
using protocol::consumer_group_describe_response;

consumer_group_describe_response::assignment_data to_assignment(request_context& ctx, const topic_partitions& tps) {
    consumer_group_describe_response::assignment_data a;
    for (const auto& [id, parts] : tps) {
        const auto* t = ctx.metadata().topics().find(id);
        a.topic_partitions.push_back({id, t ? t->name : std::string(), raw_partitions(parts)});
    }
    return a;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    consumer_group_describe_request req;
    if (auto st = protocol::decode_body(body, ctx.api_version(), req); st != protocol::decode_status::ok)
        return handler_result::malformed(st);

    consumer_group_describe_response resp;
    for (auto& g : ctx.groups().consumer_describe(req.group_ids)) {
        consumer_group_describe_response::described_group d;
        d.error_code = to_int(g.error);
        d.error_message = std::move(g.error_message);
        d.group_id = std::move(g.group_id);
        d.group_state = std::move(g.state);
        d.group_epoch = g.group_epoch;
        d.assignment_epoch = g.assignment_epoch;
        d.assignor_name = std::move(g.assignor);
        for (const auto& dm : g.members) {
            const auto& m = *dm.member;
            consumer_group_describe_response::member out;
            out.member_id = m.member_id;
            out.instance_id = m.instance_id;
            out.rack_id = m.rack_id;
            out.member_epoch = m.member_epoch;
            out.client_id = m.client_id;
            out.client_host = m.client_host;
            out.subscribed_topic_names = m.subscribed_topic_names;
            out.subscribed_topic_regex = m.subscribed_topic_regex;
            out.assignment = to_assignment(ctx, m.assigned);
            out.target_assignment = to_assignment(ctx, dm.target);
            d.members.push_back(std::move(out));
        }
        if (req.include_authorized_operations) d.authorized_operations = all_group_operations;
        resp.groups.push_back(std::move(d));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry consumer_group_describe_handler() {
    return handler_entry{protocol::api_key::consumer_group_describe, consumer_group_describe_request::min_version,
                         consumer_group_describe_request::max_version, handle};
}

} // namespace samsa::broker
