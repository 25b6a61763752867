// The producer-state half of storage/log.h: checking and recording idempotent and transactional
// producers on append, the last stable offset, the aborted-transaction index, producer
// snapshots, and rebuilding the producer table at start-up and after a truncation (rules in
// storage/producer_state_table.h, formats in docs/storage.md). Loop thread.

#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"
#include "storage/batch_validator.h"
#include "storage/file_handle.h"
#include "storage/flusher.h"
#include "storage/layout.h"
#include "storage/log.h"
#include "storage/producer_snapshot.h"
#include "storage/producer_state_table.h"
#include "storage/segment.h"
#include "storage/txn_index.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace samsa::storage {

using protocol::error_code;
namespace pb = protocol::batch;

namespace {

// The producer fields of a batch from its header bytes (at least batch::header_size of them);
// a control batch's marker is read only when the whole batch is there.
producer_batch_fields fields_of(std::span<const uint8_t> bytes, int64_t first_offset, int64_t last_offset,
                                int64_t max_timestamp) {
    const uint8_t* p = bytes.data();
    const uint16_t attributes = pb::load_be16(p + pb::attributes_at);
    producer_batch_fields f;
    f.producer_id = protocol::producer_id(static_cast<int64_t>(pb::load_be64(p + pb::producer_id_at)));
    f.epoch = protocol::producer_epoch(static_cast<int16_t>(pb::load_be16(p + pb::producer_epoch_at)));
    f.base_seq = static_cast<int32_t>(pb::load_be32(p + pb::base_sequence_at));
    f.last_offset_delta = static_cast<int32_t>(pb::load_be32(p + pb::last_offset_delta_at));
    f.first_offset = first_offset;
    f.last_offset = last_offset;
    f.max_timestamp = max_timestamp;
    f.transactional = (attributes & pb::transactional_flag) != 0;
    f.control = (attributes & pb::control_flag) != 0;
    if (f.control) {
        protocol::record_reader reader(bytes);
        protocol::record rec;
        if (reader.next(rec)) {
            if (auto m = protocol::parse_control_record(rec);
                m && (m->type == protocol::control_type::commit || m->type == protocol::control_type::abort)) {
                f.commit = m->type == protocol::control_type::commit;
                f.coordinator_epoch = m->coordinator_epoch;
            }
        }
    }
    return f;
}

int64_t producer_id_at(std::span<const uint8_t> header) {
    return static_cast<int64_t>(pb::load_be64(header.data() + pb::producer_id_at));
}

} // namespace

protocol::offset log::last_stable_offset() const noexcept {
    const auto first = producers_->first_unstable_offset();
    return first ? std::min(protocol::offset(*first), high_watermark_) : high_watermark_;
}

size_t log::expire_producers(int64_t now_ms, int64_t expiration_ms) { return producers_->expire(now_ms, expiration_ms); }

std::vector<aborted_txn> log::aborted_transactions(protocol::offset fetch_offset, protocol::offset upper_bound) const {
    std::vector<aborted_txn> out;
    if (segments_.empty() || txn_indexes_.empty()) return out;
    const protocol::offset from = segments_[segment_index_for(fetch_offset)]->base_offset();
    for (auto it = txn_indexes_.lower_bound(from); it != txn_indexes_.end(); ++it)
        if (it->second->collect(fetch_offset.value(), upper_bound.value(), out)) break;
    return out;
}

txn_index* log::txn_index_for(protocol::offset segment_base) {
    auto it = txn_indexes_.find(segment_base);
    if (it != txn_indexes_.end()) return it->second.get();
    int err = 0;
    auto idx = txn_index::open(layout::segment_path(dir_, segment_base, layout::txn_index_suffix), &err);
    if (!idx) {
        go_offline("cannot open the transaction index of segment " + layout::offset_name(segment_base) + " in " + dir_ +
                   ": " + std::strerror(err));
        return nullptr;
    }
    dir_dirty_ = true;
    return txn_indexes_.emplace(segment_base, std::move(idx)).first->second.get();
}

