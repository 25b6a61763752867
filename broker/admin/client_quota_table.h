// The client quotas configured on this node (KIP-546, AlterClientQuotas/DescribeClientQuotas):
// for each entity (a user, a client id, both, their <default> forms, or an IP) its quota values
// (producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate,
// connection_creation_rate). Validates changes as Kafka does, filters for Describe, and resolves
// which entity's quota governs a client by Kafka's precedence:
//
//   user+client-id, user+<default client-id>, user, <default user>+client-id,
//   <default user>+<default client-id>, <default user>, client-id, <default client-id>
//
// In-memory state owned by the config_registry (which persists it); loop thread only.
#pragma once

#include "protocol/errors.h"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

inline constexpr std::string_view quota_entity_user = "user";
inline constexpr std::string_view quota_entity_client_id = "client-id";
inline constexpr std::string_view quota_entity_ip = "ip";

inline constexpr std::string_view producer_byte_rate = "producer_byte_rate";
inline constexpr std::string_view consumer_byte_rate = "consumer_byte_rate";
inline constexpr std::string_view request_percentage = "request_percentage";

// Entity type -> name; a null name is the type's <default> entity.
using quota_entity = std::map<std::string, std::optional<std::string>>;
using quota_values = std::map<std::string, double>;

struct quota_op {
    std::string key;
    double value = 0;
    bool remove = false;
};

struct quota_alteration {
    quota_entity entity;
    std::vector<std::pair<std::string, std::optional<std::string>>> entity_as_sent;  // to spot duplicates
    std::vector<quota_op> ops;
};

struct quota_error {
    protocol::error_code error = protocol::error_code::none;
    std::string message;
};

// DescribeClientQuotas' filter component: match_type 0 exact name, 1 the default, 2 any name.
struct quota_filter_component {
    std::string entity_type;
    int8_t match_type = 0;
    std::optional<std::string> match;
};

// The quota that governs a client for one key, and the usage bucket it is measured in: Kafka
// measures per user and/or client id as the matching entity says (a <default> entity still
// measures each user or client separately).
struct resolved_quota {
    double bound = 0;
    std::string bucket_user;
    std::string bucket_client_id;
};

// An IP address in one text form (IPv4-mapped IPv6 addresses as IPv4); other text unchanged.
[[nodiscard]] std::string canonical_ip(std::string_view text);

class client_quota_table {
public:
    // Why `a` cannot be applied (Kafka's INVALID_REQUEST cases), or none.
    [[nodiscard]] static quota_error check(const quota_alteration& a);
    // Applies a checked alteration; an entity left without values disappears.
    void apply(const quota_alteration& a);

    // Entities matching the filter with their values. INVALID_REQUEST or UNSUPPORTED_VERSION
    // (an unknown entity type) in `error` for a bad filter.
    [[nodiscard]] std::vector<std::pair<quota_entity, quota_values>> describe(std::span<const quota_filter_component> filter,
                                                                              bool strict, quota_error& error) const;

    [[nodiscard]] std::optional<resolved_quota> resolve(std::string_view key, std::string_view user,
                                                        std::string_view client_id) const;

    // The quota of an IP entity for `key` (connection_creation_rate): the IP's own, else the
    // <default> IP's; addresses compare in their canonical form ("::1" is "0:0::1").
    [[nodiscard]] std::optional<double> resolve_ip(std::string_view key, std::string_view ip) const;

    [[nodiscard]] const std::map<quota_entity, quota_values>& all() const noexcept { return quotas_; }
    void replace_all(std::map<quota_entity, quota_values> quotas) { quotas_ = std::move(quotas); }

private:
    std::map<quota_entity, quota_values> quotas_;
};

} // namespace samsa::broker
