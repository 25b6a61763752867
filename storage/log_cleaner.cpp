#include "storage/log_cleaner.h"

#include "storage/compaction.h"
#include "storage/completion_queue.h"
#include "storage/file_deleter.h"
#include "storage/file_handle.h"
#include "storage/flusher.h"
#include "storage/layout.h"
#include "storage/segment.h"

#include <algorithm>
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
static cleanable_range range_of(const log& l, const std::vector<std::shared_ptr<segment>>& segs, int64_t hw,
                                int64_t cleaner_offset, const log_config& cfg, int64_t now_ms) {
    cleanable_range r;
    if (segs.size() < 2) return r;
    int64_t upper = std::min(hw, segs.back()->base_offset());
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
        if (segs[i + 1]->base_offset() > upper) break;
        if (cfg.min_compaction_lag_ms > 0 && segs[i]->retention_timestamp() > now_ms - cfg.min_compaction_lag_ms) break;
        r.end = i + 1;
    }
    while (r.first_dirty < r.end && segs[r.first_dirty + 1]->base_offset() <= cleaner_offset) ++r.first_dirty;
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
        p.segments.push_back(std::move(s));
    }
    p.first_dirty = r.first_dirty;
    // Kafka's horizon: tombstones survive delete.retention.ms after their segment was cleaned,
    // measured against the newest segment of the part already clean.
    p.delete_horizon_ms = r.first_dirty == 0
                              ? std::numeric_limits<int64_t>::min()
                              : segs[r.first_dirty - 1]->last_modified_ms() - l->config_.delete_retention_ms;
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

void log_cleaner::finish(const std::shared_ptr<job>& j, std::shared_ptr<compaction_result> result) {
    auto l = j->target.lock();
    auto discard = [this](const std::shared_ptr<segment>& s) { ctx_.deleter.schedule(s->file_paths(), 0); };
    cleaning_report report;
    if (!l || l->closed_ || l->offline_ || l->truncations_ != j->truncations || result->error != 0) {
        for (auto& c : result->segments)
            if (c.cleaned) discard(c.cleaned);
        report.error = result->error != 0 ? result->message : "the log changed while it was cleaned";
        end(j, report);
        return;
    }
    j->result = result;
    for (size_t i = 0; i < result->segments.size(); ++i) {
        auto& c = result->segments[i];
        if (c.what != compacted_segment::outcome::replaced) continue;
        const auto& src = j->plan.segments[i].seg;
        if (std::find(l->segments_.begin(), l->segments_.end(), src) == l->segments_.end()) {
            discard(c.cleaned);  // retention took the source meanwhile
            continue;
        }
        if (int err = c.cleaned->rename_files(layout::swap_suffix); err != 0) {
            l->go_offline("cannot rename " + c.cleaned->log_path() + ": " + std::strerror(err));
            discard(c.cleaned);
            continue;
        }
        l->pending_swaps_.emplace_back(src.get(), c.cleaned);
        j->swaps.emplace_back(src, c.cleaned);
    }
    // The .swap files must be durable before the originals are replaced.
    std::string dir = l->dir_;
    std::weak_ptr<bool> alive = alive_;
    ctx_.flush.run([dir] { return sync_dir(dir); }, [this, j, alive](int err) {
        if (alive.lock()) complete_swap(j, err);
    });
}

void log_cleaner::complete_swap(const std::shared_ptr<job>& j, int fsync_error) {
    auto l = j->target.lock();
    cleaning_report report;
    const compaction_result& result = *j->result;
    auto take_pending = [&](const segment* src) {
        if (!l) return false;
        auto& pending = l->pending_swaps_;
        auto it = std::find_if(pending.begin(), pending.end(), [src](const auto& p) { return p.first == src; });
        if (it == pending.end()) return false;  // the source was retired, and its swap with it
        pending.erase(it);
        return true;
    };
    auto drop_swap = [this](const std::shared_ptr<segment>& cleaned) {
        int err = 0;
        auto paths = cleaned->rename_to_deleted(&err);
        ctx_.deleter.schedule(err == 0 ? paths : cleaned->file_paths(), 0);
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
    for (size_t i = 0; i < result.segments.size(); ++i) {
        const auto& c = result.segments[i];
        const auto& src = j->plan.segments[i].seg;
        auto it = std::find(l->segments_.begin(), l->segments_.end(), src);
        if (c.what == compacted_segment::outcome::replaced) {
            if (!take_pending(src.get())) continue;
            if (it == l->segments_.end()) {
                drop_swap(c.cleaned);
                continue;
            }
            if (int err = c.cleaned->rename_files(""); err != 0) {
                l->go_offline("cannot swap in " + c.cleaned->log_path() + ": " + std::strerror(err));
                break;
            }
            *it = c.cleaned;
            ++report.segments_replaced;
        } else if (c.what == compacted_segment::outcome::emptied) {
            // The log's first segment stays, empty or not: it holds the log start offset.
            if (it == l->segments_.end() || it == l->segments_.begin()) continue;
            l->retire_segment(*it);
            l->segments_.erase(it);
            ++report.segments_removed;
        }
    }
    l->cleaner_offset_ = std::max(l->cleaner_offset_, result.next_dirty_offset);
    std::string dir = l->dir_;
    ctx_.flush.run([dir] { return sync_dir(dir); }, {});
    report.ran = true;
    report.cleaner_offset = l->cleaner_offset_;
    report.bytes_before = result.bytes_before;
    report.bytes_after = result.bytes_after;
    report.records_removed = result.records_removed;
    end(j, report);
}

} // namespace samsa::storage
