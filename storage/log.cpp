#include "storage/log.h"

#include "protocol/record_batch.h"
#include "protocol/record_reader.h"
#include "storage/batch_validator.h"
#include "storage/checkpoint_file.h"
#include "storage/completion_queue.h"
#include "storage/file_deleter.h"
#include "storage/file_handle.h"
#include "storage/flusher.h"
#include "storage/layout.h"
#include "storage/leader_epoch_cache.h"
#include "storage/producer_snapshot.h"
#include "storage/producer_state_table.h"
#include "storage/recovery.h"
#include "storage/retention.h"
#include "storage/segment.h"
#include "storage/txn_index.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace samsa::storage {

using protocol::error_code;
using protocol::offset;

size_t read_result::size() const noexcept {
    size_t n = 0;
    for (const auto& r : ranges) n += static_cast<size_t>(r.length);
    return n;
}

log::log(std::string dir, topic_partition tp, log_config config, log_context ctx)
    : dir_(std::move(dir)), tp_(std::move(tp)), config_(config), ctx_(ctx),
      epochs_(std::make_unique<leader_epoch_cache>()), producers_(std::make_unique<producer_state_table>()) {}

log::~log() = default;

std::shared_ptr<log> log::open(const std::string& dir, topic_partition tp, log_config config, log_context ctx,
                               const log_load_state& state, std::string* error) {
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) {
        *error = "cannot create " + dir + ": " + std::strerror(errno);
        return nullptr;
    }
    std::shared_ptr<log> l(new log(dir, std::move(tp), config, ctx));
    if (!l->load(state, error)) return nullptr;
    return l;
}

// ---- loading ------------------------------------------------------------------------------

size_t log::segment_index_for(offset target) const noexcept {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), target,
                               [](offset o, const std::shared_ptr<segment>& s) { return o < s->base_offset(); });
    return it == segments_.begin() ? 0 : static_cast<size_t>(it - segments_.begin()) - 1;
}

void log::go_offline(std::string why) {
    if (!offline_) offline_reason_ = std::move(why);
    offline_ = true;
}

void log::set_high_watermark(offset target) noexcept {
    high_watermark_ = std::clamp(target, log_start_offset_, log_end_offset_);
}

uint64_t log::size_bytes() const noexcept {
    uint64_t n = 0;
    for (const auto& s : segments_) n += s->size();
    return n;
}

protocol::leader_epoch log::latest_epoch() const noexcept { return epochs_->latest_epoch(); }

epoch_end_offset log::end_offset_for_epoch(protocol::leader_epoch epoch) const {
    return epochs_->end_offset_for(epoch, log_end_offset_);
}

protocol::leader_epoch log::epoch_for_offset(offset target) const { return epochs_->epoch_for(target); }

void log::assign_leader_epoch(protocol::leader_epoch epoch) {
    if (epochs_->assign(epoch, log_end_offset_)) write_leader_epoch_checkpoint();
}

void log::set_config(const log_config& config) { config_ = config; }

// ---- appends ------------------------------------------------------------------------------

bool log::should_roll(const segment& active, uint64_t incoming_bytes, offset last_offset, int64_t max_timestamp,
                      size_t batch_count) const {
    if (active.size() == 0) return false;
    if (active.size() + incoming_bytes > static_cast<uint64_t>(config_.segment_bytes)) return true;
    if (last_offset - active.base_offset() > std::numeric_limits<int32_t>::max()) return true;
    if (active.offsets().free_slots() < batch_count || active.times().full()) return true;
    // segment.ms counts from the first batch's timestamp when there is one (Kafka compares
    // message time with message time), else from when the segment was created; the segment's
    // own jitter comes off it, and the age must exceed it (Kafka's comparison).
    int64_t first = active.first_batch_timestamp();
    int64_t waited = first >= 0 ? max_timestamp - first : clock_ms_ - active.created_ms();
    return waited > config_.max_segment_ms() - active.roll_jitter_ms();
}

