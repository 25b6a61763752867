#include "broker/groups/group_coordinator.h"

#include "broker/groups/consumer_group.h"
#include "broker/internal_topic_partition.h"
#include "broker/logger.h"
#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>

namespace samsa::broker {

using protocol::error_code;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

int64_t system_wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The coordinator's answer when appending to __consumer_offsets failed: Kafka's translation of a
// failed coordinator write (the same for every group API, offset commits included).
error_code write_error(error_code e) {
    switch (e) {
        case error_code::unknown_topic_or_partition:
        case error_code::not_enough_replicas:
        case error_code::request_timed_out: return error_code::coordinator_not_available;
        case error_code::not_leader_or_follower:
        case error_code::kafka_storage_error: return error_code::not_coordinator;
        case error_code::message_too_large:
        case error_code::record_list_too_large:
        case error_code::invalid_fetch_size: return error_code::unknown_server_error;
        default: return e;  // none, and the coordinator errors themselves, pass through
    }
}

protocol::offset appended_base_offset(protocol::bytes_view batch) {
    const auto h = protocol::batch::header_view::parse(batch);
    return h ? protocol::offset(h->base_offset()) : protocol::no_offset;
}

} // namespace

group_coordinator::group_coordinator(group_config config, loop_services& loop, coordinator_log& log, const topic_source& topics,
                                     wall_clock wall)
    : config_(std::move(config)), loop_(loop), log_(log), topics_(topics),
      wall_(wall ? std::move(wall) : wall_clock(system_wall_ms)), timers_(loop),
      classic_(config_, timers_, *this), consumer_(config_, timers_, topics_, *this),
      partitions_(offsets_topic_name, log, loop, config_.offsets_topic_partitions, config_.offsets_topic_segment_bytes) {}

group_coordinator::~group_coordinator() { close(); }

// ---- shutdown --------------------------------------------------------------------------------

void group_coordinator::close() {
    if (closed_) return;
    closed_ = true;
    partitions_.stop();
    std::vector<group_slot*> all;
    groups_.for_each([&](group_slot& s) { all.push_back(&s); });
    for (auto* s : all) {
        if (s->classic) classic_.shut_down(*s, error_code::not_coordinator);
        else consumer_.shut_down(*s);
    }
    timers_.close();
}

// ---- routing ----------------------------------------------------------------------------------

protocol::partition_id group_coordinator::partition_for(std::string_view group_id) const noexcept {
    const int32_t n = partitions_.routing_count();
    return protocol::partition_id(internal_topic_partition(group_id, n));
}

bool group_coordinator::loading(std::string_view group_id) const noexcept {
    return partitions_.loading(partition_for(group_id));
}

bool group_coordinator::loading_any() const noexcept { return partitions_.loading_any(); }

error_code group_coordinator::check_group(std::string_view group_id, bool allow_empty) const {
    if (group_id.empty() && !allow_empty) return error_code::invalid_group_id;
    if (closed_) return error_code::coordinator_not_available;
    if (loading(group_id)) return error_code::coordinator_load_in_progress;
    return error_code::none;
}

error_code group_coordinator::offset_entry_error(const std::string& topic, protocol::partition_id partition,
                                                 const std::optional<std::string>& metadata) const {
    const auto t = topics_.by_name(topic);
    if (!t || partition.value() < 0 || partition.value() >= t->partitions) return error_code::unknown_topic_or_partition;
    if (metadata && metadata->size() > static_cast<size_t>(config_.offset_metadata_max_bytes))
        return error_code::offset_metadata_too_large;
    return error_code::none;
}

error_code group_coordinator::ensure_topic() {
    return partitions_.ensure_created();
}

error_code group_coordinator::find_coordinator(std::string_view group_id) {
    if (group_id.empty()) return error_code::invalid_request;
    if (closed_) return error_code::coordinator_not_available;
    return ensure_topic();
}

