#include "storage/compaction.h"

#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"
#include "storage/batch_validator.h"
#include "storage/file_handle.h"
#include "storage/layout.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_map>

namespace samsa::storage {

namespace batch = protocol::batch;

namespace {

// Whole batches of one file, in order, read in large chunks.
class batch_stream {
public:
    batch_stream(const file_handle& file, uint32_t size) : file_(file), size_(size) {}

    // The next batch, or an empty span at the end or on an error (error() says which).
    std::span<const uint8_t> next() {
        if (pos_ >= size_ || !error_.empty()) return {};
        if (size_ - pos_ < batch::header_size || !fill(pos_, batch::header_size)) return fail("truncated batch");
        const uint8_t* p = buf_.data() + (pos_ - start_);
        auto length = static_cast<int32_t>(batch::load_be32(p + batch::length_at));
        if (length < static_cast<int32_t>(batch::header_size - batch::log_overhead)) return fail("bad batch length");
        uint64_t total = batch::log_overhead + static_cast<uint64_t>(length);
        if (total > size_ - pos_ || !fill(pos_, static_cast<size_t>(total))) return fail("truncated batch");
        std::span<const uint8_t> out(buf_.data() + (pos_ - start_), static_cast<size_t>(total));
        pos_ += total;
        return out;
    }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
    std::span<const uint8_t> fail(const char* why) {
        error_ = std::string(why) + " at byte " + std::to_string(pos_) + " of " + file_.path();
        return {};
    }
    bool fill(uint64_t at, size_t n) {
        if (at >= start_ && at + n <= start_ + len_) return true;
        size_t want = static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(n, chunk), size_ - at));
        buf_.resize(want);
        int64_t got = file_.pread_some(buf_, at);
        if (got < 0) return false;
        start_ = at;
        len_ = static_cast<size_t>(got);
        return len_ >= n;
    }

    static constexpr size_t chunk = 1 << 20;
    const file_handle& file_;
    uint64_t size_;
    uint64_t pos_ = 0;
    std::vector<uint8_t> buf_;
    uint64_t start_ = 0;
    size_t len_ = 0;
    std::string error_;
};

struct string_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