append_result log::append(std::span<uint8_t> batches, const append_options& options) {
    append_result out;
    out.log_start_offset = log_start_offset_;
    if (offline_ || closed_) {
        out.error = error_code::kafka_storage_error;
        out.error_message = offline_ ? offline_reason_ : "log is closed";
        return out;
    }
    validation_result v = validate_batches(batches, config_, options, log_end_offset_, &tp_, std::move(spare_batches_));
    if (v.error != error_code::none) {
        out.error = v.error;
        out.error_message = std::move(v.message);
        out.record_errors = std::move(v.record_errors);
        return out;
    }
    const bool replicate = options.origin == append_origin::replication;
    offset first_offset = replicate ? v.batches.front().base_offset : log_end_offset_;
    offset last_offset = first_offset;
    int64_t max_ts = -1;
    {
        offset next = first_offset;
        for (const auto& b : v.batches) {
            offset last = replicate ? b.last_offset : next + (b.last_offset - b.base_offset);
            next = last + 1;
            last_offset = last;
            max_ts = std::max(max_ts, b.max_timestamp);
        }
    }
    if (config_.message_timestamp_type == timestamp_type::log_append_time && !replicate) max_ts = options.now_ms;
    clock_ms_ = options.now_ms;
    // Idempotent and transactional producers: sequence and epoch rules, and a retried batch
    // answered with its original offsets, before anything is written.
    producer_state_update producer_update;
    if (!stage_producers(batches, v.batches, first_offset, options, producer_update, out)) return out;

    segment* active = segments_.back().get();
    if (active->sealed()) {
        if (int err = active->unseal(); err != 0) {
            go_offline("cannot open " + active->log_path() + " for appends: " + std::strerror(err));
            out.error = error_code::kafka_storage_error;
            out.error_message = offline_reason_;
            return out;
        }
    }
    if (should_roll(*active, batches.size(), last_offset, max_ts, v.batches.size()) ||
        first_offset - active->base_offset() > std::numeric_limits<int32_t>::max()) {
        if (error_code e = roll_to(std::max(first_offset, log_end_offset_), options.now_ms); e != error_code::none) {
            out.error = e;
            out.error_message = offline_reason_;
            return out;
        }
        active = segments_.back().get();
    }
    assign_offsets(batches, v, config_, options, log_end_offset_);
    if (int err = active->append(batches, v.batches, options.now_ms); err != 0) {
        go_offline("append to " + active->log_path() + " failed: " + std::strerror(err));
        out.error = error_code::kafka_storage_error;
        out.error_message = offline_reason_;
        return out;
    }
    log_end_offset_ = v.batches.back().last_offset + 1;
    if (!producer_update.entries.empty()) apply_producers(std::move(producer_update));
    else producers_->set_end_offset(log_end_offset_.value());
    bool epochs_changed = false;
    for (const auto& b : v.batches)
        epochs_changed |= epochs_->assign_if_newer(b.leader_epoch, b.base_offset);
    if (epochs_changed) write_leader_epoch_checkpoint();

    out.base_offset = v.batches.front().base_offset;
    out.last_offset = v.batches.back().last_offset;
    out.batch_count = static_cast<int32_t>(v.batches.size());
    out.record_count = v.record_count;
    if (config_.message_timestamp_type == timestamp_type::log_append_time && !replicate)
        out.log_append_time = options.now_ms;
    unflushed_messages_ += v.record_count;
    spare_batches_ = std::move(v.batches);
    if (unflushed_messages_ >= config_.flush_messages) flush();
    return out;
}

error_code log::roll_to(offset base_offset, int64_t now_ms) {
    auto& active = segments_.back();
    if (active->size() == 0) {
        if (active->base_offset() == base_offset) return error_code::none;
        // An empty active segment at another offset (a replication gap): replace it.
        retire_segment(active);
        segments_.pop_back();
    } else if (int err = active->seal(); err != 0) {
        go_offline("cannot seal " + active->log_path() + ": " + std::strerror(err));
        return error_code::kafka_storage_error;
    }
    int err = 0;
    auto seg = segment::create(dir_, base_offset, segment_options::from(config_), now_ms, &err);
    if (!seg) {
        go_offline("cannot create segment " + layout::offset_name(base_offset) + " in " + dir_ + ": " +
                   std::strerror(err));
        return error_code::kafka_storage_error;
    }
    segments_.push_back(std::move(seg));
    dir_dirty_ = true;
    // The producer table as of the new segment's start: recovery replays from here at most.
    if (segments_.size() > 1) write_producer_snapshot(false);
    // Kafka flushes the rolled segment in the background: the recovery point then reaches the
    // active segment, and only it is scanned after an unclean stop.
    if (segments_.size() > 1) flush_until(base_offset, {});
    return error_code::none;
}

