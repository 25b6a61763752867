// TxnOffsetCommit (key 28): offsets a transactional producer commits for a consumer group as
// part of its transaction (consume-transform-produce). The transaction coordinator checks the
// producer and that AddOffsetsToTxn put the group's __consumer_offsets partition in the
// transaction; the group coordinator checks the member (v3+), writes the offsets as the
// producer's transactional records and holds them until the transaction's marker.
#include "broker/groups/group_coordinator.h"
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/transactions/transaction_coordinator.h"
#include "protocol/messages/txn_offset_commit.h"

#include <algorithm>
#include <string>

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::txn_offset_commit_request;
using protocol::txn_offset_commit_response;

// The transaction's verdict on this producer, in terms a client of this version knows.
error_code check_producer(request_context& ctx, const txn_offset_commit_request& req) {
    auto* txns = ctx.transactions();
    if (txns == nullptr) return error_code::coordinator_not_available;
    const txn_topic_partition offsets{std::string(offsets_topic_name), ctx.groups().partition_for(req.group_id)};
    auto e = txns->verify_partitions(req.transactional_id, protocol::producer_id(req.producer_id),
                                     protocol::producer_epoch(req.producer_epoch), {offsets})
                 .front();
    // A stale epoch is what the __consumer_offsets log itself would refuse in Kafka.
    if (e == error_code::producer_fenced) e = error_code::invalid_producer_epoch;
    if (e == error_code::transaction_abortable && ctx.api_version() < 4) e = error_code::invalid_txn_state;
    if (e == error_code::invalid_request) e = error_code::invalid_group_id;
    return e;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    txn_offset_commit_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    size_t count = 0;
    for (const auto& t : req.topics) count += t.partitions.size();
    std::vector<error_code> errors(count, check_producer(ctx, req));
    if (count > 0 && errors.front() == error_code::none) {
        txn_offset_commit_params p;
        p.group_id = req.group_id;
        p.producer_id = protocol::producer_id(req.producer_id);
        p.producer_epoch = protocol::producer_epoch(req.producer_epoch);
        p.generation_id = v >= 3 ? req.generation_id : -1;
        if (v >= 3) p.member_id = req.member_id;
        if (v >= 3) p.group_instance_id = req.group_instance_id;
        for (const auto& t : req.topics)
            for (const auto& part : t.partitions)
                p.offsets.push_back({t.name, protocol::partition_id(part.partition_index),
                                     protocol::offset(part.committed_offset),
                                     protocol::leader_epoch(part.committed_leader_epoch), part.committed_metadata, -1});
        errors = ctx.groups().commit_txn_offsets(p);
    }

    txn_offset_commit_response resp;
    size_t i = 0;
    for (const auto& t : req.topics) {
        txn_offset_commit_response::txn_offset_commit_response_topic rt;
        rt.name = t.name;
        for (const auto& part : t.partitions) rt.partitions.push_back({part.partition_index, to_int(errors[i++])});
        resp.topics.push_back(std::move(rt));
    }
    if (std::find(errors.begin(), errors.end(), error_code::none) == errors.end()) return ctx.respond(resp);
    // The pending offsets are on __consumer_offsets: answered once they are durable.
    return respond_when_durable(ctx, &ctx.groups(), req.group_id, std::move(resp), [](txn_offset_commit_response& out, error_code e) {
        for (auto& t : out.topics)
            for (auto& part : t.partitions)
                if (part.error_code == 0) part.error_code = to_int(e);
    });
}

} // namespace

handler_entry txn_offset_commit_handler() {
    return handler_entry{protocol::api_key::txn_offset_commit, txn_offset_commit_request::min_version,
                         txn_offset_commit_request::max_version, handle};
}

} // namespace samsa::broker