std::string_view as_text(protocol::bytes_view b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

enum class txn_fate : uint8_t { none, committed, aborted, open };

struct producer_state {
    std::vector<std::pair<int64_t, protocol::control_type>> markers;  // by offset
    int64_t last_batch_offset = -1;
};

class compactor {
public:
    explicit compactor(const compaction_plan& plan) : plan_(plan) {}

    compaction_result run() {
        compaction_result out;
        if (plan_.first_dirty >= plan_.segments.size()) {
            out.next_dirty_offset = plan_.segments.empty() ? 0 : plan_.segments.back().next_base_offset;
            return out;
        }
        out.next_dirty_offset = plan_.segments[plan_.first_dirty].base_offset;
        if (!scan_markers() || !build_map(out)) return failed(out);
        for (size_t i = 0; i < out.processed; ++i) {
            const auto& src = plan_.segments[i];
            out.bytes_before += src.size;
            compacted_segment c;
            int64_t changes = process(src, nullptr);
            if (changes < 0) return failed(out);
            if (changes > 0) {
                if (!rewrite(src, i == 0, c, out)) return failed(out);
            }
            out.bytes_after += c.what == compacted_segment::outcome::replaced ? c.cleaned->size()
                               : c.what == compacted_segment::outcome::emptied ? 0
                                                                               : src.size;
            out.segments.push_back(std::move(c));
        }
        out.next_dirty_offset = plan_.segments[out.processed - 1].next_base_offset;
        return out;
    }

private:
    compaction_result& failed(compaction_result& out) {
        out.error = error_ == 0 ? EIO : error_;
        out.message = message_;
        for (auto& c : out.segments)
            if (c.cleaned) discard(*c.cleaned);
        out.segments.clear();
        out.processed = 0;
        return out;
    }
    void discard(const segment& s) {
        for (const auto& p : s.file_paths()) ::unlink(p.c_str());
    }
    bool stopped() {
        if (plan_.stop && plan_.stop->load(std::memory_order_relaxed)) {
            message_ = "the cleaner is stopping";
            error_ = ECANCELED;
            return true;
        }
        return false;
    }
    bool stream_error(const batch_stream& s) {
        if (s.error().empty()) return false;
        message_ = s.error();
        return true;
    }

    // Pass 1: where every transaction ends, and each producer's last batch.
    bool scan_markers() {
        for (const auto& src : plan_.segments) {
            batch_stream s(*src.file, src.size);
            for (auto bytes = s.next(); !bytes.empty(); bytes = s.next()) {
                auto h = batch::header_view::parse(bytes);
                if (!h) return bad("malformed batch in " + src.file->path());
                if (h->producer_id() >= 0) {
                    auto& p = producers_[h->producer_id()];
                    p.last_batch_offset = std::max(p.last_batch_offset, h->last_offset());
                }
                if (!h->is_control()) continue;
                protocol::record_reader r(bytes);
                protocol::record rec;
                while (r.next(rec))
                    if (auto m = protocol::parse_control_record(rec))
                        producers_[h->producer_id()].markers.emplace_back(rec.offset, m->type);
            }
            if (stream_error(s) || stopped()) return false;
        }
        return true;
    }

    txn_fate fate_of(const batch::header_view& h) const {
        if (!h.is_transactional() || h.is_control()) return txn_fate::none;
        auto it = producers_.find(h.producer_id());
        if (it == producers_.end()) return txn_fate::open;
        for (const auto& [offset, type] : it->second.markers) {
            if (offset <= h.last_offset()) continue;
            if (type == protocol::control_type::commit) return txn_fate::committed;
            if (type == protocol::control_type::abort) return txn_fate::aborted;
        }
        return txn_fate::open;
    }

    // Pass 2: the latest offset of every key in the dirty segments, as many whole segments as
    // the budget holds (at least one).
    bool build_map(compaction_result& out) {
        size_t used = 0;
        for (size_t i = plan_.first_dirty; i < plan_.segments.size(); ++i) {
            const auto& src = plan_.segments[i];
            batch_stream s(*src.file, src.size);
            for (auto bytes = s.next(); !bytes.empty(); bytes = s.next()) {
                auto h = batch::header_view::parse(bytes);
                if (!h) return bad("malformed batch in " + src.file->path());
                txn_fate f = fate_of(*h);
                if (h->is_control() || f == txn_fate::aborted || f == txn_fate::open) continue;
                protocol::record_reader r(bytes);
                protocol::record rec;
                while (r.next(rec)) {
                    if (!rec.key) continue;
                    auto [it, inserted] = map_.try_emplace(std::string(as_text(*rec.key)), rec.offset);
                    if (inserted) used += rec.key->size() + 64;
                    else it->second = std::max(it->second, rec.offset);
                }
                if (!r.ok()) return bad("unreadable records in " + src.file->path());
            }
            if (stream_error(s) || stopped()) return false;
            out.processed = i + 1;
            if (used >= plan_.map_budget_bytes) break;
        }
        return true;
    }

    bool bad(std::string why) {
        message_ = std::move(why);
        error_ = EIO;
        return false;
    }

    struct output {
        std::shared_ptr<segment> seg;
        std::vector<uint8_t> chunk;
        std::vector<batch_info> infos;
        uint64_t batches = 0;
    };

    bool emit(output& o, std::span<const uint8_t> bytes) {
        auto h = batch::header_view::parse(bytes);
        batch_info b;
        b.position = static_cast<uint32_t>(o.chunk.size());
        b.size = static_cast<uint32_t>(bytes.size());
        b.base_offset = h->base_offset();
        b.last_offset = h->last_offset();
        b.max_timestamp = h->max_timestamp();
        b.leader_epoch = h->partition_leader_epoch();
        b.record_count = h->record_count();
        o.chunk.insert(o.chunk.end(), bytes.begin(), bytes.end());
        o.infos.push_back(b);
        ++o.batches;
        return o.chunk.size() < (1 << 20) || flush(o);
    }
    bool flush(output& o) {
        if (o.chunk.empty()) return true;
        if (int err = o.seg->append(o.chunk, o.infos, plan_.now_ms); err != 0) {
            error_ = err;
            message_ = "cannot write " + o.seg->log_path() + ": " + std::strerror(err);
            return false;
        }
        o.chunk.clear();
        o.infos.clear();
        return true;
    }

    // Applies the rules to one segment. Without an output it only counts what would change;
    // with one it writes the survivors. Returns the number of records removed (or batches
    // changed in form), or -1 on an error.
    int64_t process(const compaction_source& src, output* out) {
        const bool keep_tombstones = src.last_modified_ms > plan_.delete_horizon_ms;
        batch_stream s(*src.file, src.size);
        int64_t changes = 0;
        for (auto bytes = s.next(); !bytes.empty(); bytes = s.next()) {
            if (stopped()) return -1;
            auto h = batch::header_view::parse(bytes);
            if (!h) return bad("malformed batch in " + src.file->path()), -1;
            txn_fate f = fate_of(*h);
            bool last_of_producer = h->producer_id() >= 0 &&
                                    producers_[h->producer_id()].last_batch_offset == h->last_offset();
            if (h->is_control() || f == txn_fate::open) {
                if (out && !emit(*out, bytes)) return -1;
                continue;
            }
            std::vector<protocol::record> kept;
            int32_t total = 0;
            protocol::record_reader r(bytes);
            protocol::record rec;
            while (r.next(rec)) {
                ++total;
                if (f == txn_fate::aborted) continue;
                if (rec.key) {
                    auto it = map_.find(as_text(*rec.key));
                    if (it != map_.end() && it->second > rec.offset) continue;
                }
                if (!rec.value && !keep_tombstones) continue;
                kept.push_back(rec);
            }
            if (!r.ok()) return bad("unreadable records in " + src.file->path()), -1;
            if (static_cast<int32_t>(kept.size()) == total) {
                if (out && !emit(*out, bytes)) return -1;
                continue;
            }
            changes += total - static_cast<int64_t>(kept.size());
            if (!out) continue;
            if (kept.empty()) {
                if (last_of_producer && !emit(*out, empty_batch(bytes))) return -1;
                continue;
            }
            protocol::batch_options o;
            o.base_offset = h->base_offset();
            o.partition_leader_epoch = h->partition_leader_epoch();
            o.producer_id = h->producer_id();
            o.producer_epoch = h->producer_epoch();
            o.base_sequence = h->base_sequence();
            o.transactional = h->is_transactional();
            o.log_append_time = h->log_append_time();
            o.codec = h->codec();
            protocol::record_batch_builder builder(o);
            for (const auto& k : kept) {
                std::vector<protocol::record_header> headers(k.headers.begin(), k.headers.end());
                if (!builder.append(k.offset_delta, {k.key, k.value, headers, h->base_timestamp() + k.timestamp_delta}))
                    return bad("records out of order in " + src.file->path()), -1;
            }
            protocol::built_batch built = builder.build();
            if (built.status != protocol::codec_status::ok)
                return bad("cannot compress a cleaned batch: " + std::string(protocol::to_string(built.status))), -1;
            if (h->log_append_time()) batch::set_max_timestamp_and_recrc(built.bytes, h->max_timestamp(), true);
            if (!emit(*out, built.bytes)) return -1;
        }
        if (stream_error(s)) return -1;
        return changes;
    }

    // A batch header with no records: keeps a producer's offsets and sequence numbers.
    static std::vector<uint8_t> empty_batch(std::span<const uint8_t> bytes) {
        std::vector<uint8_t> e(bytes.begin(), bytes.begin() + batch::header_size);
        batch::store_be32(e.data() + batch::length_at, static_cast<uint32_t>(batch::header_size - batch::log_overhead));
        auto attrs = static_cast<uint16_t>(batch::load_be16(e.data() + batch::attributes_at) & ~batch::compression_mask);
        e[batch::attributes_at] = static_cast<uint8_t>(attrs >> 8);
        e[batch::attributes_at + 1] = static_cast<uint8_t>(attrs);
        batch::store_be32(e.data() + batch::record_count_at, 0);
        batch::recompute_crc(e);
        return e;
    }

    bool rewrite(const compaction_source& src, bool first_of_log, compacted_segment& c, compaction_result& out) {
        segment_options options = plan_.options;
        options.preallocate = false;
        for (auto suffix : {layout::log_suffix, layout::index_suffix, layout::time_index_suffix}) {
            std::string stale = layout::segment_path(plan_.dir, src.base_offset, suffix) + std::string(layout::cleaned_suffix);
            ::unlink(stale.c_str());
        }
        int err = 0;
        output o;
        o.seg = segment::create(plan_.dir, src.base_offset, options, plan_.now_ms, &err, layout::cleaned_suffix);
        if (!o.seg) {
            error_ = err;
            message_ = "cannot create a cleaned segment in " + plan_.dir + ": " + std::strerror(err);
            return false;
        }
        int64_t removed = process(src, &o);
        if (removed < 0 || !flush(o)) {
            discard(*o.seg);
            return false;
        }
        out.records_removed += static_cast<uint64_t>(removed);
        if (o.batches == 0 && !first_of_log) {
            discard(*o.seg);
            c.what = compacted_segment::outcome::emptied;
            return true;
        }
        // Complete and durable before the loop thread may swap it in.
        std::vector<std::shared_ptr<file_handle>> files;
        if ((err = o.seg->seal()) == 0) {
            uint64_t token = o.seg->sync_targets(files);
            for (const auto& f : files)
                if ((err = f->sync()) != 0) break;
            if (err == 0) o.seg->mark_indexes_synced(token);
        }
        if (err == 0) err = o.seg->set_last_modified_ms(src.last_modified_ms);
        if (err != 0) {
            error_ = err;
            message_ = "cannot finish " + o.seg->log_path() + ": " + std::strerror(err);
            discard(*o.seg);
            return false;
        }
        c.what = compacted_segment::outcome::replaced;
        c.cleaned = std::move(o.seg);
        return true;
    }

    const compaction_plan& plan_;
    std::unordered_map<int64_t, producer_state> producers_;
    std::unordered_map<std::string, int64_t, string_hash, std::equal_to<>> map_;
    int error_ = 0;
    std::string message_;
};

} // namespace

compaction_result compact(const compaction_plan& plan) { return compactor(plan).run(); }

} // namespace samsa::storage
