#include "storage/log_cleaner.h"

#include "storage/compaction.h"
#include "storage/completion_queue.h"
#include "storage/file_deleter.h"
#include "storage/file_handle.h"
#include "storage/flusher.h"
#include "storage/layout.h"
#include "storage/segment.h"
#include "storage/txn_index.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace samsa::storage {

namespace {

struct cleanable_range {
    size_t end = 0;          // segments [0, end) are cleanable
    size_t first_dirty = 0;  // segments [first_dirty, end) are dirty
    log_dirtiness dirt;
};

} // namespace

struct log_cleaner::job {
    std::weak_ptr<log> target;
    uint64_t truncations = 0;
    compaction_plan plan;
    callback done;
    std::shared_ptr<compaction_result> result;
    std::vector<std::pair<std::shared_ptr<segment>, std::shared_ptr<segment>>> swaps;  // source, cleaned
};

log_cleaner::log_cleaner(log_context ctx, size_t dedupe_buffer_bytes)
    : ctx_(ctx), dedupe_buffer_bytes_(dedupe_buffer_bytes), alive_(std::make_shared<bool>(true)) {
    thread_ = std::thread([this] { main(); });
}

log_cleaner::~log_cleaner() {
    stopping_ = true;
    cv_.notify_all();
    thread_.join();
    alive_.reset();
}

void log_cleaner::main() {
    for (;;) {
        std::vector<std::function<void()>> work;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !work_.empty(); });
            if (stopping_) return;
            work.swap(work_);
        }
        for (auto& w : work) w();
    }
}

// The cleanable prefix of `l` and how dirty it is (loop thread).
static cleanable_range range_of(const log& l, const std::vector<std::shared_ptr<segment>>& segs,
                                protocol::offset high_watermark, protocol::offset cleaned_below,
                                const log_config& cfg, int64_t now_ms) {
    cleanable_range r;
    if (segs.size() < 2) return r;
    const protocol::offset upper = std::min(high_watermark, segs.back()->base_offset());
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
        if (segs[i + 1]->base_offset() > upper) break;
        if (cfg.min_compaction_lag_ms > 0 && segs[i]->retention_timestamp() > now_ms - cfg.min_compaction_lag_ms) break;
        r.end = i + 1;
    }
    while (r.first_dirty < r.end && segs[r.first_dirty + 1]->base_offset() <= cleaned_below) ++r.first_dirty;
    for (size_t i = 0; i < r.end; ++i) (i < r.first_dirty ? r.dirt.clean_bytes : r.dirt.dirty_bytes) += segs[i]->size();
    uint64_t total = r.dirt.clean_bytes + r.dirt.dirty_bytes;
    r.dirt.ratio = total == 0 ? 0 : static_cast<double>(r.dirt.dirty_bytes) / static_cast<double>(total);
    if (r.first_dirty < r.end && cfg.max_compaction_lag_ms != no_limit) {
        int64_t oldest = segs[r.first_dirty]->first_batch_timestamp();
        if (oldest < 0) oldest = segs[r.first_dirty]->last_modified_ms();
        r.dirt.forced = now_ms - oldest > cfg.max_compaction_lag_ms;
    }
    r.dirt.due = r.dirt.dirty_bytes > 0 && (r.dirt.ratio >= cfg.min_cleanable_dirty_ratio || r.dirt.forced);
    (void)l;
    return r;
}

log_dirtiness log_cleaner::measure(const log& l, int64_t now_ms) {
    if (!l.config_.cleanup_compact) return {};
    return range_of(l, l.segments_, l.high_watermark_, l.cleaner_offset_, l.config_, now_ms).dirt;
}

