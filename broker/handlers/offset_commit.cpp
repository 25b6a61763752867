// OffsetCommit (key 8): stores committed offsets (and their metadata strings) in
// __consumer_offsets for a classic group member (generation), a KIP-848 member (v9+, member
// epoch) or a group without group management (generation -1). One error per partition.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/offset_commit.h"

#include <algorithm>
#include <string>

namespace samsa::broker {

namespace {

using protocol::offset_commit_request;
using protocol::offset_commit_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    offset_commit_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    offset_commit_request_params p;
    p.group_id = std::move(req.group_id);
    p.generation_or_epoch = req.generation_id_or_member_epoch;
    p.member_id = std::move(req.member_id);
    p.group_instance_id = std::move(req.group_instance_id);
    p.retention_time_ms = (v >= 2 && v <= 4) ? req.retention_time_ms : -1;
    p.api_version = v;
    for (const auto& t : req.topics)
        for (const auto& part : t.partitions)
            p.offsets.push_back({t.name, protocol::partition_id(part.partition_index),
                                 protocol::offset(part.committed_offset),
                                 protocol::leader_epoch(part.committed_leader_epoch), part.committed_metadata,
                                 part.commit_timestamp});
    const auto errors = ctx.groups().commit_offsets(p);

    const std::string group_id = p.group_id;
    offset_commit_response resp;
    size_t i = 0;
    for (const auto& t : req.topics) {
        offset_commit_response::offset_commit_response_topic rt;
        rt.name = t.name;
        for (const auto& part : t.partitions) rt.partitions.push_back({part.partition_index, to_int(errors[i++])});
        resp.topics.push_back(std::move(rt));
    }
    if (std::find(errors.begin(), errors.end(), protocol::error_code::none) == errors.end()) return ctx.respond(resp);
    // The offsets are on __consumer_offsets: answered once they are durable.
    return respond_when_durable(ctx, &ctx.groups(), group_id, std::move(resp), [](offset_commit_response& out, protocol::error_code e) {
        for (auto& t : out.topics)
            for (auto& part : t.partitions)
                if (part.error_code == 0) part.error_code = to_int(e);
    });
}

} // namespace

handler_entry offset_commit_handler() {
    return handler_entry{protocol::api_key::offset_commit, offset_commit_request::min_version,
                         offset_commit_request::max_version, handle};
}

} // namespace samsa::broker
