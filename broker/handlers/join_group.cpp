// JoinGroup (key 11): a member joins a classic group and waits, parked, until the rebalance
// completes; the leader's answer lists every member's metadata. v4+ dynamic members first get
// MEMBER_ID_REQUIRED with their id (KIP-394); v5+ static members (KIP-345); v9 skip_assignment.
// A join that wrote to __consumer_offsets is answered once that write is durable.
#include "broker/groups/client_host.h"
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/join_group.h"

#include <memory>

namespace samsa::broker {

namespace {

using protocol::join_group_request;
using protocol::join_group_response;

join_group_response to_response(join_result r, int16_t v) {
    join_group_response resp;
    resp.error_code = to_int(r.error);
    resp.generation_id = r.generation;
    resp.protocol_type = std::move(r.protocol_type);
    // Before v7 the protocol name is not nullable: Kafka sends an empty string.
    resp.protocol_name = v >= 7 ? std::move(r.protocol_name) : std::optional<std::string>(r.protocol_name.value_or(""));
    resp.leader = std::move(r.leader);
    resp.skip_assignment = r.skip_assignment;
    resp.member_id = std::move(r.member_id);
    for (auto& m : r.members)
        resp.members.push_back({std::move(m.member_id), std::move(m.group_instance_id), std::move(m.metadata)});
    return resp;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    join_group_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    join_params p;
    p.member_id = std::move(req.member_id);
    p.group_instance_id = std::move(req.group_instance_id);
    p.require_known_member_id = v >= 4 && !p.group_instance_id;
    p.supports_skip_assignment = v >= 9;
    p.client_id = std::string(ctx.client_id().value_or(""));
    p.client_host = client_host_of(ctx.connection().peer);
    p.session_timeout_ms = req.session_timeout_ms;
    // v0 has no rebalance timeout: the session timeout bounds the rebalance, as in Kafka.
    p.rebalance_timeout_ms = v >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
    p.protocol_type = std::move(req.protocol_type);
    for (auto& proto : req.protocols) p.protocols.push_back({std::move(proto.name), std::move(proto.metadata)});

    // The callback is copyable; the one reply it answers is shared with it. Only what the join
    // writes before join_group returns is its own: a static member replacing another in a stable
    // classic group (the group's metadata), a classic member joining a consumer group (its
    // records). One that wrote nothing, parked until a rebalance completes, or refused answers at
    // once, as Kafka's does.
    auto reply = std::make_shared<deferred_response>(ctx.defer());
    auto* groups = &ctx.groups();
    auto joining = std::make_shared<bool>(true);
    const uint64_t appends_before = groups->appends();
    groups->join_group(req.group_id, std::move(p), [reply, v, groups, joining, appends_before, group_id = req.group_id](join_result r) {
        auto resp = to_response(std::move(r), v);
        if (!*joining || resp.error_code != 0 || groups->appends() == appends_before) return reply->respond(resp);
        // As Kafka answers a failed static-member write: the error, no member id, no members.
        respond_when_durable(std::move(*reply), groups, group_id, std::move(resp), [](join_group_response& out, protocol::error_code e) {
            out.error_code = to_int(e);
            out.member_id.clear();
            out.members.clear();
            out.skip_assignment = false;
        });
    });
    *joining = false;
    return handler_result::deferred();
}

} // namespace

handler_entry join_group_handler() {
    return handler_entry{protocol::api_key::join_group, join_group_request::min_version, join_group_request::max_version, handle};
}

} // namespace samsa::broker
