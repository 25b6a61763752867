// storage/log_cleaner and storage/compaction: the latest record per key survives, tombstones go
// after delete.retention.ms, transactions keep their meaning, compressed batches are rewritten,
// and an interrupted swap is finished or discarded at the next start.
#include "storage/log_cleaner.h"

#include "protocol/record_batch_builder.h"
#include "storage/checkpoint_file.h"
#include "storage/compaction.h"
#include "storage/layout.h"
#include "storage/log_manager.h"
#include "tests/storage/cleaner_test_support.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>

using namespace samsa::storage;
using namespace samsa::storage::test;
using samsa::protocol::error_code;
using samsa::protocol::offset;
using samsa::protocol::partition_id;
namespace proto = samsa::protocol;
namespace batch = samsa::protocol::batch;

namespace {

// Appends records (key, value) one batch each, at `now`.
void put(samsa::storage::log& l, const std::vector<std::pair<std::string, std::optional<std::string>>>& kvs, int64_t now) {
    for (const auto& [k, v] : kvs) {
        auto r = append_copy(l, make_batch({{k, v, now}}), at(now));
        REQUIRE(r.error == error_code::none);
    }
    l.set_high_watermark(l.log_end_offset());
}

// `rounds` rounds of writes to key0, key1, ... key<keys - 1>, round r writing "v<r>".
std::vector<std::pair<std::string, std::optional<std::string>>> overwrites(int rounds, int keys) {
    std::vector<std::pair<std::string, std::optional<std::string>>> kvs;
    for (int round = 0; round < rounds; ++round)
        for (int k = 0; k < keys; ++k) kvs.push_back({"key" + std::to_string(k), "v" + std::to_string(round)});
    return kvs;
}

std::map<std::string, std::optional<std::string>> latest(const std::vector<stored_record>& recs) {
    std::map<std::string, std::optional<std::string>> out;
    for (const auto& r : recs)
        if (r.key && !r.control) out[*r.key] = r.value;
    return out;
}

} // namespace

TEST_CASE("log_cleaner: only the latest record of every key survives, at its offset") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto l = fx.open(dir / "c-0", compacted_config(2048), clean_state());
    put(*l, overwrites(12, 8), 5000);
    auto before = records_of(*l);
    REQUIRE(l->segment_count() > 3);
    auto d = log_cleaner::measure(*l, 5000);
    CHECK(d.due);
    CHECK(d.ratio == 1.0);

    auto report = clean(fx, cleaner, l, 5000, false);
    CHECK(report.error == "");
    CHECK(report.ran);
    CHECK(report.records_removed > 0);
    CHECK(report.bytes_after < report.bytes_before);
    auto after = records_of(*l);
    CHECK(latest(after) == latest(before));
    CHECK(after.size() < before.size());
    // Every surviving record sits at its original offset with its original value.
    std::map<int64_t, stored_record> by_offset;
    for (const auto& r : before) by_offset.emplace(r.offset, r);
    for (const auto& r : after) {
        REQUIRE(by_offset.count(r.offset));
        CHECK(by_offset.at(r.offset).value == r.value);
    }
    // In the cleaned part, no key appears twice.
    std::map<std::string, int> seen;
    for (const auto& r : after)
        if (offset(r.offset) < report.cleaner_offset) CHECK(++seen[*r.key] == 1);
    CHECK(l->log_start_offset() == offset(0));
    CHECK(l->log_end_offset() == offset(96));
    CHECK(l->cleaner_offset() == report.cleaner_offset);
    // Nothing left to do until new data arrives.
    CHECK_FALSE(log_cleaner::measure(*l, 5000).due);
    // Reads at any offset still work, including offsets that were removed.
    for (offset o(0); o < offset(96); ++o) CHECK(l->read(o, 1, offset(96)).error == error_code::none);
    // A reopen finds the cleaned files and their indexes sound.
    l->prepare_close();
    REQUIRE(fx.flush_and_wait(*l) == error_code::none);
    l->close();
    l = fx.open(dir / "c-0", compacted_config(2048), clean_state());
    CHECK(l->load_info().rebuilt_indexes == 0);
    CHECK(records_of(*l).size() == after.size());
}

