// Enforces client quotas as Kafka does (KIP-13, KIP-55, KIP-124, KIP-219): produce and fetch
// byte rates and the request-time percentage, per user and client id, with the quota and the
// usage bucket chosen by the client_quota_table's precedence. Usage is measured with
// quota_rate (quota.window.num windows of quota.window.size.seconds); a client over its quota
// is told how long to back off (throttle_time_ms) and its connection stops reading for that
// long once the response is out. Without SASL every client is the ANONYMOUS user.
//
// Owned by the node; reads the table and the window settings it is given (both outlive it).
// Loop thread only; times are the loop's monotonic milliseconds.
#pragma once

#include "broker/admin/client_quota_table.h"
#include "broker/admin/quota_rate.h"
#include "broker/config.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace samsa::broker {

inline constexpr std::string_view anonymous_user = "ANONYMOUS";

enum class quota_kind : uint8_t { produce, fetch, request };

class quota_manager {
public:
    quota_manager(const broker_config& cfg, const client_quota_table& table) : cfg_(cfg), table_(table) {}

    // Records `amount` (bytes for produce and fetch, nanoseconds of handler time for request)
    // against the client's quota and returns how long the client must wait, in milliseconds
    // (0 without a quota or within it). The amount is recorded even when the client is over.
    [[nodiscard]] int32_t record(quota_kind kind, std::string_view user, std::string_view client_id, double amount,
                                 int64_t now_ms);
    // Takes back an amount recorded by record(): Kafka un-records the bytes of a fetch it answers
    // empty because the client is throttled, since those bytes are never sent.
    void unrecord(quota_kind kind, std::string_view user, std::string_view client_id, double amount, int64_t now_ms);
    // Whether a quota of this kind governs the client (nothing need be measured otherwise).
    [[nodiscard]] bool applies(quota_kind kind, std::string_view user, std::string_view client_id) const;
    // Kafka's cap on one fetch: the most a client could take without being throttled when
    // nothing else was recorded, quota * (quota.window.num - 1) * quota.window.size.seconds.
    // Larger fetches would be throttled for certain. nullopt without a quota.
    [[nodiscard]] std::optional<double> max_value_in_window(quota_kind kind, std::string_view user,
                                                            std::string_view client_id) const;

    // Measured rate of the client's bucket (bytes/s, or percent), 0 without a quota (tests, logs).
    [[nodiscard]] double rate(quota_kind kind, std::string_view user, std::string_view client_id, int64_t now_ms);

private:
    using bucket_key = std::tuple<quota_kind, std::string, std::string>;
    [[nodiscard]] quota_rate* bucket(quota_kind kind, std::string_view user, std::string_view client_id, double* bound);
    void drop_idle(int64_t now_ms);

    const broker_config& cfg_;
    const client_quota_table& table_;
    std::map<bucket_key, quota_rate> buckets_;
    int64_t last_sweep_ms_ = 0;
};

} // namespace samsa::broker
