// OffsetFetch (key 9): committed offsets of a group (v0-v7) or of several groups (v8+), for
// listed partitions or (null topics, v2+) every partition with a committed offset. Partitions
// without one answer offset -1. v9 checks a KIP-848 member's epoch.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/offset_fetch.h"

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::offset_fetch_request;
using protocol::offset_fetch_response;

// Groups the flat answer by topic, in answer order, into either response shape.
template <typename Topic>
std::vector<Topic> by_topic(const offset_fetch_group_result& r, error_code partition_error) {
    std::vector<Topic> out;
    for (const auto& p : r.partitions) {
        if (out.empty() || out.back().name != p.topic) out.push_back(Topic{p.topic, {}});
        out.back().partitions.push_back({p.partition.value(), p.offset.value(), p.leader_epoch.value(), p.metadata,
                                         to_int(partition_error != error_code::none ? partition_error : p.error)});
    }
    return out;
}

template <typename Topics>
offset_fetch_request_params params_of(std::string group_id, const std::optional<Topics>& topics) {
    offset_fetch_request_params p;
    p.group_id = std::move(group_id);
    if (topics) {
        p.topics.emplace();
        for (const auto& t : *topics)
            p.topics->emplace_back(t.name, std::vector<protocol::partition_id>(t.partition_indexes.begin(), t.partition_indexes.end()));
    }
    return p;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    offset_fetch_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    offset_fetch_response resp;
    if (v < 8) {
        auto params = params_of(std::move(req.group_id), req.topics);
        params.require_stable = req.require_stable;  // false before v7
        auto r = ctx.groups().fetch_offsets(params);
        if (v >= 2) {
            resp.error_code = to_int(r.error);
            if (r.error == error_code::none) resp.topics = by_topic<offset_fetch_response::offset_fetch_response_topic>(r, r.error);
        } else {
            // v0-v1 have no group-level error: each requested partition carries it.
            if (r.error != error_code::none && req.topics)
                for (const auto& t : *req.topics)
                    for (const int32_t p : t.partition_indexes)
                        r.partitions.push_back({t.name, protocol::partition_id(p), protocol::no_offset,
                                                protocol::no_leader_epoch, "", r.error});
            resp.topics = by_topic<offset_fetch_response::offset_fetch_response_topic>(r, error_code::none);
        }
        return ctx.respond(resp);
    }
    for (auto& g : req.groups) {
        auto p = params_of(g.group_id, g.topics);
        p.member_id = std::move(g.member_id);
        p.member_epoch = g.member_epoch;
        p.require_stable = req.require_stable;
        const auto r = ctx.groups().fetch_offsets(p);
        offset_fetch_response::offset_fetch_response_group rg;
        rg.group_id = g.group_id;
        rg.error_code = to_int(r.error);
        if (r.error == error_code::none) rg.topics = by_topic<offset_fetch_response::offset_fetch_response_topics>(r, r.error);
        resp.groups.push_back(std::move(rg));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry offset_fetch_handler() {
    return handler_entry{protocol::api_key::offset_fetch, offset_fetch_request::min_version, offset_fetch_request::max_version,
                         handle};
}

} // namespace samsa::broker