TEST_CASE("log_cleaner: tombstones survive one cleaning and go after delete.retention.ms") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto cfg = compacted_config(2048);
    cfg.delete_retention_ms = 10000;
    auto l = fx.open(dir / "c-0", cfg, clean_state());
    std::vector<std::pair<std::string, std::optional<std::string>>> kvs;
    for (int k = 0; k < 30; ++k) kvs.push_back({"key" + std::to_string(k), std::string(40, 'x')});
    for (int k = 0; k < 30; k += 2) kvs.push_back({"key" + std::to_string(k), std::nullopt});  // tombstones
    put(*l, kvs, 1000);
    REQUIRE(l->roll(1000) == error_code::none);
    auto count_tombstones = [&] {
        int n = 0;
        for (const auto& r : records_of(*l)) n += r.value ? 0 : 1;
        return n;
    };
    REQUIRE(clean(fx, cleaner, l, 2000).ran);
    // The first cleaning keeps every tombstone (the values they delete go) and sets its horizon.
    CHECK(count_tombstones() == 15);
    CHECK(latest(records_of(*l)).size() == 30);

    // KIP-534: the first cleaning stamped the tombstones' batches with a delete horizon of
    // 2000 + delete.retention.ms; a cleaning at or after it removes them.
    auto more = [&](int from, int64_t now) {
        std::vector<std::pair<std::string, std::optional<std::string>>> extra;
        for (int k = from; k < from + 30; ++k) extra.push_back({"key" + std::to_string(k), std::string(40, 'y')});
        put(*l, extra, now);
        REQUIRE(l->roll(now) == error_code::none);
        l->set_high_watermark(l->log_end_offset());
        REQUIRE(clean(fx, cleaner, l, now).ran);
    };
    SUBCASE("before delete.retention.ms has passed they stay") {
        more(100, 5000);
        more(200, 6000);
        CHECK(count_tombstones() == 15);
    }
    SUBCASE("after it they are removed, and the keys they deleted with them") {
        more(100, 20000);
        more(200, 21000);
        CHECK(count_tombstones() == 0);
        auto m = latest(records_of(*l));
        CHECK_FALSE(m.count("key0"));
        CHECK(m.count("key1"));
        CHECK(m.count("key101"));
    }
}