bool log_cleaner::start(const std::shared_ptr<log>& l, int64_t now_ms, bool force, callback done) {
    if (busy_ || !l || l->closed_ || l->offline_ || !l->config_.cleanup_compact) return false;
    const auto& segs = l->segments_;
    cleanable_range r = range_of(*l, segs, l->high_watermark_, l->cleaner_offset_, l->config_, now_ms);
    if (r.dirt.dirty_bytes == 0 || (!force && !r.dirt.due)) return false;

    auto j = std::make_shared<job>();
    j->target = l;
    j->truncations = l->truncations_;
    j->done = std::move(done);
    compaction_plan& p = j->plan;
    p.dir = l->dir_;
    for (size_t i = 0; i < r.end; ++i) {
        compaction_source s;
        s.seg = segs[i];
        s.file = segs[i]->file();
        s.base_offset = segs[i]->base_offset();
        s.next_base_offset = segs[i + 1]->base_offset();
        s.size = segs[i]->size();
        s.last_modified_ms = segs[i]->last_modified_ms();
        s.offset_index_entries = segs[i]->offsets().entries();
        s.time_index_entries = segs[i]->times().entries();
        if (auto t = l->txn_indexes_.find(s.base_offset); t != l->txn_indexes_.end()) {
            s.has_txn_index = true;
            s.aborted = t->second->entries();
        }
        p.segments.push_back(std::move(s));
    }
    p.first_dirty = r.first_dirty;
    // KIP-534: tombstones and markers kept now carry now + delete.retention.ms as their horizon.
    p.delete_retention_ms = l->config_.delete_retention_ms;
    p.options = segment_options::from(l->config_);
    p.map_budget_bytes = dedupe_buffer_bytes_;
    p.now_ms = now_ms;
    p.stop = &stopping_;
    busy_ = true;

    std::weak_ptr<bool> alive = alive_;
    {
        std::lock_guard lock(mu_);
        work_.push_back([this, j, alive] {
            auto result = std::make_shared<compaction_result>(compact(j->plan));
            ctx_.completions.post([this, j, result, alive] {
                if (alive.lock()) finish(j, result);
            });
        });
    }
    cv_.notify_all();
    return true;
}

void log_cleaner::end(const std::shared_ptr<job>& j, cleaning_report report) {
    busy_ = false;
    j->plan.segments.clear();
    if (j->done) j->done(report);
}

// The source segments of group `c`, when all are still in the log's list `segs`, consecutive and
// in order; empty otherwise (retention or a truncation took some meanwhile).
static std::vector<std::shared_ptr<segment>>::iterator group_in_log(const compaction_plan& plan,
                                                                    const compacted_group& c,
                                                                    std::vector<std::shared_ptr<segment>>& segs) {
    auto it = std::find(segs.begin(), segs.end(), plan.segments[c.first].seg);
    if (it == segs.end() || static_cast<size_t>(segs.end() - it) < c.end - c.first) return segs.end();
    for (size_t i = c.first; i < c.end; ++i)
        if (*(it + static_cast<std::ptrdiff_t>(i - c.first)) != plan.segments[i].seg) return segs.end();
    return it;
}

void log_cleaner::finish(const std::shared_ptr<job>& j, std::shared_ptr<compaction_result> result) {
    auto l = j->target.lock();
    const std::string& dir = j->plan.dir;
    auto discard = [this, &dir](const compacted_group& c) {
        if (!c.cleaned) return;
        std::vector<std::string> paths = c.cleaned->file_paths();
        if (c.txn_index_written) paths.push_back(layout::txn_index_path(dir, c.cleaned->base_offset(), layout::cleaned_suffix));
        ctx_.deleter.schedule(std::move(paths), 0);
    };
    cleaning_report report;
    if (!l || l->closed_ || l->offline_ || l->truncations_ != j->truncations || result->error != 0) {
        for (auto& c : result->groups) discard(c);
        report.error = result->error != 0 ? result->message : "the log changed while it was cleaned";
        end(j, report);
        return;
    }
    j->result = result;
    for (auto& c : result->groups) {
        if (c.what != compacted_group::outcome::replaced) continue;
        if (group_in_log(j->plan, c, l->segments_) == l->segments_.end()) {
            discard(c);  // retention took a source meanwhile
            continue;
        }
        // The txn index first and the .log last, so a .log.swap implies every other .swap file.
        const protocol::offset base = c.cleaned->base_offset();
        int err = 0;
        if (c.txn_index_written &&
            ::rename(layout::txn_index_path(dir, base, layout::cleaned_suffix).c_str(), layout::txn_index_path(dir, base, layout::swap_suffix).c_str()) < 0)
            err = errno;
        if (err == 0) err = c.cleaned->rename_files(layout::swap_suffix);
        if (err != 0) {
            l->go_offline("cannot rename " + c.cleaned->log_path() + ": " + std::strerror(err));
            discard(c);
            continue;
        }
        l->pending_swaps_.emplace_back(j->plan.segments[c.first].seg.get(), c.cleaned);
        j->swaps.emplace_back(j->plan.segments[c.first].seg, c.cleaned);
    }
    // The .swap files must be durable before the originals are replaced.
    std::weak_ptr<bool> alive = alive_;
    ctx_.flush.run([dir] { return sync_dir(dir); }, [this, j, alive](int err) {
        if (alive.lock()) complete_swap(j, err);
    });
}

