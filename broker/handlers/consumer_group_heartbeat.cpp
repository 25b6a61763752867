// ConsumerGroupHeartbeat (key 68): the KIP-848 protocol. A member joins with epoch 0, then
// heartbeats with its member epoch, the partitions it owns, and any change of subscription;
// the coordinator answers with its epoch and, when it changed, its assignment (topic ids).
// Epoch -1 leaves, -2 leaves for now (static members). v1 adds a topic regex. A heartbeat that
// wrote to __consumer_offsets is answered once the write is durable.
#include "broker/groups/client_host.h"
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/consumer_group_heartbeat.h"

namespace samsa::broker {

namespace {

using protocol::consumer_group_heartbeat_request;
using protocol::consumer_group_heartbeat_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    consumer_group_heartbeat_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    consumer_heartbeat_params p;
    p.member_id = std::move(req.member_id);
    p.member_epoch = req.member_epoch;
    p.instance_id = std::move(req.instance_id);
    p.rack_id = std::move(req.rack_id);
    p.rebalance_timeout_ms = req.rebalance_timeout_ms;
    p.subscribed_topic_names = std::move(req.subscribed_topic_names);
    if (v >= 1) p.subscribed_topic_regex = std::move(req.subscribed_topic_regex);
    p.server_assignor = std::move(req.server_assignor);
    if (req.topic_partitions) {
        p.owned.emplace();
        for (const auto& tp : *req.topic_partitions) insert_partitions((*p.owned)[tp.topic_id], tp.partitions);
    }
    p.client_id = std::string(ctx.client_id().value_or(""));
    p.client_host = client_host_of(ctx.connection().peer);
    auto& groups = ctx.groups();
    auto r = groups.consumer_heartbeat(req.group_id, std::move(p), v);

    consumer_group_heartbeat_response resp;
    resp.error_code = to_int(r.error);
    resp.error_message = std::move(r.error_message);
    resp.member_id = std::move(r.member_id);
    resp.member_epoch = r.member_epoch;
    resp.heartbeat_interval_ms = r.heartbeat_interval_ms;
    if (r.assignment) {
        consumer_group_heartbeat_response::assignment_data a;
        for (const auto& [topic, parts] : *r.assignment) a.topic_partitions.push_back({topic, raw_partitions(parts)});
        resp.assignment = std::move(a);
    }
    // A heartbeat that changed the group (a join, a new epoch or assignment, a leave) is answered
    // once its records are durable, as Kafka answers after the coordinator's write is committed;
    // one that changed nothing, after the writes before it. A failed write answers its error
    // alone, as Kafka does.
    return respond_after_pending_writes(ctx, &groups, req.group_id, std::move(resp),
                                        [](consumer_group_heartbeat_response& out, protocol::error_code e) {
                                            out = consumer_group_heartbeat_response{};
                                            out.error_code = to_int(e);
                                        });
}

} // namespace

handler_entry consumer_group_heartbeat_handler() {
    return handler_entry{protocol::api_key::consumer_group_heartbeat, consumer_group_heartbeat_request::min_version,
                         consumer_group_heartbeat_request::max_version, handle};
}

} // namespace samsa::broker