TEST_CASE("log_cleaner: aborted transactions go, markers and open transactions stay") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto l = fx.open(dir / "c-0", compacted_config(2048), clean_state());
    // Producer 7 commits "a", producer 8 aborts "a" (which must not shadow 7's value), producer 9
    // leaves its transaction open.
    REQUIRE(append_copy(*l, txn_batch(7, 0, "a", "committed", 1000), at(1000)).error == error_code::none);
    REQUIRE(append_copy(*l, txn_batch(8, 0, "a", "aborted", 1000), at(1000)).error == error_code::none);
    REQUIRE(append_copy(*l, txn_batch(8, 1, "b", "aborted", 1000), at(1000)).error == error_code::none);
    REQUIRE(append_copy(*l, marker(7, proto::control_type::commit, 1000), at(1000, append_origin::coordinator)).error == error_code::none);
    REQUIRE(append_copy(*l, marker(8, proto::control_type::abort, 1000), at(1000, append_origin::coordinator)).error == error_code::none);
    REQUIRE(append_copy(*l, txn_batch(9, 0, "a", "open", 1000), at(1000)).error == error_code::none);
    // An idempotent producer (11, not transactional) whose records are all superseded later.
    REQUIRE(append_copy(*l, txn_batch(11, 0, "c", "x1", 1000, false), at(1000)).error == error_code::none);
    REQUIRE(append_copy(*l, txn_batch(11, 1, "c", "x2", 1000, false), at(1000)).error == error_code::none);
    REQUIRE(append_copy(*l, make_batch({{"c", std::string("final"), 1000}}), at(1000)).error == error_code::none);
    std::vector<std::pair<std::string, std::optional<std::string>>> filler;
    for (int i = 0; i < 40; ++i) filler.push_back({"f" + std::to_string(i), std::string(60, 'z')});
    put(*l, filler, 1000);
    REQUIRE(clean(fx, cleaner, l, 2000).ran);

    auto recs = records_of(*l);
    std::vector<std::string> a_values;
    int markers = 0;
    for (const auto& r : recs) {
        if (r.control) ++markers;
        else if (r.key == "a") a_values.push_back(*r.value);
        CHECK(r.value != std::optional<std::string>("aborted"));
    }
    CHECK(markers == 2);
    // Producer 9's record stays (its transaction is undecided) and producer 7's committed one
    // stays: the aborted and the open record must not supersede it.
    CHECK(a_values == std::vector<std::string>{"committed", "open"});
    // Producer 8's data went; its marker stays. Producer 11's last batch
    // survives as an empty batch, so its offsets and sequence numbers are still accounted for.
    auto bytes = read_all(*l);
    size_t pos = 0;
    int batches_of_8 = 0, batches_of_11 = 0;
    while (pos < bytes.size()) {
        auto h = batch::header_view::parse(std::span<const uint8_t>(bytes).subspan(pos));
        if (h->producer_id() == 8) {
            // Its marker, and its last data batch emptied (Kafka keeps a producer's last batch).
            CHECK((h->is_control() || (h->record_count() == 0 && h->base_sequence() == 1 && h->base_offset() == 2)));
            ++batches_of_8;
        }
        if (h->producer_id() == 11) {
            CHECK(h->record_count() == 0);
            CHECK(h->base_offset() == 7);
            CHECK(h->base_sequence() == 1);
            CHECK(h->crc_ok());
            ++batches_of_11;
        }
        pos += h->total_size();
    }
    CHECK(batches_of_8 == 2);
    CHECK(batches_of_11 == 1);
    CHECK(latest(recs).at("c") == std::optional<std::string>("final"));
}

TEST_CASE("log_cleaner: compressed batches are decompressed and rewritten with their codec") {
    for (auto codec : {batch::compression::gzip, batch::compression::snappy, batch::compression::lz4,
                       batch::compression::zstd}) {
        CAPTURE(static_cast<int>(codec));
        temp_dir dir;
        log_fixture fx;
        log_cleaner cleaner(fx.context(), 1 << 20);
        auto l = fx.open(dir / "c-0", compacted_config(2048), clean_state());
        for (int round = 0; round < 6; ++round) {
            proto::batch_options o;
            o.codec = codec;
            proto::record_batch_builder b(o);
            std::vector<std::string> keys, values;
            for (int k = 0; k < 6; ++k) {
                keys.push_back("k" + std::to_string(k));
                values.push_back("round" + std::to_string(round) + std::string(200, 'q'));
            }
            for (size_t k = 0; k < keys.size(); ++k)
                b.append({proto::bytes_view(reinterpret_cast<const uint8_t*>(keys[k].data()), keys[k].size()),
                          proto::bytes_view(reinterpret_cast<const uint8_t*>(values[k].data()), values[k].size()),
                          {},
                          1000 + round});
            auto built = b.build();
            REQUIRE(built.status == proto::codec_status::ok);
            // Every other round writes only half the keys, so batches lose only some records.
            REQUIRE(append_copy(*l, built.bytes, at(2000)).error == error_code::none);
            if (round % 2) REQUIRE(append_copy(*l, make_batch({{"k0", std::string("x"), 1}}), at(2000)).error == error_code::none);
        }
        REQUIRE(l->roll(2000) == error_code::none);
        l->set_high_watermark(l->log_end_offset());
        auto before = records_of(*l);
        REQUIRE(clean(fx, cleaner, l, 3000).ran);
        auto after = records_of(*l);
        CHECK(latest(after) == latest(before));
        CHECK(after.size() == 6);
        for (const auto& r : after)
            if (r.key != "k0") CHECK(r.codec == codec);
    }
}