error_code log::roll(int64_t now_ms) {
    if (offline_ || closed_) return error_code::kafka_storage_error;
    return roll_to(log_end_offset_, now_ms);
}

// ---- reads --------------------------------------------------------------------------------

read_result log::read(offset from, int32_t max_bytes, offset upper_bound, bool min_one_batch) const {
    read_result out;
    if (from < log_start_offset_ || from > log_end_offset_) {
        out.error = error_code::offset_out_of_range;
        return out;
    }
    offset upper = std::min(upper_bound, log_end_offset_);
    if (from >= upper || segments_.empty()) return out;
    uint64_t budget = max_bytes > 0 ? static_cast<uint64_t>(max_bytes) : 0;
    for (size_t i = segment_index_for(from); i < segments_.size(); ++i) {
        const auto& seg = segments_[i];
        if (seg->base_offset() >= upper) break;
        auto first = seg->translate_offset(from);
        if (!first) continue;  // nothing at or after `from` here (a compacted tail): try the next
        if (first->last_offset >= upper) break;
        if (!min_one_batch && first->size > budget) break;
        uint32_t limit = seg->size();
        bool upper_inside = i + 1 == segments_.size() || segments_[i + 1]->base_offset() > upper;
        if (upper < log_end_offset_ && upper_inside) {
            if (auto ub = seg->translate_offset(upper)) limit = ub->position;
        }
        uint32_t end = first->position + first->size;
        uint64_t want = std::min<uint64_t>(limit, first->position + budget);
        if (want > end) end = seg->batch_end_at_or_below(end, static_cast<uint32_t>(want));
        protocol::file_range r;
        r.fd = seg->file()->fd();
        r.offset = first->position;
        r.length = static_cast<int32_t>(end - first->position);
        r.owner = seg->file();
        out.ranges.push_back(std::move(r));
        out.first_batch_offset = first->base_offset;
        break;
    }
    return out;
}

copy_read_result log::read_copy(offset from, int32_t max_bytes, offset upper_bound, bool min_one_batch) const {
    copy_read_result out;
    read_result r = read(from, max_bytes, upper_bound, min_one_batch);
    out.error = r.error;
    for (const auto& range : r.ranges) {
        size_t at = out.bytes.size();
        out.bytes.resize(at + static_cast<size_t>(range.length));
        auto* owner = static_cast<const file_handle*>(range.owner.get());
        int64_t n = owner->pread_some({out.bytes.data() + at, static_cast<size_t>(range.length)},
                                      static_cast<uint64_t>(range.offset));
        if (n != range.length) {
            out.bytes.resize(at + static_cast<size_t>(std::max<int64_t>(n, 0)));
            break;
        }
    }
    return out;
}

// ---- timestamps ---------------------------------------------------------------------------

namespace {

// The bytes of one batch of a segment (for the record-level searches of ListOffsets).
std::vector<uint8_t> read_batch(const segment& seg, const batch_location& b) {
    std::vector<uint8_t> bytes(b.size);
    int64_t n = seg.file()->pread_some(bytes, b.position);
    bytes.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return bytes;
}

} // namespace

std::optional<timestamp_offset> log::find_in_segment(const segment& seg, int64_t timestamp) const {
    // Start from the time index's last entry at or below the target (every earlier record is
    // older), walk headers to a batch that reaches the timestamp, then find the record in it.
    time_offset t = seg.times().lookup(timestamp);
    const offset from_offset = std::max(t.offset, log_start_offset_);
    uint32_t from = seg.offsets().lookup(from_offset).position;
    std::optional<timestamp_offset> found;
    seg.walk(from, [&](const batch_location& b) {
        if (b.max_timestamp < timestamp || b.last_offset < log_start_offset_) return true;
        std::vector<uint8_t> bytes = read_batch(seg, b);
        protocol::record_reader reader(bytes);
        protocol::record rec;
        while (reader.next(rec)) {
            if (rec.timestamp >= timestamp && offset(rec.offset) >= log_start_offset_) {
                found = timestamp_offset{rec.timestamp, offset(rec.offset), b.leader_epoch};
                return false;
            }
        }
        return true;
    });
    return found;
}

