#include "broker/admin/connection_quotas.h"

#include "broker/logger.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <climits>

namespace samsa::broker {

namespace {

// Kafka forgets an IP's connection rate after an hour without connections.
constexpr int64_t idle_ip_rate_ms = 3600 * 1000;

// The addresses a host name of max.connections.per.ip.overrides stands for (Kafka resolves them
// too). Blocking, but only when the setting changes; a name that does not resolve matches nothing.
std::vector<std::string> addresses_of(const std::string& host) {
    std::vector<std::string> out;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) {
        log_warn("max.connections.per.ip.overrides: cannot resolve ", host);
        return out;
    }
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        char text[NI_MAXHOST] = {};
        if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) == 0)
            out.push_back(canonical_ip(text));
    }
    ::freeaddrinfo(res);
    return out;
}

} // namespace

quota_rate connection_quotas::make_rate() const {
    return quota_rate(cfg_.quota_window_num, int64_t{cfg_.quota_window_size_seconds} * 1000);
}

int64_t connection_quotas::throttle_of(quota_rate& rate, double bound, int64_t now_ms) const {
    // Kafka bounds connection throttles by one quota window.
    const int64_t window_ms = int64_t{cfg_.quota_window_size_seconds} * 1000;
    if (rate.rate(now_ms) <= bound) return 0;
    if (bound <= 0) return window_ms;
    return std::min(rate.throttle_ms(bound, now_ms), window_ms);
}

int64_t connection_quotas::record_creation(int64_t now_ms) {
    if (cfg_.max_connection_creation_rate == INT32_MAX) return 0;  // Kafka's "no limit"
    if (!broker_rate_) broker_rate_ = make_rate();
    broker_rate_->record(1, now_ms);
    return throttle_of(*broker_rate_, cfg_.max_connection_creation_rate, now_ms);
}

bool connection_quotas::slot_available() const noexcept { return total_ < cfg_.max_connections; }

connection_quotas::admission connection_quotas::admit(const std::string& peer_ip, int64_t now_ms) {
    const std::string ip = canonical_ip(peer_ip);
    if (now_ms - last_sweep_ms_ >= 60'000) {
        last_sweep_ms_ = now_ms;
        std::erase_if(ip_rates_, [&](const auto& r) { return now_ms - r.second.last_record_ms() > idle_ip_rate_ms; });
    }
    if (const auto bound = table_ != nullptr ? table_->resolve_ip(connection_creation_rate, ip) : std::nullopt;
        bound && *bound < INT32_MAX) {
        auto it = ip_rates_.find(ip);
        if (it == ip_rates_.end()) it = ip_rates_.emplace(ip, make_rate()).first;
        it->second.record(1, now_ms);
        if (const int64_t wait = throttle_of(it->second, *bound, now_ms); wait > 0) {
            // Not accepted, so not counted: the attempt does not use up the IP's rate.
            it->second.record(-1, now_ms);
            return {verdict::throttled, wait, 0};
        }
    }
    const int32_t before = per_ip_[ip]++;
    ++total_;
    const int32_t limit = limit_for(ip);
    if (before >= limit) return {verdict::too_many, 0, limit};
    return {verdict::accept, 0, 0};
}

void connection_quotas::release(const std::string& peer_ip) noexcept {
    const auto it = per_ip_.find(canonical_ip(peer_ip));
    if (it == per_ip_.end()) return;
    if (--it->second <= 0) per_ip_.erase(it);
    if (total_ > 0) --total_;
}

int32_t connection_quotas::count(const std::string& ip) const {
    const auto it = per_ip_.find(canonical_ip(ip));
    return it == per_ip_.end() ? 0 : it->second;
}

void connection_quotas::resolve_overrides() {
    if (cfg_.max_connections_per_ip_overrides == overrides_text_) return;
    overrides_text_ = cfg_.max_connections_per_ip_overrides;
    overrides_.clear();
    for (const auto& [host, limit] : overrides_text_) {
        unsigned char buf[16];
        if (::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1) {
            overrides_[canonical_ip(host)] = limit;
            continue;
        }
        for (const auto& a : addresses_of(host)) overrides_[a] = limit;
    }
}

int32_t connection_quotas::limit_for(const std::string& ip) {
    resolve_overrides();
    const auto it = overrides_.find(canonical_ip(ip));
    return it == overrides_.end() ? cfg_.max_connections_per_ip : it->second;
}

} // namespace samsa::broker