error_code group_coordinator::write(protocol::partition_id partition, const std::vector<pending_record>& records, protocol::offset* base_offset) {
    if (records.empty()) return error_code::none;
    if (const auto e = ensure_topic(); e != error_code::none) return e;
    if (partition.value() >= partitions_.count()) return error_code::not_coordinator;
    const int64_t now = wall_();
    protocol::record_batch_builder builder;
    for (const auto& r : records) {
        protocol::record_input in;
        in.key = protocol::bytes_view(r.key);
        if (r.value) in.value = protocol::bytes_view(*r.value);
        in.timestamp = now;
        builder.append(in);
    }
    auto built = builder.build();
    if (built.status != protocol::codec_status::ok || built.bytes.empty()) return error_code::unknown_server_error;
    const auto e = append(partition, built.bytes, now);
    // The append wrote the batch's base offset into its header.
    if (e == error_code::none && base_offset != nullptr) *base_offset = appended_base_offset(built.bytes);
    return e;
}

error_code group_coordinator::append(protocol::partition_id partition, std::span<uint8_t> batch, int64_t now_ms) {
    const auto e = write_error(log_.append(partition, batch, now_ms));
    if (e == error_code::none) ++appends_;
    return e;
}

bool group_coordinator::waits_for_fsync(std::string_view group_id) const {
    return partitions_.count() > 0 && log_.waits_for_fsync(partition_for(group_id));
}

bool group_coordinator::has_pending_writes(std::string_view group_id) const {
    return partitions_.count() > 0 && log_.has_pending_writes(partition_for(group_id));
}

void group_coordinator::when_durable(std::string_view group_id, std::function<void(error_code)> done) {
    log_.when_durable(partition_for(group_id), [done = std::move(done)](error_code e) { done(write_error(e)); });
}

error_code group_coordinator::store_group(group_slot& slot) {
    const auto e = write(slot.partition, {{encode_group_metadata_key(slot.id), encode_group_metadata_value(*slot.classic, wall_())}});
    if (e == error_code::none) slot.metadata_in_log = true;
    return e;
}

error_code group_coordinator::store_consumer_group(group_slot& slot, const std::string* member) {
    if (!slot.consumer_log) slot.consumer_log = std::make_unique<consumer_group_log_state>();
    auto& logged = *slot.consumer_log;
    const auto& g = *slot.consumer;
    // A change that moved neither epoch touched one member only; comparing just that member
    // keeps a heartbeat's cost independent of the group's size.
    const bool one = member != nullptr && !logged.lagging && logged.metadata && logged.metadata->epoch == g.group_epoch() &&
                     logged.target && logged.target->assignment_epoch == g.assignment_epoch();
    const std::string* only = one ? member : nullptr;
    auto next = one ? log_state_of(g, *member) : log_state_of(g);
    auto records = records_between(slot.id, logged, next, only);
    // A classic group's record still in the log (the group was just converted) goes in the same batch.
    const bool classic_record = slot.metadata_in_log;
    if (records.empty() && !classic_record) return error_code::none;
    std::vector<pending_record> pending;
    pending.reserve(records.size() + 1);
    if (classic_record) pending.push_back({encode_group_metadata_key(slot.id), std::nullopt});
    for (auto& r : records) pending.push_back({std::move(r.key), std::move(r.value)});
    if (const auto e = write(slot.partition, pending); e != error_code::none) {
        logged.lagging = true;
        return e;
    }
    slot.metadata_in_log = false;
    commit_log_state(logged, std::move(next), only);
    return error_code::none;
}

std::vector<group_coordinator::pending_record> group_coordinator::group_tombstones(const group_slot& slot) const {
    std::vector<pending_record> out;
    if (slot.consumer_log)
        for (auto& r : records_between(slot.id, *slot.consumer_log, consumer_group_log_state{}))
            out.push_back({std::move(r.key), std::move(r.value)});
    if (slot.metadata_in_log || slot.classic) out.push_back({encode_group_metadata_key(slot.id), std::nullopt});
    return out;
}

// ---- classic protocol -------------------------------------------------------------------------

