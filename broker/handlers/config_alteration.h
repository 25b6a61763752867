// The body AlterConfigs and IncrementalAlterConfigs share: decode the request, hand each
// resource to the config_registry on its own (one bad resource does not stop the others) and
// answer with one result per resource, in request order, carrying the registry's error and
// message. The two differ only in how a resource's entries become a registry call, which the
// handler's `alter(resource, validate_only)` makes. A resource (type and name) named more than
// once is refused at every place it appears with INVALID_REQUEST and Kafka's message, and none of
// its copies is validated, saved or applied. The topic changes of one request are saved together
// (all or none of them). Header-only helper for those two handlers; loop thread only; `body` is
// borrowed for the call.
#pragma once

#include "broker/admin/config_registry.h"
#include "broker/handler.h"
#include "broker/request_context.h"
#include "protocol/errors.h"

#include <map>
#include <string_view>
#include <utility>

namespace samsa::broker {

// The (type, name) pairs `resources` names more than once; they borrow the request's names.
template <typename Resources>
[[nodiscard]] std::map<std::pair<int8_t, std::string_view>, size_t> repeated_config_resources(const Resources& resources) {
    std::map<std::pair<int8_t, std::string_view>, size_t> count;
    for (const auto& res : resources) ++count[{res.resource_type, res.resource_name}];
    std::erase_if(count, [](const auto& entry) { return entry.second < 2; });
    return count;
}

template <typename Request, typename Response, typename Alter>
[[nodiscard]] handler_result alter_config_resources(request_context& ctx, protocol::bytes_view body, Alter alter) {
    Request req;
    if (auto st = protocol::decode_body(body, ctx.api_version(), req); st != protocol::decode_status::ok) {
        return handler_result::malformed(st);
    }
    // Each copy would otherwise be validated, saved and applied to every topic again.
    const auto repeated = repeated_config_resources(req.resources);
    Response resp;
    resp.responses.reserve(req.resources.size());
    config_registry::topic_change_batch topic_changes(ctx.configs());
    for (const auto& res : req.resources) {
        const config_result outcome = repeated.contains({res.resource_type, res.resource_name})
                                          ? config_result{protocol::error_code::invalid_request,
                                                          "Each resource must appear at most once.", {}}
                                          : alter(res, req.validate_only);
        auto& r = resp.responses.emplace_back();
        r.error_code = to_int(outcome.error);
        r.error_message = outcome.message;
        r.resource_type = res.resource_type;
        r.resource_name = res.resource_name;
    }
    // The topic resources answered without error are exactly the changes held back.
    if (auto err = topic_changes.commit()) {
        for (auto& r : resp.responses) {
            if (r.resource_type != static_cast<int8_t>(config_resource_type::topic) || r.error_code != 0) continue;
            r.error_code = to_int(protocol::error_code::unknown_server_error);
            r.error_message = *err;
        }
    }
    return ctx.respond(resp);
}

} // namespace samsa::broker
