// storage/compaction and storage/log_cleaner: small segments merged while cleaning, KIP-534
// delete horizons (a fake clock drives them), aborted transactions removed with their markers
// kept until allowed, rewritten .txnindex files, producers' last batches kept, and crashes in
// the middle of a group swap.
#include "storage/compaction.h"

#include "protocol/record_reader.h"
#include "storage/layout.h"
#include "storage/log_cleaner.h"
#include "storage/producer_state_table.h"
#include "storage/segment.h"
#include "storage/txn_index.h"
#include "tests/storage/cleaner_test_support.h"

#include <doctest/doctest.h>

#include <dirent.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>

using namespace samsa::storage;
using namespace samsa::storage::test;
using samsa::protocol::error_code;
using samsa::protocol::offset;
namespace proto = samsa::protocol;
namespace batch = samsa::protocol::batch;

namespace {

// The fields of a record these tests compare.
struct rec {
    int64_t offset;
    int64_t timestamp;
    std::optional<std::string> key;
    std::optional<std::string> value;
    bool control;
    int64_t producer_id;
    bool operator==(const rec&) const = default;
};

// Every record of the log (batches checked on the way), as the fields compared.
std::vector<rec> compared_records(samsa::storage::log& l) {
    std::vector<rec> out;
    for (auto& r : records_of(l))
        out.push_back({r.offset, r.timestamp, std::move(r.key), std::move(r.value), r.control, r.producer_id});
    return out;
}

// Headers of every batch in the log.
std::vector<std::vector<uint8_t>> batches_of(samsa::storage::log& l) {
    std::vector<std::vector<uint8_t>> out;
    auto bytes = read_all(l);
    size_t pos = 0;
    while (pos < bytes.size()) {
        auto h = batch::header_view::parse(std::span<const uint8_t>(bytes).subspan(pos));
        REQUIRE(h);
        out.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                         bytes.begin() + static_cast<std::ptrdiff_t>(pos + h->total_size()));
        pos += h->total_size();
    }
    return out;
}

std::vector<std::string> names_in(const std::string& dir, std::string_view suffix) {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (std::string_view(e->d_name).ends_with(suffix)) out.emplace_back(e->d_name);
        ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Cleans, then deletes the replaced files at once.
cleaning_report clean_and_delete(log_fixture& fx, log_cleaner& cleaner, const std::shared_ptr<samsa::storage::log>& l,
                                 int64_t now) {
    auto report = clean(fx, cleaner, l, now);
    fx.deleter.drain();
    return report;
}

// Cleans the whole cleanable part again, as if nothing had been cleaned yet.
cleaning_report clean_all(log_fixture& fx, log_cleaner& cleaner, const std::shared_ptr<samsa::storage::log>& l, int64_t now) {
    l->set_cleaner_offset(offset(0));
    return clean_and_delete(fx, cleaner, l, now);
}

void put(samsa::storage::log& l, const std::string& key, std::optional<std::string> value, int64_t ts) {
    REQUIRE(append_copy(l, make_batch({{key, std::move(value), ts}}), at(ts)).error == error_code::none);
}

// Seals the active segment and makes everything cleanable.
void seal(samsa::storage::log& l, int64_t now) {
    REQUIRE(l.roll(now) == error_code::none);
    l.set_high_watermark(l.log_end_offset());
}

std::vector<aborted_txn> txn_index_file(const std::string& dir, int64_t base) {
    std::string path = layout::segment_path(dir, base, layout::txn_index_suffix);
    if (!file_exists(path)) return {};
    auto bytes = read_file(path);
    std::vector<aborted_txn> out;
    for (size_t at = 0; at + txn_index_entry_size <= bytes.size(); at += txn_index_entry_size) {
        aborted_txn t;
        REQUIRE(txn_index::decode({bytes.data() + at, txn_index_entry_size}, &t));
        out.push_back(t);
    }
    return out;
}

} // namespace