void group_coordinator::join_group(const std::string& group_id, join_params params, join_callback done) {
    if (const auto e = check_group(group_id, false); e != error_code::none) return done(join_error(params.member_id, e));
    auto* slot = groups_.find(group_id);
    if (slot == nullptr) {
        // Only a new member creates a group; a known member id for an unknown group is stale.
        if (!params.member_id.empty()) return done(join_error(params.member_id, error_code::unknown_member_id));
        slot = &groups_.get_or_create(group_id, partition_for(group_id), timers_.now_ms());
    }
    if (slot->consumer) {
        // A classic member joins a consumer group that has members (whatever the migration policy).
        if (!slot->has_no_members()) return consumer_.classic_join(*slot, std::move(params), done);
        // The consumer group's records go (Kafka deletes the empty consumer group, offsets stay).
        if (slot->consumer_log && !slot->consumer_log->empty()) {
            std::vector<pending_record> records;
            for (auto& r : records_between(slot->id, *slot->consumer_log, consumer_group_log_state{}))
                records.push_back({std::move(r.key), std::move(r.value)});
            if (const auto e = write(slot->partition, records); e != error_code::none)
                return done(join_error(params.member_id, e));
        }
        slot->become(group_type::classic, timers_.now_ms());
    }
    classic_.join(*slot, std::move(params), std::move(done));
    // A join that was refused must not leave an empty group behind.
    if (auto* s = groups_.find(group_id); s && s->classic && s->has_no_members() && s->classic->generation() == 0 &&
                                          s->offsets.empty() && !s->metadata_in_log && s->classic->join_timer == 0)
        groups_.erase(group_id);
}

void group_coordinator::sync_group(const std::string& group_id, sync_params params, sync_callback done) {
    auto err = check_group(group_id, false);
    // A loading coordinator lost the rebalance: the member must rejoin (older clients do not know
    // COORDINATOR_LOAD_IN_PROGRESS here).
    if (err == error_code::coordinator_load_in_progress) err = error_code::rebalance_in_progress;
    sync_result r;
    if (err != error_code::none) {
        r.error = err;
        return done(std::move(r));
    }
    auto* slot = groups_.find(group_id);
    if (slot == nullptr || (slot->consumer && slot->has_no_members())) {
        r.error = error_code::unknown_member_id;
        return done(std::move(r));
    }
    if (slot->consumer) return done(consumer_.classic_sync(*slot, params));
    classic_.sync(*slot, std::move(params), std::move(done));
}

error_code group_coordinator::heartbeat(const std::string& group_id, std::string_view member_id,
                                        const std::optional<std::string>& instance_id, int32_t generation) {
    const auto err = check_group(group_id, false);
    if (err == error_code::coordinator_load_in_progress) return error_code::none;  // Kafka answers blindly
    if (err != error_code::none) return err;
    auto* slot = groups_.find(group_id);
    if (slot == nullptr) return error_code::unknown_member_id;
    if (slot->consumer) return consumer_.classic_heartbeat(*slot, member_id, instance_id, generation);
    return classic_.heartbeat(*slot, member_id, instance_id, generation);
}

std::pair<error_code, std::vector<error_code>> group_coordinator::leave_group(const std::string& group_id,
                                                                              const std::vector<member_identity>& members) {
    if (const auto e = check_group(group_id, false); e != error_code::none) return {e, {}};
    auto* slot = groups_.find(group_id);
    std::vector<error_code> out;
    if (slot != nullptr && slot->consumer) {
        bool removed = false;
        for (const auto& m : members) {
            out.push_back(consumer_.classic_leave(*slot, m));
            removed = removed || out.back() == error_code::none;
        }
        // The removals are written together, with the conversion when the group becomes classic.
        if (removed && !member_removed(*slot))
            if (const auto w = store_consumer_group(*slot, nullptr); w != error_code::none)
                log_warn("consumer group ", group_id, ": the records of members that left could not be written (error ", to_int(w), ")");
        return {error_code::none, std::move(out)};
    }
    for (const auto& m : members)
        out.push_back(slot == nullptr ? error_code::unknown_member_id : classic_.leave(*slot, m));
    return {error_code::none, std::move(out)};
}

// ---- KIP-848 ----------------------------------------------------------------------------------

