// DescribeTransactions (key 65): the state of each transactional id: its producer, timeout,
// state (Kafka's names), when the transaction started and its partitions by topic.
// TRANSACTIONAL_ID_NOT_FOUND for an id the coordinator does not know.
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/transactions/transaction_coordinator.h"
#include "protocol/messages/describe_transactions.h"

namespace samsa::broker {

namespace {

using protocol::describe_transactions_request;
using protocol::describe_transactions_response;
using protocol::error_code;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    describe_transactions_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    describe_transactions_response resp;
    auto* txns = ctx.transactions();
    for (const auto& id : req.transactional_ids) {
        describe_transactions_response::transaction_state_data s;
        s.transactional_id = id;
        s.producer_id = -1;
        s.producer_epoch = -1;
        s.transaction_start_time_ms = -1;
        if (txns == nullptr) {
            s.error_code = to_int(error_code::coordinator_not_available);
            resp.transaction_states.push_back(std::move(s));
            continue;
        }
        const auto d = txns->describe(id);
        s.error_code = to_int(d.error);
        if (d.error == error_code::none) {
            s.transaction_state = std::string(to_string(d.state));
            s.transaction_timeout_ms = d.timeout_ms;
            s.transaction_start_time_ms = d.start_ms;
            s.producer_id = d.producer_id.value();
            s.producer_epoch = d.producer_epoch.value();
            for (const auto& [topic, partition] : d.partitions) {
                if (s.topics.empty() || s.topics.back().topic != topic) s.topics.push_back({topic, {}});
                s.topics.back().partitions.push_back(partition.value());
            }
        }
        resp.transaction_states.push_back(std::move(s));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry describe_transactions_handler() {
    return handler_entry{protocol::api_key::describe_transactions, describe_transactions_request::min_version,
                         describe_transactions_request::max_version, handle};
}

} // namespace samsa::broker