TEST_CASE("compaction: small segments are merged, each group within segment.bytes, and read back identically") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto cfg = compacted_config(4096);
    auto l = fx.open(dir / "c-0", cfg, clean_state());
    // Forty small segments of unique keys: cleaning removes nothing, merging changes the files.
    std::mt19937 rng(11);
    for (int s = 0; s < 40; ++s) {
        for (int i = 0; i < 3; ++i) put(*l, "k" + std::to_string(s * 3 + i), std::string(20 + rng() % 200, 'a' + s % 26), 1000 + s);
        seal(*l, 1000 + s);
    }
    const auto before = compared_records(*l);
    const auto before_batches = batches_of(*l);
    const size_t segments_before = l->segment_count();
    REQUIRE(segments_before == 41);
    // The expected grouping, greedily by bytes (the indexes are far below their limit here).
    size_t expected_groups = 0, expected_replaced = 0;
    {
        auto logs = names_in(dir / "c-0", ".log");
        logs.pop_back();  // the active segment
        size_t i = 0;
        while (i < logs.size()) {
            int64_t bytes = file_size(dir / "c-0" + "/" + logs[i]);
            size_t j = i + 1;
            while (j < logs.size() && bytes + file_size(dir / "c-0" + "/" + logs[j]) <= cfg.segment_bytes)
                bytes += file_size(dir / "c-0" + "/" + logs[j++]);
            ++expected_groups;
            if (j - i > 1) expected_replaced += j - i;  // a lone segment with nothing to clean stays
            i = j;
        }
    }
    REQUIRE(expected_groups < 40);

    auto report = clean_and_delete(fx, cleaner, l, 5000);
    REQUIRE(report.error == "");
    CHECK(report.ran);
    CHECK(report.records_removed == 0);
    CHECK(report.groups_merged > 0);
    CHECK(report.segments_replaced == expected_replaced);
    CHECK(l->segment_count() == expected_groups + 1);
    // Greedy grouping: every merged segment is within segment.bytes and no two neighbours could
    // have been merged further.
    auto logs = names_in(dir / "c-0", ".log");
    CHECK(l->segment_count() == logs.size());
    CHECK(l->segment_count() < segments_before);
    std::vector<int64_t> sizes;
    for (const auto& n : logs) sizes.push_back(file_size(dir / "c-0" + "/" + n));
    for (size_t i = 0; i + 1 < sizes.size(); ++i) {
        CHECK(sizes[i] <= cfg.segment_bytes);
        if (i + 2 < sizes.size()) CHECK(sizes[i] + sizes[i + 1] > cfg.segment_bytes);
    }
    // Same batches, byte for byte, at the same offsets; every offset is still found.
    CHECK(compared_records(*l) == before);
    CHECK(batches_of(*l) == before_batches);
    for (const auto& r : before) {
        auto got = l->read_copy(offset(r.offset), 1, l->log_end_offset());
        REQUIRE(got.error == error_code::none);
        auto h = batch::header_view::parse(got.bytes);
        REQUIRE(h);
        CHECK(h->base_offset() <= r.offset);
        CHECK(h->last_offset() >= r.offset);
    }
    // The merged segments' indexes are sound after a restart, and so is their content.
    l->prepare_close();
    REQUIRE(fx.flush_and_wait(*l) == error_code::none);
    l->close();
    l = fx.open(dir / "c-0", cfg, clean_state());
    CHECK(l->load_info().rebuilt_indexes == 0);
    CHECK(compared_records(*l) == before);
    CHECK(names_in(dir / "c-0", ".deleted").empty());
    CHECK(names_in(dir / "c-0", ".swap").empty());
    CHECK(names_in(dir / "c-0", ".cleaned").empty());
}

