// EndTxn (key 26): commits or aborts a producer's transaction. Answered once PrepareCommit or
// PrepareAbort is on __transaction_state; the markers are written after. v0-v4 keep the
// producer's epoch (transactions V1); v5 is transactions V2 (KIP-890 part 2): the epoch is bumped
// with every transaction end and the response carries the producer id and epoch to use next.
// As in Kafka, the request version alone decides which rules apply, whatever transaction.version
// ApiVersions reports as finalized.
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/transactions/transaction_coordinator.h"
#include "protocol/messages/end_txn.h"

namespace samsa::broker {

namespace {

using protocol::end_txn_request;
using protocol::end_txn_response;
using protocol::error_code;

constexpr int16_t last_transactions_v1_version = 4;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    end_txn_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    auto* txns = ctx.transactions();
    const protocol::producer_id producer_id(req.producer_id);
    const protocol::producer_epoch producer_epoch(req.producer_epoch);
    end_txn_result r;
    if (txns == nullptr) r.error = error_code::coordinator_not_available;
    else if (v > last_transactions_v1_version)
        r = txns->end_transaction_v2(req.transactional_id, producer_id, producer_epoch, req.committed);
    else r.error = txns->end_transaction(req.transactional_id, producer_id, producer_epoch, req.committed);
    if (r.error == error_code::producer_fenced && v < 2) r.error = error_code::invalid_producer_epoch;
    end_txn_response resp;
    resp.error_code = to_int(r.error);
    // v5+ only; an error answers -1/-1 as Kafka does.
    const bool ok = r.error == error_code::none;
    resp.producer_id = (ok ? r.producer_id : protocol::no_producer_id).value();
    resp.producer_epoch = (ok ? r.producer_epoch : protocol::no_producer_epoch).value();
    if (!ok) return ctx.respond(resp);
    // Answered once PrepareCommit/PrepareAbort (or, for a retry, the decision) is durable.
    return respond_when_durable(ctx, txns, req.transactional_id, std::move(resp), [](end_txn_response& out, error_code failed) {
        out.error_code = to_int(failed);
        out.producer_id = protocol::no_producer_id.value();
        out.producer_epoch = protocol::no_producer_epoch.value();
    });
}

} // namespace

handler_entry end_txn_handler() {
    return handler_entry{protocol::api_key::end_txn, end_txn_request::min_version, end_txn_request::max_version, handle};
}

} // namespace samsa::broker
