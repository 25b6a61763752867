// DescribeConfigs (key 32): the configuration of topics, of this broker (or the cluster-wide
// dynamic defaults under the empty name) and of its loggers, from the config_registry: every
// key with its value, source, read-only and sensitive flags, and, when asked, its synonyms (v1+)
// and documentation (v3+), with its type (v3+). v0 has is_default instead of a source. A
// resource that cannot be described carries its own error; the others are answered.
#include "broker/admin/config_registry.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/describe_configs.h"

namespace samsa::broker {

namespace {

using protocol::describe_configs_request;
using protocol::describe_configs_response;

describe_configs_response::describe_configs_resource_result to_wire(const config_entry& e, int16_t v, bool synonyms,
                                                                     bool documentation) {
    describe_configs_response::describe_configs_resource_result r;
    r.name = e.name;
    r.value = e.value;
    r.read_only = e.read_only;
    r.is_default = e.source == config_source::default_config;
    r.config_source = static_cast<int8_t>(e.source);
    r.is_sensitive = e.sensitive;
    if (v >= 1 && synonyms)
        for (const auto& s : e.synonyms) r.synonyms.push_back({s.name, s.value, static_cast<int8_t>(s.source)});
    r.config_type = static_cast<int8_t>(e.type);
    r.documentation = documentation ? std::optional<std::string>(std::string(e.doc)) : std::nullopt;
    return r;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    describe_configs_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    describe_configs_response resp;
    resp.results.reserve(req.resources.size());
    for (const auto& res : req.resources) {
        const auto described = ctx.configs().describe(res.resource_type, res.resource_name, res.configuration_keys);
        describe_configs_response::describe_configs_result r;
        r.error_code = to_int(described.error);
        r.error_message = described.message;
        r.resource_type = res.resource_type;
        r.resource_name = res.resource_name;
        for (const auto& e : described.entries)
            r.configs.push_back(to_wire(e, v, req.include_synonyms, v >= 3 && req.include_documentation));
        resp.results.push_back(std::move(r));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry describe_configs_handler() {
    return handler_entry{protocol::api_key::describe_configs, describe_configs_request::min_version,
                         describe_configs_request::max_version, handle};
}

} // namespace samsa::broker