TEST_CASE("compaction: merged and cleaned segments match a model of the latest value per key") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto cfg = compacted_config(2048);
    auto l = fx.open(dir / "c-0", cfg, clean_state());
    std::mt19937 rng(5);
    std::map<std::string, std::pair<int64_t, std::optional<std::string>>> model;  // key -> (offset, value)
    std::map<int64_t, rec> originals;
    int64_t now = 1000;
    for (int round = 0; round < 12; ++round) {
        for (int i = 0; i < 25; ++i) {
            std::string key = "k" + std::to_string(rng() % 30);
            std::optional<std::string> value;
            if (rng() % 6) value = "v" + std::to_string(round) + "-" + std::string(rng() % 60, 'x');
            const int64_t at_offset = l->log_end_offset().value();
            put(*l, key, value, now);
            model[key] = {at_offset, value};
            originals[at_offset] = rec{at_offset, now, key, value, false, -1};
            if (rng() % 5 == 0) seal(*l, now);
        }
        seal(*l, now);
        now += 100;
        auto report = clean_and_delete(fx, cleaner, l, now);
        REQUIRE(report.error == "");
        auto after = compared_records(*l);
        std::map<std::string, std::pair<int64_t, std::optional<std::string>>> seen;
        int64_t last = -1;
        for (const auto& r : after) {
            CHECK(r.offset > last);
            last = r.offset;
            REQUIRE(originals.count(r.offset));
            CHECK(originals.at(r.offset) == r);  // same key, value and timestamp at the same offset
            seen[*r.key] = {r.offset, r.value};
        }
        // With delete.retention.ms = 0 a tombstone may be gone (after its second cleaning);
        // every key with a value has exactly its latest value.
        for (const auto& [key, v] : model) {
            if (v.second) {
                REQUIRE(seen.count(key));
                CHECK(seen.at(key) == v);
            } else if (seen.count(key)) {
                CHECK(seen.at(key) == v);
            }
        }
        CHECK(l->log_end_offset() == offset(static_cast<int64_t>(originals.size())));
    }
    l->prepare_close();
    REQUIRE(fx.flush_and_wait(*l) == error_code::none);
    auto final_records = compared_records(*l);
    l->close();
    l = fx.open(dir / "c-0", cfg, unclean_state(offset(0)));
    CHECK(compared_records(*l) == final_records);
}

TEST_CASE("compaction: a tombstone gets a KIP-534 delete horizon, is kept before it and removed after it") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto cfg = compacted_config(4096);
    cfg.delete_retention_ms = 5000;
    auto l = fx.open(dir / "c-0", cfg, clean_state());
    put(*l, "gone", std::string("value"), 700);
    put(*l, "kept", std::string("value"), 700);
    put(*l, "gone", std::nullopt, 800);  // the tombstone, written at 800
    seal(*l, 900);

    auto tombstone_batch = [&]() -> std::optional<std::vector<uint8_t>> {
        for (auto& b : batches_of(*l)) {
            proto::record_reader r(b);
            proto::record x;
            while (r.next(x))
                if (!x.value) return b;
        }
        return std::nullopt;
    };
    REQUIRE(clean_and_delete(fx, cleaner, l, 1000).ran);
    auto first = tombstone_batch();
    REQUIRE(first);
    auto h = batch::header_view::parse(*first);
    REQUIRE(h);
    CHECK(h->crc_ok());
    CHECK(h->has_delete_horizon());
    CHECK((h->attributes() & batch::delete_horizon_flag) != 0);
    CHECK(h->delete_horizon_ms() == std::optional<int64_t>(6000));  // cleaning time + delete.retention.ms
    CHECK(h->base_offset() == 2);
    // The record keeps its own timestamp; the batch's max timestamp is unchanged.
    CHECK(h->max_timestamp() == 800);
    auto recs = compared_records(*l);
    REQUIRE(recs.size() == 2);
    CHECK(recs[1] == rec{2, 800, std::string("gone"), std::nullopt, false, -1});

    // Before the horizon the batch stays as it is (its horizon is not pushed back).
    REQUIRE(clean_all(fx, cleaner, l, 5999).ran);
    CHECK(tombstone_batch() == first);

    // The flagged batch travels unchanged: fetched as file ranges and as a copy, and appended
    // by a follower (replication keeps the bytes as they are).
    auto copy = l->read_copy(offset(2), 1 << 20, l->log_end_offset());
    REQUIRE(copy.error == error_code::none);
    CHECK(copy.bytes == *first);
    auto ranges = l->read(offset(2), 1 << 20, l->log_end_offset());
    REQUIRE(ranges.ranges.size() == 1);
    std::vector<uint8_t> sent(static_cast<size_t>(ranges.ranges[0].length));
    REQUIRE(::pread(ranges.ranges[0].fd, sent.data(), sent.size(), ranges.ranges[0].offset) == static_cast<ssize_t>(sent.size()));
    CHECK(sent == *first);
    {
        auto replica = fx.open(dir / "r-0", cfg, clean_state());
        auto all = read_all(*l);
        REQUIRE(append_copy(*replica, all, at(6000, append_origin::replication)).error == error_code::none);
        CHECK(read_all(*replica) == all);
        replica->close();
    }

    // At the horizon the tombstone goes (the first cleaning already removed the value).
    auto report = clean_all(fx, cleaner, l, 6000);
    REQUIRE(report.ran);
    CHECK(report.records_removed == 1);
    CHECK_FALSE(tombstone_batch());
    recs = compared_records(*l);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].key == std::optional<std::string>("kept"));
}

