#include "storage/producer_state_table.h"

#include <limits>

namespace samsa::storage {

using protocol::error_code;

namespace {

constexpr int32_t max_seq = std::numeric_limits<int32_t>::max();

bool in_sequence(int32_t last, int32_t next) noexcept {
    return static_cast<int64_t>(next) == static_cast<int64_t>(last) + 1 || (next == 0 && last == max_seq);
}

producer_check fail(error_code e, std::string message) {
    producer_check c;
    c.error = e;
    c.message = std::move(message);
    return c;
}

} // namespace

int32_t increment_sequence(int32_t seq, int32_t delta) noexcept {
    if (seq > max_seq - delta) return delta - (max_seq - seq) - 1;
    return seq + delta;
}

const producer_batch* producer_entry::find_duplicate(protocol::producer_epoch batch_epoch, int32_t first,
                                                     int32_t last) const noexcept {
    if (batch_epoch != epoch) return nullptr;
    for (const auto& b : batches)
        if (b.first_seq == first && b.last_seq == last) return &b;
    return nullptr;
}

void producer_entry::add_batch(protocol::producer_epoch batch_epoch, const producer_batch& b) {
    if (batch_epoch != epoch) {
        batches.clear();
        epoch = batch_epoch;
    }
    batches.push_back(b);
    while (batches.size() > max_batches) batches.pop_front();
    last_timestamp = b.timestamp;
}

const producer_entry* producer_state_table::find(protocol::producer_id producer_id) const {
    auto it = producers_.find(producer_id);
    return it == producers_.end() ? nullptr : &it->second;
}

std::optional<int64_t> producer_state_table::first_unstable_offset() const {
    if (ongoing_.empty()) return std::nullopt;
    return ongoing_.begin()->first;
}

int64_t producer_state_table::last_stable_offset_without(protocol::producer_id producer_id,
                                                         const producer_state_update& update) const {
    std::optional<int64_t> first;
    auto consider = [&](int64_t offset) {
        if (offset >= 0 && (!first || offset < *first)) first = offset;
    };
    for (const auto& [offset, pid] : ongoing_)
        if (pid != producer_id && !update.entries.contains(pid)) consider(offset);
    for (const auto& [pid, e] : update.entries)
        if (pid != producer_id) consider(e.current_txn_first_offset);
    return first.value_or(-1);
}

producer_check producer_state_table::stage(producer_state_update& update, const producer_batch_fields& b,
                                           append_origin origin) const {
    const producer_entry* committed = find(b.producer_id);
    const int32_t last_seq = increment_sequence(b.base_seq, b.last_offset_delta);

    // A client's retry of a batch already written: Kafka answers it with the original offsets
    // (and no error) before validating anything else.
    if (origin == append_origin::client && !b.control && committed && !update.entries.contains(b.producer_id)) {
        if (const producer_batch* dup = committed->find_duplicate(b.epoch, b.base_seq, last_seq)) {
            producer_check c;
            c.duplicate = *dup;
            return c;
        }
    }

    if (b.control && !b.commit) return {};  // a control batch that is no transaction marker

    auto [it, fresh] = update.entries.try_emplace(b.producer_id);
    producer_entry& entry = it->second;
    if (fresh) {
        if (committed) entry = *committed;
        entry.producer_id = b.producer_id;
    }
    const protocol::producer_epoch known_epoch = committed ? committed->epoch : no_producer_epoch;

    if (origin != append_origin::replication && b.epoch < entry.epoch)
        return fail(error_code::invalid_producer_epoch,
                    "Epoch of producer " + std::to_string(b.producer_id.value()) + " at offset " +
                        std::to_string(b.first_offset) + " is " + std::to_string(b.epoch.value()) +
                        ", which is smaller than the last seen epoch " + std::to_string(entry.epoch.value()));

    if (b.control) {
        if (origin != append_origin::replication && entry.coordinator_epoch > b.coordinator_epoch)
            return fail(error_code::transaction_coordinator_fenced,
                        "Invalid coordinator epoch for producer " + std::to_string(b.producer_id.value()) + ": " +
                            std::to_string(b.coordinator_epoch) + " (zombie), " + std::to_string(entry.coordinator_epoch) +
                            " (current)");
        if (b.epoch != entry.epoch) {
            entry.batches.clear();
            entry.epoch = b.epoch;
        }
        entry.coordinator_epoch = b.coordinator_epoch;
        entry.last_timestamp = b.max_timestamp;
        completed_txn done;
        done.producer_id = b.producer_id;
        done.first_offset = entry.current_txn_first_offset >= 0 ? entry.current_txn_first_offset : b.first_offset;
        done.last_offset = b.first_offset;
        done.aborted = !*b.commit;
        entry.current_txn_first_offset = -1;
        const int64_t others = last_stable_offset_without(b.producer_id, update);
        done.last_stable_offset = others >= 0 ? others : done.last_offset + 1;
        update.completed.push_back(done);
        return {};
    }

    if (origin == append_origin::client) {
        if (b.epoch != entry.epoch) {
            if (b.base_seq != 0 && entry.epoch != no_producer_epoch)
                return fail(error_code::out_of_order_sequence_number,
                            "Invalid sequence number for new epoch of producer " +
                                std::to_string(b.producer_id.value()) + ": " + std::to_string(b.epoch.value()) +
                                " (request epoch), " + std::to_string(b.base_seq) + " (seq. number), " +
                                std::to_string(entry.epoch.value()) + " (current producer epoch)");
        } else if (known_epoch != no_producer_epoch && !in_sequence(entry.last_seq(), b.base_seq)) {
            // A producer the partition has no state for (new, or expired) may start anywhere.
            return fail(error_code::out_of_order_sequence_number,
                        "Out of order sequence number for producer " + std::to_string(b.producer_id.value()) + " at offset " +
                            std::to_string(b.first_offset) + ": " + std::to_string(b.base_seq) + " (incoming seq. number), " +
                            std::to_string(entry.last_seq()) + " (current end sequence number)");
        }
    }

    entry.add_batch(b.epoch, producer_batch{b.base_seq, last_seq, b.first_offset, b.last_offset, b.max_timestamp});
    if (entry.current_txn_first_offset >= 0 && !b.transactional)
        return fail(error_code::invalid_txn_state, "Expected transactional write from producer " +
                                                       std::to_string(b.producer_id.value()) + " at offset " +
                                                       std::to_string(b.first_offset));
    if (entry.current_txn_first_offset < 0 && b.transactional) entry.current_txn_first_offset = b.first_offset;
    return {};
}

void producer_state_table::apply(producer_state_update update, int64_t end_offset) {
    for (auto& [pid, entry] : update.entries) {
        auto it = producers_.find(pid);
        if (it != producers_.end() && it->second.current_txn_first_offset >= 0)
            ongoing_.erase(it->second.current_txn_first_offset);
        if (entry.current_txn_first_offset >= 0) ongoing_[entry.current_txn_first_offset] = pid;
        producers_[pid] = std::move(entry);
    }
    end_offset_ = end_offset;
}

size_t producer_state_table::expire(int64_t now_ms, int64_t expiration_ms) {
    size_t n = 0;
    for (auto it = producers_.begin(); it != producers_.end();) {
        const producer_entry& e = it->second;
        if (e.current_txn_first_offset < 0 && now_ms - e.last_timestamp >= expiration_ms) {
            it = producers_.erase(it);
            ++n;
        } else {
            ++it;
        }
    }
    return n;
}

void producer_state_table::clear() noexcept {
    producers_.clear();
    ongoing_.clear();
    end_offset_ = 0;
}

void producer_state_table::load_entry(producer_entry entry) {
    if (entry.current_txn_first_offset >= 0) ongoing_[entry.current_txn_first_offset] = entry.producer_id;
    const protocol::producer_id pid = entry.producer_id;
    producers_[pid] = std::move(entry);
}

} // namespace samsa::storage