bool log::stage_producers(std::span<const uint8_t> batches, const std::vector<batch_info>& infos,
                          protocol::offset first_offset,
                          const append_options& options, producer_state_update& update, append_result& out) const {
    const bool replicate = options.origin == append_origin::replication;
    const bool append_time = config_.message_timestamp_type == timestamp_type::log_append_time && !replicate;
    int64_t next = first_offset.value();  // the producer table keeps raw offsets, as its snapshot file does
    for (const auto& b : infos) {
        const int64_t base = replicate ? b.base_offset.value() : next;
        const int64_t last = replicate ? b.last_offset.value() : next + (b.last_offset - b.base_offset);
        next = last + 1;
        const auto bytes = batches.subspan(b.position, b.size);
        if (producer_id_at(bytes) < 0) continue;
        const producer_batch_fields f = fields_of(bytes, base, last, append_time ? options.now_ms : b.max_timestamp);
        producer_check c = producers_->stage(update, f, options.origin);
        if (c.duplicate) {
            out.duplicate = true;
            out.base_offset = protocol::offset(c.duplicate->first_offset);
            out.last_offset = protocol::offset(c.duplicate->last_offset);
            out.log_append_time = c.duplicate->timestamp;
            out.batch_count = 0;
            out.record_count = 0;
            return false;
        }
        if (c.error != error_code::none) {
            out.error = c.error;
            out.error_message = std::move(c.message);
            return false;
        }
    }
    return true;
}

void log::apply_producers(producer_state_update update) {
    std::vector<completed_txn> completed = std::move(update.completed);
    producers_->apply(std::move(update), log_end_offset_.value());
    for (const auto& t : completed) {
        if (!t.aborted) continue;
        txn_index* idx = txn_index_for(segments_[segment_index_for(protocol::offset(t.last_offset))]->base_offset());
        if (!idx) return;
        if (int err = idx->append({t.producer_id.value(), t.first_offset, t.last_offset, t.last_stable_offset});
            err != 0) {
            go_offline("cannot write " + idx->path() + ": " + std::strerror(err));
            return;
        }
        // Aborts are rare: each index write is made durable on its own, in the background.
        ctx_.flush.sync({idx->file()}, [](int) {});
    }
}

void log::write_producer_snapshot(bool now) {
    if (offline_ || closed_) return;
    std::string path = layout::segment_path(dir_, log_end_offset_.value(), layout::snapshot_suffix);
    std::string bytes = encode_producer_snapshot(*producers_);
    if (now) {
        if (int err = write_file_atomically(path, bytes); err != 0)
            go_offline("cannot write " + path + ": " + std::strerror(err));
        return;
    }
    std::weak_ptr<log> self = weak_from_this();
    // Its own temporary file: a clean close may write the same snapshot on the loop thread while
    // this one is still queued.
    ctx_.flush.run([path, bytes = std::move(bytes)] { return write_file_atomically(path, bytes, ".flusher"); },
                   [self, path](int err) {
                       if (err == 0) return;
                       if (auto l = self.lock()) l->go_offline("cannot write " + path + ": " + std::strerror(err));
                   });
}

void log::prune_producer_files() {
    const protocol::offset end = log_end_offset_;
    const protocol::offset front = segments_.empty() ? end : segments_.front()->base_offset();
    // Removed here, not on the deleter thread: a later roll may write a file of the same name.
    // Snapshot file names carry raw offsets.
    for (int64_t s : list_producer_snapshots(dir_))
        if (s < front.value() || s > end.value())
            (void)::unlink(layout::segment_path(dir_, s, layout::snapshot_suffix).c_str());
    for (auto it = txn_indexes_.begin(); it != txn_indexes_.end();) {
        if (it->first < front || it->first > end) {
            (void)::unlink(it->second->path().c_str());
            it = txn_indexes_.erase(it);
        } else {
            ++it;
        }
    }
    dir_dirty_ = true;
}

