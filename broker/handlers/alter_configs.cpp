// AlterConfigs (key 33), the legacy form: each TOPIC or BROKER resource's settings become
// exactly the ones sent (keys left out go back to their defaults). Validation, persistence and
// live application are the config_registry's; every resource gets its own result, so one bad
// resource does not stop the others. validate_only checks without changing anything.
#include "broker/admin/config_registry.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/alter_configs.h"

namespace samsa::broker {

namespace {

using protocol::alter_configs_request;
using protocol::alter_configs_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    alter_configs_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    alter_configs_response resp;
    resp.responses.reserve(req.resources.size());
    for (const auto& res : req.resources) {
        std::vector<std::pair<std::string, std::optional<std::string>>> configs;
        configs.reserve(res.configs.size());
        for (const auto& c : res.configs) configs.emplace_back(c.name, c.value);
        const auto outcome = ctx.configs().alter(res.resource_type, res.resource_name, configs, req.validate_only);
        alter_configs_response::alter_configs_resource_response r;
        r.error_code = to_int(outcome.error);
        r.error_message = outcome.message;
        r.resource_type = res.resource_type;
        r.resource_name = res.resource_name;
        resp.responses.push_back(std::move(r));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry alter_configs_handler() {
    return handler_entry{protocol::api_key::alter_configs, alter_configs_request::min_version,
                         alter_configs_request::max_version, handle};
}

} // namespace samsa::broker
