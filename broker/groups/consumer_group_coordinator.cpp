#include "broker/groups/consumer_group_coordinator.h"

#include "broker/groups/partition_assignor.h"
#include "broker/logger.h"

#include <algorithm>
#include <set>

namespace samsa::broker {

using protocol::error_code;

namespace {

consumer_heartbeat_result failure(error_code e, std::string message = {}) {
    consumer_heartbeat_result r;
    r.error = e;
    if (!message.empty()) r.error_message = std::move(message);
    return r;
}

// Whether a member's pattern takes `topic`. Patterns were checked when members sent them; one
// that does not compile matches nothing. Internal topics are never taken by a pattern.
bool pattern_subscribes(const topic_regex& re, const std::string& topic) {
    return !topic.starts_with("__") && re.matches(topic);
}

bool is_subset(const std::optional<topic_partitions>& owned, const topic_partitions& of) {
    if (!owned) return false;
    for (const auto& [topic, parts] : *owned) {
        const auto it = of.find(topic);
        if (it == of.end()) {
            if (!parts.empty()) return false;
            continue;
        }
        for (const protocol::partition_id p : parts)
            if (!it->second.contains(p)) return false;
    }
    return true;
}

bool blank(const std::optional<std::string>& s) {
    return s && std::all_of(s->begin(), s->end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

} // namespace

consumer_group_coordinator::consumer_group_coordinator(const group_config& config, group_timers& timers,
                                                       const topic_source& topics, consumer_group_store& store)
    : config_(config), timers_(timers), topics_(topics), store_(store), random_(std::random_device{}()) {}

std::string consumer_group_coordinator::new_member_id() {
    protocol::uuid u;
    for (size_t i = 0; i < u.bytes.size(); i += 8) {
        const uint64_t r = random_();
        for (size_t j = 0; j < 8; ++j) u.bytes[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
    return u.to_base64();
}

std::optional<consumer_heartbeat_result> consumer_group_coordinator::validate(const std::string& group_id,
                                                                              const consumer_heartbeat_params& p,
                                                                              int16_t version) const {
    if (blank(std::optional<std::string>(group_id))) return failure(error_code::invalid_request, "GroupId can't be empty.");
    if (blank(p.instance_id)) return failure(error_code::invalid_request, "InstanceId can't be empty.");
    if (blank(p.rack_id)) return failure(error_code::invalid_request, "RackId can't be empty.");
    if (p.member_epoch > 0 || p.member_epoch == leave_group_member_epoch) {
        if (blank(std::optional<std::string>(p.member_id))) return failure(error_code::invalid_request, "MemberId can't be empty.");
    } else if (p.member_epoch == 0) {
        if (p.rebalance_timeout_ms == -1)
            return failure(error_code::invalid_request, "RebalanceTimeoutMs must be provided in first request.");
        if (!p.owned || !p.owned->empty())
            return failure(error_code::invalid_request, "TopicPartitions must be empty when (re-)joining.");
        const bool names = p.subscribed_topic_names && !p.subscribed_topic_names->empty();
        const bool regex = version >= 1 && p.subscribed_topic_regex && !p.subscribed_topic_regex->empty();
        if (!names && !regex)
            return failure(error_code::invalid_request, "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.");
    } else if (p.member_epoch == leave_group_static_member_epoch) {
        if (blank(std::optional<std::string>(p.member_id))) return failure(error_code::invalid_request, "MemberId can't be empty.");
        if (!p.instance_id) return failure(error_code::invalid_request, "InstanceId can't be null.");
    } else {
        return failure(error_code::invalid_request, "MemberEpoch is invalid.");
    }
    if (p.subscribed_topic_regex && !p.subscribed_topic_regex->empty()) {
        if (const auto re = compiled_pattern(*p.subscribed_topic_regex); !re->ok())
            return failure(error_code::invalid_regular_expression, "SubscribedTopicRegex `" + *p.subscribed_topic_regex +
                                                                       "` is not a valid regular expression: " + re->error() + ".");
    }
    if (p.server_assignor && find_assignor(*p.server_assignor) == nullptr) {
        std::string known;
        for (const auto& a : config_.consumer_assignors) known += (known.empty() ? "" : ", ") + a;
        return failure(error_code::unsupported_assignor,
                       "ServerAssignor " + *p.server_assignor + " is not supported. Supported assignors: " + known + ".");
    }
    if (p.server_assignor &&
        std::find(config_.consumer_assignors.begin(), config_.consumer_assignors.end(), *p.server_assignor) ==
            config_.consumer_assignors.end())
        return failure(error_code::unsupported_assignor, "ServerAssignor " + *p.server_assignor + " is not enabled.");
    return std::nullopt;
}

std::map<std::string, consumer_group::topic_snapshot> consumer_group_coordinator::resolve_subscriptions(
    const consumer_group& g) const {
    std::map<std::string, consumer_group::topic_snapshot> out;
    std::set<std::string_view> patterns;  // members often share one; each is matched once
    for (const auto& [id, m] : g.members()) {
        for (const auto& name : m.subscribed_topic_names)
            if (auto t = topics_.by_name(name)) out[name] = {t->id, t->partitions};
        if (m.subscribed_topic_regex && !m.subscribed_topic_regex->empty()) patterns.insert(*m.subscribed_topic_regex);
    }
    if (patterns.empty()) return out;
    const std::vector<topic_meta> all = topics_.all();
    for (const std::string_view pattern : patterns) {
        const auto re = compiled_pattern(pattern);
        for (const auto& t : all)
            if (pattern_subscribes(*re, t.name)) out[t.name] = {t.id, t.partitions};
    }
    return out;
}

consumer_heartbeat_result consumer_group_coordinator::heartbeat(group_slot& slot, consumer_heartbeat_params p) {
    // Kafka answers a heartbeat once its records are written; a change the log refused is
    // undone, and the member retries.
    consumer_group before = *slot.consumer;
    auto r = apply_heartbeat(slot, std::move(p));
    if (r.error != error_code::none) return r;
    const std::string member = r.member_id.value_or("");
    // A leave that turns the group into a classic group is written with the conversion.
    if (r.member_epoch == leave_group_member_epoch && store_.member_removed(slot)) return r;
    if (const auto e = store_.store_consumer_group(slot, &member); e != error_code::none) {
        roll_back(slot, std::move(before));
        return failure(e, "The group's records could not be written.");
    }
    return r;
}

void consumer_group_coordinator::roll_back(group_slot& slot, consumer_group before) {
    auto& now = *slot.consumer;
    for (auto& [id, m] : before.members()) {
        if (const auto* cur = now.find(id)) {
            m.session_timer = cur->session_timer;
            m.session_deadline_ms = cur->session_deadline_ms;
            m.rebalance_timer = cur->rebalance_timer;
            m.join_timer = cur->join_timer;
        } else {
            m.session_timer = 0;
            m.rebalance_timer = 0;
            m.join_timer = 0;
        }
    }
    for (auto& [id, m] : now.members()) {
        if (before.find(id) != nullptr) continue;
        timers_.cancel(m.session_timer);
        timers_.cancel(m.rebalance_timer);
        timers_.cancel(m.join_timer);
    }
    now = std::move(before);
    for (auto& [id, m] : now.members()) {
        if (timers_.due_at(m.session_timer) == UINT64_MAX) {
            m.session_timer = 0;
            schedule_session(slot, m);
        }
        if (m.state == consumer_member_state::unrevoked_partitions) schedule_rebalance(slot, m);
    }
}

void consumer_group_coordinator::schedule_rebalance(group_slot& slot, consumer_member& m) {
    timers_.cancel(m.rebalance_timer);
    m.rebalance_timer = timers_.schedule_in(
        static_cast<uint64_t>(std::max(m.rebalance_timeout_ms, 0)),
        [this, gid = slot.id, mid = m.member_id, e = m.member_epoch] { on_rebalance_timer(gid, mid, e); });
}

void consumer_group_coordinator::on_loaded(group_slot& slot) {
    for (auto& [id, m] : slot.consumer->members()) {
        m.session_timer = 0;
        m.rebalance_timer = 0;
        m.join_timer = 0;
        schedule_session(slot, m);
        if (m.state == consumer_member_state::unrevoked_partitions) schedule_rebalance(slot, m);
    }
}

consumer_heartbeat_result consumer_group_coordinator::apply_heartbeat(group_slot& slot, consumer_heartbeat_params p) {
    auto& g = *slot.consumer;
    if (p.member_epoch == leave_group_member_epoch || p.member_epoch == leave_group_static_member_epoch)
        return leave(slot, p);
    if (g.members().size() >= static_cast<size_t>(config_.consumer_max_size) &&
        (p.member_id.empty() || g.find(p.member_id) == nullptr))
        return failure(error_code::group_max_size_reached, "The consumer group has reached its maximum capacity.");
    if (p.member_id.empty()) p.member_id = new_member_id();

    // Who is this: a new member, a known one, or a static member coming back under a new id.
    consumer_member current;
    std::optional<std::string> replaced;
    auto epoch_ok = [&](const consumer_member& m) {
        if (p.member_epoch > m.member_epoch) return false;
        if (p.member_epoch < m.member_epoch)
            return p.member_epoch == m.previous_member_epoch && is_subset(p.owned, m.assigned);
        return true;
    };
    if (!p.instance_id) {
        if (auto* m = g.find(p.member_id)) {
            if (!epoch_ok(*m))
                return failure(error_code::fenced_member_epoch, "The member epoch does not match; rejoin without partitions.");
            current = *m;
        } else if (p.member_epoch != 0) {
            return failure(error_code::unknown_member_id, "Member " + p.member_id + " is not a member of the group.");
        } else {
            current.member_id = p.member_id;
        }
    } else {
        auto* sm = g.find_static(*p.instance_id);
        if (p.member_epoch == 0) {
            if (sm == nullptr) {
                if (auto* m = g.find(p.member_id)) current = *m;
                else current.member_id = p.member_id;
            } else {
                if (sm->member_epoch != leave_group_static_member_epoch)
                    return failure(error_code::unreleased_instance_id,
                                   "Instance id " + *p.instance_id + " is still used by member " + sm->member_id + ".");
                // The instance comes back: it takes the old member's assignment.
                current.member_id = p.member_id;
                current.assigned = sm->assigned;
                replaced = sm->member_id;
            }
        } else {
            if (sm == nullptr) return failure(error_code::unknown_member_id, "Instance id " + *p.instance_id + " is unknown.");
            if (sm->member_id != p.member_id)
                return failure(error_code::fenced_instance_id, "Instance id " + *p.instance_id + " belongs to another member.");
            if (!epoch_ok(*sm))
                return failure(error_code::fenced_member_epoch, "The member epoch does not match; rejoin without partitions.");
            current = *sm;
        }
    }
    if (replaced) take_over_static_member(slot, *replaced, p.member_id, *p.instance_id);
    const bool was_member = g.find(current.member_id) != nullptr;

    // 1. The member's new subscription; a change bumps the group epoch.
    consumer_member updated = current;
    if (p.instance_id) updated.instance_id = p.instance_id;
    if (p.rack_id) updated.rack_id = p.rack_id;
    if (p.rebalance_timeout_ms != -1) updated.rebalance_timeout_ms = p.rebalance_timeout_ms;
    if (p.server_assignor) updated.server_assignor = p.server_assignor;
    if (p.subscribed_topic_names) updated.subscribed_topic_names = normalized_topics(*p.subscribed_topic_names);
    if (p.subscribed_topic_regex) {
        if (p.subscribed_topic_regex->empty()) updated.subscribed_topic_regex.reset();
        else updated.subscribed_topic_regex = p.subscribed_topic_regex;
    }
    updated.client_id = p.client_id;
    updated.client_host = p.client_host;
    // A classic member that heartbeats with ConsumerGroupHeartbeat now speaks the new protocol.
    updated.classic.reset();
    timers_.cancel(updated.join_timer);
    updated.join_timer = 0;
    const bool bump = !was_member || replaced.has_value() ||
                      updated.subscribed_topic_names != current.subscribed_topic_names ||
                      updated.subscribed_topic_regex != current.subscribed_topic_regex;
    const topic_partitions before = current.assigned;
    auto& stored = settle(slot, std::move(updated), bump, replaced.has_value(), p.owned);

    consumer_heartbeat_result r;
    r.member_id = stored.member_id;
    r.member_epoch = stored.member_epoch;
    r.heartbeat_interval_ms = config_.consumer_heartbeat_interval_ms;
    if (p.owned || p.member_epoch == 0 || stored.assigned != before) r.assignment = stored.assigned;
    return r;
}

consumer_member& consumer_group_coordinator::settle(group_slot& slot, consumer_member updated, bool bump, bool replaced,
                                                    const std::optional<topic_partitions>& owned) {
    auto& g = *slot.consumer;
    auto& stored = g.put(std::move(updated));

    // 2. Topics created, deleted or grown since the last target also bump the epoch.
    auto resolved = resolve_subscriptions(g);
    if (resolved != g.subscription_metadata) {
        g.subscription_metadata = std::move(resolved);
        bump = true;
    }
    if (bump) g.set_group_epoch(g.group_epoch() + 1);
    if (g.group_epoch() > g.assignment_epoch() || replaced) compute_target(g);

    // 3. Move the member one step towards its target.
    if (!stored.reconciled_to(g.assignment_epoch())) {
        consumer_member next = reconcile(stored, g.assignment_epoch(), g.target_of(stored.member_id), owned, g);
        next.session_timer = stored.session_timer;
        next.rebalance_timer = stored.rebalance_timer;
        next.join_timer = stored.join_timer;
        const bool waits_for_revocation = next.state == consumer_member_state::unrevoked_partitions;
        if (waits_for_revocation && !(stored.state == consumer_member_state::unrevoked_partitions &&
                                      stored.member_epoch == next.member_epoch && stored.rebalance_timer != 0)) {
            schedule_rebalance(slot, next);
        } else if (!waits_for_revocation) {
            timers_.cancel(next.rebalance_timer);
            next.rebalance_timer = 0;
        }
        stored = std::move(next);
    }
    schedule_session(slot, stored);
    return stored;
}

consumer_heartbeat_result consumer_group_coordinator::leave(group_slot& slot, const consumer_heartbeat_params& p) {
    auto& g = *slot.consumer;
    consumer_member* m = nullptr;
    if (!p.instance_id) {
        m = g.find(p.member_id);
        if (m == nullptr) return failure(error_code::unknown_member_id, "Member " + p.member_id + " is not a member of the group.");
    } else {
        m = g.find_static(*p.instance_id);
        if (m == nullptr) return failure(error_code::unknown_member_id, "Instance id " + *p.instance_id + " is unknown.");
        if (m->member_id != p.member_id)
            return failure(error_code::fenced_instance_id, "Instance id " + *p.instance_id + " belongs to another member.");
    }
    if (p.member_epoch == leave_group_static_member_epoch) {
        // A static member leaving for now keeps its partitions until it comes back or its session ends.
        m->previous_member_epoch = m->member_epoch;
        m->member_epoch = leave_group_static_member_epoch;
        m->pending_revocation.clear();
        timers_.cancel(m->rebalance_timer);
        m->rebalance_timer = 0;
    } else {
        fence(slot, m->member_id, "left the group");
    }
    consumer_heartbeat_result r;
    r.member_id = p.member_id;
    r.member_epoch = p.member_epoch;
    return r;
}

void consumer_group_coordinator::fence(group_slot& slot, const std::string& id, std::string_view why) {
    // `id` may be the member's own field, which the removal below frees.
    const std::string member_id = id;
    auto& g = *slot.consumer;
    auto* m = g.find(member_id);
    if (m == nullptr) return;
    timers_.cancel(m->session_timer);
    timers_.cancel(m->rebalance_timer);
    timers_.cancel(m->join_timer);
    g.remove(member_id, store_.wall_clock_ms());
    g.set_group_epoch(g.group_epoch() + 1);
    g.subscription_metadata = resolve_subscriptions(g);
    log_info("member ", member_id, " of consumer group ", slot.id, " ", why, "; group epoch ", g.group_epoch());
}

void consumer_group_coordinator::fence_and_store(group_slot& slot, const std::string& member_id, std::string_view why) {
    fence(slot, member_id, why);
    if (store_.member_removed(slot)) return;  // written with the conversion to a classic group
    // Nobody waits for an answer here: what the log did not take is written with the group's next change.
    if (const auto e = store_.store_consumer_group(slot, nullptr); e != error_code::none)
        log_warn("consumer group ", slot.id, ": the records of a fenced member could not be written (error ", to_int(e), ")");
}

void consumer_group_coordinator::compute_target(consumer_group& g) {
    const std::string default_assignor = config_.consumer_assignors.empty() ? "uniform" : config_.consumer_assignors.front();
    assignor_fn assign = find_assignor(g.preferred_assignor(default_assignor));
    if (assign == nullptr) assign = assign_uniform;
    std::map<std::string, assignor_topic> topics;
    for (const auto& [name, t] : g.subscription_metadata) topics[name] = {t.id, t.partitions};
    std::vector<assignor_member> members;
    for (const auto& [id, m] : g.members()) {
        assignor_member am{id, {}, nullptr};
        for (const auto& name : m.subscribed_topic_names)
            if (topics.contains(name)) am.topics.insert(name);
        if (m.subscribed_topic_regex && !m.subscribed_topic_regex->empty()) {
            const auto re = compiled_pattern(*m.subscribed_topic_regex);
            for (const auto& [name, t] : topics)
                if (pattern_subscribes(*re, name)) am.topics.insert(name);
        }
        const auto it = g.target().find(id);
        if (it != g.target().end()) am.previous = &it->second;
        members.push_back(std::move(am));
    }
    auto result = assign(members, topics);
    g.target() = std::move(result);
    g.set_assignment_epoch(g.group_epoch());
}

void consumer_group_coordinator::take_over_static_member(group_slot& slot, const std::string& replaced,
                                                         const std::string& member_id, const std::string& instance_id) {
    consumer_group& g = *slot.consumer;
    if (auto* old = g.find(replaced)) {
        timers_.cancel(old->session_timer);
        timers_.cancel(old->rebalance_timer);
        timers_.cancel(old->join_timer);
    }
    auto& target = g.target();
    if (auto it = target.find(replaced); it != target.end()) {
        auto moved = std::move(it->second);
        target.erase(it);
        target[member_id] = std::move(moved);
    }
    g.remove(replaced, store_.wall_clock_ms());
    log_info("static member ", instance_id, " of consumer group ", slot.id, " rejoins as ", member_id);
}

void consumer_group_coordinator::schedule_session(group_slot& slot, consumer_member& m) {
    // A classic member keeps the session timeout of its JoinGroup.
    const int32_t timeout = m.classic ? m.classic->session_timeout_ms : config_.consumer_session_timeout_ms;
    timers_.renew(m.session_timer, m.session_deadline_ms, timers_.now_ms() + static_cast<uint64_t>(std::max(timeout, 0)), [&] {
        return [this, gid = slot.id, mid = m.member_id] { on_session_timer(gid, mid); };
    });
}

void consumer_group_coordinator::on_session_timer(const std::string& group_id, const std::string& member_id) {
    auto* slot = store_.find_group(group_id);
    if (slot == nullptr || !slot->consumer) return;
    auto* m = slot->consumer->find(member_id);
    if (m == nullptr) return;
    if (!timers_.passed(m->session_timer, m->session_deadline_ms,
                        [&] { return [this, gid = group_id, mid = member_id] { on_session_timer(gid, mid); }; }))
        return;
    fence_and_store(*slot, member_id, "was fenced: its session expired");
}

void consumer_group_coordinator::on_rebalance_timer(const std::string& group_id, const std::string& member_id, int32_t epoch) {
    auto* slot = store_.find_group(group_id);
    if (slot == nullptr || !slot->consumer) return;
    auto* m = slot->consumer->find(member_id);
    if (m == nullptr) return;
    m->rebalance_timer = 0;
    if (m->state == consumer_member_state::unrevoked_partitions && m->member_epoch == epoch)
        fence_and_store(*slot, member_id, "was fenced: it did not revoke its partitions within its rebalance timeout");
}

error_code consumer_group_coordinator::validate_commit(group_slot& slot, std::string_view member_id, int32_t member_epoch,
                                                       int16_t api_version) {
    auto& g = *slot.consumer;
    // Epoch -1 without a member: an admin client or a consumer without group management, which
    // may commit only while the group is empty.
    if (member_epoch < 0 && g.members().empty()) return error_code::none;
    auto* m = g.find(member_id);
    if (m == nullptr) return error_code::unknown_member_id;
    // A classic member commits with its generation, which is its member epoch.
    if (m->classic) return member_epoch == m->member_epoch ? error_code::none : error_code::illegal_generation;
    if (api_version < 9) return error_code::unsupported_version;
    if (member_epoch > m->member_epoch) return error_code::fenced_member_epoch;
    if (member_epoch < m->member_epoch) return error_code::stale_member_epoch;
    return error_code::none;
}

error_code consumer_group_coordinator::validate_fetch(group_slot& slot, const std::optional<std::string>& member_id,
                                                      int32_t member_epoch) {
    if (member_epoch < 0 && !member_id) return error_code::none;
    auto* m = slot.consumer->find(member_id.value_or(""));
    if (m == nullptr) return error_code::unknown_member_id;
    if (member_epoch != m->member_epoch) return error_code::stale_member_epoch;
    return error_code::none;
}

void consumer_group_coordinator::shut_down(group_slot& slot) {
    for (auto& [id, m] : slot.consumer->members()) {
        timers_.cancel(m.session_timer);
        timers_.cancel(m.rebalance_timer);
        timers_.cancel(m.join_timer);
        m.session_timer = 0;
        m.rebalance_timer = 0;
        m.join_timer = 0;
    }
}

std::shared_ptr<const topic_regex> consumer_group_coordinator::compiled_pattern(std::string_view pattern) const {
    if (const auto it = compiled_patterns_.find(pattern); it != compiled_patterns_.end()) return it->second;
    auto re = std::make_shared<const topic_regex>(topic_regex::compile(pattern));
    // Only patterns a member can hold: one that does not compile is refused and never seen again.
    if (!re->ok()) return re;
    if (compiled_patterns_.size() >= max_compiled_patterns) compiled_patterns_.clear();
    compiled_patterns_.emplace(std::string(pattern), re);
    return re;
}

} // namespace samsa::broker
