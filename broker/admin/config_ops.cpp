#include "broker/admin/config_ops.h"

#include <algorithm>
#include <set>
#include <vector>

namespace samsa::broker {

namespace {

using protocol::error_code;

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos) comma = text.size();
        if (comma > pos) out.emplace_back(text.substr(pos, comma - pos));
        pos = comma + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
    return out;
}

const char* op_name(int8_t op) {
    switch (static_cast<config_op>(op)) {
        case config_op::set: return "SET";
        case config_op::remove: return "DELETE";
        case config_op::append: return "APPEND";
        case config_op::subtract: return "SUBTRACT";
    }
    return "?";
}

config_ops_result fail(error_code e, std::string message) {
    config_ops_result r;
    r.error = e;
    r.message = std::move(message);
    return r;
}

} // namespace

config_ops_result apply_config_ops(const config_map& current, std::span<const config_change> changes,
                                   const list_key_lookup& key_info) {
    std::set<std::string> seen, duplicates;
    std::string nulls;
    for (const auto& c : changes) {
        if (!seen.insert(c.name).second) duplicates.insert(c.name);
        if (c.op < 0 || c.op > 3) return fail(error_code::invalid_request, "Unknown operations type " + std::to_string(c.op));
        if (!c.value && static_cast<config_op>(c.op) != config_op::remove)
            nulls += (nulls.empty() ? "" : ",") + std::string(op_name(c.op)) + ":" + c.name;
    }
    if (!duplicates.empty()) {
        std::string names;
        for (const auto& d : duplicates) names += (names.empty() ? "" : ",") + d;
        return fail(error_code::invalid_request, "Error due to duplicate config keys : " + names);
    }
    if (!nulls.empty()) return fail(error_code::invalid_request, "Null value not supported for : " + nulls);

    config_ops_result r;
    r.values = current;
    for (const auto& c : changes) {
        const auto op = static_cast<config_op>(c.op);
        if (op == config_op::set) {
            r.values[c.name] = *c.value;
            continue;
        }
        if (op == config_op::remove) {
            r.values.erase(c.name);
            continue;
        }
        const auto info = key_info(c.name);
        if (!info || !info->is_list)
            return fail(error_code::invalid_config,
                        std::string("Can't ") + op_name(c.op) + " to key " + c.name + " because its type is not LIST.");
        auto it = r.values.find(c.name);
        auto items = split_list(it != r.values.end() ? std::string_view(it->second) : std::string_view(info->default_text));
        for (auto& v : split_list(*c.value)) {
            const auto at = std::find(items.begin(), items.end(), v);
            if (op == config_op::append && at == items.end()) items.push_back(std::move(v));
            if (op == config_op::subtract && at != items.end()) items.erase(at);
        }
        r.values[c.name] = join(items);
    }
    return r;
}

} // namespace samsa::broker
