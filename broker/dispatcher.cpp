#include "broker/dispatcher.h"

#include "broker/admin/quota_manager.h"
#include "broker/logger.h"
#include "protocol/messages/api_table.h"

#include <chrono>
#include <stdexcept>
#include <string>

namespace samsa::broker {

using protocol::decode_status;

dispatcher::dispatcher(std::vector<handler_entry> handlers) : handlers_(std::move(handlers)) {
    index_.fill(-1);
    for (size_t i = 0; i < handlers_.size(); ++i) {
        const auto& h = handlers_[i];
        const auto key = static_cast<int16_t>(h.key);
        const auto* api = protocol::find_api(key);
        if (api == nullptr || key < 0 || static_cast<size_t>(key) >= index_.size())
            throw std::logic_error("handler for unknown API key " + std::to_string(key));
        if (index_[static_cast<size_t>(key)] != -1) throw std::logic_error("two handlers for " + std::string(api->name));
        if (h.handle == nullptr) throw std::logic_error("no function in the handler for " + std::string(api->name));
        if (h.min_version > h.max_version || h.min_version < api->min_version || h.max_version > api->max_version)
            throw std::logic_error("the handler range of " + std::string(api->name) + " is outside the schema's");
        if ((h.min_version != api->min_version || h.max_version != api->max_version) && h.narrower_because.empty())
            throw std::logic_error("the handler of " + std::string(api->name) + " narrows the schema's range without a reason");
        index_[static_cast<size_t>(key)] = static_cast<int16_t>(i);
    }
}

const handler_entry* dispatcher::find(int16_t api_key) const noexcept {
    if (api_key < 0 || static_cast<size_t>(api_key) >= index_.size()) return nullptr;
    const int16_t i = index_[static_cast<size_t>(api_key)];
    return i < 0 ? nullptr : &handlers_[static_cast<size_t>(i)];
}

dispatch_result dispatcher::dispatch(protocol::bytes_view frame, const broker_services& services,
                                     const connection_info& connection,
                                     const std::shared_ptr<response_slot>& slot) const noexcept {
    dispatch_result res;
    auto close = [&](std::string why) {
        res.close = true;
        res.reason = std::move(why);
        slot->settle(response_slot::state::failed);
        return res;
    };
    try {
        const auto parsed = protocol::parse_request_header(frame);
        const auto& h = parsed.header;
        res.api_key = h.api_key;
        res.api_version = h.api_version;
        slot->api_key = h.api_key;
        slot->api_version = h.api_version;
        slot->correlation_id = h.correlation_id;

        if (parsed.status != decode_status::ok && parsed.status != decode_status::unknown_api &&
            parsed.status != decode_status::unsupported_version)
            return close("malformed request header (" + std::string(protocol::to_string(parsed.status)) + ")");

        const handler_entry* entry = find(h.api_key);
        const std::string api_name = h.api ? std::string(h.api->name) : "key " + std::to_string(h.api_key);
        // A key this broker does not serve closes the connection, as Kafka does (its header
        // parser rejects unknown keys and keys its listener does not enable).
        if (entry == nullptr)
            return close("request for API " + api_name + " v" + std::to_string(h.api_version) +
                         ", which this broker does not serve (correlation id " + std::to_string(h.correlation_id) + ")");
        const bool in_range = entry->supports(h.api_version) && parsed.status == decode_status::ok;
        if (!in_range && !entry->answers_unsupported_versions) {
            // Kafka closes here; Samsa answers UNSUPPORTED_VERSION so the client learns why and
            // the connection keeps serving (see encode_error_response_frame for the layout).
            log_warn("connection ", connection.id, " (", connection.peer, "): ", api_name, " v", h.api_version,
                     " is outside the supported versions ", entry->min_version, "-", entry->max_version,
                     "; answered UNSUPPORTED_VERSION (correlation id ", h.correlation_id, ")");
            protocol::output_buffer out;
            protocol::encode_error_response_frame(out, *h.api, h.api_version, h.correlation_id,
                                                  to_int(protocol::error_code::unsupported_version));
            slot->settle(response_slot::state::ready, std::move(out));
            return res;
        }

        request_context ctx(h, services, connection, handlers_, slot);
        // Request-time quota (KIP-124), charged as Kafka charges it: when the response is built,
        // with the handler's time (for a deferred request, the time until its handler returned,
        // not the wait), so the request that goes over the quota carries the throttle.
        const std::string_view client_id = h.client_id.value_or(std::string_view{});
        if (services.quotas != nullptr && services.quotas->applies(quota_kind::request, ctx.principal(), client_id))
            slot->charge_request_time = [quotas = services.quotas, &loop = services.loop, user = std::string(ctx.principal()),
                                         client = std::string(client_id)](double handler_ns) {
                return quotas->record(quota_kind::request, user, client, handler_ns, static_cast<int64_t>(loop.now_ms()));
            };
        const auto started = std::chrono::steady_clock::now();
        auto result = entry->handle(ctx, parsed.body);
        slot->handler_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - started).count();
        // A handler that built its frame itself was not charged yet: its throttle still mutes the
        // connection. Produce with acks=0 is not charged, as in Kafka.
        if (result.what() == handler_result::kind::ready) (void)charge_request_time(*slot, slot->handler_ns);
        else if (result.what() != handler_result::kind::deferred) slot->charge_request_time = nullptr;
        switch (result.what()) {
            case handler_result::kind::ready: slot->settle(response_slot::state::ready, std::move(result.frame())); break;
            case handler_result::kind::no_response: slot->settle(response_slot::state::no_response); break;
            case handler_result::kind::deferred:
                if (!ctx.deferred_taken()) return close("the " + api_name + " handler deferred without taking ctx.defer()");
                break;
            case handler_result::kind::close: return close(result.reason());
            case handler_result::kind::malformed:
                return close("malformed " + api_name + " v" + std::to_string(h.api_version) + " request body (" +
                             std::string(protocol::to_string(result.why())) + ")");
        }
        return res;
    } catch (const std::exception& e) {
        return close(std::string("a handler threw: ") + e.what());
    } catch (...) {
        return close("a handler threw");
    }
}

} // namespace samsa::broker
