#include "storage/segment.h"

#include "protocol/record_batch.h"
#include "storage/batch_validator.h"
#include "storage/file_handle.h"
#include "storage/index_file.h"
#include "storage/layout.h"
#include "storage/log_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace samsa::storage {

namespace batch = protocol::batch;

namespace {
// How far ahead of the end an active segment reserves blocks: as much as the segment already
// holds, within these bounds. Small partitions reserve little; a busy one calls fallocate once
// per 8 MiB.
constexpr uint64_t min_reservation = 64 * 1024;
constexpr uint64_t max_reservation = 8 * 1024 * 1024;
} // namespace

segment_options segment_options::from(const log_config& config) noexcept {
    segment_options o;
    o.segment_bytes = static_cast<uint32_t>(config.segment_bytes);
    o.index_max_bytes = static_cast<size_t>(config.segment_index_bytes);
    o.index_interval_bytes = static_cast<uint32_t>(config.index_interval_bytes);
    o.preallocate = config.preallocate;
    o.roll_jitter_ms = config.random_segment_jitter();
    return o;
}

segment::segment(std::string dir, protocol::offset base_offset, std::shared_ptr<file_handle> file, offset_index offsets,
                 time_index times, const segment_options& options, int64_t now_ms, std::string_view suffix)
    : dir_(std::move(dir)),
      base_offset_(base_offset),
      file_(std::move(file)),
      offsets_(std::move(offsets)),
      times_(std::move(times)),
      options_(options),
      created_ms_(now_ms),
      last_modified_ms_(now_ms),
      suffix_(suffix) {}

segment::~segment() = default;

std::shared_ptr<segment> segment::create(const std::string& dir, protocol::offset base_offset, const segment_options& options,
                                         int64_t now_ms, int* err, std::string_view suffix) {
    std::string log_path = layout::segment_path(dir, base_offset, layout::log_suffix) + std::string(suffix);
    auto file = file_handle::open(log_path, O_RDWR | O_CREAT, 0644, err);
    if (!file) return nullptr;
    int64_t existing = file->size();
    if (existing != 0) {
        // A segment is only created at the log end; a non-empty file there is not ours to reuse.
        *err = existing < 0 ? static_cast<int>(-existing) : EEXIST;
        return nullptr;
    }
    // Kafka's preallocate sets the new file's length (a sparse file): no disk is reserved, so a
    // broker of many partitions does not fill its disk with empty segments.
    if (options.preallocate && options.segment_bytes > 0) {
        if (int rc = file->truncate(options.segment_bytes); rc != 0) {
            *err = rc;
            return nullptr;
        }
    }
    std::string index_path = layout::segment_path(dir, base_offset, layout::index_suffix) + std::string(suffix);
    std::string time_path = layout::segment_path(dir, base_offset, layout::time_index_suffix) + std::string(suffix);
    // Stale index files of an earlier segment with this base offset would be read as entries.
    ::unlink(index_path.c_str());
    ::unlink(time_path.c_str());
    auto oi = index_file::open(index_path, offset_index::entry_size, true, options.index_max_bytes, err);
    if (!oi) return nullptr;
    auto ti = index_file::open(time_path, time_index::entry_size, true, options.index_max_bytes, err);
    if (!ti) return nullptr;
    std::shared_ptr<segment> s(new segment(dir, base_offset, std::move(file), offset_index(std::move(oi), base_offset),
                                           time_index(std::move(ti), base_offset), options, now_ms, suffix));
    s->mark_indexes_dirty();
    *err = 0;
    return s;
}

std::shared_ptr<segment> segment::open(const std::string& dir, protocol::offset base_offset, bool active,
                                       const segment_options& options, int64_t now_ms, int* err) {
    std::string log_path = layout::segment_path(dir, base_offset, layout::log_suffix);
    auto file = file_handle::open(log_path, O_RDWR, 0644, err);
    if (!file) return nullptr;
    struct stat st{};
    if (::fstat(file->fd(), &st) < 0) {
        *err = errno;
        return nullptr;
    }
    if (st.st_size > static_cast<off_t>(INT32_MAX)) {
        *err = EFBIG;
        return nullptr;
    }
    bool created_index = false;
    auto open_index = [&](std::string_view suffix, size_t entry_size) -> std::unique_ptr<index_file> {
        std::string path = layout::segment_path(dir, base_offset, suffix);
        auto f = index_file::open(path, entry_size, active, options.index_max_bytes, err);
        if (!f && *err == ENOENT) {
            created_index = true;
            f = index_file::open(path, entry_size, true, options.index_max_bytes, err);
        }
        return f;
    };
    auto oi = open_index(layout::index_suffix, offset_index::entry_size);
    if (!oi) return nullptr;
    auto ti = open_index(layout::time_index_suffix, time_index::entry_size);
    if (!ti) return nullptr;
    std::shared_ptr<segment> s(new segment(dir, base_offset, std::move(file), offset_index(std::move(oi), base_offset),
                                           time_index(std::move(ti), base_offset), options, now_ms, {}));
    s->size_ = static_cast<uint32_t>(st.st_size);
    s->last_modified_ms_ = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
    auto last = s->offsets_.last_entry();
    s->bytes_since_index_entry_ = last && last->position < s->size_ ? s->size_ - last->position : s->size_;
    if (auto t = s->times_.last_entry()) {
        s->max_timestamp_ = t->timestamp;
        s->offset_of_max_timestamp_ = t->offset;
    }
    if (created_index) s->mark_indexes_dirty();
    s->index_created_ = created_index;
    *err = 0;
    return s;
}

