// Online migration between the classic and the consumer (KIP-848) protocols, as Kafka 4.0
// does it (part of group_coordinator). Both conversions are one write to __consumer_offsets:
// the old type's records are tombstoned and the new type's records written in the same batch as
// the change of the member that triggered it, so a restart loads the group as its new type.
//
//   classic group (protocol type "consumer")            consumer group
//     members, generation G, assignments   -- upgrade -->  the same members as classic members,
//                                                          group and member epochs G, targets =
//                                                          their assignments; the joining member
//                                                          bumps the epoch: classic members rejoin
//     classic group, generation = the      <- downgrade -  only classic members are left after a
//     members' epoch, assignments =                        member left or was fenced: they rebalance;
//     their targets                                        or a classic static member replaced the
//                                                          last KIP-848 one: no rebalance
#include "broker/groups/group_coordinator.h"

#include "broker/groups/consumer_group.h"
#include "broker/groups/embedded_consumer_protocol.h"
#include "broker/logger.h"

#include <algorithm>

namespace samsa::broker {

using protocol::error_code;

error_code group_coordinator::upgrade_to_consumer_group(group_slot& slot, std::string* why,
                                                        std::unique_ptr<classic_group>* previous) {
    const auto& cg = *slot.classic;
    if (!config_.upgrade_allowed() || cg.protocol_type() != std::optional<std::string>("consumer") || !cg.protocol_name() ||
        cg.members().size() > static_cast<size_t>(config_.consumer_max_size))
        return error_code::group_id_not_found;
    auto g = std::make_unique<consumer_group>(slot.id, wall_());
    g->set_group_epoch(cg.generation());
    g->set_assignment_epoch(cg.generation());
    for (const auto& [id, m] : cg.members()) {
        const auto* md = m.metadata_for(*cg.protocol_name());
        const auto sub = md != nullptr ? decode_embedded_subscription(*md) : std::nullopt;
        // A member that joined but never got an assignment has none (empty bytes), which is fine.
        const auto assignment = decode_embedded_assignment(m.assignment);
        if (!sub || !assignment) {
            log_warn("group ", slot.id, " cannot become a consumer group: the consumer protocol bytes of member ", id,
                     " do not decode");
            if (why != nullptr)
                *why = "Cannot upgrade classic group " + slot.id +
                       " to consumer group because the embedded consumer protocol is malformed.";
            return error_code::group_id_not_found;
        }
        // A client-side assignor that hands its members userData would lose it: the server-side
        // assignors have no place for it, so Kafka refuses the conversion.
        if (assignment->user_data && !assignment->user_data->empty()) {
            log_warn("group ", slot.id, " cannot become a consumer group: member ", id,
                     " has userData from a custom assignor in its assignment");
            if (why != nullptr)
                *why = "Cannot upgrade classic group " + slot.id +
                       " to consumer group because an unsupported custom assignor is in use. Please refer to the "
                       "documentation or switch to a default assignor before re-attempting the upgrade.";
            return error_code::group_id_not_found;
        }
        consumer_member c;
        c.member_id = id;
        c.instance_id = m.group_instance_id;
        c.rack_id = sub->value.rack_id;
        c.client_id = m.client_id;
        c.client_host = m.client_host;
        c.rebalance_timeout_ms = m.rebalance_timeout_ms;
        c.subscribed_topic_names = normalized_topics(sub->value.topics);
        // Every member starts Stable at the group's generation, owning its last assignment.
        c.member_epoch = cg.generation();
        c.previous_member_epoch = cg.generation();
        c.assigned = by_topic_id(assignment->assigned_partitions, topics_);
        c.classic = classic_member_info{m.session_timeout_ms, m.protocols};
        g->target()[id] = c.assigned;
        g->put(std::move(c));
    }
    g->subscription_metadata = consumer_.resolve_subscriptions(*g);

    // Nothing is written here: the log still holds the classic group (metadata_in_log) and none
    // of the consumer group, so the joining member's write carries the classic tombstone, the
    // converted group and the member's own records in one batch (store_consumer_group).
    // Members waiting in a rebalance of the classic group must join the consumer group now.
    classic_.shut_down(slot, error_code::rebalance_in_progress);
    const size_t members = g->members().size();
    if (previous != nullptr) *previous = std::move(slot.classic);
    slot.classic.reset();
    slot.consumer = std::move(g);
    slot.consumer_log = std::make_unique<consumer_group_log_state>();
    consumer_.on_loaded(slot);
    log_info("group ", slot.id, " upgraded from a classic group to a consumer group with ", members, " classic members");
    return error_code::none;
}

void group_coordinator::undo_upgrade(group_slot& slot, std::unique_ptr<classic_group> previous) {
    consumer_.shut_down(slot);
    slot.consumer.reset();
    slot.consumer_log.reset();
    // Its members were told to rejoin when it was converted; they rejoin the classic group.
    previous->restore(previous->generation(), previous->protocol_type(), previous->protocol_name(), previous->leader(),
                      timers_.now_ms());
    slot.classic = std::move(previous);
    classic_.on_loaded(slot);
    log_info("group ", slot.id, " stays a classic group: the KIP-848 member that joined it was refused or not written");
}

bool group_coordinator::member_removed(group_slot& slot) { return downgrade_to_classic_group(slot, nullptr); }

bool group_coordinator::static_member_replaced(group_slot& slot, const std::string& joining) {
    return downgrade_to_classic_group(slot, &joining);
}

bool group_coordinator::downgrade_to_classic_group(group_slot& slot, const std::string* joining) {
    if (closed_ || !slot.consumer || !config_.downgrade_allowed()) return false;
    const auto& g = *slot.consumer;
    if (g.members().empty() || g.members().size() > static_cast<size_t>(config_.max_size)) return false;
    if (std::any_of(g.members().begin(), g.members().end(), [](const auto& e) { return !e.second.classic; })) return false;

    // The protocol: the first of the first member's protocols that every member supports.
    std::optional<std::string> chosen;
    const auto& first = g.members().begin()->second;
    for (const auto& p : first.classic->protocols) {
        const bool everyone = std::all_of(g.members().begin(), g.members().end(), [&](const auto& e) {
            const auto& ps = e.second.classic->protocols;
            return std::any_of(ps.begin(), ps.end(), [&](const member_protocol& q) { return q.name == p.name; });
        });
        if (everyone) {
            chosen = p.name;
            break;
        }
    }
    if (!chosen) return false;
    const uint64_t now = timers_.now_ms();
    auto cg = std::make_unique<classic_group>(slot.id, now);
    for (const auto& [id, m] : g.members()) {
        classic_member c;
        c.member_id = id;
        c.group_instance_id = m.instance_id;
        c.client_id = m.client_id;
        c.client_host = m.client_host;
        c.rebalance_timeout_ms = m.rebalance_timeout_ms;
        c.session_timeout_ms = m.classic->session_timeout_ms;
        c.protocol_type = "consumer";
        c.protocols = m.classic->protocols;
        int16_t version = 0;
        if (const auto* md = c.metadata_for(*chosen))
            if (const auto sub = decode_embedded_subscription(*md)) version = sub->version;
        c.assignment = encode_embedded_assignment(g.target_of(id), topics_, version);
        cg->add(std::move(c));
    }
    // The generation the members heartbeat with: their epoch from before the member that left
    // bumped the group epoch (Kafka converts the group as it was before that member's removal).
    // A joining static member was just told its epoch as its generation: it syncs with that.
    int32_t generation = 0;
    for (const auto& [id, m] : g.members()) generation = std::max(generation, m.member_epoch);
    if (joining != nullptr)
        if (const auto j = g.members().find(*joining); j != g.members().end()) generation = j->second.member_epoch;
    cg->restore(generation, std::string("consumer"), chosen, first.member_id, now);

    // One batch: tombstones for every consumer-group record the log holds (the change that
    // triggered the conversion included, which is therefore never written on its own) and the
    // classic group's record, so the log never shows one without the other.
    std::vector<pending_record> records;
    if (slot.consumer_log)
        for (auto& r : records_between(slot.id, *slot.consumer_log, consumer_group_log_state{}))
            records.push_back({std::move(r.key), std::move(r.value)});
    records.push_back({encode_group_metadata_key(slot.id), encode_group_metadata_value(*cg, wall_())});
    if (const auto e = write(slot.partition, records); e != error_code::none) {
        log_warn("consumer group ", slot.id, " stays a consumer group: its conversion could not be written (error ", to_int(e), ")");
        return false;
    }
    consumer_.shut_down(slot);
    const size_t members = g.members().size();
    slot.consumer.reset();
    slot.consumer_log.reset();
    slot.classic = std::move(cg);
    slot.metadata_in_log = true;
    classic_.on_loaded(slot);
    log_info("group ", slot.id, " downgraded from a consumer group to a classic group with ", members, " members");
    // After a member left, the members rejoin to agree on an assignment among themselves; a
    // static member that took the place of the last KIP-848 member changes nobody's partitions.
    if (joining == nullptr) classic_.rebalance(slot);
    return true;
}

} // namespace samsa::broker