std::optional<timestamp_offset> log::offset_for_timestamp(int64_t timestamp) const {
    for (const auto& seg : segments_) {
        if (seg->max_timestamp() < timestamp) continue;
        if (seg->base_offset() < log_start_offset_ && &seg != &segments_.back()) {
            // A segment wholly below the log start offset holds nothing readable.
            size_t i = segment_index_for(seg->base_offset());
            if (i + 1 < segments_.size() && segments_[i + 1]->base_offset() <= log_start_offset_) continue;
        }
        if (auto f = find_in_segment(*seg, timestamp)) return f;
    }
    return std::nullopt;
}

std::vector<offset> log::legacy_offsets_before(int64_t timestamp, int32_t max_count, int64_t now_ms) const {
    std::vector<std::pair<offset, int64_t>> points;  // offset, time
    for (const auto& s : segments_) points.emplace_back(std::max(s->base_offset(), log_start_offset_), s->retention_timestamp());
    if (!segments_.empty() && segments_.back()->size() > 0) points.emplace_back(log_end_offset_, now_ms);
    int64_t start = static_cast<int64_t>(points.size()) - 1;
    if (timestamp == -2) {
        start = points.empty() ? -1 : 0;
    } else if (timestamp != -1) {
        while (start >= 0 && points[static_cast<size_t>(start)].second > timestamp) --start;
    }
    std::vector<offset> out;
    for (int64_t i = start; i >= 0 && static_cast<int64_t>(out.size()) < max_count; --i)
        out.push_back(points[static_cast<size_t>(i)].first);
    std::sort(out.begin(), out.end(), std::greater<>());
    return out;
}

timestamp_offset log::max_timestamp() const {
    timestamp_offset out;
    const segment* holder = nullptr;
    for (const auto& seg : segments_) {
        if (seg->max_timestamp() > out.timestamp && seg->offset_of_max_timestamp() >= log_start_offset_) {
            out.timestamp = seg->max_timestamp();
            out.offset = seg->offset_of_max_timestamp();
            holder = seg.get();
        }
    }
    if (!holder) return out;
    // The segment knows the batch; the answer is the first record in it with that timestamp.
    if (auto b = holder->translate_offset(out.offset)) {
        std::vector<uint8_t> bytes = read_batch(*holder, *b);
        protocol::record_reader reader(bytes);
        protocol::record rec;
        while (reader.next(rec)) {
            if (rec.timestamp == out.timestamp && offset(rec.offset) >= log_start_offset_) {
                out.offset = offset(rec.offset);
                break;
            }
        }
        out.leader_epoch = protocol::leader_epoch(b->leader_epoch);
    }
    return out;
}

// ---- truncation, deletion, retention ------------------------------------------------------

void log::retire_segment(const std::shared_ptr<segment>& seg) {
    int err = 0;
    std::vector<std::string> paths = seg->rename_to_deleted(&err);
    if (err != 0) go_offline("cannot rename " + seg->log_path() + " for deletion: " + std::strerror(err));
    dir_dirty_ = true;
    // Readers holding the file keep reading it: the descriptor outlives the unlink.
    if (!paths.empty()) ctx_.deleter.schedule(std::move(paths), config_.file_delete_delay_ms);
    auto swap = std::find_if(pending_swaps_.begin(), pending_swaps_.end(),
                             [&](const auto& p) { return p.first == seg.get(); });
    if (swap != pending_swaps_.end()) {
        // A compacted replacement waiting to be swapped in: a restart must not complete it.
        auto swapped = swap->second->rename_to_deleted(&err);
        ctx_.deleter.schedule(err == 0 ? swapped : swap->second->file_paths(), 0);
        pending_swaps_.erase(swap);
    }
}

void log::delete_front_segments(size_t count) {
    count = std::min(count, segments_.size());
    if (count == 0) return;
    if (count == segments_.size()) {
        // A log always has a segment: start the next one before the last goes.
        if (roll_to(log_end_offset_, clock_ms_) != error_code::none) return;
    }
    for (size_t i = 0; i < count; ++i) retire_segment(segments_[i]);
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(count));
    log_start_offset_ = std::max(log_start_offset_, segments_.front()->base_offset());
    high_watermark_ = std::max(high_watermark_, log_start_offset_);
    recovery_point_ = std::max(recovery_point_, std::min(log_start_offset_, log_end_offset_));
    if (epochs_->truncate_from_start(log_start_offset_)) write_leader_epoch_checkpoint();
    prune_producer_files();
}

