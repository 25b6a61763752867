// OffsetForLeaderEpoch (key 23): for each partition, the largest leader epoch at or below the one
// asked for and the offset where it ended (the log end offset for the current epoch), from the
// log's leader-epoch cache; -1/-1 when the log has no such epoch. Consumers use it after a leader
// change to detect a truncated log (KIP-320); current_leader_epoch (v2+) is checked like Fetch's.
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "broker/request_context.h"
#include "protocol/kafka_ids.h"
#include "protocol/messages/offset_for_leader_epoch.h"

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::offset_for_leader_epoch_request;
using protocol::offset_for_leader_epoch_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    offset_for_leader_epoch_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    offset_for_leader_epoch_response resp;
    resp.topics.reserve(req.topics.size());
    for (const auto& t : req.topics) {
        offset_for_leader_epoch_response::offset_for_leader_topic_result tr;
        tr.topic = t.topic;
        for (const auto& p : t.partitions) {
            offset_for_leader_epoch_response::epoch_end_offset r;
            r.partition = p.partition;
            const partition_handle h = ctx.partitions().find(t.topic, protocol::partition_id(p.partition));
            error_code e = h.error;
            if (h.ok() && v >= 2)
                e = partition_manager::check_leader_epoch(*h.topic, protocol::leader_epoch(p.current_leader_epoch));
            if (e != error_code::none) {
                r.error_code = to_int(e);
            } else {
                const storage::epoch_end_offset eo =
                    h.log->end_offset_for_epoch(protocol::leader_epoch(p.leader_epoch));
                r.leader_epoch = eo.epoch.value();
                r.end_offset = eo.end_offset.value();
            }
            tr.partitions.push_back(std::move(r));
        }
        resp.topics.push_back(std::move(tr));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry offset_for_leader_epoch_handler() {
    return handler_entry{protocol::api_key::offset_for_leader_epoch, offset_for_leader_epoch_request::min_version,
                         offset_for_leader_epoch_request::max_version, handle};
}

} // namespace samsa::broker
