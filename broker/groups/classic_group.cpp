#include "broker/groups/classic_group.h"

#include "protocol/messages/consumer_protocol.h"

#include <algorithm>
#include <cassert>
#include <unordered_set>

namespace samsa::broker {

std::string_view to_string(classic_group_state s) noexcept {
    switch (s) {
        case classic_group_state::empty: return "Empty";
        case classic_group_state::preparing_rebalance: return "PreparingRebalance";
        case classic_group_state::completing_rebalance: return "CompletingRebalance";
        case classic_group_state::stable: return "Stable";
        case classic_group_state::dead: return "Dead";
    }
    return "Unknown";
}

const std::vector<uint8_t>* classic_member::metadata_for(std::string_view protocol) const noexcept {
    for (const auto& p : protocols)
        if (p.name == protocol) return &p.metadata;
    return nullptr;
}

bool classic_group::can_transition_to(classic_group_state next) const noexcept {
    using s = classic_group_state;
    switch (next) {
        case s::preparing_rebalance: return state_ == s::stable || state_ == s::completing_rebalance || state_ == s::empty;
        case s::completing_rebalance: return state_ == s::preparing_rebalance;
        case s::stable: return state_ == s::completing_rebalance;
        case s::empty: return state_ == s::preparing_rebalance;
        case s::dead: return true;
    }
    return false;
}

void classic_group::transition_to(classic_group_state next, uint64_t now_ms) noexcept {
    assert(can_transition_to(next));
    state_ = next;
    state_timestamp_ms_ = now_ms;
}

classic_member* classic_group::find(std::string_view member_id) noexcept {
    const auto it = members_.find(member_id);
    return it == members_.end() ? nullptr : &it->second;
}

const classic_member* classic_group::find(std::string_view member_id) const noexcept {
    const auto it = members_.find(member_id);
    return it == members_.end() ? nullptr : &it->second;
}

classic_member& classic_group::add(classic_member m) {
    if (members_.empty()) protocol_type_ = m.protocol_type;
    if (!leader_) leader_ = m.member_id;
    if (m.group_instance_id) static_members_[*m.group_instance_id] = m.member_id;
    pending_.erase(m.member_id);
    auto id = m.member_id;
    return members_.insert_or_assign(std::move(id), std::move(m)).first->second;
}

void classic_group::remove(std::string_view member_id) {
    const auto it = members_.find(member_id);
    if (it == members_.end()) return;
    if (it->second.group_instance_id) {
        const auto s = static_members_.find(*it->second.group_instance_id);
        if (s != static_members_.end() && s->second == member_id) static_members_.erase(s);
    }
    members_.erase(it);
    if (is_leader(member_id)) {
        leader_.reset();
        if (!members_.empty()) leader_ = members_.begin()->first;
    }
}

const std::string* classic_group::static_member_id(std::string_view instance_id) const noexcept {
    const auto it = static_members_.find(instance_id);
    return it == static_members_.end() ? nullptr : &it->second;
}

bool classic_group::is_static_member_fenced(std::string_view member_id,
                                            const std::optional<std::string>& instance_id) const noexcept {
    if (!instance_id) return false;
    const auto* known = static_member_id(*instance_id);
    return known != nullptr && *known != member_id;
}

classic_member& classic_group::replace_static_member(std::string_view instance_id, std::string new_member_id) {
    const std::string old_id = *static_member_id(instance_id);
    auto node = members_.extract(old_id);
    assert(!node.empty());
    node.key() = new_member_id;
    node.mapped().member_id = new_member_id;
    // The replaced request, if one is parked, belongs to a fenced instance.
    if (node.mapped().awaiting_join) {
        auto cb = std::move(node.mapped().awaiting_join);
        node.mapped().awaiting_join = nullptr;
        join_result r;
        r.error = protocol::error_code::fenced_instance_id;
        r.member_id = old_id;
        cb(std::move(r));
    }
    if (node.mapped().awaiting_sync) {
        auto cb = std::move(node.mapped().awaiting_sync);
        node.mapped().awaiting_sync = nullptr;
        sync_result r;
        r.error = protocol::error_code::fenced_instance_id;
        cb(std::move(r));
    }
    if (is_leader(old_id)) leader_ = new_member_id;
    static_members_[std::string(instance_id)] = new_member_id;
    return members_.insert(std::move(node)).position->second;
}

void classic_group::remove_pending(std::string_view member_id) {
    const auto it = pending_.find(member_id);
    if (it != pending_.end()) pending_.erase(it);
}

std::unordered_map<std::string_view, size_t> classic_group::supporters() const {
    std::unordered_map<std::string_view, size_t> count;
    std::unordered_set<std::string_view> named;  // a member that names a protocol twice counts once
    for (const auto& [id, m] : members_) {
        named.clear();
        for (const auto& p : m.protocols)
            if (named.insert(p.name).second) ++count[p.name];
    }
    return count;
}

bool classic_group::supports_protocols(std::string_view protocol_type, const std::vector<member_protocol>& protocols) const {
    if (members_.empty()) return !protocol_type.empty() && !protocols.empty();
    if (!protocol_type_ || *protocol_type_ != protocol_type) return false;
    const auto count = supporters();
    return std::any_of(protocols.begin(), protocols.end(), [&](const member_protocol& p) {
        const auto it = count.find(p.name);
        return it != count.end() && it->second == members_.size();
    });
}

std::optional<std::string> classic_group::select_protocol() const {
    if (members_.empty()) return std::nullopt;
    // Candidates: protocols every member supports, in the first member's order (for ties).
    const auto count = supporters();
    std::vector<std::string_view> candidates;
    std::unordered_map<std::string_view, size_t> votes;
    for (const auto& p : members_.begin()->second.protocols) {
        const auto it = count.find(p.name);
        if (it != count.end() && it->second == members_.size() && votes.emplace(p.name, 0).second)
            candidates.push_back(p.name);
    }
    if (candidates.empty()) return std::nullopt;
    // Each member votes for the first candidate in its own order.
    for (const auto& [id, m] : members_) {
        for (const auto& p : m.protocols) {
            if (const auto it = votes.find(p.name); it != votes.end()) {
                ++it->second;
                break;
            }
        }
    }
    std::string_view best = candidates.front();
    for (const auto c : candidates)
        if (votes[c] > votes[best]) best = c;
    return std::string(best);
}

size_t classic_group::awaiting_join_count() const noexcept {
    return static_cast<size_t>(std::count_if(members_.begin(), members_.end(),
                                             [](const auto& m) { return m.second.awaiting_join_now(); }));
}

int32_t classic_group::rebalance_timeout_ms() const noexcept {
    int32_t t = 0;
    for (const auto& [id, m] : members_) t = std::max(t, m.rebalance_timeout_ms);
    return t;
}

bool classic_group::elect_joined_leader() {
    if (leader_) {
        const auto* l = find(*leader_);
        if (l != nullptr && l->awaiting_join_now()) return true;
    }
    for (const auto& [id, m] : members_) {
        if (m.awaiting_join_now()) {
            leader_ = id;
            return true;
        }
    }
    return false;
}

void classic_group::init_next_generation(uint64_t now_ms) {
    ++generation_;
    if (!members_.empty()) {
        protocol_name_ = select_protocol();
        transition_to(classic_group_state::completing_rebalance, now_ms);
    } else {
        protocol_name_.reset();
        transition_to(classic_group_state::empty, now_ms);
    }
}

std::vector<join_member_entry> classic_group::member_metadata() const {
    std::vector<join_member_entry> out;
    out.reserve(members_.size());
    for (const auto& [id, m] : members_) {
        join_member_entry e{id, m.group_instance_id, {}};
        if (protocol_name_)
            if (const auto* md = m.metadata_for(*protocol_name_)) e.metadata = *md;
        out.push_back(std::move(e));
    }
    return out;
}

std::optional<std::set<std::string>> classic_group::subscribed_topics() const {
    if (!protocol_type_ || *protocol_type_ != "consumer" || !protocol_name_) return std::nullopt;
    std::set<std::string> topics;
    for (const auto& [id, m] : members_) {
        const auto* md = m.metadata_for(*protocol_name_);
        if (md == nullptr || md->size() < 2) return std::nullopt;
        protocol::reader r(*md);
        const int16_t version = r.read_int16();
        if (version < 0) return std::nullopt;
        protocol::consumer_protocol_subscription sub;
        sub.decode(r, std::min<int16_t>(version, protocol::consumer_protocol_subscription::max_version));
        if (!r.ok()) return std::nullopt;
        topics.insert(sub.topics.begin(), sub.topics.end());
    }
    return topics;
}

void classic_group::restore(int32_t generation, std::optional<std::string> protocol_type,
                            std::optional<std::string> protocol_name, std::optional<std::string> leader,
                            uint64_t state_timestamp_ms) {
    generation_ = generation;
    protocol_type_ = std::move(protocol_type);
    protocol_name_ = std::move(protocol_name);
    leader_ = std::move(leader);
    state_ = members_.empty() ? classic_group_state::empty : classic_group_state::stable;
    state_timestamp_ms_ = state_timestamp_ms;
}

} // namespace samsa::broker
