// ApiVersions (key 18): the APIs and versions this broker serves, straight from the handler
// table, plus (v3+) the features: metadata.version as Kafka 3.9 reports it and
// transaction.version as Kafka 4 does (supported 0-2; the finalized level is explained in
// transaction_metadata.h). Below v4 a supported feature whose minimum is 0 is left out, and a
// finalized level 0 never appears (Kafka's rules, KAFKA-17011). An unsupported version is answered with
// UNSUPPORTED_VERSION in a v0 response listing ApiVersions' own range, as Kafka does, so a
// newer client can retry with a version both sides know.
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/transactions/transaction_metadata.h"
#include "protocol/messages/api_versions.h"

namespace samsa::broker {

namespace {

using protocol::api_versions_request;
using protocol::api_versions_response;

// metadata.version levels of Kafka 3.0-IV1 .. 3.9-IV0; Samsa behaves as the newest.
constexpr int16_t metadata_version_min = 1;
constexpr int16_t metadata_version_max = 21;

// Kafka's rule for client software names and versions (KIP-511).
bool valid_software_field(std::string_view s) {
    if (s.empty()) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (!alnum(s.front()) || !alnum(s.back())) return false;
    for (const char c : s)
        if (!alnum(c) && c != '-' && c != '.') return false;
    return true;
}

api_versions_response::api_version range_of(const handler_entry& h) {
    return {static_cast<int16_t>(h.key), h.min_version, h.max_version};
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    const handler_entry* self = nullptr;
    for (const auto& h : ctx.handlers())
        if (h.key == protocol::api_key::api_versions) self = &h;

    api_versions_response resp;
    if (self == nullptr || !self->supports(v)) {
        resp.error_code = to_int(protocol::error_code::unsupported_version);
        if (self != nullptr) resp.api_keys.push_back(range_of(*self));
        return ctx.respond_at(0, resp);
    }

    api_versions_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);
    if (v >= 3 && (!valid_software_field(req.client_software_name) || !valid_software_field(req.client_software_version))) {
        resp.error_code = to_int(protocol::error_code::invalid_request);
        return ctx.respond(resp);
    }

    for (const auto& h : ctx.handlers()) resp.api_keys.push_back(range_of(h));
    if (v >= 3) {
        resp.supported_features.push_back({"metadata.version", metadata_version_min, metadata_version_max});
        if (v >= 4) resp.supported_features.push_back({"transaction.version", 0, supported_transaction_version_max});
        resp.finalized_features_epoch = ctx.metadata().epoch();
        resp.finalized_features.push_back({"metadata.version", metadata_version_max, metadata_version_max});
        if (finalized_transaction_version > 0)
            resp.finalized_features.push_back(
                {"transaction.version", finalized_transaction_version, finalized_transaction_version});
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry api_versions_handler() {
    return handler_entry{protocol::api_key::api_versions, api_versions_request::min_version,
                         api_versions_request::max_version, handle, {}, true};
}

} // namespace samsa::broker
