// IncrementalAlterConfigs (key 44, KIP-339): SET, DELETE, APPEND and SUBTRACT on single keys of
// TOPIC, BROKER and BROKER_LOGGER resources, leaving the other keys as they are. The
// config_registry validates (Kafka's errors: INVALID_CONFIG, INVALID_REQUEST,
// UNKNOWN_TOPIC_OR_PARTITION), persists and applies; each resource gets its own result.
#include "broker/admin/config_registry.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/incremental_alter_configs.h"

namespace samsa::broker {

namespace {

using protocol::incremental_alter_configs_request;
using protocol::incremental_alter_configs_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    incremental_alter_configs_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    incremental_alter_configs_response resp;
    resp.responses.reserve(req.resources.size());
    for (const auto& res : req.resources) {
        std::vector<config_change> changes;
        changes.reserve(res.configs.size());
        for (const auto& c : res.configs) changes.push_back({c.name, c.config_operation, c.value});
        const auto outcome = ctx.configs().incremental_alter(res.resource_type, res.resource_name, changes, req.validate_only);
        incremental_alter_configs_response::alter_configs_resource_response r;
        r.error_code = to_int(outcome.error);
        r.error_message = outcome.message;
        r.resource_type = res.resource_type;
        r.resource_name = res.resource_name;
        resp.responses.push_back(std::move(r));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry incremental_alter_configs_handler() {
    return handler_entry{protocol::api_key::incremental_alter_configs, incremental_alter_configs_request::min_version,
                         incremental_alter_configs_request::max_version, handle};
}

} // namespace samsa::broker
