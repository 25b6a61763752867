// Fetch (key 1): a consumer reads record batches. The request's session fields pick a context
// (sessionless, full, incremental; fetch/fetch_session_cache.h); fetch/fetch_operation.h reads the
// partitions (zero-copy: record bytes go from the segment files to the socket with sendfile),
// waits for data when min_bytes are not there yet, and encodes the response. Partitions are named
// by topic id from v13 (UNKNOWN_TOPIC_ID); v0-v3 get their batches down-converted to magic 0/1.
#include "broker/admin/quota_manager.h"
#include "broker/fetch/fetch_operation.h"
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "broker/request_context.h"
#include "protocol/messages/fetch.h"

#include <algorithm>

namespace samsa::broker {

namespace {

using protocol::fetch_request;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    fetch_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    const bool by_id = v >= 13;
    std::vector<fetch_partition_request> wanted;
    for (auto& t : req.topics) {
        for (const auto& p : t.partitions) {
            fetch_partition_request w;
            if (by_id) w.key.topic_id = t.topic_id;
            else w.key.topic = t.topic;
            w.key.partition = protocol::partition_id(p.partition);
            w.params.fetch_offset = protocol::offset(p.fetch_offset);
            w.params.max_bytes = p.partition_max_bytes;
            w.params.current_leader_epoch = protocol::leader_epoch(p.current_leader_epoch);
            w.params.last_fetched_epoch = protocol::leader_epoch(p.last_fetched_epoch);
            w.params.log_start_offset = protocol::offset(p.log_start_offset);
            wanted.push_back(std::move(w));
        }
    }
    std::vector<fetch_partition_key> forgotten;
    for (const auto& f : req.forgotten_topics_data) {
        for (const int32_t p : f.partitions) {
            fetch_partition_key k;
            if (by_id) k.topic_id = f.topic_id;
            else k.topic = f.topic;
            k.partition = protocol::partition_id(p);
            forgotten.push_back(std::move(k));
        }
    }

    auto& partitions = ctx.partitions();
    // Before v7 there are no sessions: the defaults (id 0, epoch -1) make a sessionless fetch.
    fetch_context context = partitions.sessions().new_context(req.session_id, req.session_epoch, std::move(wanted),
                                                              forgotten, by_id, partition_manager::wall_clock_ms());
    fetch_settings s;
    s.version = v;
    s.correlation_id = ctx.correlation_id();
    s.max_wait_ms = req.max_wait_ms;
    // The broker's fetch.max.bytes bounds every response, as in Kafka (KIP-541); before v3 the
    // request has no max_bytes and this is the only bound on the sum of its partitions.
    s.max_bytes = std::min(req.max_bytes, ctx.config().fetch_max_bytes);
    s.min_bytes = std::min(req.min_bytes, s.max_bytes);  // else no read could ever satisfy it
    s.isolation_level = req.isolation_level;
    // Consumer byte-rate quota, charged with the size of the response when it is encoded. Like
    // Kafka, a fetch is capped at what the quota allows in its windows: a larger one would be
    // throttled for certain, and the client would never get it.
    if (auto* quotas = ctx.quotas()) {
        const std::string_view client = ctx.client_id().value_or("");
        if (const auto cap = quotas->max_value_in_window(quota_kind::fetch, ctx.principal(), client)) {
            s.max_bytes = static_cast<int32_t>(std::min<double>(*cap, s.max_bytes));
            s.min_bytes = std::min(s.min_bytes, s.max_bytes);
            s.quotas = quotas;
            s.user = std::string(ctx.principal());
            s.client_id = std::string(client);
        }
    }
    return fetch_operation::start(ctx, partitions, s, std::move(context));
}

} // namespace

handler_entry fetch_handler() {
    return handler_entry{protocol::api_key::fetch, fetch_request::min_version, fetch_request::max_version, handle};
}

} // namespace samsa::broker
