// AddOffsetsToTxn (key 25): adds the __consumer_offsets partition of a group to a producer's
// transaction, so that the offsets TxnOffsetCommit writes there become visible (or are
// dropped) with the transaction's marker. The group's partition is the group coordinator's.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/transactions/transaction_coordinator.h"
#include "protocol/messages/add_offsets_to_txn.h"

namespace samsa::broker {

namespace {

using protocol::add_offsets_to_txn_request;
using protocol::add_offsets_to_txn_response;
using protocol::error_code;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    add_offsets_to_txn_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    add_offsets_to_txn_response resp;
    auto* txns = ctx.transactions();
    error_code e = txns == nullptr ? error_code::coordinator_not_available : error_code::none;
    // Creates __consumer_offsets on first use, so the group has a partition.
    if (e == error_code::none) e = ctx.groups().find_coordinator(req.group_id);
    if (e == error_code::invalid_request) e = error_code::invalid_group_id;
    if (e == error_code::none) {
        const txn_topic_partition offsets{std::string(offsets_topic_name), ctx.groups().partition_for(req.group_id)};
        e = txns->add_partitions(req.transactional_id, protocol::producer_id(req.producer_id),
                                 protocol::producer_epoch(req.producer_epoch), {offsets});
    }
    if (e == error_code::producer_fenced && v < 2) e = error_code::invalid_producer_epoch;
    resp.error_code = to_int(e);
    if (e != error_code::none) return ctx.respond(resp);
    return respond_when_durable(ctx, txns, req.transactional_id, std::move(resp),
                                [](add_offsets_to_txn_response& out, error_code failed) { out.error_code = to_int(failed); });
}

} // namespace

handler_entry add_offsets_to_txn_handler() {
    return handler_entry{protocol::api_key::add_offsets_to_txn, add_offsets_to_txn_request::min_version,
                         add_offsets_to_txn_request::max_version, handle};
}

} // namespace samsa::broker
