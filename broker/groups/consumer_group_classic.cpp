// Classic members of a consumer (KIP-848) group: the JoinGroup, SyncGroup, Heartbeat and
// LeaveGroup half of consumer_group_coordinator (Kafka's online migration between protocols).
// A classic member is an ordinary consumer_member with classic_member_info: the server-side
// assignor decides its partitions, its generation is its member epoch, and instead of being
// sent a new assignment it is told REBALANCE_IN_PROGRESS and rejoins.
#include "broker/groups/consumer_group_coordinator.h"
#include "broker/groups/embedded_consumer_protocol.h"
#include "broker/logger.h"

#include <algorithm>

namespace samsa::broker {

using protocol::error_code;

namespace {

join_result classic_failure(std::string member_id, error_code e) { return join_error(std::move(member_id), e); }

} // namespace

std::pair<consumer_member*, error_code> consumer_group_coordinator::classic_member_of(
    group_slot& slot, std::string_view member_id, const std::optional<std::string>& instance_id) {
    auto& g = *slot.consumer;
    consumer_member* m = nullptr;
    if (instance_id) {
        m = g.find_static(*instance_id);
        if (m == nullptr) return {nullptr, error_code::unknown_member_id};
        if (m->member_id != member_id) return {nullptr, error_code::fenced_instance_id};
    } else {
        m = g.find(member_id);
        if (m == nullptr) return {nullptr, error_code::unknown_member_id};
    }
    // A member of the new protocol does not use these APIs.
    if (!m->classic) return {nullptr, error_code::unknown_member_id};
    return {m, error_code::none};
}

bool consumer_group_coordinator::classic_must_rejoin(const consumer_group& g, const consumer_member& m) const {
    if (m.member_epoch < g.group_epoch()) return true;                      // a new rebalance to catch up with
    if (m.state == consumer_member_state::unrevoked_partitions) return true;  // give partitions up, then move on
    if (m.state != consumer_member_state::unreleased_partitions) return false;
    // Waiting for partitions another member still owns: rejoin once they are all free.
    for (const auto& [topic, parts] : g.target_of(m.member_id)) {
        const auto have = m.assigned.find(topic);
        for (const protocol::partition_id p : parts)
            if ((have == m.assigned.end() || !have->second.contains(p)) && g.owned_by_other(topic, p, m.member_id))
                return false;
    }
    return true;
}

void consumer_group_coordinator::classic_join(group_slot& slot, join_params p, const join_callback& done) {
    auto& g = *slot.consumer;
    const bool unknown = p.member_id.empty();
    if (unknown) p.member_id = new_member_id();
    if (g.members().size() >= static_cast<size_t>(config_.consumer_max_size) && g.find(p.member_id) == nullptr &&
        !(p.group_instance_id && g.find_static(*p.group_instance_id) != nullptr))
        return done(classic_failure(p.member_id, error_code::group_max_size_reached));

    // The member must speak the consumer protocol with a protocol every classic member supports.
    bool supported = p.protocol_type == "consumer" && !p.protocols.empty();
    for (const auto& [id, m] : g.members()) {
        if (!supported) break;
        if (!m.classic || id == p.member_id) continue;
        supported = std::any_of(p.protocols.begin(), p.protocols.end(), [&](const member_protocol& want) {
            return std::any_of(m.classic->protocols.begin(), m.classic->protocols.end(),
                               [&](const member_protocol& have) { return have.name == want.name; });
        });
    }
    if (!supported) return done(classic_failure(unknown ? "" : p.member_id, error_code::inconsistent_group_protocol));

    if (unknown && p.require_known_member_id && !p.group_instance_id)
        return done(classic_failure(p.member_id, error_code::member_id_required));

    // Who is this: a known member, a static member coming back under a new id, or a new member.
    consumer_member current;
    std::optional<std::string> replaced;
    bool replaced_kip848 = false;  // it takes the place of a member of the new protocol
    auto* sm = p.group_instance_id ? g.find_static(*p.group_instance_id) : nullptr;
    if (sm != nullptr && sm->member_id != p.member_id) {
        if (!unknown) return done(classic_failure(p.member_id, error_code::fenced_instance_id));
        current.member_id = p.member_id;
        current.assigned = sm->assigned;
        current.member_epoch = sm->member_epoch;
        current.previous_member_epoch = sm->previous_member_epoch;
        replaced = sm->member_id;
        replaced_kip848 = !sm->classic.has_value();
    } else if (auto* m = g.find(p.member_id)) {
        if (!m->classic) return done(classic_failure(p.member_id, error_code::unknown_member_id));
        current = *m;
    } else {
        current.member_id = p.member_id;
    }
    // Bytes that claim the consumer protocol but do not decode: Kafka fails the request as an
    // internal error (UNKNOWN_SERVER_ERROR), answering with the member id the request carried.
    const auto subscription = decode_embedded_subscription(p.protocols.front().metadata);
    if (!subscription) return done(classic_failure(unknown ? "" : p.member_id, error_code::unknown_server_error));
    consumer_group before = g;
    if (replaced) take_over_static_member(slot, *replaced, p.member_id, *p.group_instance_id);
    const bool was_member = g.find(current.member_id) != nullptr;

    consumer_member updated = current;
    if (p.group_instance_id) updated.instance_id = p.group_instance_id;
    if (subscription->value.rack_id) updated.rack_id = subscription->value.rack_id;
    updated.rebalance_timeout_ms = p.rebalance_timeout_ms;
    updated.server_assignor.reset();
    updated.subscribed_topic_names = normalized_topics(subscription->value.topics);
    updated.subscribed_topic_regex.reset();
    updated.client_id = p.client_id;
    updated.client_host = p.client_host;
    updated.classic = classic_member_info{p.session_timeout_ms, p.protocols};
    timers_.cancel(updated.join_timer);  // it rejoined
    updated.join_timer = 0;
    const bool bump = !was_member || replaced.has_value() || updated.subscribed_topic_names != current.subscribed_topic_names ||
                      updated.subscribed_topic_regex != current.subscribed_topic_regex;
    // What the member still owns is in its subscription (empty for eager assignors, which give
    // everything up before rejoining).
    const std::optional<topic_partitions> owned = by_topic_id(subscription->value.owned_partitions, topics_);
    auto& stored = settle(slot, std::move(updated), bump, replaced.has_value(), owned);
    const std::string member_id = stored.member_id;
    // The last KIP-848 member replaced by a classic one: the group becomes a classic group, its
    // records and the member's written together. The member syncs with the generation it gets.
    if (replaced_kip848 && store_.static_member_replaced(slot, member_id)) {
        join_result r;
        r.member_id = member_id;
        r.generation = slot.classic->generation();
        r.protocol_type = "consumer";
        r.protocol_name = slot.classic->protocol_name();
        return done(std::move(r));
    }
    if (const auto e = store_.store_consumer_group(slot, &member_id); e != error_code::none) {
        roll_back(slot, std::move(before));
        return done(classic_failure(member_id, e));
    }
    auto* m = slot.consumer->find(member_id);
    // It must now collect its assignment with SyncGroup within its rebalance timeout.
    schedule_classic_deadline(slot, *m, classic_wait::sync);
    join_result r;
    r.member_id = member_id;
    r.generation = m->member_epoch;
    r.protocol_type = "consumer";
    r.protocol_name = m->classic->protocols.front().name;
    // No leader: every classic member is a follower and gets its assignment from SyncGroup.
    done(std::move(r));
}

sync_result consumer_group_coordinator::classic_sync(group_slot& slot, const sync_params& p) {
    sync_result r;
    auto [m, e] = classic_member_of(slot, p.member_id, p.group_instance_id);
    if (e != error_code::none) {
        r.error = e;
        return r;
    }
    if (p.generation != m->member_epoch) {
        r.error = error_code::illegal_generation;
        return r;
    }
    const auto& chosen = m->classic->protocols.front();
    if ((p.protocol_type && *p.protocol_type != "consumer") || (p.protocol_name && *p.protocol_name != chosen.name)) {
        r.error = error_code::inconsistent_group_protocol;
        return r;
    }
    // A member revoking partitions has rejoined already: it gets what it keeps and rejoins
    // after; any other member behind the group epoch must rejoin first.
    if (slot.consumer->group_epoch() > m->member_epoch && m->state != consumer_member_state::unrevoked_partitions) {
        schedule_classic_deadline(slot, *m, classic_wait::rejoin);
        r.error = error_code::rebalance_in_progress;
        return r;
    }
    schedule_session(slot, *m);
    timers_.cancel(m->join_timer);  // it synced in time
    m->join_timer = 0;
    r.protocol_type = p.protocol_type;
    r.protocol_name = p.protocol_name;
    const auto subscription = decode_embedded_subscription(chosen.metadata);
    r.assignment = encode_embedded_assignment(m->assigned, topics_, subscription ? subscription->version : int16_t{0});
    return r;
}

error_code consumer_group_coordinator::classic_heartbeat(group_slot& slot, std::string_view member_id,
                                                         const std::optional<std::string>& instance_id, int32_t generation) {
    auto [m, e] = classic_member_of(slot, member_id, instance_id);
    if (e != error_code::none) return e;
    if (generation != m->member_epoch) return error_code::illegal_generation;
    schedule_session(slot, *m);
    if (!classic_must_rejoin(*slot.consumer, *m)) return error_code::none;
    schedule_classic_deadline(slot, *m, classic_wait::rejoin);
    return error_code::rebalance_in_progress;
}

error_code consumer_group_coordinator::classic_leave(group_slot& slot, const member_identity& who) {
    auto [m, e] = classic_member_of(slot, who.member_id, who.group_instance_id);
    if (e != error_code::none) return e;
    fence(slot, m->member_id, "left the group (LeaveGroup)");
    return error_code::none;
}

void consumer_group_coordinator::schedule_classic_deadline(group_slot& slot, consumer_member& m, classic_wait wait) {
    const bool rejoin = wait == classic_wait::rejoin;
    // A pending rejoin deadline stands; a new JoinGroup restarts the clock for SyncGroup (Kafka's
    // sync timeout replaces any earlier one).
    if (rejoin && m.join_timer != 0 && timers_.due_at(m.join_timer) != UINT64_MAX) return;
    timers_.cancel(m.join_timer);
    const std::string_view why = rejoin ? "did not rejoin within its rebalance timeout"
                                        : "did not send SyncGroup within its rebalance timeout";
    m.join_timer = timers_.schedule_in(static_cast<uint64_t>(std::max(m.rebalance_timeout_ms, 0)),
                                       [this, gid = slot.id, mid = m.member_id, why] { on_join_timer(gid, mid, why); });
}

void consumer_group_coordinator::on_join_timer(const std::string& group_id, const std::string& member_id,
                                               std::string_view why) {
    auto* slot = store_.find_group(group_id);
    if (slot == nullptr || !slot->consumer) return;
    auto* m = slot->consumer->find(member_id);
    if (m == nullptr) return;
    m->join_timer = 0;
    if (m->classic) fence_and_store(*slot, member_id, std::string("was fenced: it ").append(why));
}

} // namespace samsa::broker
