// EndTxn (key 26): commits or aborts a producer's transaction. Answered once PrepareCommit or
// PrepareAbort is on __transaction_state; the markers are written after. v5 belongs to
// transactions V2 (an epoch bump with every transaction), which this broker does not
// advertise, so it serves v0-v4.
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
    error_code e = txns == nullptr ? error_code::coordinator_not_available
                                   : txns->end_transaction(req.transactional_id, req.producer_id, req.producer_epoch, req.committed);
    if (e == error_code::producer_fenced && v < 2) e = error_code::invalid_producer_epoch;
    end_txn_response resp;
    resp.error_code = to_int(e);
    return ctx.respond(resp);
}

} // namespace

handler_entry end_txn_handler() {
    return handler_entry{protocol::api_key::end_txn, end_txn_request::min_version, last_transactions_v1_version, handle,
                         "v5 is transactions V2 (KIP-890 part 2), which is not advertised"};
}

} // namespace samsa::broker
