// DescribeClientQuotas (key 48, KIP-546): the configured quotas whose entity matches the
// filter (an exact name, the <default> entity, or any name per entity type; `strict` leaves out
// entities with other types). A bad filter is the response's error (INVALID_REQUEST, or
// UNSUPPORTED_VERSION for an unknown entity type, as Kafka answers) with null entries.
#include "broker/admin/config_registry.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/describe_client_quotas.h"

namespace samsa::broker {

namespace {

using protocol::describe_client_quotas_request;
using protocol::describe_client_quotas_response;
using protocol::error_code;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    describe_client_quotas_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    std::vector<quota_filter_component> filter;
    for (const auto& c : req.components) filter.push_back({c.entity_type, c.match_type, c.match});
    quota_error error;
    const auto matches = ctx.configs().quotas().describe(filter, req.strict, error);

    describe_client_quotas_response resp;
    resp.error_code = to_int(error.error);
    if (error.error != error_code::none) {
        resp.error_message = error.message;
        resp.entries = std::nullopt;
        return ctx.respond(resp);
    }
    resp.error_message = std::nullopt;
    resp.entries.emplace();
    for (const auto& [entity, values] : matches) {
        describe_client_quotas_response::entry_data e;
        for (const auto& [type, name] : entity) e.entity.push_back({type, name});
        for (const auto& [key, value] : values) e.values.push_back({key, value});
        resp.entries->push_back(std::move(e));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry describe_client_quotas_handler() {
    return handler_entry{protocol::api_key::describe_client_quotas, describe_client_quotas_request::min_version,
                         describe_client_quotas_request::max_version, handle};
}

} // namespace samsa::broker
