#include "storage/compaction.h"

#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"
#include "storage/batch_validator.h"
#include "storage/file_handle.h"
#include "storage/layout.h"
#include "storage/segment_groups.h"

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

struct producer_markers {
    std::vector<std::pair<int64_t, protocol::control_type>> markers;  // by offset
    int64_t last_data_offset = -1;                                    // its last non-control batch
};

// Kafka's transaction bookkeeping while the batches are read in order: has data of the
// producer's current transaction been read since its last marker, and from which offset.
struct txn_progress {
    bool data_seen = false;
    int64_t first_data_offset = -1;
};

// What a pass over some batches did.
struct pass_counts {
    bool ok = true;
    uint64_t records_removed = 0;
    uint64_t batches_rebuilt = 0;   // records removed, a horizon set, or emptied for a producer
    uint64_t batches_removed = 0;
    uint64_t markers_removed = 0;
    [[nodiscard]] bool changed() const noexcept { return records_removed + batches_rebuilt + batches_removed + markers_removed > 0; }
    void add(const pass_counts& o) noexcept {
        records_removed += o.records_removed;
        batches_rebuilt += o.batches_rebuilt;
        batches_removed += o.batches_removed;
        markers_removed += o.markers_removed;
    }
};

class compactor {
public:
    explicit compactor(const compaction_plan& plan) : plan_(plan) {}

