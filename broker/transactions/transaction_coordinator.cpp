#include "broker/transactions/transaction_coordinator.h"

#include "broker/logger.h"
#include "broker/transactions/transaction_log.h"
#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"

#include <algorithm>
#include <chrono>

namespace samsa::broker {

using protocol::error_code;

namespace {

int64_t system_wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The coordinator's answer when writing to __transaction_state failed: Kafka's translation of a
// failed transaction-log append. Errors it does not list (none, and the coordinator errors
// themselves) reach the client unchanged.
error_code write_error(error_code e) {
    switch (e) {
        case error_code::unknown_topic_or_partition:
        case error_code::not_enough_replicas:
        case error_code::not_enough_replicas_after_append:
        case error_code::request_timed_out: return error_code::coordinator_not_available;
        case error_code::not_leader_or_follower:
        case error_code::kafka_storage_error: return error_code::not_coordinator;
        case error_code::message_too_large:
        case error_code::record_list_too_large: return error_code::unknown_server_error;
        default: return e;
    }
}

bool is_prepare(txn_state s) { return s == txn_state::prepare_commit || s == txn_state::prepare_abort; }

// Kafka's coordinator epoch is the leader epoch of the __transaction_state partition; a single
// node never changes leader.
constexpr int32_t coordinator_epoch = 0;

} // namespace

transaction_coordinator::transaction_coordinator(transaction_config config, loop_services& loop, coordinator_log& log,
                                                 txn_marker_writer& markers, producer_id_source producer_ids, wall_clock wall)
    : config_(config), loop_(loop), log_(log), markers_(markers), producer_ids_(std::move(producer_ids)),
      wall_(wall ? std::move(wall) : wall_clock(system_wall_ms)), partitions_(transaction_state_topic_name, log, loop, config_.log_partitions, config_.log_segment_bytes) {}

transaction_coordinator::~transaction_coordinator() {
    close();
    *alive_ = false;
}

// ---- start-up, loading, shutdown --------------------------------------------------------------

void transaction_coordinator::start() {
    coordinator_partitions::load_steps steps;
    steps.replay = [this](protocol::partition_id, protocol::bytes_view batches) { replay(batches); };
    steps.finish = [this](protocol::partition_id) { finish_load(); };
    // The partition stays loading: its ids answer COORDINATOR_LOAD_IN_PROGRESS rather than
    // forgetting transactions. What earlier chunks of it left is dropped, not applied.
    steps.unreadable = [this](protocol::partition_id partition, error_code e) {
        log_error(transaction_state_topic_name, "-", partition, " cannot be read (error ", to_int(e),
                  "); its transactional ids stay unavailable");
        loaded_.clear();
    };
    partitions_.load(std::move(steps));
    if (partitions_.count() > 0)
        log_info("loading transactional ids from ", partitions_.count(), " partitions of ", transaction_state_topic_name);
    schedule_abort_check();
    schedule_expiration_check();
}

void transaction_coordinator::replay(protocol::bytes_view batches) {
    while (batches.size() >= protocol::batch::log_overhead) {
        const auto header = protocol::batch::header_view::parse(batches);
        if (!header) break;
        const auto one = batches.first(header->total_size());
        batches = batches.subspan(header->total_size());
        if (header->is_control()) continue;
        protocol::record_reader reader(one);
        protocol::record rec;
        while (reader.next(rec)) {
            if (!rec.key) continue;
            auto id = decode_transaction_log_key(*rec.key);
            if (!id) continue;
            if (!rec.value) {
                loaded_[*id] = std::nullopt;
                continue;
            }
            auto m = decode_transaction_log_value(*rec.value);
            if (!m) {
                log_warn(transaction_state_topic_name, ": the record of transactional id ", *id, " cannot be read; skipped");
                continue;
            }
            m->transactional_id = *id;
            loaded_[*id] = std::move(*m);
        }
        if (!reader.ok()) log_warn(transaction_state_topic_name, ": a batch could not be read and was skipped");
    }
}

void transaction_coordinator::finish_load() {
    std::vector<std::string> unfinished;
    for (auto& [id, m] : loaded_) {
        if (!m) {
            table_.erase(id);
            continue;
        }
        if (is_prepare(m->state)) unfinished.push_back(id);
        table_.insert_or_assign(id, std::move(*m));
    }
    loaded_.clear();
    // A transaction whose end was decided before the stop gets its markers now.
    for (const auto& id : unfinished) {
        log_info("completing the ", to_string(table_.at(id).state), " transaction of ", id, " found at start-up");
        send_markers(id);
    }
    if (!partitions_.loading_any())
        log_info("transactional ids loaded: ", table_.size(), " from ", transaction_state_topic_name);
}

void transaction_coordinator::close() {
    if (closed_) return;
    closed_ = true;
    partitions_.stop();
    abort_timer_.reset();
    expiration_timer_.reset();
    in_flight_.clear();
}

// ---- routing ----------------------------------------------------------------------------------

protocol::partition_id transaction_coordinator::partition_for(std::string_view transactional_id) const noexcept {
    return transaction_log_partition(transactional_id, partitions_.routing_count());
}

bool transaction_coordinator::loading(std::string_view transactional_id) const noexcept {
    return partitions_.loading(partition_for(transactional_id));
}

bool transaction_coordinator::loading_any() const noexcept { return partitions_.loading_any(); }

error_code transaction_coordinator::check_serving(std::string_view transactional_id) const {
    if (transactional_id.empty()) return error_code::invalid_request;
    if (closed_) return error_code::coordinator_not_available;
    if (loading(transactional_id)) return error_code::coordinator_load_in_progress;
    return error_code::none;
}

error_code transaction_coordinator::ensure_topic() {
    return partitions_.ensure_created();
}

error_code transaction_coordinator::find_coordinator(std::string_view transactional_id) {
    if (transactional_id.empty()) return error_code::invalid_request;
    if (closed_) return error_code::coordinator_not_available;
    return ensure_topic();
}

error_code transaction_coordinator::write(const std::string& transactional_id, const transaction_metadata* m) {
    if (const auto e = ensure_topic(); e != error_code::none) return e;
    const int64_t now = wall_();
    const auto key = encode_transaction_log_key(transactional_id);
    std::optional<std::vector<uint8_t>> value;
    if (m != nullptr) value = encode_transaction_log_value(*m);
    protocol::record_batch_builder builder;
    protocol::record_input in;
    in.key = protocol::bytes_view(key);
    if (value) in.value = protocol::bytes_view(*value);
    in.timestamp = now;
    builder.append(in);
    auto built = builder.build();
    if (built.status != protocol::codec_status::ok || built.bytes.empty()) return error_code::unknown_server_error;
    const auto e = write_error(log_.append(partition_for(transactional_id), built.bytes, now));
    if (e != error_code::none) log_warn("cannot write the state of transactional id ", transactional_id, ": error ", to_int(e));
    return e;
}

// ---- the client requests ----------------------------------------------------------------------

init_producer_id_result transaction_coordinator::init_producer_id(const std::string& transactional_id, int32_t timeout_ms,
                                                                  std::optional<producer_instance> expected) {
    init_producer_id_result r;
    auto fail = [&r](error_code e) {
        r.error = e;
        return r;
    };
    if (transactional_id.empty()) return fail(error_code::invalid_request);
    if (timeout_ms <= 0 || timeout_ms > config_.max_timeout_ms) return fail(error_code::invalid_transaction_timeout);
    if (const auto e = check_serving(transactional_id); e != error_code::none) return fail(e);
    if (const auto e = ensure_topic(); e != error_code::none) return fail(e);

    const int64_t now = wall_();
    auto it = table_.find(transactional_id);
    if (it == table_.end()) {
        const auto id = producer_ids_ ? producer_ids_() : std::nullopt;
        if (!id) return fail(error_code::coordinator_load_in_progress);
        transaction_metadata m;
        m.transactional_id = transactional_id;
        m.producer_id = *id;
        m.timeout_ms = timeout_ms;
        m.last_update_ms = now;
        it = table_.emplace(transactional_id, std::move(m)).first;
    }
    auto& current = it->second;
    if (expected) {
        // Kafka's test: a brand-new id, the current producer id, or a retry of the rotation that
        // replaced the given (exhausted) id.
        const auto [pid, epoch] = *expected;
        const bool valid = current.producer_epoch == protocol::no_producer_epoch || pid == current.producer_id ||
                           (pid == current.last_producer_id && epoch >= last_usable_producer_epoch);
        if (!valid) return fail(error_code::producer_fenced);
    }
    std::optional<transaction_metadata> next;
    switch (current.state) {
        case txn_state::prepare_commit:
        case txn_state::prepare_abort: return fail(error_code::concurrent_transactions);
        case txn_state::ongoing:
            // A new instance of the producer: the old one is fenced and its transaction aborted;
            // the client asks again and gets its epoch once the abort is complete.
            if (const auto e = fence_and_abort(current); e != error_code::none) return fail(e);
            return fail(error_code::concurrent_transactions);
        case txn_state::empty:
        case txn_state::complete_commit:
        case txn_state::complete_abort:
            if (current.epoch_exhausted() && (!expected || expected->second == current.producer_epoch)) {
                const auto id = producer_ids_ ? producer_ids_() : std::nullopt;
                if (!id) return fail(error_code::coordinator_load_in_progress);
                next = current.prepare_producer_id_rotation(*id, timeout_ms, expected.has_value(), now);
            } else {
                std::optional<protocol::producer_epoch> expected_epoch;
                if (expected) expected_epoch = expected->second;
                next = current.prepare_epoch_bump(timeout_ms, expected_epoch, now);
                if (!next) return fail(error_code::producer_fenced);
            }
            break;
        case txn_state::dead:
        case txn_state::prepare_epoch_fence: return fail(error_code::invalid_txn_state);
    }
    if (!valid_transition(current.state, next->state)) return fail(error_code::invalid_txn_state);
    if (const auto e = write(transactional_id, &*next); e != error_code::none) return fail(e);
    current = std::move(*next);
    r.producer_id = current.producer_id;
    r.producer_epoch = current.producer_epoch;
    return r;
}

error_code transaction_coordinator::fence_and_abort(transaction_metadata& current) {
    const auto fenced = current.prepare_fence();
    auto aborting = fenced.prepare_end(false, wall_());
    if (!valid_transition(current.state, fenced.state) || !valid_transition(fenced.state, aborting.state))
        return error_code::invalid_txn_state;
    if (const auto e = write(current.transactional_id, &aborting); e != error_code::none) return e;
    log_info("transactional id ", current.transactional_id, ": producer epoch ", current.producer_epoch,
             " fenced, its transaction is aborted");
    current = std::move(aborting);
    send_markers_when_durable(current.transactional_id);
    return error_code::none;
}

error_code transaction_coordinator::add_partitions(const std::string& transactional_id, protocol::producer_id producer_id,
                                                   protocol::producer_epoch producer_epoch,
                                                   const std::set<txn_topic_partition>& partitions) {
    if (const auto e = check_serving(transactional_id); e != error_code::none) return e;
    const auto it = table_.find(transactional_id);
    // A V2 client whose epoch ran out already has the next id while the markers of its last
    // transaction are being written: it retries once they are.
    if (it != table_.end() && is_prepare(it->second.state) && it->second.next_producer_id == producer_id &&
        producer_id != protocol::no_producer_id)
        return error_code::concurrent_transactions;
    if (it == table_.end() || it->second.producer_id != producer_id) return error_code::invalid_producer_id_mapping;
    auto& current = it->second;
    if (current.producer_epoch != producer_epoch) return error_code::producer_fenced;
    if (is_prepare(current.state)) return error_code::concurrent_transactions;
    if (current.state == txn_state::ongoing &&
        std::includes(current.partitions.begin(), current.partitions.end(), partitions.begin(), partitions.end()))
        return error_code::none;  // already there: nothing to write
    auto next = current.prepare_add_partitions(partitions, wall_());
    if (!valid_transition(current.state, next.state)) return error_code::invalid_txn_state;
    if (const auto e = write(transactional_id, &next); e != error_code::none) return e;
    current = std::move(next);
    return error_code::none;
}

std::vector<error_code> transaction_coordinator::verify_partitions(const std::string& transactional_id,
                                                                   protocol::producer_id producer_id,
                                                                   protocol::producer_epoch producer_epoch,
                                                                   const std::vector<txn_topic_partition>& partitions) {
    auto all = [&](error_code e) { return std::vector<error_code>(partitions.size(), e); };
    if (const auto e = check_serving(transactional_id); e != error_code::none) return all(e);
    const auto it = table_.find(transactional_id);
    if (it == table_.end() || it->second.producer_id != producer_id) return all(error_code::invalid_producer_id_mapping);
    const auto& current = it->second;
    if (current.producer_epoch != producer_epoch) return all(error_code::producer_fenced);
    if (is_prepare(current.state)) return all(error_code::concurrent_transactions);
    std::vector<error_code> out;
    out.reserve(partitions.size());
    for (const auto& p : partitions)
        out.push_back(current.state == txn_state::ongoing && current.partitions.contains(p) ? error_code::none
                                                                                            : error_code::transaction_abortable);
    return out;
}

error_code transaction_coordinator::end_transaction(const std::string& transactional_id, protocol::producer_id producer_id,
                                                    protocol::producer_epoch producer_epoch, bool commit) {
    if (const auto e = check_serving(transactional_id); e != error_code::none) return e;
    const auto it = table_.find(transactional_id);
    if (it == table_.end() || it->second.producer_id != producer_id) return error_code::invalid_producer_id_mapping;
    auto& current = it->second;
    if (current.producer_epoch != producer_epoch) return error_code::producer_fenced;
    switch (current.state) {
        case txn_state::ongoing: {
            auto next = current.prepare_end(commit, wall_());
            if (const auto e = write(transactional_id, &next); e != error_code::none) return e;
            current = std::move(next);
            send_markers_when_durable(transactional_id);
            return error_code::none;
        }
        // A retry of an EndTxn that was already done (or is being done) is answered as such.
        case txn_state::complete_commit: return commit ? error_code::none : error_code::invalid_txn_state;
        case txn_state::complete_abort: return commit ? error_code::invalid_txn_state : error_code::none;
        case txn_state::prepare_commit: return commit ? error_code::concurrent_transactions : error_code::invalid_txn_state;
        case txn_state::prepare_abort: return commit ? error_code::invalid_txn_state : error_code::concurrent_transactions;
        case txn_state::empty:
        case txn_state::dead:
        case txn_state::prepare_epoch_fence: return error_code::invalid_txn_state;
    }
    return error_code::invalid_txn_state;
}

// ---- durability -------------------------------------------------------------------------------

bool transaction_coordinator::waits_for_fsync(std::string_view transactional_id) const {
    return partitions_.count() > 0 && log_.waits_for_fsync(partition_for(transactional_id));
}

void transaction_coordinator::when_durable(std::string_view transactional_id, std::function<void(error_code)> done) {
    log_.when_durable(partition_for(transactional_id), [done = std::move(done)](error_code e) { done(write_error(e)); });
}

end_txn_result transaction_coordinator::end_transaction_v2(const std::string& transactional_id, protocol::producer_id producer_id,
                                                          protocol::producer_epoch producer_epoch, bool commit) {
    end_txn_result r;
    auto fail = [&r](error_code e) {
        r.error = e;
        return r;
    };
    if (const auto e = check_serving(transactional_id); e != error_code::none) return fail(e);
    const auto it = table_.find(transactional_id);
    if (it == table_.end()) return fail(error_code::invalid_producer_id_mapping);
    auto& current = it->second;
    // A retry after the epoch ran out names the old id at its last epoch; one after a bump
    // names the epoch before it.
    const bool retry_on_overflow = current.last_producer_id == producer_id &&
                                   producer_epoch == last_usable_producer_epoch &&
                                   current.producer_epoch == protocol::producer_epoch(0);
    const bool retry_on_bump =
        current.producer_id == producer_id && follows_producer_epoch(current.producer_epoch, producer_epoch);
    const bool is_retry = retry_on_bump || retry_on_overflow;
    if (current.producer_id != producer_id && !retry_on_overflow) return fail(error_code::invalid_producer_id_mapping);
    bool valid_epoch = false;
    switch (current.state) {
        case txn_state::prepare_commit:
        case txn_state::prepare_abort: valid_epoch = retry_on_bump; break;
        case txn_state::complete_commit:
        case txn_state::complete_abort: valid_epoch = is_retry || producer_epoch == current.producer_epoch; break;
        default: valid_epoch = producer_epoch == current.producer_epoch; break;
    }
    if (!valid_epoch) return fail(error_code::producer_fenced);

