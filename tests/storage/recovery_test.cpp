// storage/recovery (through log::open): after an unclean stop the log is cut at the first invalid
// byte and indexes are rebuilt; after a clean stop nothing is scanned; corrupt indexes are rebuilt.
#include "storage/recovery.h"

#include "protocol/record_batch.h"
#include "storage/checkpoint_file.h"
#include "storage/file_handle.h"
#include "storage/layout.h"
#include "storage/log.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <fcntl.h>

using namespace samsa::storage;
using namespace samsa::storage::test;
using samsa::protocol::error_code;
using samsa::protocol::offset;
using samsa::protocol::leader_epoch;
namespace batch = samsa::protocol::batch;

namespace {

log_config config() {
    log_config c;
    c.segment_bytes = 8192;
    c.index_interval_bytes = 512;
    c.segment_index_bytes = 4096;
    c.message_timestamp_after_max_ms = no_limit;
    return c;
}

struct written {
    std::vector<size_t> batch_sizes;  // of the batches in the first segment, in order
    offset end{0};
};

// Appends `n` batches of 3 records (about 300 bytes each) and stops without a clean close: the
// files are as a crash would leave them, minus any unwritten page cache.
written fill(const std::string& dir, int n, std::optional<int32_t> epoch = std::nullopt) {
    log_fixture fx;
    auto l = fx.open(dir, config(), clean_state());
    written w;
    for (int i = 0; i < n; ++i) {
        auto b = make_simple_batch(3, 80, 1000 + i, static_cast<uint32_t>(i));
        auto r = l->append(b, at(5000, append_origin::client, leader_epoch(epoch.value_or(-1))));
        REQUIRE(r.error == error_code::none);
        if (l->segment_count() == 1) w.batch_sizes.push_back(b.size());
    }
    w.end = l->log_end_offset();
    fx.settle();
    return w;
}

std::string seg0(const std::string& dir, std::string_view suffix) {
    return layout::segment_path(dir, 0, suffix);
}

// Reads every batch from 0 and returns the last offset read + 1 (checks CRCs on the way).
offset readable_end(samsa::storage::log& l) {
    offset o = l.log_start_offset();
    while (o < l.log_end_offset()) {
        auto r = l.read_copy(o, 1 << 20, l.log_end_offset());
        REQUIRE(r.error == error_code::none);
        REQUIRE_FALSE(r.bytes.empty());
        size_t pos = 0;
        while (pos < r.bytes.size()) {
            auto h = batch::header_view::parse(std::span<const uint8_t>(r.bytes).subspan(pos));
            REQUIRE(h);
            REQUIRE(h->crc_ok());
            CHECK(offset(h->base_offset()) <= o);
            o = offset(h->last_offset()) + 1;
            pos += h->total_size();
        }
    }
    return o;
}

} // namespace

TEST_CASE("recovery: a flipped byte in a batch cuts the log at that batch") {
    temp_dir dir;
    auto w = fill(dir / "t-0", 10);
    size_t third = w.batch_sizes[0] + w.batch_sizes[1];
    flip_byte(seg0(dir / "t-0", layout::log_suffix), third + 70);
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(offset(0)));
    CHECK(l->log_end_offset() == offset(6));
    CHECK(l->load_info().truncated_bytes == 8 * w.batch_sizes[0]);
    CHECK(l->load_info().problem.find("CRC") != std::string::npos);
    CHECK(file_size(seg0(dir / "t-0", layout::log_suffix)) == static_cast<int64_t>(third));
    CHECK(readable_end(*l) == offset(6));
    // Offsets continue from the cut, never reused nor skipped.
    CHECK(append_copy(*l, make_simple_batch(1, 10, 1), at(5000)).base_offset == offset(6));
}

TEST_CASE("recovery: a segment cut mid-batch loses only the torn batch") {
    temp_dir dir;
    auto w = fill(dir / "t-0", 10);
    size_t keep = w.batch_sizes[0] * 4 + 100;
    cut_file(seg0(dir / "t-0", layout::log_suffix), keep);
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(offset(0)));
    CHECK(l->log_end_offset() == offset(12));
    CHECK(l->load_info().truncated_bytes == 100);
    CHECK(readable_end(*l) == offset(12));
}

TEST_CASE("recovery: a zero-filled preallocated tail is cut off") {
    temp_dir dir;
    auto w = fill(dir / "t-0", 5);
    append_zeros(seg0(dir / "t-0", layout::log_suffix), 3000);
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(offset(0)));
    CHECK(l->log_end_offset() == offset(15));
    CHECK(l->load_info().truncated_bytes == 3000);
    CHECK(l->load_info().problem.find("length") != std::string::npos);
    CHECK(readable_end(*l) == offset(15));
}

