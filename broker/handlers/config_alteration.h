// The body AlterConfigs and IncrementalAlterConfigs share: decode the request, hand each
// resource to the config_registry on its own (one bad resource does not stop the others) and
// answer with one result per resource, in request order, carrying the registry's error and
// message. The two differ only in how a resource's entries become a registry call, which the
// handler's `alter(resource, validate_only)` makes. Header-only helper for those two handlers;
// loop thread only; `body` is borrowed for the call.
#pragma once

#include "broker/admin/config_registry.h"
#include "broker/handler.h"
#include "broker/request_context.h"
#include "protocol/errors.h"

namespace samsa::broker {

template <typename Request, typename Response, typename Alter>
[[nodiscard]] handler_result alter_config_resources(request_context& ctx, protocol::bytes_view body, Alter alter) {
    Request req;
    if (auto st = protocol::decode_body(body, ctx.api_version(), req); st != protocol::decode_status::ok) {
        return handler_result::malformed(st);
    }
    Response resp;
    resp.responses.reserve(req.resources.size());
    for (const auto& res : req.resources) {
        const config_result outcome = alter(res, req.validate_only);
        auto& r = resp.responses.emplace_back();
        r.error_code = to_int(outcome.error);
        r.error_message = outcome.message;
        r.resource_type = res.resource_type;
        r.resource_name = res.resource_name;
    }
    return ctx.respond(resp);
}

} // namespace samsa::broker
