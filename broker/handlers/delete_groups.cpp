// DeleteGroups (key 42): deletes empty groups with their committed offsets (tombstones in
// __consumer_offsets); NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND when unknown.
// Answered once the writes pending on every named group's partition are durable, the deleted
// groups' tombstones among them (Kafka runs it as a write on each of those partitions).
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/delete_groups.h"

#include <string>
#include <vector>

namespace samsa::broker {

namespace {

using protocol::delete_groups_request;
using protocol::delete_groups_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    delete_groups_request req;
    if (auto st = protocol::decode_body(body, ctx.api_version(), req); st != protocol::decode_status::ok)
        return handler_result::malformed(st);
    auto& groups = ctx.groups();
    const auto errors = groups.delete_groups(req.groups_names);
    delete_groups_response resp;
    for (size_t i = 0; i < errors.size(); ++i) resp.results.push_back({req.groups_names[i], to_int(errors[i])});
    // Even a group that was not deleted is answered after the writes pending on its partition
    // (read after write). A failed fsync becomes the error of the deleted groups on its
    // partition; the others keep theirs.
    return respond_after_pending_writes(ctx, &groups, req.groups_names, std::move(resp),
                                        [](delete_groups_response& out, protocol::error_code e, const std::string& group) {
                                            for (auto& r : out.results)
                                                if (r.group_id == group && r.error_code == 0) r.error_code = to_int(e);
                                        });
}

} // namespace

handler_entry delete_groups_handler() {
    return handler_entry{protocol::api_key::delete_groups, delete_groups_request::min_version,
                         delete_groups_request::max_version, handle};
}

} // namespace samsa::broker
