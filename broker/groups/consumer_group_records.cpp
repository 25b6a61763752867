#include "broker/groups/consumer_group_records.h"

#include <algorithm>
#include <array>

namespace samsa::broker {

namespace {

std::vector<uint8_t> group_key(int16_t version, const std::string& group_id) {
    protocol::consumer_group_metadata_key k;
    k.group_id = group_id;
    // Keys 3, 4 and 6 share this layout; the struct is encoded at the version that carries it.
    return protocol::version_prefixed_bytes(k, version, consumer_group_metadata_key_version);
}

std::vector<uint8_t> member_key(int16_t version, const std::string& group_id, const std::string& member_id) {
    protocol::consumer_group_member_metadata_key k;
    k.group_id = group_id;
    k.member_id = member_id;
    return protocol::version_prefixed_bytes(k, version, consumer_group_member_metadata_key_version);
}

template <typename Value>
std::vector<uint8_t> value_bytes(const Value& v) {
    return protocol::version_prefixed_bytes(v, consumer_group_value_version);
}

template <typename Value>
std::optional<Value> decode_value(protocol::bytes_view bytes) {
    protocol::reader r(bytes);
    const int16_t version = r.read_int16();
    if (!r.ok() || version < 0) return std::nullopt;
    Value v;
    // Later versions only add tagged fields; read them as the newest known.
    v.decode(r, std::min(version, Value::max_version));
    if (!r.ok()) return std::nullopt;
    return v;
}

template <typename List>
List to_record_partitions(const topic_partitions& tp) {
    List out;
    for (const auto& [topic, parts] : tp) {
        typename List::value_type t;
        t.topic_id = topic;
        t.partitions = raw_partitions(parts);
        out.push_back(std::move(t));
    }
    return out;
}

template <typename List>
topic_partitions from_record_partitions(const List& list) {
    topic_partitions out;
    for (const auto& t : list) insert_partitions(out[t.topic_id], t.partitions);
    return out;
}

void add_group_level(consumer_group_log_state& s, const consumer_group& g) {
    s.metadata = protocol::consumer_group_metadata_value{};
    s.metadata->epoch = g.group_epoch();
    s.subscription = protocol::consumer_group_partition_metadata_value{};
    for (const auto& [name, t] : g.subscription_metadata) {
        protocol::consumer_group_partition_metadata_value::topic_metadata tm;
        tm.topic_id = t.id;
        tm.topic_name = name;
        tm.num_partitions = t.partitions;
        s.subscription->topics.push_back(std::move(tm));
    }
    s.target = protocol::consumer_group_target_assignment_metadata_value{};
    s.target->assignment_epoch = g.assignment_epoch();
}

consumer_member_log_state member_state_of(const consumer_group& g, const consumer_member& m) {
    consumer_member_log_state out;
    auto& md = out.metadata.emplace();
    md.instance_id = m.instance_id;
    md.rack_id = m.rack_id;
    md.client_id = m.client_id;
    md.client_host = m.client_host;
    md.subscribed_topic_names = m.subscribed_topic_names;
    md.subscribed_topic_regex = m.subscribed_topic_regex;
    md.rebalance_timeout_ms = m.rebalance_timeout_ms;
    md.server_assignor = m.server_assignor;
    if (m.classic) {
        auto& cm = md.classic_member_metadata.emplace();
        cm.session_timeout_ms = m.classic->session_timeout_ms;
        for (const auto& p : m.classic->protocols) cm.supported_protocols.push_back({p.name, p.metadata});
    }
    out.target.emplace().topic_partitions =
        to_record_partitions<decltype(protocol::consumer_group_target_assignment_member_value::topic_partitions)>(
            g.target_of(m.member_id));
    auto& cur = out.current.emplace();
    using list = decltype(protocol::consumer_group_current_member_assignment_value::assigned_partitions);
    cur.member_epoch = m.member_epoch;
    cur.previous_member_epoch = m.previous_member_epoch;
    cur.state = to_record_state(m.state);
    cur.assigned_partitions = to_record_partitions<list>(m.assigned);
    cur.partitions_pending_revocation = to_record_partitions<list>(m.pending_revocation);
    return out;
}

// Kafka's write order, as buckets (see the header).
enum bucket : size_t {
    current_tombstones,
    target_tombstones,
    target_epoch_tombstone,
    metadata_tombstones,
    member_metadata,
    subscription,
    group_epoch,
    member_targets,
    target_epoch,
    current_assignments,
    bucket_count
};

template <typename Value>
void compare(std::array<std::vector<group_record>, bucket_count>& out, size_t upsert, size_t tombstone,
             const std::optional<Value>& from, const std::optional<Value>& to, const std::vector<uint8_t>& key) {
    if (to) {
        if (!from || !(*from == *to)) out[upsert].push_back({key, value_bytes(*to)});
    } else if (from) {
        out[tombstone].push_back({key, std::nullopt});
    }
}

void compare_member(std::array<std::vector<group_record>, bucket_count>& out, const std::string& group_id,
                    const std::string& member_id, const consumer_member_log_state* from, const consumer_member_log_state* to) {
    static const consumer_member_log_state none;
    const auto& f = from ? *from : none;
    const auto& t = to ? *to : none;
    compare(out, member_metadata, metadata_tombstones, f.metadata, t.metadata,
            member_key(consumer_group_member_metadata_key_version, group_id, member_id));
    compare(out, member_targets, target_tombstones, f.target, t.target,
            member_key(consumer_group_target_member_key_version, group_id, member_id));
    compare(out, current_assignments, current_tombstones, f.current, t.current,
            member_key(consumer_group_current_assignment_key_version, group_id, member_id));
}

} // namespace

int8_t to_record_state(consumer_member_state s) noexcept {
    switch (s) {
        case consumer_member_state::stable: return 0;
        case consumer_member_state::unrevoked_partitions: return 1;
        case consumer_member_state::unreleased_partitions: return 2;
    }
    return 127;
}

consumer_member_state from_record_state(int8_t s) noexcept {
    switch (s) {
        case 1: return consumer_member_state::unrevoked_partitions;
        case 2: return consumer_member_state::unreleased_partitions;
        // Stable, and a state a newer Kafka added: reconciliation starts again from the member's epoch.
        default: return consumer_member_state::stable;
    }
}

consumer_group_log_state log_state_of(const consumer_group& g) {
    consumer_group_log_state s;
    add_group_level(s, g);
    for (const auto& [id, m] : g.members()) s.members.emplace(id, member_state_of(g, m));
    return s;
}

consumer_group_log_state log_state_of(const consumer_group& g, const std::string& member_id) {
    consumer_group_log_state s;
    add_group_level(s, g);
    const auto it = g.members().find(member_id);
    if (it != g.members().end()) s.members.emplace(member_id, member_state_of(g, it->second));
    return s;
}

std::vector<group_record> records_between(const std::string& group_id, const consumer_group_log_state& from,
                                          const consumer_group_log_state& to, const std::string* only_member) {
    std::array<std::vector<group_record>, bucket_count> out;
    auto find = [](const consumer_group_log_state& s, const std::string& id) -> const consumer_member_log_state* {
        const auto it = s.members.find(id);
        return it == s.members.end() ? nullptr : &it->second;
    };
    if (only_member) {
        compare_member(out, group_id, *only_member, find(from, *only_member), find(to, *only_member));
    } else {
        for (const auto& [id, m] : from.members)
            if (!to.members.contains(id)) compare_member(out, group_id, id, &m, nullptr);
        for (const auto& [id, m] : to.members) compare_member(out, group_id, id, find(from, id), &m);
    }
    compare(out, subscription, subscription, from.subscription, to.subscription,
            group_key(consumer_group_partition_metadata_key_version, group_id));
    compare(out, group_epoch, group_epoch, from.metadata, to.metadata, group_key(consumer_group_metadata_key_version, group_id));
    compare(out, target_epoch, target_epoch_tombstone, from.target, to.target,
            group_key(consumer_group_target_metadata_key_version, group_id));
    std::vector<group_record> records;
    for (auto& b : out)
        for (auto& r : b) records.push_back(std::move(r));
    return records;
}

void commit_log_state(consumer_group_log_state& logged, consumer_group_log_state to, const std::string* only_member) {
    if (!only_member) {
        logged = std::move(to);
        return;
    }
    logged.metadata = std::move(to.metadata);
    logged.subscription = std::move(to.subscription);
    logged.target = std::move(to.target);
    logged.lagging = false;
    auto it = to.members.find(*only_member);
    if (it == to.members.end()) logged.members.erase(*only_member);
    else logged.members.insert_or_assign(*only_member, std::move(it->second));
}

bool replay_consumer_record(consumer_group_log_state& state, const group_record_key& key,
                            const std::optional<protocol::bytes_view>& value) {
    auto set = [&]<typename Value>(std::optional<Value>& field) {
        if (!value) {
            field.reset();
            return true;
        }
        auto v = decode_value<Value>(*value);
        if (!v) return false;
        field = std::move(*v);
        return true;
    };
    auto member = [&]() -> consumer_member_log_state& { return state.members[key.member]; };
    auto drop_if_gone = [&] {
        const auto it = state.members.find(key.member);
        if (it != state.members.end() && !it->second.metadata && !it->second.target && !it->second.current)
            state.members.erase(it);
    };
    bool ok = false;
    switch (key.version) {
        case consumer_group_metadata_key_version: return set(state.metadata);
        case consumer_group_partition_metadata_key_version: return set(state.subscription);
        case consumer_group_target_metadata_key_version: return set(state.target);
        case consumer_group_member_metadata_key_version: ok = set(member().metadata); break;
        case consumer_group_target_member_key_version: ok = set(member().target); break;
        case consumer_group_current_assignment_key_version: ok = set(member().current); break;
        default: return false;
    }
    drop_if_gone();
    return ok;
}

consumer_group restore_consumer_group(const std::string& group_id, const consumer_group_log_state& state,
                                      int64_t now_wall_ms) {
    consumer_group g(group_id, now_wall_ms);
    if (state.metadata) g.set_group_epoch(state.metadata->epoch);
    if (state.target) g.set_assignment_epoch(state.target->assignment_epoch);
    if (state.subscription)
        for (const auto& t : state.subscription->topics) g.subscription_metadata[t.topic_name] = {t.topic_id, t.num_partitions};
    for (const auto& [id, ms] : state.members) {
        // A member exists through its metadata record; a target or assignment alone is a leftover.
        if (!ms.metadata) continue;
        consumer_member m;
        m.member_id = id;
        m.instance_id = ms.metadata->instance_id;
        m.rack_id = ms.metadata->rack_id;
        m.client_id = ms.metadata->client_id;
        m.client_host = ms.metadata->client_host;
        m.subscribed_topic_names = ms.metadata->subscribed_topic_names;
        std::sort(m.subscribed_topic_names.begin(), m.subscribed_topic_names.end());
        m.subscribed_topic_regex = ms.metadata->subscribed_topic_regex;
        m.rebalance_timeout_ms = ms.metadata->rebalance_timeout_ms;
        m.server_assignor = ms.metadata->server_assignor;
        if (const auto& cm = ms.metadata->classic_member_metadata) {
            auto& c = m.classic.emplace();
            c.session_timeout_ms = cm->session_timeout_ms;
            for (const auto& p : cm->supported_protocols) c.protocols.push_back({p.name, p.metadata});
        }
        if (ms.current) {
            m.member_epoch = ms.current->member_epoch;
            m.previous_member_epoch = ms.current->previous_member_epoch;
            m.state = from_record_state(ms.current->state);
            m.assigned = from_record_partitions(ms.current->assigned_partitions);
            m.pending_revocation = from_record_partitions(ms.current->partitions_pending_revocation);
        }
        if (ms.target) g.target()[id] = from_record_partitions(ms.target->topic_partitions);
        g.put(std::move(m));
    }
    return g;
}

} // namespace samsa::broker
