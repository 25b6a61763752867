// Start-up loading of __consumer_offsets (part of group_coordinator): each partition is read
// in chunks, one posted task per chunk so the loop keeps serving; committed offsets, classic
// GroupMetadata records and the KIP-848 consumer group records are replayed in log order
// (later records win, tombstones delete, transaction markers decide transactional offset
// commits), and when a partition is done its groups are rebuilt with fresh timers. A group
// converted between the two types loads as the type its last records say.
#include "broker/groups/group_coordinator.h"

#include "broker/groups/consumer_group.h"
#include "broker/logger.h"
#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"

namespace samsa::broker {

using protocol::error_code;

void group_coordinator::start() {
    coordinator_partitions::load_steps steps;
    steps.replay = [this](protocol::partition_id partition, protocol::bytes_view batches) { replay(partition, batches); };
    steps.finish = [this](protocol::partition_id partition) { finish_load(partition); };
    // An unreadable partition stays loading: its groups keep answering COORDINATOR_LOAD_IN_PROGRESS
    // rather than forgetting committed offsets. The groups its earlier chunks described are
    // dropped, not built when the next partition finishes.
    steps.unreadable = [this](protocol::partition_id partition, error_code e) {
        log_error(offsets_topic_name, "-", partition, " cannot be read (error ", to_int(e), "); its groups stay unavailable");
        loaded_metadata_.clear();
        loaded_consumer_groups_.clear();
    };
    partitions_.load(std::move(steps));
    if (partitions_.count() > 0) log_info("loading groups from ", partitions_.count(), " partitions of ", offsets_topic_name);
    schedule_retention();
}

void group_coordinator::replay(protocol::partition_id partition, protocol::bytes_view batches) {
    const uint64_t now = timers_.now_ms();
    while (batches.size() >= protocol::batch::log_overhead) {
        const auto header = protocol::batch::header_view::parse(batches);
        if (!header) break;
        const auto one = batches.first(header->total_size());
        batches = batches.subspan(header->total_size());
        const protocol::producer_id producer(header->producer_id());
        // A transaction marker decides the transactional offset commits of its producer before it.
        if (header->is_control()) {
            protocol::record_reader markers(one);
            protocol::record marker;
            while (markers.next(marker))
                if (const auto m = protocol::parse_control_record(marker);
                    m && (m->type == protocol::control_type::commit || m->type == protocol::control_type::abort))
                    complete_txn_offsets(producer, m->type == protocol::control_type::commit);
            continue;
        }
        const bool transactional = header->is_transactional();
        protocol::record_reader reader(one);
        protocol::record rec;
        while (reader.next(rec)) {
            if (!rec.key) continue;
            const auto key = decode_group_record_key(*rec.key);
            if (key.what == group_record_key::kind::offset_commit) {
                if (!rec.value) {
                    if (auto* slot = groups_.find(key.group)) slot->offsets.erase(key.topic, key.partition);
                    continue;
                }
                auto v = decode_offset_commit_value(*rec.value);
                if (v) v->record_offset = protocol::offset(rec.offset);
                if (v && transactional)
                    txn_offsets_.add(producer, key.group, key.topic, key.partition, std::move(*v));
                else if (v)
                    groups_.get_or_create(key.group, partition, now).offsets.put(key.topic, key.partition, std::move(*v));
            } else if (key.what == group_record_key::kind::group_metadata) {
                if (!rec.value) loaded_metadata_[key.group] = std::nullopt;
                else if (auto v = decode_group_metadata_value(*rec.value)) loaded_metadata_[key.group] = std::move(*v);
            } else if (key.what == group_record_key::kind::consumer_group) {
                if (!replay_consumer_record(loaded_consumer_groups_[key.group], key, rec.value))
                    log_warn(offsets_topic_name, "-", partition, ": a record of consumer group ", key.group,
                             " (key version ", key.version, ") could not be read and was skipped");
            }
        }
        if (!reader.ok()) log_warn(offsets_topic_name, "-", partition, ": a batch could not be read and was skipped");
    }
}

void group_coordinator::finish_load(protocol::partition_id partition) {
    const uint64_t now = timers_.now_ms();
    for (auto& [id, value] : loaded_metadata_) {
        if (!value) {
            // The group was deleted; offsets written after that (if any) stay as a simple group.
            if (auto* slot = groups_.find(id); slot && slot->offsets.empty()) groups_.erase(id);
            continue;
        }
        auto& slot = groups_.get_or_create(id, partition, now);
        slot.metadata_in_log = true;
        slot.classic = std::make_unique<classic_group>(id, now);
        for (auto& mm : value->members) {
            classic_member m;
            m.member_id = mm.member_id;
            m.group_instance_id = mm.group_instance_id;
            m.client_id = mm.client_id;
            m.client_host = mm.client_host;
            m.rebalance_timeout_ms = mm.rebalance_timeout > 0 ? mm.rebalance_timeout : mm.session_timeout;
            m.session_timeout_ms = mm.session_timeout;
            m.protocol_type = value->protocol_type;
            if (value->protocol) m.protocols.push_back({*value->protocol, std::move(mm.subscription)});
            m.assignment = std::move(mm.assignment);
            slot.classic->add(std::move(m));
        }
        std::optional<std::string> type;
        if (!value->protocol_type.empty()) type = value->protocol_type;
        slot.classic->restore(value->generation, type, value->protocol, value->leader, now);
        classic_.on_loaded(slot);
    }
    loaded_metadata_.clear();
    for (auto& [id, state] : loaded_consumer_groups_) {
        if (state.empty()) continue;  // deleted: its offsets (if any) stay as they are
        auto& slot = groups_.get_or_create(id, partition, now);
        if (slot.classic && slot.metadata_in_log)
            log_warn("group ", id, " has both classic and consumer group records; the consumer group wins");
        slot.become(group_type::consumer, now);
        *slot.consumer = restore_consumer_group(id, state, wall_());
        slot.consumer_log = std::make_unique<consumer_group_log_state>(std::move(state));
        consumer_.on_loaded(slot);
    }
    loaded_consumer_groups_.clear();
    // Groups whose every record was tombstoned are gone.
    for (auto* slot : groups_.in_partition(partition))
        if (slot->offsets.empty() && !slot->metadata_in_log && !slot->consumer_log && slot->has_no_members())
            groups_.erase(slot->id);
    log_debug(offsets_topic_name, "-", partition, " loaded");
    if (!partitions_.loading_any())
        log_info("groups loaded: ", groups_.size(), " groups from ", offsets_topic_name);
}

} // namespace samsa::broker
