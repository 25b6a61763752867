// Kafka's connection limits, decided as its acceptor decides them (ConnectionQuotas):
//
//   new connection on a listener
//     -> broker-wide creation rate (max.connection.creation.rate): over it, the acceptor waits
//        the throttle time (at most one quota window) before taking the connection
//     -> max.connections: at the limit, the acceptor waits until a connection closes
//     -> the IP's creation rate (the `ip` entity's connection_creation_rate quota, KIP-612):
//        over it, the connection is held unread for the throttle time, then closed, uncounted
//     -> max.connections.per.ip (or its override for the IP): over it, closed at once
//
// While the acceptor waits, later connections stay in the kernel's listen queue. Rates are
// measured as client quotas are (quota_rate: quota.window.num windows of
// quota.window.size.seconds). Pure policy without sockets: the server asks and acts.
//
// Owned by the server; reads the live broker configuration and the quota table, both of which
// outlive it. Loop thread only; times are the loop's monotonic milliseconds.
#pragma once

#include "broker/admin/client_quota_table.h"
#include "broker/admin/quota_rate.h"
#include "broker/config.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace samsa::broker {

inline constexpr std::string_view connection_creation_rate = "connection_creation_rate";

class connection_quotas {
public:
    // `table` may be null (no IP quotas: tests of the server alone).
    connection_quotas(const broker_config& cfg, const client_quota_table* table) : cfg_(cfg), table_(table) {}

    // A connection waits on the listen queue: records it in the broker-wide creation rate and
    // returns how long the acceptor must wait before taking it (0: no wait).
    [[nodiscard]] int64_t record_creation(int64_t now_ms);
    // Whether max.connections leaves room for another connection now.
    [[nodiscard]] bool slot_available() const noexcept;

    enum class verdict : uint8_t {
        accept,     // counted; serve it
        too_many,   // counted (release() it when closed); close it at once
        throttled,  // not counted; hold it unread for `throttle_ms`, then close it
    };
    struct admission {
        verdict what = verdict::accept;
        int64_t throttle_ms = 0;
        int32_t limit = 0;  // too_many: the IP's limit
    };
    // The acceptor took a connection from `ip`: applies the IP's creation rate and its limit.
    [[nodiscard]] admission admit(const std::string& ip, int64_t now_ms);
    // A connection admit() counted has closed.
    void release(const std::string& ip) noexcept;

    [[nodiscard]] int32_t count(const std::string& ip) const;
    [[nodiscard]] int64_t total() const noexcept { return total_; }
    // The limit for `ip`: its override, else max.connections.per.ip.
    [[nodiscard]] int32_t limit_for(const std::string& ip);

private:
    [[nodiscard]] int64_t throttle_of(quota_rate& rate, double bound, int64_t now_ms) const;
    [[nodiscard]] quota_rate make_rate() const;
    void resolve_overrides();

    const broker_config& cfg_;
    const client_quota_table* table_;
    std::map<std::string, int32_t> per_ip_;  // canonical IP -> open counted connections
    int64_t total_ = 0;
    std::optional<quota_rate> broker_rate_;
    std::map<std::string, quota_rate> ip_rates_;
    int64_t last_sweep_ms_ = 0;
    // max.connections.per.ip.overrides as last resolved (host names to addresses).
    std::vector<std::pair<std::string, int32_t>> overrides_text_;
    std::map<std::string, int32_t> overrides_;
};

} // namespace samsa::broker