TEST_CASE("recovery: garbage after the last batch is cut off") {
    temp_dir dir;
    fill(dir / "t-0", 5);
    for (uint32_t seed = 1; seed <= 5; ++seed) {
        append_garbage(seg0(dir / "t-0", layout::log_suffix), 777, seed);
        log_fixture fx;
        auto l = fx.open(dir / "t-0", config(), unclean_state(offset(0)));
        CHECK(l->log_end_offset() == offset(15));
        CHECK(l->load_info().truncated_bytes == 777);
        l->close();
    }
}

TEST_CASE("recovery: a valid batch after an invalid one is not returned") {
    temp_dir dir;
    auto w = fill(dir / "t-0", 4);
    auto path = seg0(dir / "t-0", layout::log_suffix);
    // Garbage, then a well-formed batch with the right next offset: still cut at the garbage.
    append_garbage(path, 40, 9);
    batch_options o;
    o.base_offset = 12;
    append_bytes(path, make_batch({{std::nullopt, std::string("late"), 1}}, o));
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(offset(0)));
    CHECK(l->log_end_offset() == offset(12));
}

TEST_CASE("recovery: batches whose offsets go backwards are cut") {
    temp_dir dir;
    fill(dir / "t-0", 4);
    batch_options o;
    o.base_offset = 5;  // the log ends at 12
    append_bytes(seg0(dir / "t-0", layout::log_suffix), make_batch({{std::nullopt, std::string("old"), 1}}, o));
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(offset(0)));
    CHECK(l->log_end_offset() == offset(12));
    CHECK(l->load_info().problem.find("offsets") != std::string::npos);
}

TEST_CASE("recovery: segments after a torn segment are removed") {
    temp_dir dir;
    auto w = fill(dir / "t-0", 80);
    cut_file(seg0(dir / "t-0", layout::log_suffix), w.batch_sizes[0] * 2 + 5);
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(offset(0)));
    CHECK(l->log_end_offset() == offset(6));
    CHECK(l->segment_count() == 1);
    CHECK(l->load_info().segments >= 3);
    CHECK(l->load_info().removed_segments == l->load_info().segments - 1);
    CHECK(readable_end(*l) == offset(6));
    CHECK(append_copy(*l, make_simple_batch(1, 10, 1), at(5000)).base_offset == offset(6));
}

TEST_CASE("recovery: only segments from the recovery point on are scanned") {
    temp_dir dir;
    fill(dir / "t-0", 80);
    // Damage the first segment: below the recovery point it is trusted (its index is fine), so
    // the damage is not found. The recovery point 239 lies in the last segment.
    flip_byte(seg0(dir / "t-0", layout::log_suffix), 200);
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(offset(239)));
    REQUIRE(l->load_info().segments >= 3);
    CHECK(l->log_end_offset() == offset(240));
    CHECK(l->load_info().recovered_segments == 1);
    CHECK(l->load_info().truncated_bytes == 0);
}

TEST_CASE("recovery: a missing recovery-point checkpoint scans every segment") {
    temp_dir dir;
    fill(dir / "t-0", 80);
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(std::nullopt));
    CHECK(l->load_info().recovered_segments == l->load_info().segments);
    CHECK(l->log_end_offset() == offset(240));
    CHECK(readable_end(*l) == offset(240));
}

TEST_CASE("recovery: after a clean stop nothing is scanned, even a damaged batch") {
    temp_dir dir;
    fill(dir / "t-0", 10);
    {
        log_fixture fx;
        auto l = fx.open(dir / "t-0", config(), clean_state());
        l->prepare_close();
        REQUIRE(fx.flush_and_wait(*l) == error_code::none);
        l->close();
    }
    flip_byte(seg0(dir / "t-0", layout::log_suffix), 100);
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), clean_state());
    CHECK(l->load_info().recovered_segments == 0);
    CHECK(l->log_end_offset() == offset(30));
}

TEST_CASE("recovery: a corrupt index is rebuilt, never trusted") {
    temp_dir dir;
    fill(dir / "t-0", 80);
    auto index = seg0(dir / "t-0", layout::index_suffix);
    auto original = read_file(index);
    REQUIRE(original.size() >= 16);

    SUBCASE("garbage entries") {
        auto g = original;
        for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<uint8_t>(i * 37);
        write_file(index, g);
    }
    SUBCASE("a truncated trailing entry") { cut_file(index, original.size() - 3); }
    SUBCASE("entries pointing at the wrong batches") {
        auto g = original;
        std::swap_ranges(g.begin(), g.begin() + 4, g.begin() + 8);  // first two offsets swapped
        write_file(index, g);
    }
    SUBCASE("a missing index") { REQUIRE(::unlink(index.c_str()) == 0); }
    SUBCASE("a zero-filled index") { write_file(index, std::vector<uint8_t>(original.size() + 64, 0)); }

    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), clean_state());
    CHECK(l->load_info().rebuilt_indexes >= 1);
    CHECK(l->log_end_offset() == offset(240));
    // The rebuilt index is the one the appends wrote, entry for entry.
    l->prepare_close();
    REQUIRE(fx.flush_and_wait(*l) == error_code::none);
    CHECK(read_file(index) == original);
    CHECK(readable_end(*l) == offset(240));
}