size_t log::delete_old_segments(int64_t now_ms) {
    if (offline_ || closed_) return 0;
    clock_ms_ = std::max(clock_ms_, now_ms);
    std::vector<segment_summary> summary;
    summary.reserve(segments_.size());
    for (const auto& s : segments_) summary.push_back({s->base_offset(), s->size(), s->retention_timestamp()});
    retention_decision d =
        plan_retention(summary, log_end_offset_, high_watermark_, log_start_offset_, config_, now_ms);
    delete_front_segments(d.count);
    return d.count;
}

delete_records_result log::delete_records_before(offset target) {
    delete_records_result out;
    if (offline_ || closed_) {
        out.error = error_code::kafka_storage_error;
        return out;
    }
    if (target < offset(0) || target > high_watermark_) {
        out.error = error_code::offset_out_of_range;
        out.low_watermark = log_start_offset_;
        return out;
    }
    if (target > log_start_offset_) {
        log_start_offset_ = target;
        if (epochs_->truncate_from_start(log_start_offset_)) write_leader_epoch_checkpoint();
        size_t n = 0;
        while (n + 1 < segments_.size() && segments_[n + 1]->base_offset() <= log_start_offset_) ++n;
        delete_front_segments(n);
    }
    out.low_watermark = log_start_offset_;
    return out;
}

error_code log::truncate_to(offset target) {
    if (offline_ || closed_) return error_code::kafka_storage_error;
    if (target < offset(0)) return error_code::offset_out_of_range;
    if (target >= log_end_offset_) return error_code::none;
    if (target < segments_.front()->base_offset()) return truncate_fully_and_start_at(target, clock_ms_);
    ++truncations_;
    while (segments_.size() > 1 && segments_.back()->base_offset() > target) {
        retire_segment(segments_.back());
        segments_.pop_back();
    }
    auto& active = segments_.back();
    if (int err = active->unseal(); err != 0) {
        go_offline("cannot reopen " + active->log_path() + ": " + std::strerror(err));
        return error_code::kafka_storage_error;
    }
    int err = 0;
    std::optional<offset> removed_from = active->truncate_to(target, &err);
    if (err != 0) {
        go_offline("cannot truncate " + active->log_path() + ": " + std::strerror(err));
        return error_code::kafka_storage_error;
    }
    log_end_offset_ = removed_from ? std::min(target, *removed_from) : target;
    log_end_offset_ = std::max(log_end_offset_, active->base_offset());
    log_start_offset_ = std::min(log_start_offset_, log_end_offset_);
    high_watermark_ = std::min(high_watermark_, log_end_offset_);
    recovery_point_ = std::min(recovery_point_, log_end_offset_);
    if (epochs_->truncate_from_end(log_end_offset_)) write_leader_epoch_checkpoint();
    prune_producer_files();
    rebuild_producer_state(false);
    return error_code::none;
}

error_code log::truncate_fully_and_start_at(offset start, int64_t now_ms) {
    if (offline_ || closed_) return error_code::kafka_storage_error;
    if (start < offset(0)) return error_code::offset_out_of_range;
    ++truncations_;
    for (const auto& s : segments_) retire_segment(s);
    segments_.clear();
    int err = 0;
    auto seg = segment::create(dir_, start, segment_options::from(config_), now_ms, &err);
    if (!seg) {
        go_offline("cannot create segment in " + dir_ + ": " + std::strerror(err));
        return error_code::kafka_storage_error;
    }
    segments_.push_back(std::move(seg));
    dir_dirty_ = true;
    log_start_offset_ = log_end_offset_ = high_watermark_ = recovery_point_ = start;
    epochs_->clear();
    for (int64_t s : list_producer_snapshots(dir_))
        (void)::unlink(layout::segment_path(dir_, s, layout::snapshot_suffix).c_str());
    for (auto& [base, idx] : txn_indexes_) (void)::unlink(idx->path().c_str());
    txn_indexes_.clear();
    producers_->clear();
    producers_->set_end_offset(start.value());
    write_leader_epoch_checkpoint();
    return error_code::none;
}

// ---- durability ---------------------------------------------------------------------------

void log::flush(flush_callback done) { flush_until(log_end_offset_, std::move(done)); }