    auto begin_end = [&](bool to_commit, bool no_partitions) {
        protocol::producer_id next_id = protocol::no_producer_id;
        if (current.epoch_exhausted()) {
            const auto id = producer_ids_ ? producer_ids_() : std::nullopt;
            if (!id) return fail(error_code::coordinator_load_in_progress);
            next_id = *id;
        }
        auto next = current.prepare_end_v2(to_commit, next_id, no_partitions, wall_());
        if (!valid_transition(current.state, next.state)) return fail(error_code::invalid_txn_state);
        if (const auto e = write(transactional_id, &next); e != error_code::none) return fail(e);
        current = std::move(next);
        // What the client uses next: the bumped epoch, or the new id once the epoch ran out.
        const bool rotated = next_id != protocol::no_producer_id;
        r.producer_id = rotated ? next_id : current.producer_id;
        r.producer_epoch = rotated ? protocol::producer_epoch(0) : current.producer_epoch;
        send_markers_when_durable(transactional_id);
        return r;
    };
    auto already_done = [&] {
        r.producer_id = current.producer_id;
        r.producer_epoch = current.producer_epoch;
        return r;
    };
    switch (current.state) {
        case txn_state::ongoing: return begin_end(commit, false);
        case txn_state::complete_commit:
            if (commit) return is_retry ? already_done() : fail(error_code::invalid_txn_state);
            return is_retry ? fail(error_code::invalid_txn_state) : begin_end(false, true);
        case txn_state::complete_abort:
            if (!commit) return is_retry ? already_done() : begin_end(false, true);
            return fail(error_code::invalid_txn_state);
        case txn_state::prepare_commit: return fail(commit ? error_code::concurrent_transactions : error_code::invalid_txn_state);
        case txn_state::prepare_abort: return fail(commit ? error_code::invalid_txn_state : error_code::concurrent_transactions);
        case txn_state::empty: return commit ? fail(error_code::invalid_txn_state) : begin_end(false, true);
        case txn_state::dead:
        case txn_state::prepare_epoch_fence: return fail(error_code::invalid_txn_state);
    }
    return fail(error_code::invalid_txn_state);
}

// ---- markers ----------------------------------------------------------------------------------

void transaction_coordinator::send_markers_when_durable(const std::string& transactional_id) {
    if (!waits_for_fsync(transactional_id)) return send_markers(transactional_id);
    when_durable(transactional_id, [this, id = transactional_id, alive = std::weak_ptr<bool>(alive_)](error_code e) {
        const auto token = alive.lock();
        if (!token || !*token || closed_) return;
        if (e != error_code::none) {
            // The partition went offline with the decision maybe not on disk; a restart reads
            // back what is and completes it.
            log_error("transactional id ", id, ": the end of its transaction could not be made durable (error ",
                      to_int(e), "); no markers are sent");
            return;
        }
        // A Prepare state leaves only through its markers, so one still without a send is the
        // transaction this wait was for.
        const auto it = table_.find(id);
        if (it != table_.end() && is_prepare(it->second.state) && !in_flight_.contains(id)) send_markers(id);
    });
}


void transaction_coordinator::send_markers(const std::string& transactional_id) {
    const auto& m = table_.at(transactional_id);
    auto& send = in_flight_[transactional_id];
    send.producer_id = m.producer_id;
    send.producer_epoch = m.producer_epoch;
    send.commit = m.state == txn_state::prepare_commit;
    send.remaining = m.partitions;
    send.generation = next_generation_++;
    send.listener_told = false;
    send.retry.reset();
    dispatch_markers(transactional_id);
}

void transaction_coordinator::dispatch_markers(const std::string& transactional_id) {
    const auto it = in_flight_.find(transactional_id);
    if (it == in_flight_.end() || closed_) return;
    auto& send = it->second;
    if (send.remaining.empty()) return on_marker_results(transactional_id, send.generation, {});
    txn_marker_request req;
    req.producer_id = send.producer_id;
    req.producer_epoch = send.producer_epoch;
    req.coordinator_epoch = coordinator_epoch;
    req.commit = send.commit;
    for (const auto& [topic, partition] : send.remaining) req.partitions.push_back({topic, partition});
    // The callback may run before write_markers returns, and may end the send: nothing of it is
    // used after this call.
    markers_.write_markers(req, [this, id = transactional_id, generation = send.generation,
                                 alive = std::weak_ptr<bool>(alive_)](std::vector<txn_marker_result> results) {
        const auto token = alive.lock();
        if (!token || !*token) return;
        on_marker_results(id, generation, results);
    });
}

void transaction_coordinator::on_marker_results(const std::string& transactional_id, uint64_t generation,
                                                const std::vector<txn_marker_result>& results) {
    const auto it = in_flight_.find(transactional_id);
    if (it == in_flight_.end() || it->second.generation != generation || closed_) return;
    auto& send = it->second;
    for (const auto& r : results) {
        const txn_topic_partition tp{r.partition.topic, r.partition.partition};
        switch (r.error) {
            case error_code::none: send.remaining.erase(tp); break;
            // The topic is gone, or the partition already has a newer epoch of this producer:
            // Kafka's marker channel stops sending to it too.
            case error_code::unknown_topic_or_partition:
            case error_code::invalid_producer_epoch:
            case error_code::transaction_coordinator_fenced:
                log_warn("transactional id ", transactional_id, ": no marker on ", tp.first, "-", tp.second, " (error ",
                         to_int(r.error), ")");
                send.remaining.erase(tp);
                break;
            default: break;
        }
    }
    if (!send.remaining.empty()) {
        retry_later(transactional_id, [this, transactional_id, generation] {
            const auto again = in_flight_.find(transactional_id);
            if (again != in_flight_.end() && again->second.generation == generation) dispatch_markers(transactional_id);
        });
        return;
    }
    if (!send.listener_told) {
        send.listener_told = true;
        if (listener_) listener_(send.producer_id, send.commit);
    }
    complete(transactional_id);
}

void transaction_coordinator::complete(const std::string& transactional_id) {
    auto& current = table_.at(transactional_id);
    auto next = current.prepare_complete(wall_());
    if (const auto e = write(transactional_id, &next); e != error_code::none) {
        retry_later(transactional_id, [this, transactional_id] {
            if (in_flight_.contains(transactional_id)) complete(transactional_id);
        });
        return;
    }
    current = std::move(next);
    in_flight_.erase(transactional_id);
}

void transaction_coordinator::retry_later(const std::string& transactional_id, std::function<void()> fn) {
    const auto it = in_flight_.find(transactional_id);
    if (it == in_flight_.end() || closed_) return;
    it->second.retry = loop_.start_timer(static_cast<uint64_t>(config_.marker_retry_backoff_ms), std::move(fn));
}

// ---- administration ---------------------------------------------------------------------------

const transaction_metadata* transaction_coordinator::find(std::string_view transactional_id) const {
    const auto it = table_.find(transactional_id);
    return it == table_.end() ? nullptr : &it->second;
}

described_transaction transaction_coordinator::describe(const std::string& transactional_id) const {
    described_transaction d;
    d.transactional_id = transactional_id;
    if (d.error = check_serving(transactional_id); d.error != error_code::none) {
        if (d.error == error_code::invalid_request) d.error = error_code::transactional_id_not_found;
        return d;
    }
    const auto* m = find(transactional_id);
    if (m == nullptr || m->state == txn_state::dead) {
        d.error = error_code::transactional_id_not_found;
        return d;
    }
    d.state = m->state;
    d.timeout_ms = m->timeout_ms;
    d.start_ms = m->start_ms;
    d.producer_id = m->producer_id;
    d.producer_epoch = m->producer_epoch;
    d.partitions = m->partitions;
    return d;
}

list_transactions_result transaction_coordinator::list(const std::vector<std::string>& states,
                                                       const std::vector<protocol::producer_id>& producer_ids,
                                                       int64_t min_duration_ms) const {
    list_transactions_result r;
    if (closed_) {
        r.error = error_code::coordinator_not_available;
        return r;
    }
    if (loading_any()) {
        r.error = error_code::coordinator_load_in_progress;
        return r;
    }
    std::set<txn_state> want_states;
    for (const auto& s : states) {
        if (const auto st = txn_state_from_name(s)) want_states.insert(*st);
        else r.unknown_state_filters.push_back(s);
    }
    // Every state filter unknown: nothing can match (Kafka answers an empty list).
    if (!states.empty() && want_states.empty()) return r;
    const std::set<protocol::producer_id> want_ids(producer_ids.begin(), producer_ids.end());
    const int64_t now = wall_();
    for (const auto& [id, m] : table_) {
        if (m.state == txn_state::dead) continue;
        if (!want_states.empty() && !want_states.contains(m.state)) continue;
        if (!want_ids.empty() && !want_ids.contains(m.producer_id)) continue;
        // Kafka's test: running longer than the filter, measured from the start timestamp.
        if (min_duration_ms >= 0 && now - m.start_ms <= min_duration_ms) continue;
        r.transactions.push_back({id, m.producer_id, m.state});
    }
    return r;
}

// ---- timers -----------------------------------------------------------------------------------

size_t transaction_coordinator::abort_timed_out_transactions() {
    if (closed_) return 0;
    const int64_t now = wall_();
    std::vector<std::string> due;
    for (const auto& [id, m] : table_)
        if (m.state == txn_state::ongoing && !loading(id) && m.start_ms + m.timeout_ms < now) due.push_back(id);
    size_t aborted = 0;
    for (const auto& id : due) {
        log_info("transactional id ", id, ": the transaction timed out after ", table_.at(id).timeout_ms, " ms");
        if (fence_and_abort(table_.at(id)) == error_code::none) ++aborted;
    }
    return aborted;
}

size_t transaction_coordinator::expire_transactional_ids() {
    if (closed_) return 0;
    const int64_t now = wall_();
    std::vector<std::string> due;
    for (const auto& [id, m] : table_)
        if (is_idle(m.state) && !loading(id) && !in_flight_.contains(id) && m.last_update_ms + config_.id_expiration_ms <= now)
            due.push_back(id);
    size_t expired = 0;
    for (const auto& id : due) {
        const auto dead = table_.at(id).prepare_dead();
        if (!valid_transition(table_.at(id).state, dead.state)) continue;
        if (write(id, nullptr) != error_code::none) continue;
        table_.erase(id);
        ++expired;
    }
    if (expired > 0) log_info("expired ", expired, " transactional ids");
    return expired;
}

void transaction_coordinator::schedule_abort_check() {
    if (closed_) return;
    abort_timer_ = loop_.start_timer(static_cast<uint64_t>(config_.abort_check_interval_ms), [this] {
        (void)abort_timed_out_transactions();
        schedule_abort_check();
    });
}

void transaction_coordinator::schedule_expiration_check() {
    if (closed_) return;
    expiration_timer_ = loop_.start_timer(static_cast<uint64_t>(config_.expiration_check_interval_ms), [this] {
        (void)expire_transactional_ids();
        schedule_expiration_check();
    });
}

} // namespace samsa::broker
