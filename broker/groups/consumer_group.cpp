#include "broker/groups/consumer_group.h"

#include <algorithm>

namespace samsa::broker {

std::string_view to_string(consumer_group_state s) noexcept {
    switch (s) {
        case consumer_group_state::empty: return "Empty";
        case consumer_group_state::assigning: return "Assigning";
        case consumer_group_state::reconciling: return "Reconciling";
        case consumer_group_state::stable: return "Stable";
        case consumer_group_state::dead: return "Dead";
    }
    return "Unknown";
}

std::vector<int32_t> raw_partitions(const partition_set& parts) {
    std::vector<int32_t> out;
    out.reserve(parts.size());
    for (const protocol::partition_id p : parts) out.push_back(p.value());
    return out;
}

std::vector<std::string> normalized_topics(std::vector<std::string> topics) {
    std::sort(topics.begin(), topics.end());
    topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
    return topics;
}

consumer_group_state consumer_group::state() const noexcept {
    if (members_.empty()) return consumer_group_state::empty;
    if (group_epoch_ > assignment_epoch_) return consumer_group_state::assigning;
    for (const auto& [id, m] : members_)
        if (!m.reconciled_to(assignment_epoch_)) return consumer_group_state::reconciling;
    return consumer_group_state::stable;
}

consumer_member* consumer_group::find(std::string_view member_id) noexcept {
    const auto it = members_.find(member_id);
    return it == members_.end() ? nullptr : &it->second;
}

consumer_member* consumer_group::find_static(std::string_view instance_id) noexcept {
    for (auto& [id, m] : members_)
        if (m.instance_id && *m.instance_id == instance_id) return &m;
    return nullptr;
}

consumer_member& consumer_group::put(consumer_member m) {
    auto id = m.member_id;
    return members_.insert_or_assign(std::move(id), std::move(m)).first->second;
}

void consumer_group::remove(std::string_view member_id, int64_t now_wall_ms) {
    const auto it = members_.find(member_id);
    if (it == members_.end()) return;
    members_.erase(it);
    const auto t = target_.find(std::string(member_id));
    if (t != target_.end()) target_.erase(t);
    if (members_.empty()) empty_since_wall_ms = now_wall_ms;
}

const topic_partitions& consumer_group::target_of(std::string_view member_id) const {
    static const topic_partitions none;
    const auto it = target_.find(std::string(member_id));
    return it == target_.end() ? none : it->second;
}

bool consumer_group::owned_by_other(const protocol::uuid& topic, protocol::partition_id partition,
                                    std::string_view except) const {
    for (const auto& [id, m] : members_) {
        if (id == except) continue;
        for (const auto* set : {&m.assigned, &m.pending_revocation}) {
            const auto it = set->find(topic);
            if (it != set->end() && it->second.contains(partition)) return true;
        }
    }
    return false;
}

bool consumer_group::subscribes_to(std::string_view topic) const {
    if (subscription_metadata.contains(std::string(topic))) return true;
    for (const auto& [id, m] : members_)
        if (std::binary_search(m.subscribed_topic_names.begin(), m.subscribed_topic_names.end(), topic)) return true;
    return false;
}

std::string consumer_group::preferred_assignor(const std::string& fallback) const {
    std::map<std::string, int> votes;
    for (const auto& [id, m] : members_)
        if (m.server_assignor) ++votes[*m.server_assignor];
    std::string best = fallback;
    int most = 0;
    for (const auto& [name, n] : votes)
        if (n > most) {
            best = name;
            most = n;
        }
    return best;
}

namespace {

bool owns_any(const std::optional<topic_partitions>& owned, const topic_partitions& these) {
    if (!owned) return true;  // not reported: assume the member still owns them
    for (const auto& [topic, parts] : *owned) {
        const auto it = these.find(topic);
        if (it == these.end()) continue;
        for (const protocol::partition_id p : parts)
            if (it->second.contains(p)) return true;
    }
    return false;
}

} // namespace

consumer_member reconcile(const consumer_member& m, int32_t target_epoch, const topic_partitions& target,
                          const std::optional<topic_partitions>& owned, const consumer_group& group) {
    int32_t epoch = m.member_epoch;
    switch (m.state) {
        case consumer_member_state::stable:
            if (m.member_epoch == target_epoch) return m;
            break;
        case consumer_member_state::unrevoked_partitions:
            // Wait until the member stops reporting the partitions it must give up.
            if (owns_any(owned, m.pending_revocation)) return m;
            epoch = m.member_epoch + 1;
            break;
        case consumer_member_state::unreleased_partitions: break;
    }

    topic_partitions assigned, revoke, add;
    bool unreleased = false;
    std::set<protocol::uuid> topics;
    for (const auto& [t, p] : target) topics.insert(t);
    for (const auto& [t, p] : m.assigned) topics.insert(t);
    static const partition_set none;
    for (const auto& topic : topics) {
        const auto ti = target.find(topic);
        const auto& want = ti == target.end() ? none : ti->second;
        const auto ci = m.assigned.find(topic);
        const auto& have = ci == m.assigned.end() ? none : ci->second;
        for (const protocol::partition_id p : have) (want.contains(p) ? assigned : revoke)[topic].insert(p);
        for (const protocol::partition_id p : want) {
            if (have.contains(p)) continue;
            if (group.owned_by_other(topic, p, m.member_id)) unreleased = true;
            else add[topic].insert(p);
        }
    }

    consumer_member next = m;
    if (!revoke.empty() && owns_any(owned, revoke)) {
        // Keep the epoch and ask the member to revoke first.
        next.state = consumer_member_state::unrevoked_partitions;
        next.previous_member_epoch = m.member_epoch;
        next.member_epoch = epoch;
        next.assigned = std::move(assigned);
        next.pending_revocation = std::move(revoke);
        return next;
    }
    for (auto& [t, p] : add) assigned[t].insert(p.begin(), p.end());
    next.state = unreleased ? consumer_member_state::unreleased_partitions : consumer_member_state::stable;
    next.previous_member_epoch = m.member_epoch;
    next.member_epoch = target_epoch;
    next.assigned = std::move(assigned);
    next.pending_revocation.clear();
    return next;
}

} // namespace samsa::broker
