// DescribeProducers (key 61, KIP-664): the active idempotent and transactional producers of
// partitions. Samsa does not keep producer state yet (idempotent and transactional produce are
// not implemented), so every existing partition answers with no active producers, which is what
// Kafka answers for a partition no idempotent producer wrote to. Unknown partitions get
// UNKNOWN_TOPIC_OR_PARTITION.
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "broker/request_context.h"
#include "protocol/messages/describe_producers.h"

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
            const partition_handle h = ctx.partitions().find(t.name, p);
            pr.error_code = to_int(h.error);
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
