// storage/log against a model: thousands of random appends, reads, truncations, rolls,
// DeleteRecords, retention passes, timestamp lookups and re-opens (clean, unclean, and unclean
// with a torn write at the end), checking after each step that the log and a plain in-memory list
// of batches agree. SAMSA_MODEL_STEPS (default 800) and SAMSA_MODEL_SEED change the run; a
// failure prints the seed and step.
#include "protocol/record_batch.h"
#include "storage/layout.h"
#include "storage/log.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <random>

using namespace samsa::storage;
using namespace samsa::storage::test;
using samsa::protocol::error_code;
using samsa::protocol::offset;
namespace batch = samsa::protocol::batch;

namespace {

struct model_batch {
    int64_t base = 0;
    int64_t last = 0;
    int64_t max_ts = -1;
    std::vector<uint8_t> bytes;  // as stored (offsets patched)
};

struct model {
    std::vector<model_batch> batches;  // every batch below the log end, including those below the start
    int64_t start = 0;
    int64_t end = 0;
    int64_t hw = 0;

    // Index of the batch holding `offset` (or the first one after it), batches.size() if none.
    [[nodiscard]] size_t batch_at(int64_t offset) const {
        auto it = std::lower_bound(batches.begin(), batches.end(), offset,
                                   [](const model_batch& b, int64_t o) { return b.last < o; });
        return static_cast<size_t>(it - batches.begin());
    }
};

int64_t env_or(const char* name, int64_t fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtoll(v, nullptr, 10) : fallback;
}

std::string active_segment_path(const std::string& dir) {
    int64_t best = -1;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (auto b = layout::parse_segment_name(e->d_name, layout::log_suffix)) best = std::max(best, *b);
        ::closedir(d);
    }
    return layout::segment_path(dir, best, layout::log_suffix);
}

// Splits read bytes into batches, checking each one's CRC.
std::vector<std::vector<uint8_t>> split(const std::vector<uint8_t>& bytes) {
    std::vector<std::vector<uint8_t>> out;
    size_t pos = 0;
    while (pos < bytes.size()) {
        auto h = batch::header_view::parse(std::span<const uint8_t>(bytes).subspan(pos));
        REQUIRE(h);
        REQUIRE(h->crc_ok());
        out.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                         bytes.begin() + static_cast<std::ptrdiff_t>(pos + h->total_size()));
        pos += h->total_size();
    }
    return out;
}

} // namespace

