// Produce (key 0): appends each partition's record batch to its log. The batch stays opaque: the
// log checks its v2 header and CRC-32C in place and patches its base offset into the request
// frame before writing it; messages from v0-v2 clients in the old formats are converted to one v2
// batch first (produce/produce_records.h). acks=0 gets no response, acks=1 an answer after the
// append, acks=-1 the same on this single node (the ISR is this node), or after the fsync when
// the topic has a flush policy (produce/produce_completion.h), bounded by timeout_ms. Other acks:
// INVALID_REQUIRED_ACKS. As in Kafka, error_message and record_errors (v8+) are filled only when
// the record checks refused records, and an acks=0 request that failed anywhere closes the
// connection: its client learns of errors only that way. A partition named more than once keeps
// only its last copy, as in Kafka (whose handler turns the request into a map): the earlier
// copies are neither appended nor answered.
#include "broker/admin/quota_manager.h"
#include "broker/admin/topic_compression.h"
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "broker/produce/produce_completion.h"
#include "broker/produce/produce_records.h"
#include "broker/request_context.h"
#include "protocol/messages/produce.h"

#include <map>
#include <string_view>
#include <utility>
#include <vector>

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::produce_request;
using protocol::produce_response;

void set_error(produce_response::partition_produce_response& r, error_code e) {
    r.error_code = to_int(e);
    r.base_offset = -1;
}

// Kafka's log line for an acks=0 request it answers by closing the connection.
std::string acks0_failure(const request_context& ctx, const produce_response& resp) {
    std::string out = "error during produce request with correlation id " + std::to_string(ctx.correlation_id()) +
                      " with acks=0; topic and partition to error codes:";
    for (const auto& t : resp.responses)
        for (const auto& p : t.partition_responses)
            if (p.error_code != 0) out += " " + t.name + "-" + std::to_string(p.index) + ": " + std::to_string(p.error_code);
    return out;
}

// For each topic entry, which of its partition entries a later entry of the request names again.
std::vector<std::vector<bool>> superseded_entries(const produce_request& req) {
    std::map<std::pair<std::string_view, int32_t>, std::pair<size_t, size_t>> last;
    std::vector<std::vector<bool>> superseded(req.topic_data.size());
    for (size_t t = 0; t < req.topic_data.size(); ++t) {
        const auto& topic = req.topic_data[t];
        superseded[t].assign(topic.partition_data.size(), false);
        for (size_t p = 0; p < topic.partition_data.size(); ++p) {
            auto [it, first] = last.try_emplace({topic.name, topic.partition_data[p].index}, t, p);
            if (first) continue;
            superseded[it->second.first][it->second.second] = true;
            it->second = {t, p};
        }
    }
    return superseded;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    produce_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    const bool valid_acks = req.acks == 0 || req.acks == 1 || req.acks == -1;
    auto& partitions = ctx.partitions();
    const int64_t now = partition_manager::wall_clock_ms();
    produce_response resp;
    resp.responses.reserve(req.topic_data.size());
    std::vector<produce_completion::pending> durable;
    const auto superseded = superseded_entries(req);
    for (size_t ti = 0; ti < req.topic_data.size(); ++ti) {
        const auto& t = req.topic_data[ti];
        produce_response::topic_produce_response tr;
        tr.name = t.name;
        tr.partition_responses.reserve(t.partition_data.size());
        for (size_t pi = 0; pi < t.partition_data.size(); ++pi) {
            if (superseded[ti][pi]) continue;
            const auto& p = t.partition_data[pi];
            produce_response::partition_produce_response pr;
            pr.index = p.index;
            if (!valid_acks) {
                set_error(pr, error_code::invalid_required_acks);
                tr.partition_responses.push_back(std::move(pr));
                continue;
            }
            const partition_handle h = partitions.find(t.name, protocol::partition_id(p.index));
            produce_records records = h.ok() ? prepare_produce_records(v, p.records) : produce_records{};
            if (h.ok() && records.error == error_code::none && !records.batches().empty()) {
                // The topic's compression.type: anything but "producer" recompresses on write.
                auto rc = recompress_for_topic(records.batches(), topic_compression_type(*h.topic, ctx.config()));
                if (rc.error != error_code::none) {
                    records.error = rc.error;
                    records.message = std::move(rc.message);
                } else if (rc.rebuilt) {
                    records.converted = std::move(*rc.rebuilt);
                }
            }
            // min.insync.replicas: this node is every partition's only in-sync replica.
            if (h.ok() && records.error == error_code::none && req.acks == -1) {
                const auto min_isr = topic_config_value(h.topic->configs, "min.insync.replicas", ctx.config());
                if (min_isr != "1") records.error = error_code::not_enough_replicas;
            }
            if (!h.ok()) {
                set_error(pr, h.error);
            } else if (records.error != error_code::none) {
                set_error(pr, records.error);
            } else if (records.batches().empty()) {
                pr.base_offset = -1;  // an empty message set from an old client: nothing to write
            } else if (auto r = partitions.append(h, records.batches(), now); r.error != error_code::none) {
                set_error(pr, r.error);
                pr.log_start_offset = r.log_start_offset.value();
                if (!r.record_errors.empty()) {
                    pr.error_message = std::move(r.error_message);
                    pr.record_errors.reserve(r.record_errors.size());
                    for (auto& e : r.record_errors) pr.record_errors.push_back({e.batch_index, std::move(e.message)});
                }
            } else {
                pr.base_offset = r.base_offset.value();
                pr.log_append_time_ms = r.log_append_time;
                pr.log_start_offset = r.log_start_offset.value();
                if (req.acks == -1 && acks_all_waits_for_fsync(h.log->config()))
                    durable.push_back({h.log, resp.responses.size(), tr.partition_responses.size()});
            }
            tr.partition_responses.push_back(std::move(pr));
        }
        if (!tr.partition_responses.empty() || t.partition_data.empty()) resp.responses.push_back(std::move(tr));
    }
    // Produce byte-rate quota: the response says how long to back off and the connection stops
    // reading for that long (KIP-219); with acks=0 only the latter.
    if (auto* quotas = ctx.quotas())
        (void)ctx.throttle(quotas->record(quota_kind::produce, ctx.principal(), ctx.client_id().value_or(""),
                                          static_cast<double>(body.size()), static_cast<int64_t>(ctx.loop().now_ms())));
    if (req.acks == 0) {
        for (const auto& t : resp.responses)
            for (const auto& p : t.partition_responses)
                if (p.error_code != 0) return handler_result::close(acks0_failure(ctx, resp));
        return handler_result::no_response();
    }
    if (durable.empty()) return ctx.respond(resp);
    produce_completion::start(ctx.defer(), std::move(resp), std::move(durable), ctx.loop(), req.timeout_ms);
    return handler_result::deferred();
}

} // namespace

handler_entry produce_handler() {
    return handler_entry{protocol::api_key::produce, produce_request::min_version, produce_request::max_version, handle};
}

} // namespace samsa::broker