TEST_CASE("log_cleaner: a truncation during cleaning discards the result") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto l = fx.open(dir / "c-0", compacted_config(2048), clean_state());
    put(*l, overwrites(10, 6), 1000);
    bool done = false;
    cleaning_report report;
    REQUIRE(cleaner.start(l, 1000, true, [&](const cleaning_report& r) {
        report = r;
        done = true;
    }));
    // Truncate before the result comes back: the key map may rest on removed records.
    REQUIRE(l->truncate_to(offset(30)) == error_code::none);
    while (!done) fx.completions.wait_and_run(50);
    CHECK_FALSE(report.ran);
    auto recs = records_of(*l);
    CHECK(recs.size() == 30);
    fx.deleter.drain();
    CHECK(file_exists(layout::segment_path(dir / "c-0", 0, layout::log_suffix)));
    CHECK_FALSE(file_exists(layout::segment_path(dir / "c-0", 0, layout::log_suffix) + ".cleaned"));
    CHECK_FALSE(file_exists(layout::segment_path(dir / "c-0", 0, layout::log_suffix) + ".swap"));
}

TEST_CASE("log_cleaner: a reader of a replaced segment keeps reading the old bytes") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto l = fx.open(dir / "c-0", compacted_config(2048), clean_state());
    put(*l, overwrites(10, 6), 1000);
    auto range = l->read(offset(0), 1 << 20, l->log_end_offset());
    auto expect = l->read_copy(offset(0), 1 << 20, l->log_end_offset()).bytes;
    REQUIRE(clean(fx, cleaner, l, 2000).ran);
    CHECK(l->read_copy(offset(0), 1 << 20, l->log_end_offset()).bytes != expect);
    std::vector<uint8_t> got(static_cast<size_t>(range.ranges[0].length));
    CHECK(::pread(range.ranges[0].fd, got.data(), got.size(), range.ranges[0].offset) == static_cast<ssize_t>(got.size()));
    CHECK(got == expect);
}

TEST_CASE("log_cleaner: an interrupted swap is completed or discarded at the next start") {
    temp_dir dir;
    std::vector<stored_record> expected;
    {
        log_fixture fx;
        auto l = fx.open(dir / "c-0", compacted_config(2048), clean_state());
        put(*l, overwrites(10, 6), 1000);
        expected = records_of(*l);
        l->prepare_close();
        REQUIRE(fx.flush_and_wait(*l) == error_code::none);
        l->close();
    }
    // Run the compaction by hand and stop where a crash could: *.cleaned files, or *.swap files.
    log_fixture fx;
    auto l = fx.open(dir / "c-0", compacted_config(2048), clean_state());
    compaction_plan plan;
    plan.dir = dir / "c-0";
    plan.options = segment_options::from(compacted_config(2048));
    plan.map_budget_bytes = 1 << 20;
    plan.delete_retention_ms = 0;
    plan.now_ms = 2000;
    // The first segment alone, cleaned against its own keys.
    int err = 0;
    auto seg = segment::open(plan.dir, offset(0), false, plan.options, 2000, &err);
    REQUIRE(seg);
    compaction_source src;
    src.seg = seg;
    src.file = seg->file();
    src.size = seg->size();
    src.last_modified_ms = seg->last_modified_ms();
    // Its next segment's base: one past the last batch the first segment holds.
    src.next_base_offset = offset(0);
    {
        auto bytes = l->read_copy(offset(0), 1 << 30, l->log_end_offset()).bytes;
        size_t pos = 0;
        while (pos < bytes.size()) {
            auto h = batch::header_view::parse(std::span<const uint8_t>(bytes).subspan(pos));
            src.next_base_offset = offset(h->last_offset() + 1);
            pos += h->total_size();
        }
    }
    plan.segments.push_back(src);
    plan.first_dirty = 0;
    auto result = compact(plan);
    REQUIRE(result.error == 0);
    REQUIRE(result.groups.size() == 1);
    REQUIRE(result.groups[0].what == compacted_group::outcome::replaced);
    auto cleaned = result.groups[0].cleaned;
    l->close();
    seg.reset();

    SUBCASE("a crash before the swap was committed: the cleaned files are dropped") {
        cleaned.reset();
        auto reopened = fx.open(dir / "c-0", compacted_config(2048), unclean_state(offset(0)));
        CHECK(records_of(*reopened).size() == expected.size());
        CHECK_FALSE(file_exists(plan.dir + "/00000000000000000000.log.cleaned"));
    }
    SUBCASE("a crash after the swap was committed: the swap is completed") {
        REQUIRE(cleaned->rename_files(layout::swap_suffix) == 0);
        cleaned.reset();
        auto reopened = fx.open(dir / "c-0", compacted_config(2048), clean_state());
        CHECK(reopened->load_info().rebuilt_indexes >= 1);
        auto recs = records_of(*reopened);
        CHECK(recs.size() < expected.size());
        CHECK(latest(recs) == latest(expected));
        CHECK_FALSE(file_exists(plan.dir + "/00000000000000000000.log.swap"));
        CHECK(reopened->log_end_offset() == offset(60));
    }
}

