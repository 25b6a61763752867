#include "broker/groups/classic_group_coordinator.h"

#include "broker/logger.h"

#include <algorithm>
#include <cstdio>

namespace samsa::broker {

using protocol::error_code;
using state = classic_group_state;

join_result join_error(std::string member_id, error_code error) {
    join_result r;
    r.error = error;
    r.member_id = std::move(member_id);
    return r;
}

namespace {

sync_result sync_error(error_code error) {
    sync_result r;
    r.error = error;
    return r;
}

} // namespace

classic_group_coordinator::classic_group_coordinator(const group_config& config, group_timers& timers,
                                                     classic_group_store& store)
    : config_(config), timers_(timers), store_(store), random_(std::random_device{}()) {}

std::string classic_group_coordinator::new_member_id(std::string_view prefix) {
    // Kafka's shape: "<group.instance.id or client.id>-<random UUID>".
    const uint64_t a = random_();
    const uint64_t b = random_();
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                  static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return std::string(prefix) + "-" + uuid;
}

join_result classic_group_coordinator::current_join_result(const classic_group& g, const classic_member& m,
                                                           bool with_members) const {
    join_result r;
    r.member_id = m.member_id;
    r.generation = g.generation();
    r.protocol_type = g.protocol_type();
    r.protocol_name = g.protocol_name();
    r.leader = g.leader().value_or("");
    if (with_members) r.members = g.member_metadata();
    return r;
}

// ---- JoinGroup ------------------------------------------------------------------------------

void classic_group_coordinator::join(group_slot& slot, join_params p, join_callback done) {
    auto& g = *slot.classic;
    if (p.session_timeout_ms < config_.min_session_timeout_ms || p.session_timeout_ms > config_.max_session_timeout_ms)
        return done(join_error(p.member_id, error_code::invalid_session_timeout));
    const bool unknown = p.member_id.empty();
    if (unknown && g.size() >= static_cast<size_t>(config_.max_size))
        return done(join_error("", error_code::group_max_size_reached));
    if (g.is(state::dead)) return done(join_error(p.member_id, error_code::coordinator_not_available));
    if (!g.supports_protocols(p.protocol_type, p.protocols))
        return done(join_error(p.member_id, error_code::inconsistent_group_protocol));
    if (unknown) join_new_member(slot, std::move(p), std::move(done));
    else join_known_member(slot, std::move(p), std::move(done));
    maybe_complete_join(slot);
}

void classic_group_coordinator::join_new_member(group_slot& slot, join_params&& p, join_callback&& done) {
    auto& g = *slot.classic;
    if (p.group_instance_id && g.static_member_id(*p.group_instance_id) != nullptr)
        return replace_static_member(slot, std::move(p), std::move(done));
    std::string id = new_member_id(p.group_instance_id ? *p.group_instance_id : p.client_id);
    if (p.require_known_member_id) {
        // KIP-394: hand out the id and wait for the member to come back with it.
        g.add_pending(id);
        (void)timers_.schedule_in(static_cast<uint64_t>(p.session_timeout_ms),
                                  [this, gid = slot.id, id] { on_pending_timer(gid, id); });
        return done(join_error(std::move(id), error_code::member_id_required));
    }
    add_member_and_rebalance(slot, std::move(p), std::move(id), std::move(done));
}

void classic_group_coordinator::replace_static_member(group_slot& slot, join_params&& p, join_callback&& done) {
    auto& g = *slot.classic;
    const std::string instance = *p.group_instance_id;
    const std::string old_id = *g.static_member_id(instance);
    const std::string old_leader = g.leader().value_or("");
    classic_member saved = *g.find(old_id);
    saved.awaiting_join = nullptr;
    saved.awaiting_sync = nullptr;

    std::string id = new_member_id(instance);
    auto& m = g.replace_static_member(instance, id);  // answers the old instance's parked requests
    timers_.cancel(m.session_timer);
    m.session_timer = 0;
    m.protocols = std::move(p.protocols);
    m.rebalance_timeout_ms = p.rebalance_timeout_ms;
    m.session_timeout_ms = p.session_timeout_ms;
    m.client_id = std::move(p.client_id);
    m.client_host = std::move(p.client_host);
    m.supports_skip_assignment = p.supports_skip_assignment;
    schedule_session(slot, m, static_cast<uint64_t>(m.session_timeout_ms));

    switch (g.state()) {
        case state::stable: {
            if (g.select_protocol() != g.protocol_name()) {
                m.awaiting_join = std::move(done);
                return prepare_rebalance(slot);
            }
            if (const auto err = store_.store_group(slot); err != error_code::none) {
                // Put the old member back: the new instance was never admitted.
                auto& back = g.replace_static_member(instance, old_id);
                timers_.cancel(back.session_timer);
                back = std::move(saved);
                back.session_timer = 0;
                schedule_session(slot, back, static_cast<uint64_t>(back.session_timeout_ms));
                return done(join_error("", err));
            }
            // The group keeps its generation and assignment. Only a KIP-814 leader (v9+) is told it
            // leads, with skip_assignment; older ones see the old leader id so they do not assign.
            const bool leader = g.is_leader(id);
            auto r = current_join_result(g, m, leader && m.supports_skip_assignment);
            if (leader && m.supports_skip_assignment) r.skip_assignment = true;
            else r.leader = old_leader;
            return done(std::move(r));
        }
        case state::completing_rebalance:
            // The leader may already be assigning with the old member id: start over.
            m.awaiting_join = std::move(done);
            return prepare_rebalance(slot);
        case state::preparing_rebalance:
            m.awaiting_join = std::move(done);
            return;
        case state::empty:
        case state::dead:
            break;
    }
    done(join_error(id, error_code::unknown_member_id));
}

void classic_group_coordinator::join_known_member(group_slot& slot, join_params&& p, join_callback&& done) {
    auto& g = *slot.classic;
    if (g.is_pending(p.member_id)) {
        std::string id = p.member_id;
        return add_member_and_rebalance(slot, std::move(p), std::move(id), std::move(done));
    }
    if (g.is_static_member_fenced(p.member_id, p.group_instance_id))
        return done(join_error(p.member_id, error_code::fenced_instance_id));
    auto* m = g.find(p.member_id);
    if (m == nullptr || (p.group_instance_id && g.static_member_id(*p.group_instance_id) == nullptr))
        return done(join_error(p.member_id, error_code::unknown_member_id));

    switch (g.state()) {
        case state::preparing_rebalance: return update_member_and_rebalance(slot, *m, std::move(p), std::move(done));
        case state::completing_rebalance:
            // Same metadata: the member lost the JoinGroup answer; give it again.
            if (m->matches(p.protocols)) return done(current_join_result(g, *m, g.is_leader(m->member_id)));
            return update_member_and_rebalance(slot, *m, std::move(p), std::move(done));
        case state::stable:
            // A follower with unchanged metadata just learns the current generation; the leader
            // rejoining asks for a rebalance (its view of topic metadata may have changed).
            if (!g.is_leader(m->member_id) && m->matches(p.protocols)) return done(current_join_result(g, *m, false));
            return update_member_and_rebalance(slot, *m, std::move(p), std::move(done));
        case state::empty:
        case state::dead:
            break;
    }
    done(join_error(p.member_id, error_code::unknown_member_id));
}

void classic_group_coordinator::add_member_and_rebalance(group_slot& slot, join_params&& p, std::string member_id,
                                                         join_callback&& done) {
    auto& g = *slot.classic;
    classic_member m;
    m.member_id = std::move(member_id);
    m.group_instance_id = std::move(p.group_instance_id);
    m.client_id = std::move(p.client_id);
    m.client_host = std::move(p.client_host);
    m.rebalance_timeout_ms = p.rebalance_timeout_ms;
    m.session_timeout_ms = p.session_timeout_ms;
    m.protocol_type = std::move(p.protocol_type);
    m.protocols = std::move(p.protocols);
    m.supports_skip_assignment = p.supports_skip_assignment;
    m.is_new = true;
    m.awaiting_join = std::move(done);
    if (g.is(state::preparing_rebalance) && g.generation() == 0) g.new_member_added = true;
    auto& added = g.add(std::move(m));
    // A new member cannot heartbeat before it has its answer: it gets a longer, fixed deadline.
    schedule_session(slot, added, static_cast<uint64_t>(config_.new_member_join_timeout_ms));
    maybe_prepare_rebalance(slot);
}

void classic_group_coordinator::update_member_and_rebalance(group_slot& slot, classic_member& m, join_params&& p,
                                                            join_callback&& done) {
    m.protocols = std::move(p.protocols);
    m.rebalance_timeout_ms = p.rebalance_timeout_ms;
    m.session_timeout_ms = p.session_timeout_ms;
    m.supports_skip_assignment = p.supports_skip_assignment;
    if (m.awaiting_join) {
        // A repeated JoinGroup replaces the parked one, which is told to retry.
        auto old = std::move(m.awaiting_join);
        m.awaiting_join = std::move(done);
        old(join_error(m.member_id, error_code::rebalance_in_progress));
    } else {
        m.awaiting_join = std::move(done);
    }
    maybe_prepare_rebalance(slot);
}

// ---- rebalancing ----------------------------------------------------------------------------

void classic_group_coordinator::maybe_prepare_rebalance(group_slot& slot) {
    if (slot.classic->can_transition_to(state::preparing_rebalance)) prepare_rebalance(slot);
}

void classic_group_coordinator::prepare_rebalance(group_slot& slot) {
    auto& g = *slot.classic;
    if (g.is(state::completing_rebalance)) reset_and_propagate_assignment_error(slot, error_code::rebalance_in_progress);
    timers_.cancel(g.join_timer);
    const bool was_empty = g.is(state::empty);
    g.transition_to(state::preparing_rebalance, timers_.now_ms());
    uint64_t delay = 0;
    if (was_empty) {
        // InitialDelayedJoin: wait for more members before the first generation.
        g.initial_join_delay = true;
        delay = static_cast<uint64_t>(config_.initial_rebalance_delay_ms);
        g.initial_delay_remaining_ms = std::max(g.rebalance_timeout_ms() - config_.initial_rebalance_delay_ms, 0);
    } else {
        g.initial_join_delay = false;
        delay = static_cast<uint64_t>(g.rebalance_timeout_ms());
    }
    g.join_timer = timers_.schedule_in(delay, [this, gid = slot.id] { on_join_timer(gid); });
    log_debug("group ", slot.id, " prepares a rebalance from generation ", g.generation());
    // Kafka's DelayedJoin completes at once when nobody is missing (the last member just left).
    maybe_complete_join(slot);
}

void classic_group_coordinator::maybe_complete_join(group_slot& slot) {
    auto& g = *slot.classic;
    if (g.is(state::preparing_rebalance) && !g.initial_join_delay && g.all_members_joined()) complete_join(slot);
}

void classic_group_coordinator::on_join_timer(const std::string& group_id) {
    auto* slot = store_.find_group(group_id);
    if (slot == nullptr || !slot->classic) return;
    auto& g = *slot->classic;
    g.join_timer = 0;
    if (!g.is(state::preparing_rebalance)) return;
    if (g.initial_join_delay && g.new_member_added && g.initial_delay_remaining_ms > 0) {
        // Someone joined during the delay: wait again, within the rebalance timeout.
        g.new_member_added = false;
        const int32_t delay = std::min(config_.initial_rebalance_delay_ms, g.initial_delay_remaining_ms);
        g.initial_delay_remaining_ms = std::max(g.initial_delay_remaining_ms - config_.initial_rebalance_delay_ms, 0);
        g.join_timer = timers_.schedule_in(static_cast<uint64_t>(delay), [this, gid = group_id] { on_join_timer(gid); });
        return;
    }
    complete_join(*slot);
}

void classic_group_coordinator::complete_join(group_slot& slot) {
    auto& g = *slot.classic;
    timers_.cancel(g.join_timer);
    g.join_timer = 0;
    g.initial_join_delay = false;
    // Dynamic members that did not rejoin in time are gone; static ones keep their place.
    std::vector<std::string> gone;
    for (const auto& [id, m] : g.members())
        if (!m.awaiting_join_now() && !m.is_static()) gone.push_back(id);
    for (const auto& id : gone) {
        if (auto* m = g.find(id)) timers_.cancel(m->session_timer);
        g.remove(id);
    }
    if (g.is(state::dead)) return;
    if (!g.elect_joined_leader() && !g.empty()) {
        // Only static members remain and none rejoined: wait another rebalance timeout.
        g.join_timer = timers_.schedule_in(static_cast<uint64_t>(g.rebalance_timeout_ms()),
                                           [this, gid = slot.id] { on_join_timer(gid); });
        return;
    }
    g.init_next_generation(timers_.now_ms());
    if (g.is(state::empty)) {
        if (const auto err = store_.store_group(slot); err != error_code::none)
            log_warn("group ", slot.id, ": writing its empty generation ", g.generation(), " failed (", to_int(err), ")");
        return;
    }
    log_info("group ", slot.id, " generation ", g.generation(), " has ", g.size(), " members, protocol ",
             g.protocol_name().value_or(""));
    std::vector<std::pair<join_callback, join_result>> answers;
    for (auto& [id, m] : g.members()) {
        if (!m.awaiting_join) continue;
        auto r = current_join_result(g, m, g.is_leader(id));
        answers.emplace_back(std::move(m.awaiting_join), std::move(r));
        m.awaiting_join = nullptr;
        m.is_new = false;
        schedule_session(slot, m, static_cast<uint64_t>(m.session_timeout_ms));
    }
    for (auto& [cb, r] : answers) cb(std::move(r));
}

void classic_group_coordinator::reset_and_propagate_assignment_error(group_slot& slot, error_code error) {
    for (auto& [id, m] : slot.classic->members()) m.assignment.clear();
    std::vector<sync_callback> waiting;
    for (auto& [id, m] : slot.classic->members()) {
        if (!m.awaiting_sync) continue;
        waiting.push_back(std::move(m.awaiting_sync));
        m.awaiting_sync = nullptr;
        schedule_session(slot, m, static_cast<uint64_t>(m.session_timeout_ms));
    }
    for (auto& cb : waiting) cb(sync_error(error));
}

void classic_group_coordinator::propagate_assignment(group_slot& slot) {
    auto& g = *slot.classic;
    std::vector<std::pair<sync_callback, sync_result>> answers;
    for (auto& [id, m] : g.members()) {
        if (!m.awaiting_sync) continue;
        sync_result r;
        r.protocol_type = g.protocol_type();
        r.protocol_name = g.protocol_name();
        r.assignment = m.assignment;
        answers.emplace_back(std::move(m.awaiting_sync), std::move(r));
        m.awaiting_sync = nullptr;
        // Sessions restart now: expiries were ignored while the members waited for this.
        schedule_session(slot, m, static_cast<uint64_t>(m.session_timeout_ms));
    }
    for (auto& [cb, r] : answers) cb(std::move(r));
}

// ---- SyncGroup, Heartbeat, LeaveGroup, OffsetCommit -----------------------------------------

void classic_group_coordinator::sync(group_slot& slot, sync_params p, sync_callback done) {
    auto& g = *slot.classic;
    if (g.is(state::dead)) return done(sync_error(error_code::coordinator_not_available));
    if (g.is_static_member_fenced(p.member_id, p.group_instance_id)) return done(sync_error(error_code::fenced_instance_id));
    auto* m = g.find(p.member_id);
    if (m == nullptr) return done(sync_error(error_code::unknown_member_id));
    if (p.generation != g.generation()) return done(sync_error(error_code::illegal_generation));
    if ((p.protocol_type && g.protocol_type() != p.protocol_type) || (p.protocol_name && g.protocol_name() != p.protocol_name))
        return done(sync_error(error_code::inconsistent_group_protocol));

    switch (g.state()) {
        case state::empty: return done(sync_error(error_code::unknown_member_id));
        case state::preparing_rebalance: return done(sync_error(error_code::rebalance_in_progress));
        case state::stable: {
            sync_result r;
            r.protocol_type = g.protocol_type();
            r.protocol_name = g.protocol_name();
            r.assignment = m->assignment;
            schedule_session(slot, *m, static_cast<uint64_t>(m->session_timeout_ms));
            return done(std::move(r));
        }
        case state::completing_rebalance: break;
        case state::dead: return;
    }

    if (m->awaiting_sync) {
        auto old = std::move(m->awaiting_sync);
        m->awaiting_sync = std::move(done);
        old(sync_error(error_code::rebalance_in_progress));
    } else {
        m->awaiting_sync = std::move(done);
    }
    if (!g.is_leader(p.member_id)) return;

    // The leader's assignment: every member gets its bytes as sent, or an empty one.
    for (auto& [id, member] : g.members()) member.assignment.clear();
    for (auto& [id, bytes] : p.assignments)
        if (auto* target = g.find(id)) target->assignment = std::move(bytes);
    if (const auto err = store_.store_group(slot); err != error_code::none) {
        reset_and_propagate_assignment_error(slot, err);
        return maybe_prepare_rebalance(slot);
    }
    g.transition_to(state::stable, timers_.now_ms());
    propagate_assignment(slot);
}

error_code classic_group_coordinator::heartbeat(group_slot& slot, std::string_view member_id,
                                                const std::optional<std::string>& instance_id, int32_t generation) {
    auto& g = *slot.classic;
    if (g.is(state::dead)) return error_code::coordinator_not_available;
    if (g.is_static_member_fenced(member_id, instance_id)) return error_code::fenced_instance_id;
    auto* m = g.find(member_id);
    if (m == nullptr) return error_code::unknown_member_id;
    if (generation != g.generation()) return error_code::illegal_generation;
    switch (g.state()) {
        case state::empty: return error_code::unknown_member_id;
        case state::preparing_rebalance:
            schedule_session(slot, *m, static_cast<uint64_t>(m->session_timeout_ms));
            return error_code::rebalance_in_progress;
        case state::completing_rebalance:
        case state::stable:
            // A member may heartbeat between its JoinGroup answer and SyncGroup.
            schedule_session(slot, *m, static_cast<uint64_t>(m->session_timeout_ms));
            return error_code::none;
        case state::dead: break;
    }
    return error_code::coordinator_not_available;
}

error_code classic_group_coordinator::leave(group_slot& slot, const member_identity& who) {
    auto& g = *slot.classic;
    if (g.is(state::dead)) return error_code::coordinator_not_available;
    if (!who.member_id.empty() && g.is_static_member_fenced(who.member_id, who.group_instance_id))
        return error_code::fenced_instance_id;
    if (g.is_pending(who.member_id)) {
        g.remove_pending(who.member_id);
        maybe_complete_join(slot);
        return error_code::none;
    }
    const std::string* static_id = who.group_instance_id ? g.static_member_id(*who.group_instance_id) : nullptr;
    if (g.find(who.member_id) == nullptr && static_id == nullptr) return error_code::unknown_member_id;
    const std::string id = static_id != nullptr ? *static_id : who.member_id;
    log_info("member ", id, " leaves group ", slot.id);
    remove_member(slot, id);
    return error_code::none;
}

error_code classic_group_coordinator::validate_commit(group_slot& slot, std::string_view member_id,
                                                      const std::optional<std::string>& instance_id, int32_t generation) {
    auto& g = *slot.classic;
    if (g.is(state::dead)) return error_code::coordinator_not_available;
    if (g.is_static_member_fenced(member_id, instance_id)) return error_code::fenced_instance_id;
    // A group that only stores offsets (no group management) commits with generation -1.
    if (generation < 0 && g.is(state::empty)) return error_code::none;
    auto* m = g.find(member_id);
    if (m == nullptr) return error_code::unknown_member_id;
    if (generation != g.generation()) return error_code::illegal_generation;
    if (g.is(state::completing_rebalance)) return error_code::rebalance_in_progress;
    schedule_session(slot, *m, static_cast<uint64_t>(m->session_timeout_ms));
    return error_code::none;
}

void classic_group_coordinator::remove_member(group_slot& slot, const std::string& member_id) {
    auto& g = *slot.classic;
    auto* m = g.find(member_id);
    if (m == nullptr) return;
    timers_.cancel(m->session_timer);
    auto join_cb = std::move(m->awaiting_join);
    auto sync_cb = std::move(m->awaiting_sync);
    g.remove(member_id);
    switch (g.state()) {
        case state::stable:
        case state::completing_rebalance: maybe_prepare_rebalance(slot); break;
        case state::preparing_rebalance: maybe_complete_join(slot); break;
        case state::empty:
        case state::dead: break;
    }
    // A removed member that still waits learns it is no longer known, and may rejoin.
    if (join_cb) join_cb(join_error("", error_code::unknown_member_id));
    if (sync_cb) sync_cb(sync_error(error_code::unknown_member_id));
}

// ---- sessions -------------------------------------------------------------------------------

void classic_group_coordinator::schedule_session(group_slot& slot, classic_member& m, uint64_t timeout_ms) {
    timers_.renew(m.session_timer, m.session_deadline_ms, timers_.now_ms() + timeout_ms, [&] {
        return [this, gid = slot.id, mid = m.member_id] { on_session_timer(gid, mid); };
    });
}

void classic_group_coordinator::on_session_timer(const std::string& group_id, const std::string& member_id) {
    auto* slot = store_.find_group(group_id);
    if (slot == nullptr || !slot->classic) return;
    auto* m = slot->classic->find(member_id);
    if (m == nullptr) return;
    if (!timers_.passed(m->session_timer, m->session_deadline_ms,
                        [&] { return [this, gid = group_id, mid = member_id] { on_session_timer(gid, mid); }; }))
        return;
    // Members parked in a rebalance are bounded by the rebalance, not by their session; their
    // session restarts when they are answered.
    if ((m->awaiting_join_now() && !m->is_new) || m->awaiting_sync_now()) return;
    log_info("member ", member_id, " of group ", group_id, " expired (no heartbeat within its session timeout)");
    remove_member(*slot, member_id);
}

void classic_group_coordinator::on_pending_timer(const std::string& group_id, const std::string& member_id) {
    auto* slot = store_.find_group(group_id);
    if (slot == nullptr || !slot->classic || !slot->classic->is_pending(member_id)) return;
    slot->classic->remove_pending(member_id);
    maybe_complete_join(*slot);
}

void classic_group_coordinator::on_loaded(group_slot& slot) {
    for (auto& [id, m] : slot.classic->members()) schedule_session(slot, m, static_cast<uint64_t>(m.session_timeout_ms));
}

void classic_group_coordinator::rebalance(group_slot& slot) { maybe_prepare_rebalance(slot); }

void classic_group_coordinator::shut_down(group_slot& slot, error_code error) {
    auto& g = *slot.classic;
    timers_.cancel(g.join_timer);
    g.join_timer = 0;
    std::vector<join_callback> joins;
    std::vector<sync_callback> syncs;
    for (auto& [id, m] : g.members()) {
        timers_.cancel(m.session_timer);
        m.session_timer = 0;
        if (m.awaiting_join) joins.push_back(std::move(m.awaiting_join));
        if (m.awaiting_sync) syncs.push_back(std::move(m.awaiting_sync));
        m.awaiting_join = nullptr;
        m.awaiting_sync = nullptr;
    }
    g.transition_to(state::dead, timers_.now_ms());
    for (auto& cb : joins) cb(join_error("", error));
    for (auto& cb : syncs) cb(sync_error(error));
}

} // namespace samsa::broker
