// DescribeCluster (key 60, KIP-700): the cluster id, the controller (this node: a single node
// is its own controller) and the brokers (this node, at the address advertised for the listener
// the request came on). Brokers answer only broker endpoint requests: asking a broker listener
// for controllers is MISMATCHED_ENDPOINT_TYPE, an unknown endpoint type
// UNSUPPORTED_ENDPOINT_TYPE, as Kafka answers them.
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/describe_cluster.h"

namespace samsa::broker {

namespace {

using protocol::describe_cluster_request;
using protocol::describe_cluster_response;
using protocol::error_code;

// Without an authorizer Kafka reports every cluster operation: CREATE, ALTER, DESCRIBE,
// CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
constexpr int32_t cluster_operations = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);
constexpr int8_t broker_endpoint = 1;
constexpr int8_t controller_endpoint = 2;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    describe_cluster_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    describe_cluster_response resp;
    resp.endpoint_type = req.endpoint_type;
    if (v >= 1 && req.endpoint_type == controller_endpoint) {
        resp.error_code = to_int(error_code::mismatched_endpoint_type);
        resp.error_message = "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER";
        return ctx.respond(resp);
    }
    if (v >= 1 && req.endpoint_type != broker_endpoint) {
        resp.error_code = to_int(error_code::unsupported_endpoint_type);
        resp.error_message = "Unsupported endpoint type " + std::to_string(req.endpoint_type);
        return ctx.respond(resp);
    }
    const auto& metadata = ctx.metadata();
    resp.cluster_id = metadata.cluster_id();
    const int32_t node = metadata.node_id().value();
    resp.controller_id = node;
    resp.brokers.push_back({node, ctx.connection().advertised_host, ctx.connection().advertised_port, std::nullopt});
    if (req.include_cluster_authorized_operations) resp.cluster_authorized_operations = cluster_operations;
    return ctx.respond(resp);
}

} // namespace

handler_entry describe_cluster_handler() {
    return handler_entry{protocol::api_key::describe_cluster, describe_cluster_request::min_version,
                         describe_cluster_request::max_version, handle};
}

} // namespace samsa::broker
