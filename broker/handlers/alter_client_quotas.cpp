// AlterClientQuotas (key 49, KIP-546): sets or removes quota values (producer_byte_rate,
// consumer_byte_rate, request_percentage, ...) of user, client-id and ip entities, a null name
// meaning the entity type's <default>. Each entry is checked on its own (INVALID_REQUEST for an
// unknown key, entity type or bad value); the valid ones are persisted and enforced from the
// next request on. validate_only changes nothing.
#include "broker/admin/config_registry.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/alter_client_quotas.h"

namespace samsa::broker {

namespace {

using protocol::alter_client_quotas_request;
using protocol::alter_client_quotas_response;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    alter_client_quotas_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    std::vector<quota_alteration> entries;
    entries.reserve(req.entries.size());
    for (const auto& e : req.entries) {
        quota_alteration a;
        for (const auto& c : e.entity) {
            a.entity_as_sent.emplace_back(c.entity_type, c.entity_name);
            a.entity[c.entity_type] = c.entity_name;
        }
        for (const auto& op : e.ops) a.ops.push_back({op.key, op.value, op.remove});
        entries.push_back(std::move(a));
    }
    const auto results = ctx.configs().alter_quotas(entries, req.validate_only);

    alter_client_quotas_response resp;
    for (size_t i = 0; i < req.entries.size(); ++i) {
        alter_client_quotas_response::entry_data r;
        r.error_code = to_int(results[i].error);
        r.error_message = results[i].message.empty() ? std::nullopt : std::optional<std::string>(results[i].message);
        for (const auto& c : req.entries[i].entity) r.entity.push_back({c.entity_type, c.entity_name});
        resp.entries.push_back(std::move(r));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry alter_client_quotas_handler() {
    return handler_entry{protocol::api_key::alter_client_quotas, alter_client_quotas_request::min_version,
                         alter_client_quotas_request::max_version, handle};
}

} // namespace samsa::broker
