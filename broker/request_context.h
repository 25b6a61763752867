// The narrow context a handler gets for one request: the request header, the connection it
// came on, and the services it may use (metadata(), logs(), loop(), config(), groups()). Never a whole
// broker: a handler sees only what is listed here. Built by the dispatcher on the loop thread
// for the duration of one handler call; a handler that answers later takes defer() and keeps
// the deferred_response, never the context.
#pragma once

#include "broker/config.h"
#include "broker/handler.h"
#include "broker/loop_services.h"
#include "broker/metadata_service.h"
#include "storage/log_manager.h"
#include "protocol/frame_decoder.h"

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace samsa::broker {

class config_registry;
class group_coordinator;
class partition_manager;
class producer_id_manager;
class transaction_coordinator;
class quota_manager;

// The services behind handlers. Every reference outlives every request.
struct broker_services {
    metadata_service& metadata;
    storage::log_manager& logs;
    loop_services& loop;
    const broker_config& config;
    // Consumer groups and committed offsets; null only where no group API is served (tests of
    // the other APIs).
    group_coordinator* groups = nullptr;
    // The data path (Produce, Fetch, ListOffsets, OffsetForLeaderEpoch); null only where those
    // APIs are not served (tests of the other APIs).
    partition_manager* partitions = nullptr;
    // Configuration and client quotas (broker/admin/); null only where no admin API is served
    // and no quota applies (tests of the other APIs).
    config_registry* configs = nullptr;
    quota_manager* quotas = nullptr;
    // Producer ids (InitProducerId); null only where no producer id is handed out (tests).
    producer_id_manager* producer_ids = nullptr;
    // Transactional ids and their transactions (broker/transactions/); null only where no
    // transaction API is served (tests of the other APIs).
    transaction_coordinator* transactions = nullptr;
};

// What a handler may know of the connection a request came on. Lives as long as it.
struct connection_info {
    uint64_t id = 0;
    std::string listener;        // listener name, e.g. PLAINTEXT
    std::string advertised_host; // what metadata responses give for this listener
    int32_t advertised_port = 0;
    std::string peer;            // "address:port", for logs
};

class request_context {
public:
    request_context(const protocol::request_header_view& header, const broker_services& services,
                    const connection_info& connection, std::span<const handler_entry> handlers,
                    std::shared_ptr<response_slot> slot)
        : header_(header), services_(services), connection_(connection), handlers_(handlers), slot_(std::move(slot)) {}

    [[nodiscard]] int16_t api_key() const noexcept { return header_.api_key; }
    [[nodiscard]] int16_t api_version() const noexcept { return header_.api_version; }
    [[nodiscard]] int32_t correlation_id() const noexcept { return header_.correlation_id; }
    [[nodiscard]] std::optional<std::string_view> client_id() const noexcept { return header_.client_id; }
    [[nodiscard]] const connection_info& connection() const noexcept { return connection_; }

    [[nodiscard]] metadata_service& metadata() const noexcept { return services_.metadata; }
    [[nodiscard]] storage::log_manager& logs() const noexcept { return services_.logs; }
    [[nodiscard]] loop_services& loop() const noexcept { return services_.loop; }
    [[nodiscard]] const broker_config& config() const noexcept { return services_.config; }
    [[nodiscard]] group_coordinator& groups() const noexcept { return *services_.groups; }
    [[nodiscard]] partition_manager& partitions() const noexcept { return *services_.partitions; }
    [[nodiscard]] config_registry& configs() const noexcept { return *services_.configs; }
    // Null where quotas are not enforced (tests).
    [[nodiscard]] quota_manager* quotas() const noexcept { return services_.quotas; }
    // Null where producer ids are not handed out (tests).
    [[nodiscard]] producer_id_manager* producer_ids() const noexcept { return services_.producer_ids; }
    // Null where transactions are not served (tests).
    [[nodiscard]] transaction_coordinator* transactions() const noexcept { return services_.transactions; }
    // The principal quotas are kept for: without SASL, Kafka's anonymous user.
    [[nodiscard]] std::string_view principal() const noexcept { return "ANONYMOUS"; }
    // A quota throttle for this request (KIP-219): the response carries the longest one asked
    // for in throttle_time_ms and the connection stops reading for that long. Returns it.
    int32_t throttle(int32_t ms) noexcept {
        if (!slot_) return 0;
        if (ms > slot_->throttle_ms) slot_->throttle_ms = ms;
        return slot_->throttle_ms;
    }
    // Charges the handler's time so far to the client's request quota (KIP-124), once, and
    // returns the throttle it calls for (0 without a quota). respond() does it; a handler that
    // encodes its own frame calls it before encoding, to put the throttle in the response.
    int32_t charge_request_time() const {
        if (!slot_) return 0;
        const auto spent = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - started_).count();
        return broker::charge_request_time(*slot_, spent);
    }
    // The handler table, for ApiVersions.
    [[nodiscard]] std::span<const handler_entry> handlers() const noexcept { return handlers_; }

    // Encodes `body` as the response to this request (its version and correlation id).
    template <typename Message>
    [[nodiscard]] handler_result respond(const Message& body) const {
        return respond_at(header_.api_version, body);
    }
    // The same at another version (ApiVersions answers unsupported versions with v0).
    template <typename Message>
    [[nodiscard]] handler_result respond_at(int16_t version, const Message& body) const {
        (void)charge_request_time();
        return handler_result::ready(encode_throttled(version, header_.correlation_id, body, slot_ ? slot_->throttle_ms : 0));
    }

    // Takes the second phase of this request; return handler_result::deferred() after it.
    [[nodiscard]] deferred_response defer() {
        deferred_taken_ = true;
        return deferred_response(slot_);
    }
    [[nodiscard]] bool deferred_taken() const noexcept { return deferred_taken_; }

private:
    const protocol::request_header_view& header_;
    const broker_services& services_;
    const connection_info& connection_;
    std::span<const handler_entry> handlers_;
    std::shared_ptr<response_slot> slot_;
    bool deferred_taken_ = false;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();  // the handler's start
};

} // namespace samsa::broker