consumer_heartbeat_result group_coordinator::consumer_heartbeat(const std::string& group_id,
                                                                consumer_heartbeat_params params, int16_t version) {
    if (auto invalid = consumer_.validate(group_id, params, version)) return *invalid;
    consumer_heartbeat_result r;
    if (r.error = check_group(group_id, false); r.error != error_code::none) return r;
    auto* slot = groups_.find(group_id);
    if (slot == nullptr) {
        if (params.member_epoch != 0) {
            // Membership is not durable here: a member the broker forgot rejoins from epoch 0.
            r.error = error_code::unknown_member_id;
            r.error_message = "The group is unknown; rejoin.";
            return r;
        }
        slot = &groups_.get_or_create(group_id, partition_for(group_id), timers_.now_ms());
    }
    std::unique_ptr<classic_group> upgraded_from;  // set while an upgrade is not written yet
    if (slot->classic && !slot->has_no_members()) {
        // Only a joining member converts the group (Kafka's online upgrade).
        std::string why;
        const auto e = params.member_epoch == 0 ? upgrade_to_consumer_group(*slot, &why, &upgraded_from)
                                                : error_code::group_id_not_found;
        if (e != error_code::none) {
            r.error = e;
            if (e == error_code::group_id_not_found)
                r.error_message = why.empty() ? "Group " + group_id + " is not a consumer group." : std::move(why);
            return r;
        }
    }
    if (slot->classic) {
        // An empty classic group's record goes with the member's first write (store_consumer_group).
        slot->become(group_type::consumer, wall_());
        slot->consumer->empty_since_wall_ms = wall_();
    }
    auto result = consumer_.heartbeat(*slot, std::move(params));
    // Kafka writes the conversion with the joining member's records, or neither.
    if (upgraded_from && slot->consumer && slot->metadata_in_log) undo_upgrade(*slot, std::move(upgraded_from));
    return result;
}

std::vector<consumer_described_group> group_coordinator::consumer_describe(const std::vector<std::string>& group_ids) {
    std::vector<consumer_described_group> out;
    const std::string fallback = config_.consumer_assignors.empty() ? "uniform" : config_.consumer_assignors.front();
    for (const auto& id : group_ids) {
        consumer_described_group d;
        d.group_id = id;
        if (d.error = check_group(id, false); d.error != error_code::none) {
            out.push_back(std::move(d));
            continue;
        }
        auto* slot = groups_.find(id);
        if (slot == nullptr || !slot->consumer) {
            d.error = error_code::group_id_not_found;
            d.error_message = slot == nullptr ? "Group " + id + " not found." : "Group " + id + " is not a consumer group.";
            out.push_back(std::move(d));
            continue;
        }
        const auto& g = *slot->consumer;
        d.state = std::string(to_string(g.state()));
        d.group_epoch = g.group_epoch();
        d.assignment_epoch = g.assignment_epoch();
        d.assignor = g.preferred_assignor(fallback);
        for (const auto& [mid, m] : g.members()) d.members.push_back({&m, g.target_of(mid)});
        out.push_back(std::move(d));
    }
    return out;
}

// ---- offsets ----------------------------------------------------------------------------------

