// AlterConfigs (key 33), the legacy form: each TOPIC or BROKER resource's settings become
// exactly the ones sent (keys left out go back to their defaults). Validation, persistence and
// live application are the config_registry's; every resource gets its own result, so one bad
// resource does not stop the others. validate_only checks without changing anything.
#include "broker/admin/config_registry.h"
#include "broker/handlers/config_alteration.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/alter_configs.h"

namespace samsa::broker {

namespace {

using protocol::alter_configs_request;
using protocol::alter_configs_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    return alter_config_resources<alter_configs_request, alter_configs_response>(
        ctx, body, [&ctx](const alter_configs_request::alter_configs_resource& res, bool validate_only) {
            std::vector<std::pair<std::string, std::optional<std::string>>> configs;
            configs.reserve(res.configs.size());
            for (const auto& c : res.configs) configs.emplace_back(c.name, c.value);
            return ctx.configs().alter(res.resource_type, res.resource_name, configs, validate_only);
        });
}

} // namespace

handler_entry alter_configs_handler() {
    return handler_entry{protocol::api_key::alter_configs, alter_configs_request::min_version,
                         alter_configs_request::max_version, handle};
}

} // namespace samsa::broker