TEST_CASE("log_cleaner: records without a key are refused on compacted topics") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "c-0", compacted_config(2048), clean_state());
    auto r = append_copy(*l, make_batch({{std::nullopt, std::string("v"), 1000}}), at(1000));
    CHECK(r.error == error_code::invalid_record);
    CHECK(append_copy(*l, make_batch({{std::string("k"), std::nullopt, 1000}}), at(1000)).error == error_code::none);
}

TEST_CASE("log_cleaner: the dirty ratio and min.compaction.lag.ms decide when a log is due") {
    temp_dir dir;
    log_fixture fx;
    log_cleaner cleaner(fx.context(), 1 << 20);
    auto cfg = compacted_config(2048);
    cfg.min_cleanable_dirty_ratio = 0.5;
    auto l = fx.open(dir / "c-0", cfg, clean_state());
    std::vector<std::pair<std::string, std::optional<std::string>>> kvs;
    for (int i = 0; i < 60; ++i) kvs.push_back({"key" + std::to_string(i), std::string(50, 'a')});
    put(*l, kvs, 1000);
    REQUIRE(clean(fx, cleaner, l, 1000).ran);
    // Unique keys: nothing was removed, and the cleaned part is now all of it.
    CHECK_FALSE(log_cleaner::measure(*l, 1000).due);
    // A little new data: the dirty ratio stays low.
    put(*l, {{"key1", std::string(50, 'b')}, {"key2", std::string(50, 'b')}}, 1000);
    REQUIRE(l->roll(1000) == error_code::none);
    auto d = log_cleaner::measure(*l, 1000);
    CHECK(d.dirty_bytes > 0);
    CHECK(d.ratio < 0.5);
    CHECK_FALSE(d.due);
    CHECK_FALSE(cleaner.start(l, 1000, false));
    // min.compaction.lag.ms holds back segments with recent records.
    cfg.min_compaction_lag_ms = 60000;
    l->set_config(cfg);
    CHECK(log_cleaner::measure(*l, 1000).dirty_bytes == 0);
    // max.compaction.lag.ms forces a cleaning however low the ratio.
    cfg.min_compaction_lag_ms = 0;
    cfg.max_compaction_lag_ms = 100;
    l->set_config(cfg);
    CHECK(log_cleaner::measure(*l, 5000).forced);
    CHECK(log_cleaner::measure(*l, 5000).due);
}

