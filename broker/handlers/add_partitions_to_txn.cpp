// AddPartitionsToTxn (key 24): adds partitions to a producer's ongoing transaction, so that
// its markers reach them when the transaction ends. v0-v3 carry one producer (clients); v4+
// a batch of producers (brokers), each of which may ask only whether its partitions are in the
// transaction (verify_only, KIP-890). A partition of an unknown topic fails the whole
// transaction: it gets UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED.
#include "broker/handlers/durable_answer.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/transactions/transaction_coordinator.h"
#include "protocol/messages/add_partitions_to_txn.h"

#include <algorithm>

namespace samsa::broker {

namespace {

using protocol::add_partitions_to_txn_request;
using protocol::add_partitions_to_txn_response;
using protocol::error_code;
using topic_results = std::vector<add_partitions_to_txn_response::add_partitions_to_txn_topic_result>;

// Errors a client of this version does not know become the ones it handles the same way.
error_code for_version(error_code e, int16_t v) {
    if (e == error_code::producer_fenced && v < 2) return error_code::invalid_producer_epoch;
    if (e == error_code::transaction_abortable && v < 5) return error_code::invalid_txn_state;
    return e;
}

topic_results run(request_context& ctx, const std::string& transactional_id, protocol::producer_id producer_id,
                  protocol::producer_epoch producer_epoch,
                  const std::vector<add_partitions_to_txn_request::add_partitions_to_txn_topic>& topics, bool verify_only) {
    std::vector<txn_topic_partition> requested;
    std::vector<bool> known;
    for (const auto& t : topics) {
        const auto* info = ctx.metadata().topics().find(t.name);
        for (const int32_t p : t.partitions) {
            requested.emplace_back(t.name, protocol::partition_id(p));
            known.push_back(info != nullptr && p >= 0 && p < info->partitions);
        }
    }
    std::vector<error_code> errors(requested.size(), error_code::none);
    auto* txns = ctx.transactions();
    if (std::find(known.begin(), known.end(), false) != known.end()) {
        for (size_t i = 0; i < errors.size(); ++i)
            errors[i] = known[i] ? error_code::operation_not_attempted : error_code::unknown_topic_or_partition;
    } else if (txns == nullptr) {
        std::fill(errors.begin(), errors.end(), error_code::coordinator_not_available);
    } else if (verify_only) {
        errors = txns->verify_partitions(transactional_id, producer_id, producer_epoch, requested);
    } else {
        const std::set<txn_topic_partition> adding(requested.begin(), requested.end());
        std::fill(errors.begin(), errors.end(), txns->add_partitions(transactional_id, producer_id, producer_epoch, adding));
    }
    topic_results out;
    size_t i = 0;
    for (const auto& t : topics) {
        add_partitions_to_txn_response::add_partitions_to_txn_topic_result r;
        r.name = t.name;
        for (const int32_t p : t.partitions) r.results_by_partition.push_back({p, to_int(for_version(errors[i++], ctx.api_version()))});
        out.push_back(std::move(r));
    }
    return out;
}

// A durable-write failure replaces every success of the answer.
void fail_successes(topic_results& results, error_code e) {
    for (auto& t : results)
        for (auto& p : t.results_by_partition)
            if (p.partition_error_code == to_int(error_code::none)) p.partition_error_code = to_int(e);
}

bool any_success(const topic_results& results) {
    for (const auto& t : results)
        for (const auto& p : t.results_by_partition)
            if (p.partition_error_code == to_int(error_code::none)) return true;
    return false;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    add_partitions_to_txn_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    add_partitions_to_txn_response resp;
    if (v < 4) {
        resp.results_by_topic_v3_and_below =
            run(ctx, req.v3_and_below_transactional_id, protocol::producer_id(req.v3_and_below_producer_id),
                protocol::producer_epoch(req.v3_and_below_producer_epoch), req.v3_and_below_topics, false);
        if (!any_success(resp.results_by_topic_v3_and_below)) return ctx.respond(resp);
        return respond_when_durable(ctx, ctx.transactions(), req.v3_and_below_transactional_id, std::move(resp),
                                    [](add_partitions_to_txn_response& out, error_code e) {
                                        fail_successes(out.results_by_topic_v3_and_below, e);
                                    });
    }
    resp.error_code = to_int(error_code::none);
    for (const auto& t : req.transactions)
        resp.results_by_transaction.push_back(
            {t.transactional_id, run(ctx, t.transactional_id, protocol::producer_id(t.producer_id),
                                     protocol::producer_epoch(t.producer_epoch), t.topics, t.verify_only)});
    // A verification writes nothing; an added partition is answered once it is durable.
    std::vector<std::string> wrote;
    for (size_t i = 0; i < req.transactions.size(); ++i)
        if (!req.transactions[i].verify_only && any_success(resp.results_by_transaction[i].topic_results))
            wrote.push_back(req.transactions[i].transactional_id);
    return respond_when_durable(ctx, ctx.transactions(), wrote, std::move(resp), [](add_partitions_to_txn_response& out, error_code e) {
        for (auto& t : out.results_by_transaction) fail_successes(t.topic_results, e);
    });
}

} // namespace

handler_entry add_partitions_to_txn_handler() {
    return handler_entry{protocol::api_key::add_partitions_to_txn, add_partitions_to_txn_request::min_version,
                         add_partitions_to_txn_request::max_version, handle};
}

} // namespace samsa::broker