std::vector<error_code> group_coordinator::commit_offsets(const offset_commit_request_params& req) {
    std::vector<error_code> out(req.offsets.size(), error_code::none);
    auto fail_all = [&](error_code e) {
        std::fill(out.begin(), out.end(), e);
        return out;
    };
    if (const auto e = check_group(req.group_id, true); e != error_code::none) return fail_all(e);
    auto* slot = groups_.find(req.group_id);
    if (slot == nullptr) {
        if (req.generation_or_epoch >= 0)
            return fail_all(req.api_version >= 9 ? error_code::group_id_not_found : error_code::illegal_generation);
        // A group without group management: created here, holding offsets only.
        slot = &groups_.get_or_create(req.group_id, partition_for(req.group_id), timers_.now_ms());
    }
    const auto membership = slot->classic
                                ? classic_.validate_commit(*slot, req.member_id, req.group_instance_id, req.generation_or_epoch)
                                : consumer_.validate_commit(*slot, req.member_id, req.generation_or_epoch, req.api_version);
    if (membership != error_code::none) return fail_all(membership);

    const int64_t now = wall_();
    std::vector<pending_record> records;
    std::vector<size_t> written;
    std::vector<committed_offset> values;
    for (size_t i = 0; i < req.offsets.size(); ++i) {
        const auto& o = req.offsets[i];
        if (const auto e = offset_entry_error(o.topic, o.partition, o.metadata); e != error_code::none) {
            out[i] = e;
            continue;
        }
        committed_offset value;
        value.offset = o.offset;
        value.leader_epoch = o.leader_epoch;
        value.metadata = o.metadata.value_or("");
        value.commit_timestamp_ms = (req.api_version == 1 && o.commit_timestamp_ms >= 0) ? o.commit_timestamp_ms : now;
        if (req.retention_time_ms >= 0) value.expire_timestamp_ms = value.commit_timestamp_ms + req.retention_time_ms;
        records.push_back({encode_offset_commit_key(req.group_id, o.topic, o.partition), encode_offset_commit_value(value)});
        written.push_back(i);
        values.push_back(std::move(value));
    }
    protocol::offset base = protocol::no_offset;
    if (const auto e = write(slot->partition, records, &base); e != error_code::none) {
        for (const size_t i : written) out[i] = e;
        return out;
    }
    for (size_t k = 0; k < written.size(); ++k) {
        const auto& o = req.offsets[written[k]];
        values[k].record_offset = base < protocol::offset(0) ? protocol::no_offset : base + static_cast<int64_t>(k);
        slot->offsets.put(o.topic, o.partition, std::move(values[k]));
    }
    return out;
}

offset_fetch_group_result group_coordinator::fetch_offsets(const offset_fetch_request_params& req) {
    offset_fetch_group_result r;
    if (r.error = check_group(req.group_id, true); r.error != error_code::none) return r;
    auto* slot = groups_.find(req.group_id);
    if (slot != nullptr && slot->consumer) {
        if (r.error = consumer_.validate_fetch(*slot, req.member_id, req.member_epoch); r.error != error_code::none) return r;
    }
    auto answer = [&](const std::string& topic, protocol::partition_id partition) {
        offset_fetch_partition p;
        p.topic = topic;
        p.partition = partition;
        p.metadata = "";
        if (slot != nullptr)
            if (const auto* c = slot->offsets.find(topic, partition)) {
                p.offset = c->offset;
                p.leader_epoch = c->leader_epoch;
                p.metadata = c->metadata;
            }
        if (req.require_stable && txn_offsets_.pending(req.group_id, topic, partition)) {
            p.offset = protocol::no_offset;
            p.leader_epoch = protocol::no_leader_epoch;
            p.error = error_code::unstable_offset_commit;
        }
        r.partitions.push_back(std::move(p));
    };
    if (req.topics) {
        for (const auto& [topic, parts] : *req.topics)
            for (const auto p : parts) answer(topic, p);
    } else if (slot != nullptr) {
        for (const auto& [key, value] : slot->offsets.all()) answer(key.first, key.second);
    }
    return r;
}