TEST_CASE("compaction: aborted data goes, markers stay while their data does and go after their horizon") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto cfg = compacted_config(4096);
    cfg.delete_retention_ms = 1000;
    auto l = fx.open(dir / "c-0", cfg, clean_state());
    const auto coordinator = append_origin::coordinator;
    // Producer 7 commits "a"; producer 8 aborts "a" and "b", then commits "c" (its last batch).
    REQUIRE(append_copy(*l, txn_batch(7, 0, "a", "committed", 100), at(100)).error == error_code::none);
    REQUIRE(append_copy(*l, txn_batch(8, 0, "a", "aborted", 100), at(100)).error == error_code::none);   // offset 1
    seal(*l, 100);
    REQUIRE(append_copy(*l, txn_batch(8, 1, "b", "aborted", 100), at(100)).error == error_code::none);   // offset 2
    REQUIRE(append_copy(*l, marker(7, proto::control_type::commit, 100), at(100, coordinator)).error == error_code::none);  // 3
    REQUIRE(append_copy(*l, marker(8, proto::control_type::abort, 100), at(100, coordinator)).error == error_code::none);   // 4
    seal(*l, 100);
    REQUIRE(append_copy(*l, txn_batch(8, 2, "c", "committed", 100), at(100)).error == error_code::none); // 5
    REQUIRE(append_copy(*l, marker(8, proto::control_type::commit, 100), at(100, coordinator)).error == error_code::none);  // 6
    seal(*l, 100);
    const auto before_index = l->aborted_transactions(offset(0), l->log_end_offset());
    REQUIRE(before_index.size() == 1);
    CHECK(before_index[0].producer_id == 8);
    CHECK(before_index[0].first_offset == 1);
    CHECK(before_index[0].last_offset == 4);

    auto values = [&] {
        std::vector<std::pair<int64_t, std::string>> out;
        for (const auto& r : compared_records(*l))
            if (!r.control) out.emplace_back(r.offset, *r.value);
        return out;
    };
    auto marker_offsets = [&] {
        std::vector<int64_t> out;
        for (const auto& r : compared_records(*l))
            if (r.control) out.push_back(r.offset);
        return out;
    };

    // Pass 1: the aborted records go; every marker stays (each one's data was read).
    auto report = clean_and_delete(fx, cleaner, l, 1000);
    REQUIRE(report.ran);
    CHECK(report.segments_replaced == 3);
    CHECK(report.groups_merged == 1);
    CHECK(l->segment_count() == 2);
    CHECK(values() == std::vector<std::pair<int64_t, std::string>>{{0, "committed"}, {5, "committed"}});
    CHECK(marker_offsets() == std::vector<int64_t>{3, 4, 6});
    // The merged segment's .txnindex lists the abort, with its original entry; the merged-away
    // sources have none.
    auto index = txn_index_file(dir / "c-0", 0);
    CHECK(index == before_index);
    CHECK(l->aborted_transactions(offset(0), l->log_end_offset()) == before_index);
    CHECK(names_in(dir / "c-0", ".txnindex") == std::vector<std::string>{"00000000000000000000.txnindex"});

    // Pass 2: no data of the aborted transaction is left: its marker gets a horizon (now +
    // delete.retention.ms) and leaves the txn index; commit markers with data stay untouched.
    report = clean_all(fx, cleaner, l, 2000);
    REQUIRE(report.ran);
    CHECK(marker_offsets() == std::vector<int64_t>{3, 4, 6});
    for (const auto& b : batches_of(*l)) {
        auto h = batch::header_view::parse(b);
        REQUIRE(h->crc_ok());
        if (h->is_control() && h->base_offset() == 4) CHECK(h->delete_horizon_ms() == std::optional<int64_t>(3000));
        else CHECK_FALSE(h->has_delete_horizon());
    }
    CHECK(l->aborted_transactions(offset(0), l->log_end_offset()).empty());
    CHECK(txn_index_file(dir / "c-0", 0).empty());

    // Before the horizon the marker stays; at it, it goes. The commit markers never do while
    // their data is in the log.
    report = clean_all(fx, cleaner, l, 2999);
    CHECK(marker_offsets() == std::vector<int64_t>{3, 4, 6});
    report = clean_all(fx, cleaner, l, 3000);
    CHECK(report.markers_removed == 1);
    CHECK(marker_offsets() == std::vector<int64_t>{3, 6});
    CHECK(values() == std::vector<std::pair<int64_t, std::string>>{{0, "committed"}, {5, "committed"}});

    // A restart reads the same log and the same (empty) txn indexes back.
    auto expect = compared_records(*l);
    l->prepare_close();
    REQUIRE(fx.flush_and_wait(*l) == error_code::none);
    l->close();
    l = fx.open(dir / "c-0", cfg, unclean_state(offset(0)));
    CHECK(compared_records(*l) == expect);
    CHECK(l->aborted_transactions(offset(0), l->log_end_offset()).empty());
    CHECK(l->last_stable_offset() == l->log_end_offset());
}

