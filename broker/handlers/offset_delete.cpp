// OffsetDelete (key 47): removes committed offsets of a group (tombstones in
// __consumer_offsets), refusing partitions of topics the group still subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC) and non-empty groups that do not say what they use. Answered
// once the tombstones are durable.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/offset_delete.h"

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::offset_delete_request;
using protocol::offset_delete_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    offset_delete_request req;
    if (auto st = protocol::decode_body(body, ctx.api_version(), req); st != protocol::decode_status::ok)
        return handler_result::malformed(st);

    std::vector<std::pair<std::string, protocol::partition_id>> partitions;
    for (const auto& t : req.topics)
        for (const auto& p : t.partitions) partitions.emplace_back(t.name, protocol::partition_id(p.partition_index));
    auto& groups = ctx.groups();
    const auto [group_error, errors] = groups.delete_offsets(req.group_id, partitions);

    offset_delete_response resp;
    resp.error_code = to_int(group_error);
    if (group_error == error_code::none) {
        size_t i = 0;
        for (const auto& t : req.topics) {
            offset_delete_response::offset_delete_response_topic rt;
            rt.name = t.name;
            for (const auto& p : t.partitions) rt.partitions.push_back({p.partition_index, to_int(errors[i++])});
            resp.topics.push_back(std::move(rt));
        }
    }
    // The tombstones are on __consumer_offsets: answered once they (and the writes before them)
    // are durable.
    return respond_after_pending_writes(ctx, &groups, req.group_id, std::move(resp), [](offset_delete_response& out, error_code e) {
        out.error_code = to_int(e);
        out.topics.clear();
    });
}

} // namespace

handler_entry offset_delete_handler() {
    return handler_entry{protocol::api_key::offset_delete, offset_delete_request::min_version,
                         offset_delete_request::max_version, handle};
}

} // namespace samsa::broker