std::vector<error_code> group_coordinator::commit_txn_offsets(const txn_offset_commit_params& req) {
    std::vector<error_code> out(req.offsets.size(), error_code::none);
    auto fail_all = [&](error_code e) {
        std::fill(out.begin(), out.end(), e);
        return out;
    };
    if (const auto e = check_group(req.group_id, false); e != error_code::none) return fail_all(e);
    // Kafka's checks: the member and generation only when the request names them (v3+).
    if (const auto* slot = groups_.find(req.group_id)) {
        auto membership = error_code::none;
        if (slot->classic) {
            const auto& g = *slot->classic;
            if (g.is(classic_group_state::dead)) membership = error_code::coordinator_not_available;
            else if (g.is_static_member_fenced(req.member_id, req.group_instance_id)) membership = error_code::fenced_instance_id;
            else if (!req.member_id.empty() && g.find(req.member_id) == nullptr) membership = error_code::unknown_member_id;
            else if (req.generation_id >= 0 && req.generation_id != g.generation()) membership = error_code::illegal_generation;
        } else if (!req.member_id.empty() && !slot->consumer->members().contains(req.member_id)) {
            membership = error_code::unknown_member_id;
        }
        if (membership != error_code::none) return fail_all(membership);
    }
    const int64_t now = wall_();
    protocol::batch_options options;
    options.producer_id = req.producer_id.value();  // the batch header's raw fields
    options.producer_epoch = req.producer_epoch.value();
    options.transactional = true;
    protocol::record_batch_builder builder(options);
    std::vector<size_t> written;
    std::vector<committed_offset> values;
    for (size_t i = 0; i < req.offsets.size(); ++i) {
        const auto& o = req.offsets[i];
        if (const auto e = offset_entry_error(o.topic, o.partition, o.metadata); e != error_code::none) {
            out[i] = e;
            continue;
        }
        committed_offset value;
        value.offset = o.offset;
        value.leader_epoch = o.leader_epoch;
        value.metadata = o.metadata.value_or("");
        value.commit_timestamp_ms = now;
        const auto key = encode_offset_commit_key(req.group_id, o.topic, o.partition);
        const auto bytes = encode_offset_commit_value(value);
        protocol::record_input in;
        in.key = protocol::bytes_view(key);
        in.value = protocol::bytes_view(bytes);
        in.timestamp = now;
        builder.append(in);
        written.push_back(i);
        values.push_back(std::move(value));
    }
    if (written.empty()) return out;
    auto e = ensure_topic();
    protocol::offset base = protocol::no_offset;
    if (e == error_code::none) {
        auto built = builder.build();
        if (built.status != protocol::codec_status::ok || built.bytes.empty()) e = error_code::unknown_server_error;
        else e = append(partition_for(req.group_id), built.bytes, now);
        if (e == error_code::none) base = appended_base_offset(built.bytes);
    }
    for (size_t k = 0; k < written.size(); ++k) {
        const size_t i = written[k];
        out[i] = e;
        if (e == error_code::none) {
            values[k].record_offset = base < protocol::offset(0) ? protocol::no_offset : base + static_cast<int64_t>(k);
            const auto& o = req.offsets[i];
            txn_offsets_.add(req.producer_id, req.group_id, o.topic, o.partition, std::move(values[k]));
        }
    }
    return out;
}

void group_coordinator::complete_txn_offsets(protocol::producer_id producer, bool commit) {
    auto entries = txn_offsets_.take(producer);
    if (!commit) return;
    const uint64_t now = timers_.now_ms();
    for (auto& e : entries) {
        auto& offsets = groups_.get_or_create(e.group, partition_for(e.group), now).offsets;
        // Kafka's precedence: a plain commit whose record came after the transactional one in
        // the log (committed before the marker) stays.
        if (const auto* current = offsets.find(e.topic, e.partition); current != nullptr && !current->older_than(e.value))
            continue;
        offsets.put(std::move(e.topic), e.partition, std::move(e.value));
    }
}

bool group_coordinator::subscribed(const group_slot& slot, std::string_view topic) const {
    if (slot.consumer) {
        if (slot.consumer->members().empty()) return false;
        return consumer_.resolve_subscriptions(*slot.consumer).contains(std::string(topic));
    }
    const auto& g = *slot.classic;
    if (g.is(classic_group_state::empty) || g.is(classic_group_state::dead)) return false;
    const auto topics = g.subscribed_topics();
    return topics && topics->contains(std::string(topic));
}

std::pair<error_code, std::vector<error_code>> group_coordinator::delete_offsets(
    const std::string& group_id, const std::vector<std::pair<std::string, protocol::partition_id>>& partitions) {
    if (const auto e = check_group(group_id, false); e != error_code::none) return {e, {}};
    auto* slot = groups_.find(group_id);
    if (slot == nullptr || (slot->classic && slot->classic->is(classic_group_state::dead)))
        return {error_code::group_id_not_found, {}};
    // A classic group that is not empty and does not use the consumer protocol cannot tell which
    // topics it uses: Kafka refuses.
    if (slot->classic && !slot->has_no_members() && !slot->classic->subscribed_topics())
        return {error_code::non_empty_group, {}};
    std::vector<error_code> out(partitions.size(), error_code::none);
    std::vector<pending_record> records;
    std::vector<size_t> deleting;
    for (size_t i = 0; i < partitions.size(); ++i) {
        const auto& topic = partitions[i].first;
        const protocol::partition_id p = partitions[i].second;
        if (subscribed(*slot, topic)) {
            out[i] = error_code::group_subscribed_to_topic;
            continue;
        }
        if (slot->offsets.find(topic, p) == nullptr) continue;  // nothing to delete is not an error
        records.push_back({encode_offset_commit_key(group_id, topic, p), std::nullopt});
        deleting.push_back(i);
    }
    if (const auto e = write(slot->partition, records); e != error_code::none) return {e, {}};
    for (const size_t i : deleting) slot->offsets.erase(partitions[i].first, partitions[i].second);
    return {error_code::none, std::move(out)};
}