void segment::reserve_space_to(uint64_t end) noexcept {
#if defined(FALLOC_FL_KEEP_SIZE)
    if (!reserving_ || end <= reserved_to_) return;
    const uint64_t from = std::max<uint64_t>(reserved_to_, size_);
    uint64_t to = std::max(end, from + std::clamp<uint64_t>(size_, min_reservation, max_reservation));
    // Never reserve past the roll size, unless one batch alone goes past it.
    if (options_.segment_bytes > 0) to = std::max(end, std::min<uint64_t>(to, options_.segment_bytes));
    int rc;
    do {
        rc = ::fallocate(file_->fd(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(to - from));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        reserving_ = false;
        return;
    }
    reserved_to_ = to;
#else
    (void)end;
    reserving_ = false;
#endif
}

int segment::append(std::span<const uint8_t> bytes, std::span<const batch_info> batches, int64_t now_ms) {
    reserve_space_to(uint64_t{size_} + bytes.size());
    if (int err = file_->pwrite_all(bytes, size_); err != 0) {
        // Leave no partial batch behind (a preallocated tail and the reservation go with it).
        (void)file_->truncate(size_);
        reserved_to_ = size_;
        return err;
    }
    uint32_t start = size_;
    for (const auto& b : batches) {
        batch_location loc;
        loc.position = start + b.position;
        loc.size = b.size;
        loc.base_offset = b.base_offset;
        loc.last_offset = b.last_offset;
        loc.max_timestamp = b.max_timestamp;
        loc.leader_epoch = b.leader_epoch;
        index_batch(loc);
    }
    size_ = start + static_cast<uint32_t>(bytes.size());
    last_modified_ms_ = now_ms;
    return 0;
}

void segment::index_batch(const batch_location& b) noexcept {
    if (b.max_timestamp > max_timestamp_) {
        max_timestamp_ = b.max_timestamp;
        offset_of_max_timestamp_ = b.last_offset;
    }
    if (bytes_since_index_entry_ > options_.index_interval_bytes) {
        // Either append may refuse (a full index): the index stays a valid subset.
        (void)offsets_.append(b.last_offset, b.position);
        times_.maybe_append(max_timestamp_, offset_of_max_timestamp_);
        bytes_since_index_entry_ = 0;
        ++index_changes_;
    }
    bytes_since_index_entry_ += b.size;
    size_ = std::max(size_, b.position + b.size);
}

namespace {

// The header walk shared by walk and walk_batch_headers: `buf` is the read window, `visit` gets
// each location and a pointer to its header bytes in the window.
template <class Visit>
void walk_file(const file_handle& file, uint32_t size, uint32_t from, std::span<uint8_t> buf, Visit&& visit) {
    uint64_t window_start = 0;
    size_t window_len = 0;
    uint32_t pos = from;
    while (static_cast<uint64_t>(pos) + batch::header_size <= size) {
        if (pos < window_start || pos + batch::header_size > window_start + window_len) {
            size_t want = std::min<size_t>(buf.size(), size - pos);
            int64_t n = file.pread_some({buf.data(), want}, pos);
            if (n < static_cast<int64_t>(batch::header_size)) return;
            window_start = pos;
            window_len = static_cast<size_t>(n);
        }
        const uint8_t* p = buf.data() + (pos - window_start);
        auto length = static_cast<int32_t>(batch::load_be32(p + batch::length_at));
        if (length < static_cast<int32_t>(batch::header_size - batch::log_overhead) || p[batch::magic_at] != 2) return;
        uint64_t total = batch::log_overhead + static_cast<uint64_t>(length);
        if (pos + total > size) return;
        if (!visit(location_of(p, pos, static_cast<uint32_t>(total)), p)) return;
        pos += static_cast<uint32_t>(total);
    }
}

} // namespace

batch_location location_of(const uint8_t* header, uint32_t position, uint32_t size) noexcept {
    batch_location b;
    b.position = position;
    b.size = size;
    b.base_offset = protocol::offset(static_cast<int64_t>(batch::load_be64(header + batch::base_offset_at)));
    b.last_offset = b.base_offset + static_cast<int32_t>(batch::load_be32(header + batch::last_offset_delta_at));
    b.max_timestamp = static_cast<int64_t>(batch::load_be64(header + batch::max_timestamp_at));
    b.leader_epoch = protocol::leader_epoch(static_cast<int32_t>(batch::load_be32(header + batch::leader_epoch_at)));
    return b;
}

void segment::walk(uint32_t from, const std::function<bool(const batch_location&)>& visit) const {
    std::array<uint8_t, 16 * 1024> buf;
    walk_file(*file_, size_, from, buf, [&](const batch_location& b, const uint8_t*) { return visit(b); });
}

void walk_batch_headers(const file_handle& file, uint32_t size, uint32_t from, size_t window_bytes,
                        const std::function<bool(const batch_location&, std::span<const uint8_t>)>& visit) {
    // No bigger than what is left to walk: a small file does not get a whole window.
    const size_t left = size > from ? size - from : 0;
    std::vector<uint8_t> buf(std::max(std::min(window_bytes, left), batch::header_size));
    walk_file(file, size, from, buf, [&](const batch_location& b, const uint8_t* header) {
        return visit(b, std::span<const uint8_t>(header, batch::header_size));
    });
}

void segment::walk_headers(uint32_t from, size_t window_bytes,
                           const std::function<bool(const batch_location&, std::span<const uint8_t>)>& visit) const {
    walk_batch_headers(*file_, size_, from, window_bytes, visit);
}

std::optional<batch_location> segment::translate_offset(protocol::offset target) const {
    offset_position start = offsets_.lookup(target);
    std::optional<batch_location> found;
    walk(start.position, [&](const batch_location& b) {
        if (b.last_offset >= target) {
            found = b;
            return false;
        }
        return true;
    });
    return found;
}

uint32_t segment::batch_end_at_or_below(uint32_t from, uint32_t limit) const {
    uint32_t start = std::max(from, offsets_.lookup_position(limit).position);
    uint32_t end = start;
    walk(start, [&](const batch_location& b) {
        if (b.position + b.size > limit) return false;
        end = b.position + b.size;
        return true;
    });
    return end;
}

int64_t segment::retention_timestamp() const noexcept {
    return max_timestamp_ >= 0 ? max_timestamp_ : last_modified_ms_;
}

int64_t segment::first_batch_timestamp() const {
    if (first_batch_timestamp_) return *first_batch_timestamp_;
    if (size_ == 0) return -1;
    int64_t ts = -1;
    walk(0, [&](const batch_location& b) {
        ts = b.max_timestamp;
        return false;
    });
    first_batch_timestamp_ = ts;
    return ts;
}

void segment::reload_max_timestamp() {
    max_timestamp_ = -1;
    offset_of_max_timestamp_ = protocol::no_offset;
    uint32_t from = 0;
    if (auto t = times_.last_entry()) {
        max_timestamp_ = t->timestamp;
        offset_of_max_timestamp_ = t->offset;
        from = offsets_.lookup(t->offset).position;
    }
    walk(from, [&](const batch_location& b) {
        if (b.max_timestamp > max_timestamp_) {
            max_timestamp_ = b.max_timestamp;
            offset_of_max_timestamp_ = b.last_offset;
        }
        return true;
    });
}

void segment::reset_indexes() noexcept {
    offsets_.reset();
    times_.reset();
    bytes_since_index_entry_ = 0;
    max_timestamp_ = -1;
    offset_of_max_timestamp_ = protocol::no_offset;
    first_batch_timestamp_.reset();
    size_ = 0;
    ++index_changes_;
}

int segment::cut_file(uint32_t valid_bytes) {
    int64_t actual = file_->size();
    if (actual < 0) return static_cast<int>(-actual);
    if (static_cast<uint64_t>(actual) != valid_bytes) {
        if (int err = file_->truncate(valid_bytes); err != 0) return err;
    }
    size_ = valid_bytes;
    reserved_to_ = valid_bytes;
    return 0;
}

bool segment::indexes_dirty() const noexcept { return index_changes_ != index_changes_synced_; }

bool segment::indexes_look_valid() const {
    if (offsets_.file().had_partial_entry() || times_.file().had_partial_entry()) return false;
    if (!offsets_.validate(size_) || !times_.validate()) return false;
    // A plausible index of some other file would pass the checks above; the batch its last
    // entry points at must be there and end at that entry's offset.
    if (auto last = offsets_.last_entry()) {
        bool ok = false;
        walk(last->position, [&](const batch_location& b) {
            ok = b.position == last->position && b.last_offset == last->offset;
            return false;
        });
        if (!ok) return false;
    }
    return true;
}

int segment::truncate_bytes(uint32_t size, protocol::offset removed_from) {
    if (int err = file_->truncate(size); err != 0) return err;
    size_ = size;
    reserved_to_ = size;  // ftruncate frees the blocks past the end too
    offsets_.truncate_to_position(size);
    times_.truncate_to(removed_from);
    auto last = offsets_.last_entry();
    bytes_since_index_entry_ = last ? size_ - last->position : size_;
    if (size_ == 0) first_batch_timestamp_.reset();
    ++index_changes_;
    reload_max_timestamp();
    return 0;
}

std::optional<protocol::offset> segment::truncate_to(protocol::offset offset, int* err) {
    *err = 0;
    auto b = translate_offset(offset);
    if (!b) return std::nullopt;
    if ((*err = truncate_bytes(b->position, b->base_offset)) != 0) return std::nullopt;
    return b->base_offset;
}

int segment::seal() {
    if (sealed()) return 0;
    if (max_timestamp_ > 0 && times_.maybe_append(max_timestamp_, offset_of_max_timestamp_, true)) ++index_changes_;
    // Gives back a preallocated tail, or the blocks reserved past the end: ftruncate to the
    // current size frees blocks allocated beyond it.
    if (options_.preallocate || reserved_to_ > size_) {
        if (int err = file_->truncate(size_); err != 0) return err;
        reserved_to_ = size_;
    }
    if (int err = offsets_.file().seal(); err != 0) return err;
    if (int err = times_.file().seal(); err != 0) return err;
    ++index_changes_;
    return 0;
}

int segment::unseal() {
    if (!sealed()) return 0;
    if (int err = offsets_.file().unseal(options_.index_max_bytes); err != 0) return err;
    if (int err = times_.file().unseal(options_.index_max_bytes); err != 0) return err;
    ++index_changes_;
    return 0;
}

uint64_t segment::sync_targets(std::vector<std::shared_ptr<file_handle>>& out) const {
    out.push_back(file_);
    if (index_changes_ != index_changes_synced_) {
        if (auto h = offsets_.file().handle()) out.push_back(std::move(h));
        if (auto h = times_.file().handle()) out.push_back(std::move(h));
    }
    return index_changes_;
}

void segment::mark_indexes_synced(uint64_t token) noexcept {
    index_changes_synced_ = std::max(index_changes_synced_, token);
    if (index_changes_synced_ == index_changes_ && sealed()) {
        offsets_.file().release_handle();
        times_.file().release_handle();
    }
}

int segment::rename_files(std::string_view suffix) {
    for (index_file* f : {&offsets_.file(), &times_.file()}) {
        std::string stem = f->path().substr(0, f->path().size() - suffix_.size());
        if (int e = f->rename(stem + std::string(suffix)); e != 0) return e;
    }
    std::string from = log_path();
    std::string to = layout::segment_path(dir_, base_offset_, layout::log_suffix) + std::string(suffix);
    if (::rename(from.c_str(), to.c_str()) < 0) return errno;
    suffix_ = std::string(suffix);
    file_->set_path(to);
    return 0;
}

std::vector<std::string> segment::file_paths() const {
    return {log_path(), offsets_.file().path(), times_.file().path()};
}

int segment::set_last_modified_ms(int64_t ms) noexcept {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = ms / 1000;
    times[1].tv_nsec = (ms % 1000) * 1000000;
    if (::futimens(file_->fd(), times) < 0) return errno;
    last_modified_ms_ = ms;
    return 0;
}

std::string segment::log_path() const {
    return layout::segment_path(dir_, base_offset_, layout::log_suffix) + suffix_;
}

std::vector<std::string> segment::rename_to_deleted(int* err) {
    *err = 0;
    std::vector<std::string> out;
    std::string from = log_path();
    std::string to = layout::segment_path(dir_, base_offset_, layout::log_suffix) + std::string(layout::deleted_suffix);
    if (::rename(from.c_str(), to.c_str()) < 0) {
        *err = errno;
        return out;
    }
    suffix_ = std::string(layout::deleted_suffix);
    file_->set_path(to);
    out.push_back(to);
    for (index_file* f : {&offsets_.file(), &times_.file()}) {
        std::string target = f->path() + std::string(layout::deleted_suffix);
        if (int e = f->rename(target); e != 0) {
            *err = e;
            return out;
        }
        out.push_back(target);
    }
    return out;
}

} // namespace samsa::storage