TEST_CASE("recovery: a rebuilt active segment's indexes match the appended ones") {
    temp_dir dir;
    fill(dir / "t-0", 20);
    std::vector<uint8_t> clean_index, clean_time;
    {
        log_fixture fx;
        auto l = fx.open(dir / "t-0", config(), clean_state());
        l->prepare_close();
        REQUIRE(fx.flush_and_wait(*l) == error_code::none);
        l->close();
    }
    clean_index = read_file(seg0(dir / "t-0", layout::index_suffix));
    clean_time = read_file(seg0(dir / "t-0", layout::time_index_suffix));
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(offset(0)));
    CHECK(l->load_info().recovered_segments >= 1);
    l->prepare_close();
    REQUIRE(fx.flush_and_wait(*l) == error_code::none);
    CHECK(read_file(seg0(dir / "t-0", layout::index_suffix)) == clean_index);
    CHECK(read_file(seg0(dir / "t-0", layout::time_index_suffix)) == clean_time);
}

TEST_CASE("recovery: a missing leader-epoch checkpoint is rebuilt from the batches") {
    temp_dir dir;
    {
        log_fixture fx;
        auto l = fx.open(dir / "t-0", config(), clean_state());
        REQUIRE(append_copy(*l, make_simple_batch(2, 10, 1), at(5000, append_origin::client, leader_epoch(3))).error == error_code::none);
        REQUIRE(append_copy(*l, make_simple_batch(2, 10, 1), at(5000, append_origin::client, leader_epoch(7))).error == error_code::none);
        fx.settle();
    }
    auto ckpt = dir / "t-0/leader-epoch-checkpoint";
    SUBCASE("missing") { REQUIRE(::unlink(ckpt.c_str()) == 0); }
    SUBCASE("garbage") { write_file(ckpt, {'x', '\n', '9'}); }
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), unclean_state(offset(0)));
    CHECK(l->latest_epoch() == leader_epoch(7));
    CHECK(l->end_offset_for_epoch(leader_epoch(3)).end_offset == offset(2));
    fx.settle();
    std::vector<checkpoint::epoch_entry> entries;
    REQUIRE(checkpoint::read_epochs(ckpt, &entries) == checkpoint::read_status::ok);
    CHECK(entries == std::vector<checkpoint::epoch_entry>{{leader_epoch(3), offset(0)},
                                                         {leader_epoch(7), offset(2)}});
}

TEST_CASE("recovery: leftovers of interrupted operations are cleaned up") {
    temp_dir dir;
    fill(dir / "t-0", 5);
    write_file(dir / "t-0/00000000000000000000.log.deleted", {1, 2, 3});
    write_file(dir / "t-0/00000000000000000100.log.cleaned", {1, 2, 3});
    write_file(dir / "t-0/leader-epoch-checkpoint.tmp", {1, 2, 3});
    write_file(dir / "t-0/00000000000000000900.index", {1, 2, 3});  // no .log: orphan
    log_fixture fx;
    auto l = fx.open(dir / "t-0", config(), clean_state());
    CHECK(l->log_end_offset() == offset(15));
    CHECK_FALSE(file_exists(dir / "t-0/00000000000000000000.log.deleted"));
    CHECK_FALSE(file_exists(dir / "t-0/00000000000000000100.log.cleaned"));
    CHECK_FALSE(file_exists(dir / "t-0/leader-epoch-checkpoint.tmp"));
    CHECK_FALSE(file_exists(dir / "t-0/00000000000000000900.index"));
}

TEST_CASE("recovery: scan_log_file reports why it stopped") {
    temp_dir dir;
    fill(dir / "t-0", 3);
    int err = 0;
    auto f = samsa::storage::file_handle::open(seg0(dir / "t-0", layout::log_suffix), O_RDONLY, 0, &err);
    REQUIRE(f);
    int n = 0;
    auto r = scan_log_file(*f, static_cast<uint64_t>(f->size()), 0, offset(0), offset(0), [&](const batch_location&) { ++n; });
    CHECK(r.stop == scan_stop::end_of_file);
    CHECK(n == 3);
    CHECK(r.next_offset == offset(9));
    // The same bytes, claimed to start at offset 10, are offsets out of order.
    auto r2 = scan_log_file(*f, static_cast<uint64_t>(f->size()), 0, offset(0), offset(10), [](const batch_location&) {});
    CHECK(r2.stop == scan_stop::bad_offsets);
    CHECK(r2.valid_bytes == 0);
}

