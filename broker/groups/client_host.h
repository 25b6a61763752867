// How a group member's host is shown (DescribeGroups, group metadata records): Kafka writes the
// client's address with a leading slash and no port ("/127.0.0.1"). Pure; any thread.
#pragma once

#include <string>
#include <string_view>

namespace samsa::broker {

// `peer` is "address:port" (IPv6 addresses may be bracketed).
[[nodiscard]] inline std::string client_host_of(std::string_view peer) {
    std::string_view host = peer;
    if (const auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return "/" + std::string(host);
}

// Operations DescribeGroups and ConsumerGroupDescribe report as authorized when asked: with no
// authorizer every group operation is (Kafka's READ, DELETE and DESCRIBE bits).
inline constexpr int32_t all_group_operations = (1 << 3) | (1 << 6) | (1 << 8);

} // namespace samsa::broker
