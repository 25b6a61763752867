// log::load, the start-up half of storage/log.h: reading a partition directory back into a log,
// finishing or discarding interrupted operations, and recovering after an unclean stop (rules in
// storage/recovery.h and docs/storage.md). Runs on the loop thread before the log is used.

#include "storage/checkpoint_file.h"
#include "storage/file_handle.h"
#include "storage/layout.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log.h"
#include "storage/recovery.h"
#include "storage/segment.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

namespace samsa::storage {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

std::optional<protocol::offset> index_base(std::string_view name) {
    if (auto b = layout::parse_segment_base(name, layout::index_suffix)) return b;
    return layout::parse_segment_base(name, layout::time_index_suffix);
}

// The last offset of the batches in a .log file, from their headers, or nullopt when it holds
// none. A swapped-in file was complete and fsynced, so its headers are trusted here; the segment
// is scanned properly afterwards. The headers are walked inside large reads, as the producer-state
// replay walks them, not one read per batch.
std::optional<protocol::offset> last_offset_in(const std::string& path) {
    int err = 0;
    auto file = file_handle::open(path, O_RDONLY, 0, &err);
    if (!file) return std::nullopt;
    const int64_t size = file->size();
    if (size <= 0) return std::nullopt;
    // Segment files stay below 2 GiB (segment::open refuses larger ones).
    const auto walked = static_cast<uint32_t>(std::min<int64_t>(size, std::numeric_limits<int32_t>::max()));
    std::optional<protocol::offset> last;
    walk_batch_headers(*file, walked, 0, size_t{1} << 20, [&](const batch_location& b, std::span<const uint8_t>) {
        last = b.last_offset;
        return true;
    });
    return last;
}

} // namespace