TEST_CASE("log_cleaner: log_manager cleans due logs on tick and checkpoints the cleaner offset") {
    temp_dir dir;
    log_manager_config mc;
    mc.log_dirs = {dir / "logs"};
    mc.cleaner_backoff_ms = 0;
    mc.defaults = compacted_config(2048);
    {
        log_manager m(mc, {});
        std::string error;
        REQUIRE(m.open(1000, &error));
        auto l = m.get_or_create({"compacted", partition_id(0)}, mc.defaults, 1000, &error);
        put(*l, overwrites(10, 6), 1000);
        m.tick(2000);
        REQUIRE(m.cleaner()->busy());
        while (m.cleaner()->busy()) m.wait_and_run_completions(50);
        CHECK(l->cleaner_offset() > offset(0));
        m.tick(2001);
        m.close();
    }
    checkpoint::offset_map co;
    REQUIRE(checkpoint::read_offsets(dir / "logs/cleaner-offset-checkpoint", &co) == checkpoint::read_status::ok);
    CHECK(co.at({"compacted", partition_id(0)}) > offset(0));
    log_manager m(mc, {});
    std::string error;
    REQUIRE(m.open(3000, &error));
    CHECK(m.get({"compacted", partition_id(0)})->cleaner_offset() == co.at({"compacted", partition_id(0)}));
    m.close();
}

TEST_CASE("log_cleaner: random appends, tombstones, cleanings and re-opens keep every key's latest value") {
    const char* env = std::getenv("SAMSA_CLEANER_ROUNDS");
    const int rounds = env && *env ? std::atoi(env) : 25;
    std::mt19937 rng(std::random_device{}());
    temp_dir dir;
    auto fx = std::make_unique<log_fixture>();
    auto cleaner = std::make_unique<log_cleaner>(fx->context(), 4096);  // a small map: partial cleanings
    auto cfg = compacted_config(2048);
    cfg.delete_retention_ms = 1 << 30;  // tombstones stay, so the model's view is exact
    auto l = fx->open(dir / "c-0", cfg, clean_state());
    std::map<std::string, std::optional<std::string>> model;      // latest value per key
    std::map<int64_t, std::optional<std::string>> written;         // every record, by offset
    // Wall-clock time: after a re-open, segments' modification times come from the files.
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    for (int round = 0; round < rounds; ++round) {
        CAPTURE(round);
        int n = 5 + static_cast<int>(rng() % 40);
        for (int i = 0; i < n; ++i) {
            std::string key = "k" + std::to_string(rng() % 25);
            std::optional<std::string> value;
            if (rng() % 6) value = std::to_string(round) + ":" + std::string(rng() % 80, 'v');
            auto r = append_copy(*l, make_batch({{key, value, now}}), at(now));
            REQUIRE(r.error == error_code::none);
            model[key] = value;
            written[r.base_offset.value()] = value;
        }
        l->set_high_watermark(l->log_end_offset());
        if (rng() % 2) REQUIRE(l->roll(now) == error_code::none);
        if (rng() % 3) {
            bool done = false;
            if (cleaner->start(l, now, true, [&](const cleaning_report& r) {
                    CHECK(r.error == "");
                    done = true;
                }))
                while (!done) fx->completions.wait_and_run(50);
        }
        if (rng() % 5 == 0) {
            cleaner.reset();
            l->prepare_close();
            REQUIRE(fx->flush_and_wait(*l) == error_code::none);
            l->close();
            fx = std::make_unique<log_fixture>();
            cleaner = std::make_unique<log_cleaner>(fx->context(), 4096);
            const offset cleaned = l->cleaner_offset();
            l = fx->open(dir / "c-0", cfg, clean_state());
            l->set_cleaner_offset(cleaned);
            l->set_high_watermark(l->log_end_offset());
        }
        now += 10;
        auto recs = records_of(*l);
        REQUIRE(latest(recs) == model);
        for (const auto& r : recs) REQUIRE(written.at(r.offset) == r.value);
    }
    cleaner.reset();
    fx->settle();
}
