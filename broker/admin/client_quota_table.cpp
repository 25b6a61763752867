#include "broker/admin/client_quota_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>

namespace samsa::broker {

namespace {

using protocol::error_code;

quota_error invalid(std::string message) { return {error_code::invalid_request, std::move(message)}; }

bool valid_ip(const std::string& s) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Keys an entity of users and/or client ids may carry, and whether they are whole numbers.
struct key_rule {
    std::string_view key;
    bool integral;
    bool for_ip;
};
constexpr key_rule key_rules[] = {
    {producer_byte_rate, true, false},
    {consumer_byte_rate, true, false},
    {request_percentage, false, false},
    {"controller_mutation_rate", false, false},
    {"connection_creation_rate", true, true},
};

} // namespace

std::string canonical_ip(std::string_view text) {
    const std::string s(text);
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN] = {};
    if (::inet_pton(AF_INET, s.c_str(), buf) == 1) return ::inet_ntop(AF_INET, buf, out, sizeof out) ? out : s;
    if (::inet_pton(AF_INET6, s.c_str(), buf) == 1) {
        // An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d; Kafka sees a.b.c.d.
        static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(std::begin(mapped), std::end(mapped), buf)) return ::inet_ntop(AF_INET, buf + 12, out, sizeof out) ? out : s;
        return ::inet_ntop(AF_INET6, buf, out, sizeof out) ? out : s;
    }
    return s;
}

std::optional<double> client_quota_table::resolve_ip(std::string_view key, std::string_view ip) const {
    const std::string wanted = canonical_ip(ip);
    std::optional<double> fallback;
    for (const auto& [entity, values] : quotas_) {
        if (entity.size() != 1 || entity.begin()->first != quota_entity_ip) continue;
        const auto v = values.find(std::string(key));
        if (v == values.end()) continue;
        const auto& name = entity.begin()->second;
        if (!name) fallback = v->second;
        else if (canonical_ip(*name) == wanted) return v->second;
    }
    return fallback;
}

quota_error client_quota_table::check(const quota_alteration& a) {
    if (a.entity_as_sent.empty()) return invalid("Invalid empty client quota entity");
    std::set<std::string> types;
    for (const auto& [type, name] : a.entity_as_sent) {
        if (type != quota_entity_user && type != quota_entity_client_id && type != quota_entity_ip)
            return invalid("Unhandled client quota entity type: " + type);
        if (!types.insert(type).second) return invalid("Duplicate entity type " + type + " in the client quota entity");
        if (type == quota_entity_ip && name && !valid_ip(*name)) return invalid(*name + " is not a valid IP or resolvable host.");
    }
    const bool ip = types.contains(std::string(quota_entity_ip));
    if (ip && types.size() > 1)
        return invalid("Invalid quota entity combination, IP entity should not be combined with User or ClientId");
    std::set<std::string> keys;
    for (const auto& op : a.ops) {
        const key_rule* rule = nullptr;
        for (const auto& r : key_rules)
            if (r.key == op.key && r.for_ip == ip) rule = &r;
        if (rule == nullptr) return invalid("Invalid configuration key " + op.key);
        if (!keys.insert(op.key).second) return invalid("Duplicate quota key " + op.key);
        if (op.remove) continue;
        if (!std::isfinite(op.value) || op.value <= 0) return invalid("Configuration " + op.key + " must be a positive value");
        if (rule->integral && op.value != std::floor(op.value))
            return invalid("Configuration " + op.key + " must be a " + (op.key == "connection_creation_rate" ? "Int" : "Long") +
                           " value");
    }
    return {};
}

void client_quota_table::apply(const quota_alteration& a) {
    auto& values = quotas_[a.entity];
    for (const auto& op : a.ops) {
        if (op.remove) values.erase(op.key);
        else values[op.key] = op.value;
    }
    if (values.empty()) quotas_.erase(a.entity);
}

std::vector<std::pair<quota_entity, quota_values>> client_quota_table::describe(std::span<const quota_filter_component> filter,
                                                                                bool strict, quota_error& error) const {
    std::map<std::string, std::optional<std::string>> exact;
    std::set<std::string> any_name;
    for (const auto& c : filter) {
        if (c.entity_type.empty()) {
            error = invalid("Invalid empty entity type.");
            return {};
        }
        if (exact.contains(c.entity_type) || any_name.contains(c.entity_type)) {
            error = invalid("Entity type " + c.entity_type + " cannot appear more than once in the filter.");
            return {};
        }
        if (c.entity_type != quota_entity_user && c.entity_type != quota_entity_client_id && c.entity_type != quota_entity_ip) {
            error = {error_code::unsupported_version, "Unsupported entity type " + c.entity_type};
            return {};
        }
        if (c.match_type == 0) {
            if (!c.match) {
                error = invalid("Request specified MATCH_TYPE_EXACT, but set match string to null.");
                return {};
            }
            exact[c.entity_type] = c.match;
        } else if (c.match_type == 1) {
            if (c.match) {
                error = invalid("Request specified MATCH_TYPE_DEFAULT, but also specified a match string.");
                return {};
            }
            exact[c.entity_type] = std::nullopt;
        } else if (c.match_type == 2) {
            if (c.match) {
                error = invalid("Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.");
                return {};
            }
            any_name.insert(c.entity_type);
        } else {
            error = invalid("Unknown match type " + std::to_string(c.match_type));
            return {};
        }
    }
    const std::string ip(quota_entity_ip);
    if ((exact.contains(ip) || any_name.contains(ip)) && exact.size() + any_name.size() > 1) {
        error = invalid("Invalid entity filter component combination. IP filter component should not be used with user or "
                        "clientId filter component.");
        return {};
    }
    std::vector<std::pair<quota_entity, quota_values>> out;
    for (const auto& [entity, values] : quotas_) {
        bool match = true;
        for (const auto& [type, name] : exact) {
            auto it = entity.find(type);
            match = match && it != entity.end() && it->second == name;
        }
        for (const auto& type : any_name) {
            auto it = entity.find(type);
            match = match && it != entity.end() && it->second.has_value();
        }
        if (strict) match = match && entity.size() == exact.size() + any_name.size();
        if (match) out.emplace_back(entity, values);
    }
    return out;
}

std::optional<resolved_quota> client_quota_table::resolve(std::string_view key, std::string_view user,
                                                          std::string_view client_id) const {
    using name = std::optional<std::string>;
    const std::string u(quota_entity_user), c(quota_entity_client_id);
    const name user_name{std::string(user)}, client_name{std::string(client_id)};
    struct level {
        quota_entity entity;
        bool per_user;
        bool per_client;
    };
    const level levels[] = {
        {{{u, user_name}, {c, client_name}}, true, true},
        {{{u, user_name}, {c, std::nullopt}}, true, true},
        {{{u, user_name}}, true, false},
        {{{u, std::nullopt}, {c, client_name}}, true, true},
        {{{u, std::nullopt}, {c, std::nullopt}}, true, true},
        {{{u, std::nullopt}}, true, false},
        {{{c, client_name}}, false, true},
        {{{c, std::nullopt}}, false, true},
    };
    for (const auto& l : levels) {
        auto it = quotas_.find(l.entity);
        if (it == quotas_.end()) continue;
        auto v = it->second.find(std::string(key));
        if (v == it->second.end()) continue;
        return resolved_quota{v->second, l.per_user ? std::string(user) : std::string(),
                              l.per_client ? std::string(client_id) : std::string()};
    }
    return std::nullopt;
}

} // namespace samsa::broker