bool log::load(const log_load_state& state, std::string* error) {
    load_info_ = {};
    load_info_.clean_shutdown = state.clean_shutdown;
    clock_ms_ = state.now_ms;
    last_flush_ms_ = state.now_ms;

    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir_.c_str())) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') names.emplace_back(e->d_name);
        ::closedir(d);
    } else {
        *error = "cannot list " + dir_ + ": " + std::strerror(errno);
        return false;
    }

    std::set<protocol::offset> bases;
    std::set<protocol::offset> rebuild;  // indexes to rebuild: an interrupted compaction swap touched them
    std::set<protocol::offset> swapped;  // a .log.swap was completed
    std::vector<std::pair<protocol::offset, std::string>> txn_swaps;
    for (const auto& name : names) {
        std::string path = layout::join(dir_, name);
        // Half-done work of an earlier run: segments waiting for deletion, compaction output not
        // yet complete, checkpoints not yet renamed into place.
        if (ends_with(name, layout::deleted_suffix) || ends_with(name, layout::cleaned_suffix) ||
            ends_with(name, layout::temp_suffix)) {
            ::unlink(path.c_str());
            continue;
        }
        if (ends_with(name, layout::swap_suffix)) {
            // A complete, fsynced compaction result: finish the swap it was part of.
            std::string_view stem(name.data(), name.size() - layout::swap_suffix.size());
            if (auto b = layout::parse_segment_base(stem, layout::log_suffix)) {
                if (::rename(path.c_str(), layout::join(dir_, stem).c_str()) < 0) {
                    *error = "cannot finish swap of " + path + ": " + std::strerror(errno);
                    return false;
                }
                bases.insert(*b);
                rebuild.insert(*b);
                swapped.insert(*b);
            } else if (auto ib = index_base(stem)) {
                ::unlink(path.c_str());
                rebuild.insert(*ib);
            } else if (auto tb = layout::parse_segment_base(stem, layout::txn_index_suffix)) {
                txn_swaps.emplace_back(*tb, path);
            } else {
                ::unlink(path.c_str());
            }
            continue;
        }
        if (auto b = layout::parse_segment_base(name, layout::log_suffix)) bases.insert(*b);
    }
    // A .txnindex.swap is renamed before its .log.swap and after the .cleaned files became
    // .swap: with its .log.swap it belongs to the swap being completed, without it the swap was
    // not committed (or its txn index was already in place).
    for (const auto& [b, path] : txn_swaps) {
        if (swapped.contains(b)) {
            if (::rename(path.c_str(), layout::segment_path(dir_, b, layout::txn_index_suffix).c_str()) < 0) {
                *error = "cannot finish swap of " + path + ": " + std::strerror(errno);
                return false;
            }
        } else {
            ::unlink(path.c_str());
        }
    }
    // A completed swap replaces every segment its offsets cover (a merged group): segments of the
    // group not yet renamed *.deleted when the broker stopped go now, with their txn indexes.
    for (protocol::offset b : swapped) {
        auto last = last_offset_in(layout::segment_path(dir_, b, layout::log_suffix));
        if (!last) continue;
        for (auto it = bases.upper_bound(b); it != bases.end() && *it <= *last;) {
            for (auto suffix : {layout::log_suffix, layout::txn_index_suffix})
                ::unlink(layout::segment_path(dir_, *it, suffix).c_str());
            rebuild.erase(*it);
            it = bases.erase(it);
        }
    }
    for (const auto& name : names) {
        auto b = index_base(name);
        if (!b) continue;
        // Orphaned index files, and indexes an interrupted swap may have left stale.
        if (!bases.contains(*b) || rebuild.contains(*b)) ::unlink(layout::join(dir_, name).c_str());
    }

    protocol::uuid id;
    if (checkpoint::read_partition_metadata(layout::join(dir_, layout::partition_metadata), &id) ==
        checkpoint::read_status::ok)
        topic_id_ = id;

    std::vector<checkpoint::epoch_entry> entries;
    auto epoch_status = checkpoint::read_epochs(layout::join(dir_, layout::leader_epoch_checkpoint), &entries);
    if (epoch_status == checkpoint::read_status::io_error) {
        *error = "cannot read the leader-epoch-checkpoint in " + dir_;
        return false;
    }
    bool rebuild_epochs = epoch_status != checkpoint::read_status::ok;
    epochs_ = std::make_unique<leader_epoch_cache>(std::move(entries));

    std::vector<protocol::offset> sorted(bases.begin(), bases.end());
    std::vector<protocol::offset> to_rebuild(rebuild.begin(), rebuild.end());
    if (!load_segments(state, std::move(sorted), to_rebuild, rebuild_epochs, error)) return false;

    if (rebuild_epochs) {
        // Missing or unreadable checkpoint: the batches carry their epochs, read them back.
        epochs_->clear();
        for (const auto& seg : segments_)
            seg->walk(0, [&](const batch_location& b) {
                epochs_->assign_if_newer(b.leader_epoch, b.base_offset);
                return true;
            });
    }
    bool changed = epochs_->truncate_from_end(log_end_offset_);
    changed |= epochs_->truncate_from_start(log_start_offset_);
    // A new log gets its (empty) checkpoint file too, as Kafka's do.
    if (changed || rebuild_epochs) write_leader_epoch_checkpoint();
    rebuild_producer_state(state.clean_shutdown);
    return true;
}

