#include "storage/log_manager.h"

#include "storage/checkpoint_file.h"
#include "storage/completion_queue.h"
#include "storage/file_deleter.h"
#include "storage/file_handle.h"
#include "storage/flusher.h"
#include "storage/layout.h"
#include "storage/log_cleaner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdio>
#include <random>

namespace samsa::storage {

struct log_manager::dir_state {
    std::string path;
    std::shared_ptr<file_handle> lock;
    bool clean = false;
    checkpoint::offset_map recovery_points;
    checkpoint::offset_map start_offsets;
    checkpoint::offset_map cleaner_offsets;
    size_t partitions = 0;
};

namespace {

int make_dirs(const std::string& path) {
    if (path.empty()) return EINVAL;
    for (size_t i = 1; i <= path.size(); ++i) {
        if (i != path.size() && path[i] != '/') continue;
        std::string prefix = path.substr(0, i);
        if (::mkdir(prefix.c_str(), 0755) < 0 && errno != EEXIST) return errno;
    }
    return 0;
}

std::string unique_suffix() {
    static std::mt19937_64 rng{std::random_device{}()};
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    return buf;
}

} // namespace

log_manager::log_manager(log_manager_config config, std::function<void()> wake)
    : config_(std::move(config)),
      completions_(std::make_unique<completion_queue>(std::move(wake))),
      flusher_(std::make_unique<flusher>(*completions_)),
      deleter_(std::make_unique<file_deleter>()) {
    if (config_.cleaner_enable)
        cleaner_ = std::make_unique<log_cleaner>(context(), static_cast<size_t>(config_.cleaner_dedupe_buffer_size));
}

log_manager::~log_manager() {
    // Without close() this is an unclean stop: no marker, the next start recovers.
    for (auto& [tp, l] : logs_) l->close();
    logs_.clear();
}

log_context log_manager::context() noexcept { return log_context{*flusher_, *deleter_, *completions_}; }

void log_manager::wait_for(const std::function<bool()>& done) {
    while (!done()) completions_->wait_and_run(100);
}

int log_manager::run_on_flusher(std::function<int()> work) {
    bool finished = false;
    int result = 0;
    flusher_->run(std::move(work), [&](int err) {
        result = err;
        finished = true;
    });
    wait_for([&] { return finished; });
    return result;
}

bool log_manager::open(int64_t now_ms, std::string* error) {
    for (const auto& path : config_.log_dirs) {
        auto d = std::make_unique<dir_state>();
        d->path = path;
        if (!open_dir(*d, now_ms, error)) return false;
        dirs_.push_back(std::move(d));
    }
    opened_ = true;
    last_recovery_checkpoint_ms_ = last_start_checkpoint_ms_ = last_retention_ms_ = now_ms;
    // Recovery may have moved offsets (a cut tail): the checkpoints must say where the logs stand
    // before anything is appended, or a later crash would trust a recovery point past new,
    // unflushed data. After a clean stop they already agree and nothing is written.
    bool stale = false;
    for (const auto& [tp, l] : logs_) {
        written_start_offsets_[tp] = l->log_start_offset();
        const dir_state& d = *dirs_[dir_of_[tp]];
        auto rp = d.recovery_points.find(tp);
        auto so = d.start_offsets.find(tp);
        if (rp == d.recovery_points.end() || rp->second != l->recovery_point() || so == d.start_offsets.end() ||
            so->second != l->log_start_offset())
            stale = true;
    }
    if (stale) write_checkpoints(true);
    return true;
}

bool log_manager::open_dir(dir_state& d, int64_t now_ms, std::string* error) {
    if (int err = make_dirs(d.path); err != 0) {
        *error = "cannot create log dir " + d.path + ": " + std::strerror(err);
        return false;
    }
    int err = 0;
    d.lock = file_handle::open(layout::join(d.path, layout::lock_file), O_RDWR | O_CREAT, 0644, &err);
    if (!d.lock) {
        *error = "cannot open the lock file of " + d.path + ": " + std::strerror(err);
        return false;
    }
    if (::flock(d.lock->fd(), LOCK_EX | LOCK_NB) < 0) {
        *error = "log dir " + d.path + " is in use by another process";
        return false;
    }
    std::string marker = layout::join(d.path, layout::clean_shutdown_file);
    d.clean = ::access(marker.c_str(), F_OK) == 0;
    // A checkpoint that does not parse counts as missing: recovery then scans more, never less.
    (void)checkpoint::read_offsets(layout::join(d.path, layout::recovery_point_checkpoint), &d.recovery_points);
    (void)checkpoint::read_offsets(layout::join(d.path, layout::log_start_offset_checkpoint), &d.start_offsets);
    (void)checkpoint::read_offsets(layout::join(d.path, layout::cleaner_offset_checkpoint), &d.cleaner_offsets);
    if (d.clean) {
        // From here on a crash must be seen as unclean.
        std::string dir = d.path;
        int rc = run_on_flusher([marker, dir] {
            if (::unlink(marker.c_str()) < 0 && errno != ENOENT) return errno;
            return sync_dir(dir);
        });
        if (rc != 0) {
            *error = "cannot remove " + marker + ": " + std::strerror(rc);
            return false;
        }
    }
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(d.path.c_str())) {
        while (dirent* e = ::readdir(dir))
            if (e->d_name[0] != '.') names.emplace_back(e->d_name);
        ::closedir(dir);
    } else {
        *error = "cannot list " + d.path + ": " + std::strerror(errno);
        return false;
    }
    size_t index = dirs_.size();
    for (const auto& name : names) {
        std::string path = layout::join(d.path, name);
        struct stat st{};
        if (::stat(path.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) continue;
        if (name.ends_with(layout::delete_dir_suffix)) {
            deleter_->schedule({path}, 0);
            continue;
        }
        auto parsed = layout::parse_partition_dir(name);
        if (!parsed) continue;
        topic_partition tp{parsed->topic, parsed->partition};
        if (logs_.contains(tp)) {
            *error = "partition " + tp.dir_name() + " exists in two log dirs";
            return false;
        }
        log_load_state state;
        state.clean_shutdown = d.clean;
        state.now_ms = now_ms;
        if (auto it = d.recovery_points.find(tp); it != d.recovery_points.end()) state.recovery_point = it->second;
        if (auto it = d.start_offsets.find(tp); it != d.start_offsets.end()) state.log_start_offset = it->second;
        log_config cfg = config_.defaults;
        if (config_.topic_config)
            if (auto c = config_.topic_config(tp.topic)) cfg = *c;
        auto l = log::open(path, tp, cfg, context(), state, error);
        if (!l) return false;
        // Kafka's rule: a cleaner offset outside the log means start over from the log start.
        protocol::offset cleaned = l->log_start_offset();
        if (auto it = d.cleaner_offsets.find(tp); it != d.cleaner_offsets.end() &&
                                                  it->second >= l->log_start_offset() &&
                                                  it->second <= l->log_end_offset())
            cleaned = it->second;
        l->set_cleaner_offset(cleaned);
        logs_[tp] = std::move(l);
        dir_of_[tp] = index;
        ++d.partitions;
    }
    return true;
}

std::shared_ptr<log> log_manager::get(const topic_partition& tp) const {
    auto it = logs_.find(tp);
    return it == logs_.end() ? nullptr : it->second;
}

std::shared_ptr<log> log_manager::get_or_create(const topic_partition& tp, const log_config& config, int64_t now_ms,
                                                std::string* error) {
    if (auto l = get(tp)) return l;
    if (dirs_.empty()) {
        *error = "no log dir is open";
        return nullptr;
    }
    size_t best = 0;
    for (size_t i = 1; i < dirs_.size(); ++i)
        if (dirs_[i]->partitions < dirs_[best]->partitions) best = i;
    dir_state& d = *dirs_[best];
    log_load_state state;
    state.clean_shutdown = true;
    state.now_ms = now_ms;
    const std::string path = layout::join(d.path, tp.dir_name());
    struct stat st{};
    const bool existed = ::lstat(path.c_str(), &st) == 0;
    auto l = log::open(path, tp, config, context(), state, error);
    if (!l) {
        // A directory made here and left half filled would be loaded as a partition at the next
        // start, or taken up by the next creation of this partition.
        if (!existed && ::lstat(path.c_str(), &st) == 0) discard_dir(d.path, path, tp.dir_name());
        return nullptr;
    }
    // The new directory's entry in the log dir must survive a crash along with its contents.
    std::string parent = d.path;
    flusher_->run([parent] { return sync_dir(parent); }, {});
    logs_[tp] = l;
    dir_of_[tp] = best;
    ++d.partitions;
    written_start_offsets_[tp] = l->log_start_offset();
    return l;
}

bool log_manager::remove(const topic_partition& tp) {
    auto it = logs_.find(tp);
    if (it == logs_.end()) return false;
    std::shared_ptr<log> l = it->second;
    dir_state& d = *dirs_[dir_of_[tp]];
    l->close();
    discard_dir(d.path, l->dir(), tp.dir_name());
    logs_.erase(it);
    dir_of_.erase(tp);
    written_start_offsets_.erase(tp);
    d.recovery_points.erase(tp);
    d.start_offsets.erase(tp);
    --d.partitions;
    return true;
}

void log_manager::discard_dir(const std::string& parent, const std::string& dir, const std::string& name) {
    std::string target = layout::join(parent, name + "." + unique_suffix() + std::string(layout::delete_dir_suffix));
    if (::rename(dir.c_str(), target.c_str()) == 0) {
        deleter_->schedule({target}, 0);
        flusher_->run([parent] { return sync_dir(parent); }, {});
    } else {
        // The files stay where they are; renaming failed, so remove them in place.
        deleter_->schedule({dir}, 0);
    }
}

std::vector<topic_partition> log_manager::partitions() const {
    std::vector<topic_partition> out;
    out.reserve(logs_.size());
    for (const auto& [tp, l] : logs_) out.push_back(tp);
    return out;
}

void log_manager::write_checkpoints(bool wait) {
    size_t pending = 0;
    cleaner_offsets_moved_ = false;
    for (size_t i = 0; i < dirs_.size(); ++i) {
        checkpoint::offset_map recovery, starts, cleaned;
        for (const auto& [tp, l] : logs_) {
            if (dir_of_[tp] != i) continue;
            recovery[tp] = l->recovery_point();
            if (l->config().cleanup_compact) cleaned[tp] = l->cleaner_offset();
            // Kafka writes a start offset only when it differs from the first segment's base;
            // writing it always is equivalent on reading and simpler.
            starts[tp] = l->log_start_offset();
            written_start_offsets_[tp] = l->log_start_offset();
        }
        std::string rp_path = layout::join(dirs_[i]->path, layout::recovery_point_checkpoint);
        std::string so_path = layout::join(dirs_[i]->path, layout::log_start_offset_checkpoint);
        std::string co_path = layout::join(dirs_[i]->path, layout::cleaner_offset_checkpoint);
        std::string rp_text = checkpoint::format_offsets(recovery);
        std::string so_text = checkpoint::format_offsets(starts);
        std::string co_text = checkpoint::format_offsets(cleaned);
        ++pending;
        flusher_->run(
            [rp_path, so_path, co_path, rp_text = std::move(rp_text), so_text = std::move(so_text),
             co_text = std::move(co_text)] {
                int err = write_file_atomically(rp_path, rp_text);
                if (err == 0) err = write_file_atomically(so_path, so_text);
                return err != 0 ? err : write_file_atomically(co_path, co_text);
            },
            [&pending, wait](int) {
                if (wait) --pending;
            });
    }
    if (wait) wait_for([&] { return pending == 0; });
}

void log_manager::tick(int64_t now_ms) {
    if (!opened_ || closed_) return;
    for (auto& [tp, l] : logs_) l->tick(now_ms);
    if (now_ms - last_retention_ms_ >= config_.retention_check_interval_ms) {
        last_retention_ms_ = now_ms;
        for (auto& [tp, l] : logs_) (void)l->delete_old_segments(now_ms);
    }
    // The first tick after start-up also drops producers that expired while the broker was down.
    if (last_producer_expiry_ms_ == 0 || now_ms - last_producer_expiry_ms_ >= config_.producer_id_expiration_check_interval_ms) {
        last_producer_expiry_ms_ = now_ms;
        for (auto& [tp, l] : logs_) (void)l->expire_producers(now_ms, config_.producer_id_expiration_ms);
    }
    bool starts_moved = false;
    for (const auto& [tp, l] : logs_) {
        auto it = written_start_offsets_.find(tp);
        if (it == written_start_offsets_.end() || it->second != l->log_start_offset()) starts_moved = true;
    }
    if (cleaner_ && !cleaner_->busy() && now_ms - last_cleaner_ms_ >= config_.cleaner_backoff_ms) {
        last_cleaner_ms_ = now_ms;
        // The dirtiest log that is due (Kafka's choice), one at a time.
        std::shared_ptr<log> best;
        log_dirtiness best_dirt;
        for (const auto& [tp, l] : logs_) {
            if (!l->config().cleanup_compact) continue;
            log_dirtiness d = log_cleaner::measure(*l, now_ms);
            if (d.due && (!best || d.ratio > best_dirt.ratio)) {
                best = l;
                best_dirt = d;
            }
        }
        if (best) cleaner_->start(best, now_ms, false, [this](const cleaning_report& r) {
            if (r.ran) cleaner_offsets_moved_ = true;
        });
    }
    // A moved log start offset (DeleteRecords, retention) is written at once: after a crash the
    // deleted records must stay deleted. Recovery points go at their interval.
    if (starts_moved || cleaner_offsets_moved_ || now_ms - last_recovery_checkpoint_ms_ >= config_.flush_offset_checkpoint_interval_ms ||
        now_ms - last_start_checkpoint_ms_ >= config_.flush_start_offset_checkpoint_interval_ms) {
        last_recovery_checkpoint_ms_ = last_start_checkpoint_ms_ = now_ms;
        write_checkpoints(false);
    }
}

size_t log_manager::run_completions() { return completions_->run(); }

size_t log_manager::wait_and_run_completions(int64_t timeout_ms) { return completions_->wait_and_run(timeout_ms); }

void log_manager::close() {
    if (closed_) return;
    // First stop compaction: a cleaning in progress is abandoned (a swap already made durable is
    // completed by the next start).
    cleaner_.reset();
    for (auto& [tp, l] : logs_) l->prepare_close();
    size_t pending = 0;
    bool all_ok = true;
    for (auto& [tp, l] : logs_) {
        ++pending;
        l->flush([&pending, &all_ok](protocol::error_code e) {
            if (e != protocol::error_code::none) all_ok = false;
            --pending;
        });
    }
    wait_for([&] { return pending == 0; });
    write_checkpoints(true);
    for (auto& [tp, l] : logs_) all_ok = all_ok && !l->offline();
    if (all_ok) {
        for (const auto& d : dirs_) {
            std::string marker = layout::join(d->path, layout::clean_shutdown_file);
            std::string dir = d->path;
            (void)run_on_flusher([marker, dir] {
                int err = write_file_atomically(marker, "");
                return err != 0 ? err : sync_dir(dir);
            });
        }
    }
    for (auto& [tp, l] : logs_) l->close();
    closed_ = true;
    deleter_->drain();
    completions_->run();
}

} // namespace samsa::storage
