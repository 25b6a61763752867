// InitProducerId (key 22): gives a producer its id and epoch.
//
// Idempotent producers (null transactional id) get a fresh id with epoch 0 at every version,
// whatever producer id and epoch a v3+ request carries: Kafka's coordinator answers a null
// transactional id that way, because an idempotent producer bumps its epoch on its own (KIP-360)
// and asks the broker only when it needs a new id. Transactional ids are the transaction
// coordinator's (broker/transactions/transaction_coordinator.h): a new id or an epoch bump, and
// the fencing of an older instance's transaction.
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/logger.h"
#include "broker/request_context.h"
#include "broker/transactions/producer_id_manager.h"
#include "broker/transactions/transaction_coordinator.h"
#include "protocol/messages/init_producer_id.h"

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::init_producer_id_request;
using protocol::init_producer_id_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    init_producer_id_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    init_producer_id_response resp;
    resp.producer_id = -1;
    resp.producer_epoch = -1;
    if (req.transactional_id.has_value()) {
        // The transactional branch: the transaction coordinator's. A v3+ producer that gives its
        // id gives its epoch too (Kafka refuses one without the other).
        auto* txns = ctx.transactions();
        const bool has_id = v >= 3 && req.producer_id != -1, has_epoch = v >= 3 && req.producer_epoch != -1;
        std::optional<transaction_coordinator::producer_instance> expected;
        if (has_id) expected.emplace(protocol::producer_id(req.producer_id), protocol::producer_epoch(req.producer_epoch));
        init_producer_id_result r;
        r.error = txns == nullptr ? error_code::coordinator_not_available : error_code::invalid_request;
        if (txns != nullptr && has_id == has_epoch)
            r = txns->init_producer_id(*req.transactional_id, req.transaction_timeout_ms, expected);
        if (r.error == error_code::producer_fenced && v < 4) r.error = error_code::invalid_producer_epoch;
        resp.error_code = to_int(r.error);
        resp.producer_id = r.producer_id.value();
        resp.producer_epoch = r.producer_epoch.value();
        if (r.error != error_code::none) return ctx.respond(resp);
        // The new epoch is on __transaction_state: answered once that is durable.
        return respond_when_durable(ctx, txns, *req.transactional_id, std::move(resp), [](init_producer_id_response& out, error_code e) {
            out.error_code = to_int(e);
            out.producer_id = -1;
            out.producer_epoch = -1;
        });
    }
    std::string why;
    auto* ids = ctx.producer_ids();
    const std::optional<protocol::producer_id> id = ids ? ids->next(&why) : std::nullopt;
    if (!id) {
        if (ids) log_error("InitProducerId: ", why);
        // Retriable: the client asks again, as when Kafka's controller cannot hand out a block.
        resp.error_code = to_int(error_code::coordinator_load_in_progress);
        return ctx.respond(resp);
    }
    resp.error_code = to_int(error_code::none);
    resp.producer_id = id->value();
    resp.producer_epoch = 0;
    return ctx.respond(resp);
}

} // namespace

handler_entry init_producer_id_handler() {
    return handler_entry{protocol::api_key::init_producer_id, init_producer_id_request::min_version,
                         init_producer_id_request::max_version, handle};
}

} // namespace samsa::broker