// ---- administration ---------------------------------------------------------------------------

std::pair<error_code, std::vector<listed_group>> group_coordinator::list_groups(const std::vector<std::string>& states,
                                                                                const std::vector<std::string>& types) const {
    std::set<std::string> want_states, want_types;
    for (const auto& s : states) want_states.insert(lower(s));
    for (const auto& t : types) want_types.insert(lower(t));
    std::vector<listed_group> out;
    groups_.for_each([&](group_slot& slot) {
        if (loading(slot.id)) return;
        listed_group l;
        l.group_id = slot.id;
        if (slot.consumer) {
            l.protocol_type = "consumer";
            l.state = std::string(to_string(slot.consumer->state()));
        } else {
            if (slot.classic->is(classic_group_state::dead)) return;
            l.protocol_type = slot.classic->protocol_type().value_or("");
            l.state = std::string(to_string(slot.classic->state()));
        }
        l.type = std::string(to_string(slot.type()));
        if (!want_states.empty() && !want_states.contains(lower(l.state))) return;
        if (!want_types.empty() && !want_types.contains(l.type)) return;
        out.push_back(std::move(l));
    });
    return {loading_any() ? error_code::coordinator_load_in_progress : error_code::none, std::move(out)};
}

std::vector<described_group> group_coordinator::describe_groups(const std::vector<std::string>& group_ids) const {
    std::vector<described_group> out;
    for (const auto& id : group_ids) {
        described_group d;
        d.group_id = id;
        if (d.error = check_group(id, true); d.error != error_code::none) {
            out.push_back(std::move(d));
            continue;
        }
        const auto* slot = groups_.find(id);
        if (slot == nullptr) {
            d.state = "Dead";
        } else if (slot->consumer) {
            // Not a classic group: described in classic terms (members without protocol bytes).
            d.state = std::string(to_string(slot->consumer->state()));
            d.protocol_type = "consumer";
            for (const auto& [mid, m] : slot->consumer->members())
                d.members.push_back({mid, m.instance_id, m.client_id, m.client_host, {}, {}});
        } else {
            const auto& g = *slot->classic;
            d.state = std::string(to_string(g.state()));
            d.protocol_type = g.protocol_type().value_or("");
            const bool stable = g.is(classic_group_state::stable);
            if (stable) d.protocol_data = g.protocol_name().value_or("");
            for (const auto& [mid, m] : g.members()) {
                described_member dm{mid, m.group_instance_id, m.client_id, m.client_host, {}, {}};
                if (stable) {
                    if (const auto* md = m.metadata_for(d.protocol_data)) dm.metadata = *md;
                    dm.assignment = m.assignment;
                }
                d.members.push_back(std::move(dm));
            }
        }
        out.push_back(std::move(d));
    }
    return out;
}

void group_coordinator::remove_group(group_slot& slot, error_code parked_error) {
    if (slot.classic) classic_.shut_down(slot, parked_error);
    else consumer_.shut_down(slot);
    groups_.erase(slot.id);
}

