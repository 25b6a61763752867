// ListTransactions (key 66): the transactional ids this coordinator knows, filtered by state
// (Kafka's names; unknown ones are sent back in UnknownStateFilters), by producer id and (v1+)
// by how long the transaction has been running.
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/transactions/transaction_coordinator.h"
#include "protocol/messages/list_transactions.h"

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::list_transactions_request;
using protocol::list_transactions_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    list_transactions_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    list_transactions_response resp;
    auto* txns = ctx.transactions();
    if (txns == nullptr) {
        resp.error_code = to_int(error_code::coordinator_not_available);
        return ctx.respond(resp);
    }
    const std::vector<protocol::producer_id> producer_ids(req.producer_id_filters.begin(), req.producer_id_filters.end());
    auto r = txns->list(req.state_filters, producer_ids, v >= 1 ? req.duration_filter : -1);
    resp.error_code = to_int(r.error);
    resp.unknown_state_filters = std::move(r.unknown_state_filters);
    for (auto& t : r.transactions)
        resp.transaction_states.push_back(
            {std::move(t.transactional_id), t.producer_id.value(), std::string(to_string(t.state))});
    return ctx.respond(resp);
}

} // namespace

handler_entry list_transactions_handler() {
    return handler_entry{protocol::api_key::list_transactions, list_transactions_request::min_version,
                         list_transactions_request::max_version, handle};
}

} // namespace samsa::broker
