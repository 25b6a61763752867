// WriteTxnMarkers (key 27): a transaction coordinator asks the partition leader to end a
// producer's transaction on the listed partitions. Each marker goes through the same
// partition_txn_marker_writer the coordinator of this node uses; the answer lists every
// partition of every marker with its error (UNKNOWN_TOPIC_OR_PARTITION, INVALID_PRODUCER_EPOCH,
// TRANSACTION_COORDINATOR_FENCED, KAFKA_STORAGE_ERROR) and waits for the markers' fsync where a
// topic's flush policy asks for it.
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/transactions/partition_txn_marker_writer.h"
#include "protocol/messages/write_txn_markers.h"

#include <memory>
#include <optional>

namespace samsa::broker {

namespace {

using protocol::write_txn_markers_request;
using protocol::write_txn_markers_response;

// The response being filled in as the markers complete (possibly after the handler returned).
struct markers_answer {
    write_txn_markers_response response;
    size_t left = 0;
    std::optional<deferred_response> reply;
};

void fill(write_txn_markers_response::writable_txn_marker_result& out, const std::vector<txn_marker_result>& results) {
    for (const auto& r : results) {
        if (out.topics.empty() || out.topics.back().name != r.partition.topic) {
            write_txn_markers_response::writable_txn_marker_topic_result t;
            t.name = r.partition.topic;
            out.topics.push_back(std::move(t));
        }
        out.topics.back().partitions.push_back({r.partition.partition.value(), to_int(r.error)});
    }
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    write_txn_markers_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    auto answer = std::make_shared<markers_answer>();
    answer->response.markers.resize(req.markers.size());
    answer->left = req.markers.size();
    partition_txn_marker_writer writer(ctx.partitions());
    for (size_t i = 0; i < req.markers.size(); ++i) {
        const auto& m = req.markers[i];
        answer->response.markers[i].producer_id = m.producer_id;
        txn_marker_request r;
        r.producer_id = protocol::producer_id(m.producer_id);
        r.producer_epoch = protocol::producer_epoch(m.producer_epoch);
        r.coordinator_epoch = m.coordinator_epoch;
        r.commit = m.transaction_result;
        for (const auto& t : m.topics)
            for (const int32_t p : t.partition_indexes) r.partitions.push_back({t.name, protocol::partition_id(p)});
        writer.write_markers(r, [answer, i](std::vector<txn_marker_result> results) {
            fill(answer->response.markers[i], results);
            if (--answer->left == 0 && answer->reply) answer->reply->respond(answer->response);
        });
    }
    if (answer->left == 0) return ctx.respond(answer->response);
    answer->reply = ctx.defer();
    return handler_result::deferred();
}

} // namespace

handler_entry write_txn_markers_handler() {
    return handler_entry{protocol::api_key::write_txn_markers, write_txn_markers_request::min_version,
                         write_txn_markers_request::max_version, handle};
}

} // namespace samsa::broker