void log::rebuild_producer_state(bool clean_shutdown) {
    producers_->clear();
    txn_indexes_.clear();
    // Snapshot file names and the producer table carry raw offsets.
    const int64_t front = segments_.front()->base_offset().value();
    const int64_t end = log_end_offset_.value();

    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir_.c_str())) {
        while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
        ::closedir(d);
    }
    for (const auto& name : names) {
        auto base = layout::parse_segment_base(name, layout::txn_index_suffix);
        if (!base) continue;
        if (*base < segments_.front()->base_offset() || *base > log_end_offset_) {
            (void)::unlink(layout::join(dir_, name).c_str());
            continue;
        }
        (void)txn_index_for(*base);
    }

    std::vector<int64_t> snapshots = list_producer_snapshots(dir_);
    std::optional<int64_t> from;
    for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
        const std::string path = layout::segment_path(dir_, *it, layout::snapshot_suffix);
        if (*it > end || *it < front) {
            (void)::unlink(path.c_str());  // truncated away, or before the log
            continue;
        }
        std::string text;
        std::string why;
        std::optional<std::vector<producer_entry>> entries;
        if (read_small_file(path, &text) >= 0)
            entries = decode_producer_snapshot({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, &why);
        if (!entries) {
            // A corrupt snapshot is dropped; an older one, or the log itself, rebuilds the state.
            if (load_info_.problem.empty()) load_info_.problem = path + ": " + (why.empty() ? "unreadable" : why);
            (void)::unlink(path.c_str());
            continue;
        }
        for (auto& e : *entries) producers_->load_entry(std::move(e));
        from = *it;
        break;
    }
    if (!from) {
        // No snapshot after a clean stop: nothing was ever written by a producer with an id
        // (every log that had one gets a snapshot at roll and at shutdown).
        if (clean_shutdown && snapshots.empty()) {
            producers_->set_end_offset(end);
            return;
        }
        from = front;
    }
    producers_->set_end_offset(*from);
    for (auto& [base, idx] : txn_indexes_)
        if (int err = idx->truncate_from(*from); err != 0) go_offline("cannot truncate " + idx->path() + ": " + std::strerror(err));

    // Replay the log after the snapshot from the headers in the read window; only control
    // batches (their marker is a record) are read whole, into `whole`.
    std::vector<uint8_t> whole;
    const protocol::offset replay_from(*from);
    for (size_t i = segment_index_for(replay_from); i < segments_.size(); ++i) {
        segment& seg = *segments_[i];
        uint32_t position = 0;
        if (seg.base_offset() < replay_from) {
            auto loc = seg.translate_offset(replay_from);
            if (!loc) continue;
            position = loc->position;
        }
        // Large reads: after an unclean stop this walks every batch of the scanned segments again.
        seg.walk_headers(position, size_t{1} << 20, [&](const batch_location& b, std::span<const uint8_t> header) {
            if (b.last_offset < replay_from) return true;
            if (b.base_offset >= log_end_offset_) return false;
            if (producer_id_at(header) < 0) return true;
            std::span<const uint8_t> bytes = header;
            if ((pb::load_be16(header.data() + pb::attributes_at) & pb::control_flag) != 0) {
                whole.resize(b.size);
                if (seg.file()->pread_some(whole, b.position) != static_cast<int64_t>(b.size)) return false;
                bytes = whole;
            }
            producer_state_update u;
            (void)producers_->stage(u, fields_of(bytes, b.base_offset.value(), b.last_offset.value(), b.max_timestamp),
                                    append_origin::replication);
            std::vector<completed_txn> completed = std::move(u.completed);
            producers_->apply(std::move(u), (b.last_offset + 1).value());
            for (const auto& t : completed)
                if (t.aborted)
                    if (txn_index* idx = txn_index_for(seg.base_offset()))
                        (void)idx->append({t.producer_id.value(), t.first_offset, t.last_offset, t.last_stable_offset});
            return true;
        });
    }
    producers_->set_end_offset(end);
}

} // namespace samsa::storage