TEST_CASE("compaction: a producer's last batch survives as an empty batch and its sequence is rebuilt from the log") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto cfg = compacted_config(4096);
    auto l = fx.open(dir / "c-0", cfg, clean_state());
    for (int32_t seq = 0; seq < 3; ++seq)
        REQUIRE(append_copy(*l, txn_batch(11, seq, "c", "x" + std::to_string(seq), 100, false), at(100)).error == error_code::none);
    put(*l, "c", std::string("final"), 100);  // supersedes every record of producer 11
    seal(*l, 100);
    REQUIRE(clean_and_delete(fx, cleaner, l, 1000).ran);

    std::vector<std::vector<uint8_t>> of_11;
    for (auto& b : batches_of(*l))
        if (batch::header_view::parse(b)->producer_id() == 11) of_11.push_back(b);
    REQUIRE(of_11.size() == 1);
    auto h = batch::header_view::parse(of_11[0]);
    CHECK(h->crc_ok());
    CHECK(h->record_count() == 0);
    CHECK(h->base_offset() == 2);
    CHECK(h->last_offset() == 2);
    CHECK(h->base_sequence() == 2);

    // Without snapshots the producer table is rebuilt from the log: the sequence is still known.
    l->prepare_close();
    REQUIRE(fx.flush_and_wait(*l) == error_code::none);
    l->close();
    for (const auto& n : names_in(dir / "c-0", layout::snapshot_suffix)) std::remove((dir / "c-0" + "/" + n).c_str());
    l = fx.open(dir / "c-0", cfg, unclean_state(offset(0)));
    // Producer 11 is the only producer of this log.
    REQUIRE(l->producers().producers().size() == 1);
    CHECK(l->producers().producers().begin()->second.last_seq() == 2);
    CHECK(append_copy(*l, txn_batch(11, 5, "c", "gap", 2000, false), at(2000)).error == error_code::out_of_order_sequence_number);
    CHECK(append_copy(*l, txn_batch(11, 3, "c", "next", 2000, false), at(2000)).error == error_code::none);
}

