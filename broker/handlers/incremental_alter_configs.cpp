// IncrementalAlterConfigs (key 44, KIP-339): SET, DELETE, APPEND and SUBTRACT on single keys of
// TOPIC, BROKER and BROKER_LOGGER resources, leaving the other keys as they are. The
// config_registry validates (Kafka's errors: INVALID_CONFIG, INVALID_REQUEST,
// UNKNOWN_TOPIC_OR_PARTITION), persists and applies; each resource gets its own result.
#include "broker/admin/config_registry.h"
#include "broker/handlers/config_alteration.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/incremental_alter_configs.h"

namespace samsa::broker {

namespace {

using protocol::incremental_alter_configs_request;
using protocol::incremental_alter_configs_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    return alter_config_resources<incremental_alter_configs_request, incremental_alter_configs_response>(
        ctx, body, [&ctx](const incremental_alter_configs_request::alter_configs_resource& res, bool validate_only) {
            std::vector<config_change> changes;
            changes.reserve(res.configs.size());
            for (const auto& c : res.configs) changes.push_back({c.name, c.config_operation, c.value});
            return ctx.configs().incremental_alter(res.resource_type, res.resource_name, changes, validate_only);
        });
}

} // namespace

handler_entry incremental_alter_configs_handler() {
    return handler_entry{protocol::api_key::incremental_alter_configs, incremental_alter_configs_request::min_version,
                         incremental_alter_configs_request::max_version, handle};
}

} // namespace samsa::broker