std::vector<error_code> group_coordinator::delete_groups(const std::vector<std::string>& group_ids) {
    std::vector<error_code> out;
    for (const auto& id : group_ids) {
        if (const auto e = check_group(id, true); e != error_code::none) {
            out.push_back(e);
            continue;
        }
        auto* slot = groups_.find(id);
        if (slot == nullptr || (slot->classic && slot->classic->is(classic_group_state::dead))) {
            out.push_back(error_code::group_id_not_found);
            continue;
        }
        if (!slot->has_no_members()) {
            out.push_back(error_code::non_empty_group);
            continue;
        }
        std::vector<pending_record> records;
        for (const auto& [key, value] : slot->offsets.all())
            records.push_back({encode_offset_commit_key(id, key.first, key.second), std::nullopt});
        for (auto& r : group_tombstones(*slot)) records.push_back(std::move(r));
        if (const auto e = write(slot->partition, records); e != error_code::none) {
            out.push_back(e);
            continue;
        }
        log_info("group ", id, " deleted with ", slot->offsets.size(), " committed offsets");
        remove_group(*slot, error_code::coordinator_not_available);
        out.push_back(error_code::none);
    }
    return out;
}

// ---- retention --------------------------------------------------------------------------------

void group_coordinator::schedule_retention() {
    if (closed_) return;
    retention_timer_ = timers_.schedule_in(static_cast<uint64_t>(config_.offsets_retention_check_ms), [this] {
        retention_timer_ = 0;
        (void)expire_offsets();
        schedule_retention();
    });
}

size_t group_coordinator::expire_offsets() {
    const int64_t now = wall_();
    size_t expired = 0;
    std::vector<std::string> emptied;
    groups_.for_each([&](group_slot& slot) {
        if (loading(slot.id)) return;
        if (slot.offsets.empty()) {
            // An empty group with nothing committed has nothing left to keep (a member that got
            // MEMBER_ID_REQUIRED and never came back leaves one behind).
            if (slot.has_no_members() && (!slot.classic || slot.classic->join_timer == 0)) {
                if ((slot.metadata_in_log || slot.consumer_log) &&
                    write(slot.partition, group_tombstones(slot)) != error_code::none)
                    return;
                emptied.push_back(slot.id);
            }
            return;
        }
        // Kafka's rules: offsets of an empty group expire a retention period after the group
        // became empty; a group with members keeps the offsets of topics it subscribes to and
        // loses the others a retention period after their commit; an expire timestamp set by
        // the commit always wins.
        std::optional<int64_t> base;  // the time the retention period counts from, for the whole group
        bool per_offset = false;
        if (slot.consumer) {
            if (slot.consumer->members().empty()) base = slot.consumer->empty_since_wall_ms;
            else per_offset = true;
        } else {
            const auto& g = *slot.classic;
            if (g.is(classic_group_state::empty)) {
                if (g.protocol_type()) base = now - static_cast<int64_t>(timers_.now_ms() - g.state_timestamp_ms());
                else per_offset = true;  // offsets only, no group management
            } else if (g.is(classic_group_state::stable) && g.subscribed_topics()) {
                per_offset = true;
            }
        }
        std::vector<offset_table::key> gone;
        for (const auto& [key, value] : slot.offsets.all()) {
            bool expire = false;
            if (value.expire_timestamp_ms) expire = *value.expire_timestamp_ms <= now;
            else if (base) expire = std::max(*base, value.commit_timestamp_ms) + config_.offsets_retention_ms <= now;
            else if (per_offset && !subscribed(slot, key.first))
                expire = value.commit_timestamp_ms + config_.offsets_retention_ms <= now;
            if (expire) gone.push_back(key);
        }
        if (gone.empty()) return;
        std::vector<pending_record> records;
        for (const auto& [t, p] : gone) records.push_back({encode_offset_commit_key(slot.id, t, p), std::nullopt});
        const bool group_goes = gone.size() == slot.offsets.size() && slot.has_no_members();
        if (group_goes && (slot.metadata_in_log || slot.consumer_log))
            for (auto& r : group_tombstones(slot)) records.push_back(std::move(r));
        if (write(slot.partition, records) != error_code::none) return;
        for (const auto& [t, p] : gone) slot.offsets.erase(t, p);
        expired += gone.size();
        if (group_goes) emptied.push_back(slot.id);
    });
    for (const auto& id : emptied)
        if (auto* slot = groups_.find(id)) remove_group(*slot, error_code::coordinator_not_available);
    if (expired > 0) log_info("expired ", expired, " committed offsets, removed ", emptied.size(), " empty groups");
    return expired;
}

} // namespace samsa::broker