    compaction_result run() {
        compaction_result out;
        if (plan_.first_dirty >= plan_.segments.size()) {
            out.next_dirty_offset = plan_.segments.empty() ? protocol::offset(0) : plan_.segments.back().next_base_offset;
            return out;
        }
        out.next_dirty_offset = plan_.segments[plan_.first_dirty].base_offset;
        for (const auto& src : plan_.segments)
            for (const auto& t : src.aborted) known_aborted_[{t.producer_id, t.last_offset}] = t;
        if (!scan_markers() || !build_map(out)) return failed(out);

        std::vector<segment_footprint> footprints;
        for (size_t i = 0; i < out.processed; ++i) {
            const auto& s = plan_.segments[i];
            footprints.push_back({s.base_offset, s.next_base_offset, s.size, s.offset_index_entries, s.time_index_entries});
        }
        const segment_group_limits limits{plan_.options.segment_bytes, plan_.options.index_max_bytes};
        for (const segment_group& g : group_segments_by_size(footprints, limits)) {
            compacted_group c;
            c.first = g.begin;
            c.end = g.end;
            uint64_t before = 0;
            for (size_t i = g.begin; i < g.end; ++i) before += plan_.segments[i].size;
            out.bytes_before += before;
            if (g.end - g.begin == 1) {
                // A lone segment is rewritten only when something in it changes.
                const auto& src = plan_.segments[g.begin];
                auto saved = txn_;
                std::vector<aborted_txn> aborted;
                pass_counts dry = process(src, nullptr, aborted);
                if (!dry.ok) return failed(out);
                if (!dry.changed() && aborted == src.aborted) {
                    out.bytes_after += before;
                    out.groups.push_back(std::move(c));
                    continue;
                }
                txn_ = std::move(saved);
            }
            if (!rewrite(g, c, out)) return failed(out);
            out.bytes_after += c.what == compacted_group::outcome::replaced ? c.cleaned->size() : 0;
            out.groups.push_back(std::move(c));
        }
        out.next_dirty_offset = plan_.segments[out.processed - 1].next_base_offset;
        return out;
    }

private:
    compaction_result& failed(compaction_result& out) {
        out.error = error_ == 0 ? EIO : error_;
        out.message = message_;
        for (auto& c : out.groups) {
            if (c.cleaned) discard(*c.cleaned);
            if (c.txn_index_written) ::unlink(layout::txn_index_path(plan_.dir, c.cleaned ? c.cleaned->base_offset() : protocol::offset(0), layout::cleaned_suffix).c_str());
        }
        out.groups.clear();
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
    bool bad(std::string why) {
        message_ = std::move(why);
        error_ = EIO;
        return false;
    }
    pass_counts bad_pass(std::string why) {
        bad(std::move(why));
        return pass_counts{.ok = false};
    }

    // Pass 1: where every transaction ends, and each producer's last data batch.
    bool scan_markers() {
        for (const auto& src : plan_.segments) {
            batch_stream s(*src.file, src.size);
            for (auto bytes = s.next(); !bytes.empty(); bytes = s.next()) {
                auto h = batch::header_view::parse(bytes);
                if (!h) return bad("malformed batch in " + src.file->path());
                if (h->producer_id() < 0) continue;
                auto& p = producers_[h->producer_id()];
                if (!h->is_control()) {
                    p.last_data_offset = std::max(p.last_data_offset, h->last_offset());
                    continue;
                }
                protocol::record_reader r(bytes);
                protocol::record rec;
                while (r.next(rec))
                    if (auto m = protocol::parse_control_record(rec)) p.markers.emplace_back(rec.offset, m->type);
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

    struct output {
        std::shared_ptr<segment> seg;
        std::vector<uint8_t> chunk;
        std::vector<batch_info> infos;
        uint64_t batches = 0;
    };

    bool emit(output& o, std::span<const uint8_t> bytes) {
        auto h = batch::header_view::parse(bytes);
        const batch_info b = info_of(*h, static_cast<uint32_t>(o.chunk.size()));
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

    // The same batch with only `kept` records, and with `horizon` as its delete horizon.
    std::optional<std::vector<uint8_t>> rebuild(const batch::header_view& h, const std::vector<protocol::record>& kept,
                                                std::optional<int64_t> horizon) {
        protocol::batch_options o = protocol::batch_options_of(h);
        o.delete_horizon_ms = horizon;
        protocol::record_batch_builder builder(o);
        for (const auto& k : kept) {
            std::vector<protocol::record_header> headers(k.headers.begin(), k.headers.end());
            const int64_t timestamp = static_cast<int64_t>(static_cast<uint64_t>(h.base_timestamp()) +
                                                           static_cast<uint64_t>(k.timestamp_delta));
            if (!builder.append(k.offset_delta, {k.key, k.value, headers, timestamp})) {
                bad("records out of order in a batch at offset " + std::to_string(h.base_offset()));
                return std::nullopt;
            }
        }
        protocol::built_batch built = builder.build();
        if (built.status != protocol::codec_status::ok) {
            bad("cannot compress a cleaned batch: " + std::string(protocol::to_string(built.status)));
            return std::nullopt;
        }
        // The builder's last offset delta is the last kept record's; the original's must stay,
        // so the batch still ends where it did (a producer's sequence range, the next offset).
        batch::store_be32(built.bytes.data() + batch::last_offset_delta_at, static_cast<uint32_t>(h.last_offset_delta()));
        if (h.log_append_time()) batch::set_max_timestamp_and_recrc(built.bytes, h.max_timestamp(), true);
        else batch::recompute_crc(built.bytes);
        return std::move(built.bytes);
    }

    aborted_txn index_entry(int64_t producer_id, int64_t first_offset, int64_t marker_offset) const {
        auto it = known_aborted_.find({producer_id, marker_offset});
        if (it != known_aborted_.end()) return it->second;
        return aborted_txn{producer_id, first_offset, marker_offset, marker_offset + 1};
    }

    // A control batch: COMMIT/ABORT markers follow the rules above, others stay.
    pass_counts process_marker(const batch::header_view& h, std::span<const uint8_t> bytes, output* out,
                               std::vector<aborted_txn>& aborted) {
        pass_counts n;
        protocol::record_reader r(bytes);
        protocol::record rec;
        std::optional<protocol::control_marker> m;
        if (r.next(rec)) m = protocol::parse_control_record(rec);
        if (!m || (m->type != protocol::control_type::commit && m->type != protocol::control_type::abort)) {
            if (out && !emit(*out, bytes)) n.ok = false;
            return n;
        }
        txn_progress t = std::exchange(txn_[h.producer_id()], txn_progress{});
        if (t.data_seen) {
            if (m->type == protocol::control_type::abort) aborted.push_back(index_entry(h.producer_id(), t.first_data_offset, rec.offset));
            if (out && !emit(*out, bytes)) n.ok = false;
            return n;
        }
        const auto horizon = h.delete_horizon_ms();
        if (horizon && plan_.now_ms >= *horizon) {
            ++n.markers_removed;
            return n;
        }
        if (horizon) {
            if (out && !emit(*out, bytes)) n.ok = false;
            return n;
        }
        ++n.batches_rebuilt;
        if (!out) return n;
        std::vector<protocol::record> all{rec};
        while (r.next(rec)) all.push_back(rec);
        auto rebuilt = rebuild(h, all, plan_.now_ms + plan_.delete_retention_ms);
        if (!rebuilt || !emit(*out, *rebuilt)) n.ok = false;
        return n;
    }

    // Applies the rules to one segment, continuing the transaction bookkeeping. Without an
    // output it only counts what would change; with one it writes the survivors. The ABORT
    // markers kept while their transaction's data was read go to `aborted`.
    pass_counts process(const compaction_source& src, output* out, std::vector<aborted_txn>& aborted) {
        pass_counts n;
        batch_stream s(*src.file, src.size);
        for (auto bytes = s.next(); !bytes.empty(); bytes = s.next()) {
            if (stopped()) return pass_counts{.ok = false};
            auto h = batch::header_view::parse(bytes);
            if (!h) return bad_pass("malformed batch in " + src.file->path());
            if (h->is_control()) {
                pass_counts m = process_marker(*h, bytes, out, aborted);
                if (!m.ok) return m;
                n.add(m);
                continue;
            }
            if (h->is_transactional()) {
                auto& t = txn_[h->producer_id()];
                if (!t.data_seen) t.first_data_offset = h->base_offset();
                t.data_seen = true;
            }
            const txn_fate f = fate_of(*h);
            if (f == txn_fate::open) {
                if (out && !emit(*out, bytes)) return pass_counts{.ok = false};
                continue;
            }
            const bool last_of_producer = h->producer_id() >= 0 &&
                                          producers_[h->producer_id()].last_data_offset == h->last_offset();
            const auto horizon = h->delete_horizon_ms();
            const bool past_horizon = horizon && plan_.now_ms >= *horizon;
            std::vector<protocol::record> kept;
            bool tombstone_kept = false;
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
                if (!rec.value) {
                    if (past_horizon) continue;
                    tombstone_kept = true;
                }
                kept.push_back(rec);
            }
            if (!r.ok()) return bad_pass("unreadable records in " + src.file->path());
            const bool set_horizon = tombstone_kept && !horizon;
            if (static_cast<int32_t>(kept.size()) == total && !set_horizon) {
                if (out && !emit(*out, bytes)) return pass_counts{.ok = false};
                continue;
            }
            n.records_removed += static_cast<uint64_t>(total - static_cast<int32_t>(kept.size()));
            if (kept.empty()) {
                if (!last_of_producer) {
                    ++n.batches_removed;
                    continue;
                }
                ++n.batches_rebuilt;
                if (out && !emit(*out, empty_batch(bytes))) return pass_counts{.ok = false};
                continue;
            }
            ++n.batches_rebuilt;
            if (!out) continue;
            auto rebuilt = rebuild(*h, kept, set_horizon ? std::optional<int64_t>(plan_.now_ms + plan_.delete_retention_ms) : horizon);
            if (!rebuilt || !emit(*out, *rebuilt)) return pass_counts{.ok = false};
        }
        if (stream_error(s)) return pass_counts{.ok = false};
        return n;
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

    // Writes the survivors of sources [g.begin, g.end) into one new segment.
    bool rewrite(const segment_group& g, compacted_group& c, compaction_result& out) {
        const auto& first = plan_.segments[g.begin];
        segment_options options = plan_.options;
        options.preallocate = false;
        for (auto suffix : {layout::log_suffix, layout::index_suffix, layout::time_index_suffix}) {
            std::string stale = layout::segment_path(plan_.dir, first.base_offset, suffix) + std::string(layout::cleaned_suffix);
            ::unlink(stale.c_str());
        }
        int err = 0;
        output o;
        o.seg = segment::create(plan_.dir, first.base_offset, options, plan_.now_ms, &err, layout::cleaned_suffix);
        if (!o.seg) {
            error_ = err;
            message_ = "cannot create a cleaned segment in " + plan_.dir + ": " + std::strerror(err);
            return false;
        }
        pass_counts total;
        bool had_txn_index = false;
        for (size_t i = g.begin; i < g.end; ++i) {
            pass_counts n = process(plan_.segments[i], &o, c.aborted);
            if (!n.ok) {
                discard(*o.seg);
                return false;
            }
            total.add(n);
            had_txn_index |= plan_.segments[i].has_txn_index;
        }
        if (!flush(o)) {
            discard(*o.seg);
            return false;
        }
        out.records_removed += total.records_removed;
        out.batches_rebuilt += total.batches_rebuilt;
        out.markers_removed += total.markers_removed;
        if (o.batches == 0 && g.begin != 0) {
            discard(*o.seg);
            c.what = compacted_group::outcome::emptied;
            c.aborted.clear();
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
        if (err == 0) err = o.seg->set_last_modified_ms(plan_.segments[g.end - 1].last_modified_ms);
        if (err == 0 && (had_txn_index || !c.aborted.empty())) {
            err = write_txn_index(first.base_offset, c.aborted);
            c.txn_index_written = err == 0;
        }
        if (err != 0) {
            error_ = err;
            message_ = "cannot finish " + o.seg->log_path() + ": " + std::strerror(err);
            discard(*o.seg);
            return false;
        }
        c.what = compacted_group::outcome::replaced;
        c.cleaned = std::move(o.seg);
        return true;
    }

    int write_txn_index(protocol::offset base, const std::vector<aborted_txn>& entries) {
        const std::string path = layout::txn_index_path(plan_.dir, base, layout::cleaned_suffix);
        ::unlink(path.c_str());
        int err = 0;
        auto idx = txn_index::open(path, &err);
        if (!idx) return err;
        for (const auto& t : entries)
            if ((err = idx->append(t)) != 0) break;
        if (err == 0) err = idx->file()->sync();
        if (err != 0) ::unlink(path.c_str());
        return err;
    }

    struct pid_offset_hash {
        size_t operator()(const std::pair<int64_t, int64_t>& k) const noexcept {
            return std::hash<int64_t>{}(k.first) * 31 + std::hash<int64_t>{}(k.second);
        }
    };

    const compaction_plan& plan_;
    std::unordered_map<int64_t, producer_markers> producers_;
    std::unordered_map<int64_t, txn_progress> txn_;
    std::unordered_map<std::pair<int64_t, int64_t>, aborted_txn, pid_offset_hash> known_aborted_;
    std::unordered_map<std::string, int64_t, string_hash, std::equal_to<>> map_;
    int error_ = 0;
    std::string message_;
};

} // namespace

compaction_result compact(const compaction_plan& plan) { return compactor(plan).run(); }

} // namespace samsa::storage
