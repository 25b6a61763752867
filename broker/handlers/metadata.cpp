// Metadata (key 3): this node as the only broker and controller, and the requested topics
// with their ids, partitions, leader epochs and replicas (always this node). Unknown topics
// are auto-created when both auto.create.topics.enable and the request allow it; invalid
// names get INVALID_TOPIC_EXCEPTION, unknown ids UNKNOWN_TOPIC_ID.
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/topic_name.h"
#include "protocol/messages/metadata.h"

#include <set>

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::metadata_request;
using protocol::metadata_response;

// What Kafka reports without an authorizer: every operation the resource type supports.
// Topic: READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
constexpr int32_t topic_operations = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
// Cluster: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
constexpr int32_t cluster_operations = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

metadata_response::metadata_response_topic describe(const topic_info& t, protocol::node_id node) {
    metadata_response::metadata_response_topic out;
    out.error_code = 0;
    out.name = t.name;
    out.topic_id = t.id;
    out.is_internal = is_internal_topic(t.name);
    out.partitions.reserve(static_cast<size_t>(t.partitions));
    for (int32_t p = 0; p < t.partitions; ++p) {
        metadata_response::metadata_response_partition part;
        part.partition_index = p;
        part.leader_id = node.value();
        part.leader_epoch = t.leader_epoch.value();
        part.replica_nodes = {node.value()};
        part.isr_nodes = {node.value()};
        out.partitions.push_back(std::move(part));
    }
    return out;
}

metadata_response::metadata_response_topic failed(error_code e, std::optional<std::string> name, protocol::uuid id = {}) {
    metadata_response::metadata_response_topic out;
    out.error_code = to_int(e);
    out.name = std::move(name);
    out.topic_id = id;
    return out;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    metadata_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    auto& md = ctx.metadata();
    const protocol::node_id node = md.node_id();
    metadata_response resp;
    resp.brokers.push_back({node.value(), ctx.connection().advertised_host, ctx.connection().advertised_port, std::nullopt});
    resp.cluster_id = md.cluster_id();
    resp.controller_id = node.value();

    const bool all_topics = !req.topics || (v == 0 && req.topics->empty());
    if (all_topics) {
        for (const auto* t : md.topics().all()) resp.topics.push_back(describe(*t, node));
    } else {
        const bool may_create = ctx.config().auto_create_topics_enable && req.allow_auto_topic_creation;
        std::vector<new_topic> to_create;
        std::set<std::string> seen_names;
        std::set<protocol::uuid> seen_ids;
        for (const auto& rt : *req.topics) {
            const bool by_id = !rt.topic_id.is_zero() && (v >= 12 || !rt.name);
            if (by_id) {
                if (!seen_ids.insert(rt.topic_id).second) continue;
                if (const auto* t = md.topics().find(rt.topic_id)) resp.topics.push_back(describe(*t, node));
                else resp.topics.push_back(failed(error_code::unknown_topic_id, std::nullopt, rt.topic_id));
                continue;
            }
            if (!rt.name) {
                resp.topics.push_back(failed(error_code::invalid_request, std::nullopt));
                continue;
            }
            const std::string& name = *rt.name;
            if (!seen_names.insert(name).second) continue;
            if (const auto* t = md.topics().find(name)) {
                resp.topics.push_back(describe(*t, node));
            } else if (topic_name_problem(name)) {
                resp.topics.push_back(failed(error_code::invalid_topic_exception, name));
            } else if (may_create) {
                to_create.push_back(new_topic{name, -1, -1, {}, {}});
            } else {
                resp.topics.push_back(failed(error_code::unknown_topic_or_partition, name));
            }
        }
        if (!to_create.empty()) {
            const auto outcomes = md.create_topics(to_create, false);
            for (const auto& o : outcomes) {
                if (o.error == error_code::none) {
                    if (const auto* t = md.topics().find(o.topic.name)) resp.topics.push_back(describe(*t, node));
                } else {
                    resp.topics.push_back(failed(o.error, o.topic.name));
                }
            }
        }
    }

    if (v >= 8 && req.include_topic_authorized_operations)
        for (auto& t : resp.topics)
            if (t.error_code == 0) t.topic_authorized_operations = topic_operations;
    if (v >= 8 && v <= 10 && req.include_cluster_authorized_operations) resp.cluster_authorized_operations = cluster_operations;
    return ctx.respond(resp);
}

} // namespace

handler_entry metadata_handler() {
    return handler_entry{protocol::api_key::metadata, metadata_request::min_version, metadata_request::max_version, handle};
}

} // namespace samsa::broker