namespace {

// A .log file of about 9 MiB whose batches straddle the scan's 4 MiB read chunks: the header of
// the batch at `header_at` (4 MiB - 30) and the body of another across 8 MiB. Returns the batch
// positions (and the file's size as the last element).
std::vector<uint64_t> write_straddling_log(const std::string& path) {
    constexpr uint64_t header_at = (uint64_t{4} << 20) - 30;
    std::vector<uint8_t> file;
    std::vector<uint64_t> starts;
    int64_t offset = 0;
    auto add = [&](std::vector<uint8_t> b) {
        batch::set_base_offset(b, offset);
        offset = batch::header_view::parse(b)->last_offset() + 1;
        starts.push_back(file.size());
        file.insert(file.end(), b.begin(), b.end());
    };
    while (file.size() + 2 * 100000 < header_at) add(make_simple_batch(1, 100000, 1000, static_cast<uint32_t>(offset)));
    // One batch sized so that the next one starts exactly at header_at.
    size_t value = header_at - file.size();
    while (make_simple_batch(1, value, 1000).size() > header_at - file.size()) --value;
    auto filler = make_simple_batch(1, value, 1000);
    REQUIRE(file.size() + filler.size() == header_at);
    add(std::move(filler));
    while (file.size() < (uint64_t{9} << 20)) add(make_simple_batch(2, 70000, 1000, static_cast<uint32_t>(offset)));
    write_file(path, file);
    starts.push_back(file.size());
    return starts;
}

} // namespace

TEST_CASE("recovery: batches that straddle the scan's read chunks are checked like any other") {
    temp_dir dir;
    const auto starts = write_straddling_log(dir / "s.log");
    int err = 0;
    auto f = samsa::storage::file_handle::open(dir / "s.log", O_RDONLY, 0, &err);
    REQUIRE(f);
    std::vector<uint64_t> seen;
    auto r = scan_log_file(*f, starts.back(), 0, offset(0), offset(0), [&](const batch_location& b) { seen.push_back(b.position); });
    CHECK(r.stop == scan_stop::end_of_file);
    CHECK(r.valid_bytes == starts.back());
    CHECK(seen == std::vector<uint64_t>(starts.begin(), starts.end() - 1));
}

TEST_CASE("recovery: a flipped byte in a batch across two read chunks stops the scan at that batch") {
    temp_dir dir;
    const auto starts = write_straddling_log(dir / "s.log");
    const uint64_t header_at = (uint64_t{4} << 20) - 30;
    // The batch across 8 MiB, and the batch whose header is cut by 4 MiB (a flip in the header
    // part the CRC covers, then one in its body).
    auto across = [&](uint64_t at) {
        size_t i = 0;
        while (starts[i + 1] <= at) ++i;
        return i;
    };
    for (uint64_t flip : {(uint64_t{8} << 20) + 3, header_at + 25, header_at + 5000}) {
        CAPTURE(flip);
        write_straddling_log(dir / "s.log");
        flip_byte(dir / "s.log", flip);
        int err = 0;
        auto f = samsa::storage::file_handle::open(dir / "s.log", O_RDONLY, 0, &err);
        REQUIRE(f);
        auto r = scan_log_file(*f, starts.back(), 0, offset(0), offset(0), [](const batch_location&) {});
        CHECK(r.stop == scan_stop::bad_crc);
        CHECK(r.valid_bytes == starts[across(flip)]);
    }
    // Cut inside the batch across 8 MiB: torn there.
    write_straddling_log(dir / "s.log");
    cut_file(dir / "s.log", (size_t{8} << 20) + 3);
    int err = 0;
    auto f = samsa::storage::file_handle::open(dir / "s.log", O_RDONLY, 0, &err);
    REQUIRE(f);
    auto r = scan_log_file(*f, static_cast<uint64_t>(f->size()), 0, offset(0), offset(0), [](const batch_location&) {});
    CHECK(r.stop == scan_stop::torn);
    CHECK(r.valid_bytes == starts[across(uint64_t{8} << 20)]);
    // The file shorter than the size the scan was given (it shrank meanwhile): torn as well.
    auto r2 = scan_log_file(*f, starts.back(), 0, offset(0), offset(0), [](const batch_location&) {});
    CHECK(r2.stop == scan_stop::torn);
    CHECK(r2.valid_bytes == starts[across(uint64_t{8} << 20)]);
}