TEST_CASE("log model: random operations keep the log equal to a simple model") {
    const int64_t steps = env_or("SAMSA_MODEL_STEPS", 800);
    const auto seed = static_cast<uint64_t>(env_or("SAMSA_MODEL_SEED", static_cast<int64_t>(std::random_device{}())));
    INFO("SAMSA_MODEL_SEED=" << seed);
    std::mt19937_64 rng(seed);
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };

    temp_dir dir;
    const std::string path = dir / "m-0";
    log_config cfg;
    cfg.segment_bytes = static_cast<int32_t>(pick(2048, 12000));
    cfg.index_interval_bytes = static_cast<int32_t>(pick(0, 1500));
    cfg.segment_index_bytes = static_cast<int32_t>(pick(24, 400));  // small: "index full" rolls happen
    cfg.message_timestamp_after_max_ms = no_limit;
    cfg.file_delete_delay_ms = pick(0, 1) ? 0 : 60000;
    INFO("segment.bytes=" << cfg.segment_bytes << " index.interval.bytes=" << cfg.index_interval_bytes
                          << " segment.index.bytes=" << cfg.segment_index_bytes);

    auto fx = std::make_unique<log_fixture>();
    auto l = fx->open(path, cfg, clean_state());
    model m;
    int64_t now = 1'000'000;
    int64_t ts = 1000;
    size_t reopens = 0, truncations = 0, deletions = 0, torn = 0;

    auto check_equal = [&] {
        REQUIRE(l->log_end_offset() == offset(m.end));
        REQUIRE(l->log_start_offset() == offset(m.start));
        std::vector<uint8_t> want;
        for (size_t i = m.batch_at(m.start); i < m.batches.size(); ++i)
            want.insert(want.end(), m.batches[i].bytes.begin(), m.batches[i].bytes.end());
        REQUIRE(read_all(*l) == want);
    };

    for (int64_t step = 0; step < steps; ++step) {
        CAPTURE(step);
        now += pick(0, 50);
        int op = static_cast<int>(pick(0, 99));
        if (op < 47) {
            // Append one to three batches.
            std::vector<uint8_t> bytes;
            std::vector<size_t> sizes;
            int n = static_cast<int>(pick(1, 3));
            for (int i = 0; i < n; ++i) {
                ts += pick(-5, 20);  // mostly rising, sometimes not
                auto b = make_simple_batch(static_cast<int>(pick(1, 6)), static_cast<size_t>(pick(5, 400)), ts,
                                           static_cast<uint32_t>(rng()));
                sizes.push_back(b.size());
                bytes.insert(bytes.end(), b.begin(), b.end());
            }
            auto r = l->append(bytes, at(now));
            if (bytes.size() > static_cast<size_t>(cfg.segment_bytes)) {
                REQUIRE(r.error == error_code::record_list_too_large);
                continue;
            }
            REQUIRE(r.error == error_code::none);
            REQUIRE(r.base_offset == offset(m.end));
            size_t pos = 0;
            for (size_t sz : sizes) {
                auto h = batch::header_view::parse(std::span<const uint8_t>(bytes).subspan(pos));
                model_batch mb;
                mb.base = h->base_offset();
                mb.last = h->last_offset();
                mb.max_ts = h->max_timestamp();
                mb.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                                bytes.begin() + static_cast<std::ptrdiff_t>(pos + sz));
                m.batches.push_back(std::move(mb));
                pos += sz;
            }
            m.end = m.batches.back().last + 1;
            REQUIRE(r.last_offset == offset(m.end - 1));
            m.hw = pick(0, 3) ? m.end : pick(m.hw, m.end);
            l->set_high_watermark(offset(m.hw));
        } else if (op < 67) {
            // Read from a random offset with a random size limit and upper bound.
            int64_t from = pick(m.start - 2, m.end + 2);
            int64_t upper = pick(0, 1) ? m.hw : m.end;
            auto max_bytes = static_cast<int32_t>(pick(0, 3000));
            auto r = l->read_copy(offset(from), max_bytes, offset(upper));
            if (from < m.start || from > m.end) {
                REQUIRE(r.error == error_code::offset_out_of_range);
                continue;
            }
            REQUIRE(r.error == error_code::none);
            auto got = split(r.bytes);
            size_t i = m.batch_at(from);
            if (i < m.batches.size() && m.batches[i].last >= upper) REQUIRE(got.empty());
            if (!got.empty()) {
                REQUIRE(i < m.batches.size());
                // Whole batches, in order, starting with the one holding the offset.
                for (size_t k = 0; k < got.size(); ++k) {
                    REQUIRE(i + k < m.batches.size());
                    REQUIRE(got[k] == m.batches[i + k].bytes);
                    REQUIRE(m.batches[i + k].last < upper);
                }
                REQUIRE((got.size() == 1 || r.bytes.size() <= static_cast<size_t>(max_bytes)));
            } else if (i < m.batches.size() && m.batches[i].last < upper && from < upper) {
                // Nothing returned although a batch was due: only when it would exceed max_bytes
                // with min_one_batch... which is on, so this must not happen.
                FAIL("read returned nothing at " << from);
            }
        } else if (op < 72) {
            // Truncate (replication) to a random offset at or above the log start.
            if (m.end == m.start) continue;
            int64_t target = pick(m.start, m.end);
            REQUIRE(l->truncate_to(offset(target)) == error_code::none);
            size_t i = m.batch_at(target);
            int64_t new_end = target;
            if (i < m.batches.size()) new_end = std::min(target, m.batches[i].base);
            m.batches.resize(std::min(i, m.batches.size()));
            if (target < m.end) m.end = new_end;
            m.start = std::min(m.start, m.end);
            m.hw = std::min(m.hw, m.end);
            ++truncations;
        } else if (op < 76) {
            REQUIRE(l->roll(now) == error_code::none);
        } else if (op < 80) {
            // DeleteRecords below the high watermark.
            int64_t target = pick(m.start, m.hw);
            auto r = l->delete_records_before(offset(target));
            REQUIRE(r.error == error_code::none);
            m.start = std::max(m.start, target);
            REQUIRE(r.low_watermark == offset(m.start));
            ++deletions;
        } else if (op < 84) {
            // A retention pass by size: the log decides which whole segments go; the start offset
            // may only move forward, to a batch boundary, and never past the high watermark.
            auto c = cfg;
            c.retention_bytes = pick(0, 3) ? pick(0, 30000) : -1;
            l->set_config(c);
            (void)l->delete_old_segments(now);
            l->set_config(cfg);
            int64_t start = l->log_start_offset().value();
            REQUIRE(start >= m.start);
            REQUIRE(start <= m.hw);
            if (start > m.start) {
                size_t i = m.batch_at(start);
                REQUIRE((i == m.batches.size() ? start == m.end : m.batches[i].base == start));
                m.start = start;
            }
        } else if (op < 92) {
            // The first batch at or after the log start that reaches a timestamp.
            int64_t target = pick(900, ts + 50);
            auto f = l->offset_for_timestamp(target);
            // Records of a batch have timestamps first, first + 1, ...: the answer is the first
            // record at or after the log start whose timestamp reaches the target.
            std::optional<int64_t> want;
            for (size_t i = m.batch_at(m.start); i < m.batches.size(); ++i) {
                const auto& b = m.batches[i];
                if (b.max_ts < target || b.last < m.start) continue;
                int64_t first_ts = b.max_ts - (b.last - b.base);
                want = b.base + std::max({int64_t{0}, target - first_ts, m.start - b.base});
                break;
            }
            REQUIRE(f.has_value() == want.has_value());
            if (want) REQUIRE(f->offset == offset(*want));
        } else if (op < 94) {
            REQUIRE(fx->flush_and_wait(*l) == error_code::none);
            REQUIRE(l->recovery_point() == offset(m.end));
        } else {
            // Re-open: clean, unclean, or unclean after a torn write at the end of the log.
            int kind = static_cast<int>(pick(0, 2));
            log_load_state state;
            state.now_ms = now;
            state.log_start_offset = l->log_start_offset();
            if (kind == 0) {
                l->prepare_close();
                REQUIRE(fx->flush_and_wait(*l) == error_code::none);
                state.clean_shutdown = true;
            } else {
                state.clean_shutdown = false;
                state.recovery_point = l->recovery_point();
            }
            fx->settle();
            l->close();
            l.reset();
            fx = std::make_unique<log_fixture>();
            if (kind == 2) {
                // Part of a batch that never finished: recovery must cut it off.
                auto partial = make_simple_batch(3, static_cast<size_t>(pick(20, 300)), ts);
                batch::set_base_offset(partial, m.end);
                batch::recompute_crc(partial);
                partial.resize(static_cast<size_t>(pick(1, static_cast<int64_t>(partial.size()) - 1)));
                append_bytes(active_segment_path(path), partial);
                ++torn;
            }
            l = fx->open(path, cfg, state);
            if (kind == 2) REQUIRE(l->load_info().truncated_bytes > 0);
            if (kind == 0) REQUIRE(l->load_info().recovered_segments == 0);
            m.hw = m.end;
            ++reopens;
        }
        REQUIRE(l->log_end_offset() == offset(m.end));
        REQUIRE(l->log_start_offset() == offset(m.start));
        if (step % 50 == 0) check_equal();
    }
    check_equal();
    MESSAGE("model: " << steps << " steps, " << m.batches.size() << " batches, " << reopens << " re-opens ("
                      << torn << " torn), " << truncations << " truncations, " << deletions << " DeleteRecords");
    fx->settle();
}