void log::flush_until(offset target, flush_callback done) {
    if (offline_ || closed_) {
        if (done) ctx_.completions.post([done = std::move(done)] { done(error_code::kafka_storage_error); });
        return;
    }
    if (target == log_end_offset_) {
        last_flush_ms_ = clock_ms_;
        unflushed_messages_ = 0;
    }
    const bool everything = target >= log_end_offset_;
    std::vector<std::shared_ptr<file_handle>> files;
    std::vector<std::pair<std::weak_ptr<segment>, uint64_t>> tokens;
    for (size_t i = 0; i < segments_.size(); ++i) {
        const auto& s = segments_[i];
        // A roll's flush skips the new, empty active segment: it promises nothing about it.
        if (!everything && s->base_offset() >= target) break;
        bool may_hold_unflushed = i + 1 == segments_.size() || segments_[i + 1]->base_offset() > recovery_point_;
        if (may_hold_unflushed || s->indexes_dirty()) tokens.emplace_back(s, s->sync_targets(files));
    }
    if (dir_dirty_) {
        int err = 0;
        if (auto d = file_handle::open_dir(dir_, &err)) files.push_back(std::move(d));
        dir_dirty_ = false;
    }
    std::weak_ptr<log> self = weak_from_this();
    uint64_t truncations = truncations_;
    ctx_.flush.sync(std::move(files), [self, target, truncations, tokens = std::move(tokens),
                                       done = std::move(done)](int err) {
        if (auto l = self.lock()) {
            l->on_flushed(target, truncations, err);
            if (err == 0)
                for (const auto& [weak_seg, token] : tokens)
                    if (auto s = weak_seg.lock()) s->mark_indexes_synced(token);
        }
        if (done) done(err == 0 ? error_code::none : error_code::kafka_storage_error);
    });
}

void log::on_flushed(offset flushed, uint64_t truncations_at_request, int error) {
    if (error != 0) {
        // After a failed fsync the page cache's state is unknown; Kafka takes the dir offline.
        dir_dirty_ = true;
        go_offline("fsync in " + dir_ + " failed: " + std::strerror(error));
        return;
    }
    // A truncation since the request may have removed what was flushed and written new bytes the
    // fsync did not cover.
    if (truncations_at_request != truncations_) return;
    recovery_point_ = std::max(recovery_point_, std::min(flushed, log_end_offset_));
}

void log::tick(int64_t now_ms) {
    clock_ms_ = std::max(clock_ms_, now_ms);
    if (offline_ || closed_ || config_.flush_ms == no_limit) return;
    if (log_end_offset_ > recovery_point_ && now_ms - last_flush_ms_ >= config_.flush_ms) flush();
}

void log::write_leader_epoch_checkpoint() {
    std::string path = layout::join(dir_, layout::leader_epoch_checkpoint);
    std::string text = checkpoint::format_epochs(epochs_->entries());
    std::weak_ptr<log> self = weak_from_this();
    ctx_.flush.run([path = std::move(path), text = std::move(text)] { return write_file_atomically(path, text); },
                   [self, path](int err) {
                       if (err == 0) return;
                       if (auto l = self.lock()) l->go_offline("cannot write " + path + ": " + std::strerror(err));
                   });
}

void log::write_partition_metadata() {
    if (!topic_id_) return;
    std::string path = layout::join(dir_, layout::partition_metadata);
    std::string text = checkpoint::format_partition_metadata(*topic_id_);
    std::weak_ptr<log> self = weak_from_this();
    ctx_.flush.run([path = std::move(path), text = std::move(text)] { return write_file_atomically(path, text); },
                   [self, path](int err) {
                       if (err == 0) return;
                       if (auto l = self.lock()) l->go_offline("cannot write " + path + ": " + std::strerror(err));
                   });
}

void log::set_topic_id(const protocol::uuid& id) {
    if (topic_id_ && *topic_id_ == id) return;
    topic_id_ = id;
    write_partition_metadata();
}

void log::prepare_close() {
    if (closed_ || offline_ || segments_.empty()) return;
    // Recovery starts from this snapshot. A log that never had producers needs none (the
    // loader reads "no snapshot after a clean stop" as "no producers").
    if (!producers_->producers().empty() || !list_producer_snapshots(dir_).empty()) write_producer_snapshot(true);
    if (int err = segments_.back()->seal(); err != 0)
        go_offline("cannot trim " + segments_.back()->log_path() + ": " + std::strerror(err));
}

void log::close() noexcept {
    closed_ = true;
    segments_.clear();
}

} // namespace samsa::storage