bool log::load_segments(const log_load_state& state, std::vector<protocol::offset> bases,
                        const std::vector<protocol::offset>& rebuild, bool rebuild_epochs, std::string* error) {
    const segment_options options = segment_options::from(config_);
    int err = 0;
    if (bases.empty()) {
        const protocol::offset start =
            std::max(protocol::offset(0), state.log_start_offset.value_or(protocol::offset(0)));
        auto seg = segment::create(dir_, start, options, state.now_ms, &err);
        if (!seg) {
            *error = "cannot create the first segment in " + dir_ + ": " + std::strerror(err);
            return false;
        }
        segments_.push_back(std::move(seg));
        log_start_offset_ = log_end_offset_ = high_watermark_ = recovery_point_ = start;
        load_info_.segments = 1;
        return true;
    }
    for (size_t i = 0; i < bases.size(); ++i) {
        // Every index opens read-only: the active segment's are reopened for writing (and
        // preallocated) by the first append, so idle partitions cost little to open.
        auto seg = segment::open(dir_, bases[i], false, options, state.now_ms, &err);
        if (!seg) {
            *error = "cannot open segment " + layout::segment_path(dir_, bases[i], layout::log_suffix) + ": " +
                     std::strerror(err);
            return false;
        }
        segments_.push_back(std::move(seg));
    }
    load_info_.segments = segments_.size();

    // After an unclean stop every segment from the one holding the recovery point on is scanned;
    // without a recovery point, all of them. After a clean stop none is, but every index is
    // checked (and rebuilt when it fails), and the active segment's tail is verified.
    size_t first_unflushed = state.clean_shutdown ? segments_.size()
                                                  : segment_index_for(state.recovery_point.value_or(protocol::offset(0)));
    leader_epoch_cache* epochs = rebuild_epochs ? nullptr : epochs_.get();
    protocol::offset expected = segments_.front()->base_offset();
    protocol::offset next_offset = protocol::no_offset;
    for (size_t i = 0; i < segments_.size(); ++i) {
        segment& seg = *segments_[i];
        const bool last = i + 1 == segments_.size();
        bool scan = i >= first_unflushed;
        if (!scan && (std::binary_search(rebuild.begin(), rebuild.end(), seg.base_offset()) || seg.indexes_were_missing() || !seg.indexes_look_valid())) {
            scan = true;
            ++load_info_.rebuilt_indexes;
        }
        if (!scan && last) {
            // Clean stop: the batches after the last index entry must check out, and they give
            // the log end offset.
            auto entry = seg.offsets().last_entry();
            uint32_t from = entry ? entry->position : 0;
            int64_t size = seg.file()->size();
            scan_result tail = scan_log_file(*seg.file(), static_cast<uint64_t>(std::max<int64_t>(size, 0)), from,
                                             seg.base_offset(), std::max(expected, seg.base_offset()),
                                             [](const batch_location&) {});
            if (size < 0 || tail.stop != scan_stop::end_of_file || tail.valid_bytes != seg.size()) {
                scan = true;
                ++load_info_.rebuilt_indexes;
            } else {
                next_offset = tail.next_offset >= protocol::offset(0) ? tail.next_offset : seg.base_offset();
            }
        }
        if (!scan) {
            expected = seg.base_offset();
            continue;
        }
        if (i >= first_unflushed) ++load_info_.recovered_segments;
        if (int e = seg.unseal(); e != 0) {
            *error = "cannot reopen " + seg.log_path() + ": " + std::strerror(e);
            return false;
        }
        segment_recovery rec = recover_segment(seg, epochs, std::max(expected, seg.base_offset()));
        if (rec.error != 0) {
            *error = "cannot recover " + seg.log_path() + ": " + std::strerror(rec.error);
            return false;
        }
        next_offset = rec.scan.next_offset >= protocol::offset(0) ? rec.scan.next_offset : seg.base_offset();
        expected = next_offset;
        if (rec.scan.stop != scan_stop::end_of_file) {
            load_info_.truncated_bytes += rec.truncated_bytes;
            if (load_info_.problem.empty()) {
                char where[64];
                std::snprintf(where, sizeof where, " at byte %u", rec.scan.valid_bytes);
                load_info_.problem = seg.log_path() + where + ": " + std::string(to_string(rec.scan.stop));
            }
            // Nothing after the first invalid byte is trusted, later segments included.
            for (size_t j = segments_.size() - 1; j > i; --j) {
                load_info_.truncated_bytes += segments_[j]->size();
                retire_segment(segments_[j]);
                segments_.pop_back();
                ++load_info_.removed_segments;
            }
            break;
        }
        if (!last) {
            if (int e = seg.seal(); e != 0) {
                *error = "cannot trim the indexes of " + seg.log_path() + ": " + std::strerror(e);
                return false;
            }
        }
    }

    segment& active = *segments_.back();
    const protocol::offset active_base = active.base_offset();
    const protocol::offset first_base = segments_.front()->base_offset();
    log_end_offset_ = std::max(next_offset, active_base);  // no_offset (nothing scanned) is below any base
    log_start_offset_ = std::min(std::max(state.log_start_offset.value_or(protocol::offset(0)), first_base),
                                 log_end_offset_);
    recovery_point_ = state.clean_shutdown
                          ? log_end_offset_
                          : std::min(state.recovery_point.value_or(protocol::offset(0)), log_end_offset_);
    recovery_point_ = std::max(recovery_point_, std::min(first_base, log_end_offset_));
    high_watermark_ = log_end_offset_;
    return true;
}

} // namespace samsa::storage
