// DescribeProducers (key 61, KIP-664): the active idempotent and transactional producers of
// partitions, from each partition's producer table (storage/producer_state_table.h): id, epoch,
// last sequence and timestamp, the epoch of the coordinator that last ended a transaction of
// theirs, and where their open transaction started (-1: none). A partition no producer with an
// id wrote to answers with an empty list; unknown partitions get UNKNOWN_TOPIC_OR_PARTITION.
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "broker/request_context.h"
#include "protocol/messages/describe_producers.h"
#include "storage/producer_state_table.h"

namespace samsa::broker {

namespace {

using protocol::describe_producers_request;
using protocol::describe_producers_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    describe_producers_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    describe_producers_response resp;
    for (const auto& t : req.topics) {
        describe_producers_response::topic_response tr;
        tr.name = t.name;
        for (const int32_t p : t.partition_indexes) {
            describe_producers_response::partition_response pr;
            pr.partition_index = p;
            const partition_handle h = ctx.partitions().find(t.name, protocol::partition_id(p));
            pr.error_code = to_int(h.error);
            if (h.ok()) {
                for (const auto& [id, e] : h.log->producers().producers()) {
                    describe_producers_response::producer_state ps;
                    ps.producer_id = id.value();
                    ps.producer_epoch = e.epoch.value();
                    ps.last_sequence = e.last_seq();
                    ps.last_timestamp = e.last_timestamp;
                    ps.coordinator_epoch = e.coordinator_epoch;
                    ps.current_txn_start_offset = e.current_txn_first_offset;
                    pr.active_producers.push_back(ps);
                }
            }
            tr.partitions.push_back(std::move(pr));
        }
        resp.topics.push_back(std::move(tr));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry describe_producers_handler() {
    return handler_entry{protocol::api_key::describe_producers, describe_producers_request::min_version,
                         describe_producers_request::max_version, handle};
}

} // namespace samsa::broker