TEST_CASE("compaction: a crash in the middle of a group swap recovers to a consistent log") {
    temp_dir dir;
    const std::string pdir = dir / "c-0";
    auto cfg = compacted_config(4096);
    std::vector<rec> original;
    std::vector<int64_t> bases{0};
    {
        log_fixture fx;
        auto l = fx.open(pdir, cfg, clean_state());
        // Four segments: overwritten keys, and an aborted transaction whose marker is in the third
        // (its batch, the producer's last, stays as an empty batch, so the marker and the txn
        // index entry stay too).
        for (int s = 0; s < 4; ++s) {
            for (int k = 0; k < 5; ++k) put(*l, "k" + std::to_string(k), "s" + std::to_string(s), 100);
            if (s == 1) REQUIRE(append_copy(*l, txn_batch(8, 0, "k0", "aborted", 100), at(100)).error == error_code::none);
            if (s == 2)
                REQUIRE(append_copy(*l, marker(8, proto::control_type::abort, 100), at(100, append_origin::coordinator)).error == error_code::none);
            seal(*l, 100);
            bases.push_back(l->log_end_offset().value());
        }
        original = compared_records(*l);
        l->prepare_close();
        REQUIRE(fx.flush_and_wait(*l) == error_code::none);
        l->close();
    }
    bases.pop_back();  // the last base is the empty active segment's
    REQUIRE(txn_index_file(pdir, bases[2]).size() == 1);

    // The compaction run by hand, as the cleaner thread would: sources are the sealed segments.
    compaction_plan plan;
    plan.dir = pdir;
    plan.options = segment_options::from(cfg);
    plan.map_budget_bytes = 1 << 20;
    plan.now_ms = 1000;
    std::vector<std::shared_ptr<segment>> segs;
    for (size_t i = 0; i < bases.size(); ++i) {
        int err = 0;
        auto seg = segment::open(pdir, offset(bases[i]), false, plan.options, 1000, &err);
        REQUIRE(seg);
        compaction_source src;
        src.seg = seg;
        src.file = seg->file();
        src.base_offset = offset(bases[i]);
        src.next_base_offset = offset(i + 1 < bases.size() ? bases[i + 1] : original.back().offset + 1);
        src.size = seg->size();
        src.last_modified_ms = seg->last_modified_ms();
        src.offset_index_entries = seg->offsets().entries();
        src.time_index_entries = seg->times().entries();
        src.aborted = txn_index_file(pdir, bases[i]);
        src.has_txn_index = file_exists(layout::segment_path(pdir, bases[i], layout::txn_index_suffix));
        plan.segments.push_back(src);
        segs.push_back(seg);
    }
    auto result = compact(plan);
    REQUIRE(result.error == 0);
    REQUIRE(result.groups.size() == 1);
    const auto& g = result.groups[0];
    REQUIRE(g.what == compacted_group::outcome::replaced);
    REQUIRE(g.end - g.first == 4);
    REQUIRE(g.txn_index_written);
    CHECK(g.aborted == txn_index_file(pdir, bases[2]));
    auto cleaned = g.cleaned;
    segs.clear();
    plan.segments.clear();

    auto txn_path = [&](int64_t base, std::string_view suffix) { return layout::txn_index_path(pdir, offset(base), suffix); };
    auto cleaned_to_swap = [&](bool with_log) {
        REQUIRE(std::rename(txn_path(0, layout::cleaned_suffix).c_str(), txn_path(0, layout::swap_suffix).c_str()) == 0);
        for (auto suffix : {layout::index_suffix, layout::time_index_suffix, layout::log_suffix}) {
            if (suffix == layout::log_suffix && !with_log) break;
            std::string stem = layout::segment_path(pdir, 0, suffix);
            REQUIRE(std::rename((stem + std::string(layout::cleaned_suffix)).c_str(), (stem + std::string(layout::swap_suffix)).c_str()) == 0);
        }
    };
    auto check_original = [&](samsa::storage::log& l) {
        CHECK(compared_records(l) == original);
        CHECK(l.aborted_transactions(offset(0), l.log_end_offset()).size() == 1);
        CHECK(names_in(pdir, ".cleaned").empty());
        CHECK(names_in(pdir, ".swap").empty());
    };
    auto check_cleaned = [&](samsa::storage::log& l) {
        auto recs = compared_records(l);
        CHECK(recs.size() < original.size());
        std::map<std::string, std::optional<std::string>> latest_before, latest_after;
        for (const auto& r : original)
            if (!r.control && r.producer_id != 8) latest_before[*r.key] = r.value;
        for (const auto& r : recs) {
            CHECK(r.value != std::optional<std::string>("aborted"));
            if (!r.control) latest_after[*r.key] = r.value;
        }
        CHECK(latest_after == latest_before);
        CHECK(l.log_end_offset() == offset(original.back().offset) + 1);
        CHECK(l.segment_count() == 2);
        CHECK(names_in(pdir, ".log").size() == 2);
        CHECK(names_in(pdir, ".swap").empty());
        CHECK(names_in(pdir, ".deleted").empty());
        // The merged segment's txn index replaced the sources' ones.
        CHECK(names_in(pdir, ".txnindex") == std::vector<std::string>{"00000000000000000000.txnindex"});
        CHECK(l.aborted_transactions(offset(0), l.log_end_offset()) == g.aborted);
    };

    log_fixture fx;
    SUBCASE("only .cleaned files: the cleaning never happened") {
        cleaned.reset();
        auto l = fx.open(pdir, cfg, unclean_state(offset(0)));
        check_original(*l);
    }
    SUBCASE("some files renamed .swap but not the .log: the swap was not committed") {
        cleaned.reset();
        cleaned_to_swap(false);
        auto l = fx.open(pdir, cfg, unclean_state(offset(0)));
        check_original(*l);
    }
    SUBCASE("every file .swap, the sources untouched: the swap is completed over all four") {
        cleaned.reset();
        cleaned_to_swap(true);
        auto l = fx.open(pdir, cfg, clean_state());
        CHECK(l->load_info().rebuilt_indexes >= 1);
        check_cleaned(*l);
    }
    SUBCASE("the other sources already .deleted and the txn index in place: the swap is completed") {
        cleaned.reset();
        cleaned_to_swap(true);
        for (size_t i = 1; i < bases.size(); ++i)
            for (auto suffix : {layout::log_suffix, layout::index_suffix, layout::time_index_suffix}) {
                std::string p = layout::segment_path(pdir, bases[i], suffix);
                REQUIRE(std::rename(p.c_str(), (p + std::string(layout::deleted_suffix)).c_str()) == 0);
            }
        std::remove(txn_path(bases[2], "").c_str());
        REQUIRE(std::rename(txn_path(0, layout::swap_suffix).c_str(), txn_path(0, "").c_str()) == 0);
        auto l = fx.open(pdir, cfg, unclean_state(offset(0)));
        check_cleaned(*l);
    }
}