void log_cleaner::complete_swap(const std::shared_ptr<job>& j, int fsync_error) {
    auto l = j->target.lock();
    cleaning_report report;
    const compaction_result& result = *j->result;
    const std::string& dir = j->plan.dir;
    auto take_pending = [&](const segment* src) {
        if (!l) return false;
        auto& pending = l->pending_swaps_;
        auto it = std::find_if(pending.begin(), pending.end(), [src](const auto& p) { return p.first == src; });
        if (it == pending.end()) return false;  // the source was retired, and its swap with it
        pending.erase(it);
        return true;
    };
    auto drop_swap = [this, &dir](const std::shared_ptr<segment>& cleaned) {
        int err = 0;
        auto paths = cleaned->rename_to_deleted(&err);
        std::vector<std::string> gone = err == 0 ? paths : cleaned->file_paths();
        // The deleter takes a missing file as deleted: no need to look first.
        gone.push_back(layout::txn_index_path(dir, cleaned->base_offset(), layout::swap_suffix));
        ctx_.deleter.schedule(std::move(gone), 0);
    };
    // A source's .txnindex goes with it (the merged segment has its own).
    auto drop_txn_index = [&](protocol::offset base) {
        auto it = l->txn_indexes_.find(base);
        if (it == l->txn_indexes_.end()) return;
        (void)::unlink(it->second->path().c_str());
        l->txn_indexes_.erase(it);
    };
    if (!l || fsync_error != 0 || l->truncations_ != j->truncations || l->closed_ || l->offline_) {
        // Not finished: a later start must not complete these swaps either.
        for (auto& [src, cleaned] : j->swaps)
            if (!l || take_pending(src.get())) drop_swap(cleaned);
        report.error = fsync_error != 0 ? std::string("fsync failed: ") + std::strerror(fsync_error)
                                        : "the log changed while it was cleaned";
        end(j, report);
        return;
    }
    for (const auto& c : result.groups) {
        if (c.what == compacted_group::outcome::replaced) {
            if (!take_pending(j->plan.segments[c.first].seg.get())) continue;
            auto it = group_in_log(j->plan, c, l->segments_);
            if (it == l->segments_.end()) {
                drop_swap(c.cleaned);
                continue;
            }
            const protocol::offset base = c.cleaned->base_offset();
            // Kafka's order: the merged sources after the first go (renamed *.deleted) before
            // the .swap files take their final names; a restart that still finds a .log.swap
            // removes whatever segment its offsets cover (docs/storage.md).
            for (size_t i = c.first + 1; i < c.end; ++i) {
                const auto& src = j->plan.segments[i].seg;
                l->retire_segment(src);
                drop_txn_index(src->base_offset());
            }
            int err = 0;
            if (c.txn_index_written &&
                ::rename(layout::txn_index_path(dir, base, layout::swap_suffix).c_str(), layout::txn_index_path(dir, base, "").c_str()) < 0)
                err = errno;
            if (err == 0) err = c.cleaned->rename_files("");
            if (err != 0) {
                l->go_offline("cannot swap in " + c.cleaned->log_path() + ": " + std::strerror(err));
                break;
            }
            *it = c.cleaned;
            l->segments_.erase(it + 1, it + static_cast<std::ptrdiff_t>(c.end - c.first));
            if (c.txn_index_written) {
                l->txn_indexes_.erase(base);
                if (c.aborted.empty()) {
                    (void)::unlink(layout::txn_index_path(dir, base, "").c_str());
                } else {
                    auto idx = txn_index::open(layout::txn_index_path(dir, base, ""), &err);
                    if (!idx) {
                        l->go_offline("cannot open " + layout::txn_index_path(dir, base, "") + ": " + std::strerror(err));
                        break;
                    }
                    l->txn_indexes_.emplace(base, std::move(idx));
                }
            }
            report.segments_replaced += c.end - c.first;
            if (c.end - c.first > 1) ++report.groups_merged;
        } else if (c.what == compacted_group::outcome::emptied) {
            // The log's first segment stays, empty or not: it holds the log start offset.
            auto it = group_in_log(j->plan, c, l->segments_);
            if (it == l->segments_.end() || it == l->segments_.begin()) continue;
            for (size_t i = c.first; i < c.end; ++i) {
                l->retire_segment(j->plan.segments[i].seg);
                drop_txn_index(j->plan.segments[i].base_offset);
            }
            l->segments_.erase(it, it + static_cast<std::ptrdiff_t>(c.end - c.first));
            report.segments_removed += c.end - c.first;
        }
    }
    l->dir_dirty_ = true;
    l->cleaner_offset_ = std::max(l->cleaner_offset_, result.next_dirty_offset);
    ctx_.flush.run([dir] { return sync_dir(dir); }, {});
    report.ran = true;
    report.cleaner_offset = l->cleaner_offset_;
    report.bytes_before = result.bytes_before;
    report.bytes_after = result.bytes_after;
    report.records_removed = result.records_removed;
    report.batches_rebuilt = result.batches_rebuilt;
    report.markers_removed = result.markers_removed;
    end(j, report);
}

} // namespace samsa::storage
