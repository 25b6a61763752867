// storage/log: appends, reads, rolls, truncation, DeleteRecords, retention, timestamps, epochs.
#include "storage/log.h"

#include "protocol/record_batch.h"
#include "storage/checkpoint_file.h"
#include "storage/layout.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

using namespace samsa::storage;
using namespace samsa::storage::test;
using samsa::protocol::error_code;
using samsa::protocol::offset;
using samsa::protocol::leader_epoch;
namespace batch = samsa::protocol::batch;

namespace {

log_config small_config(int32_t segment_bytes = 4096) {
    log_config c;
    c.segment_bytes = segment_bytes;
    c.index_interval_bytes = 256;
    c.segment_index_bytes = 4096;
    c.message_timestamp_after_max_ms = no_limit;
    return c;
}

std::vector<int64_t> base_offsets_of(const std::vector<uint8_t>& bytes) {
    std::vector<int64_t> out;
    size_t pos = 0;
    while (pos < bytes.size()) {
        auto h = batch::header_view::parse(std::span<const uint8_t>(bytes).subspan(pos));
        REQUIRE(h);
        CHECK(h->crc_ok());
        out.push_back(h->base_offset());
        pos += h->total_size();
    }
    return out;
}

// Appends `n` batches of two 300-byte records (timestamps 100 + i), each at time 1000.
void append_some(samsa::storage::log& l, int n) {
    for (int i = 0; i < n; ++i) REQUIRE(append_copy(l, make_simple_batch(2, 300, 100 + i), at(1000)).error == error_code::none);
}

} // namespace

TEST_CASE("log: appends assign consecutive offsets and reads return whole batches") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    CHECK(l->log_end_offset() == offset(0));
    auto b1 = make_simple_batch(3, 10, 100);
    auto b2 = make_simple_batch(2, 10, 200);
    auto r1 = l->append(b1, at(1000));
    REQUIRE(r1.error == error_code::none);
    CHECK(r1.base_offset == offset(0));
    CHECK(r1.last_offset == offset(2));
    CHECK(r1.log_append_time == -1);
    auto r2 = l->append(b2, at(1000));
    CHECK(r2.base_offset == offset(3));
    CHECK(r2.last_offset == offset(4));
    CHECK(l->log_end_offset() == offset(5));

    auto all = l->read_copy(offset(0), 1 << 20, l->log_end_offset());
    REQUIRE(all.error == error_code::none);
    CHECK(base_offsets_of(all.bytes) == std::vector<int64_t>{0, 3});
    // The stored bytes are the appended bytes with the base offset patched in.
    CHECK(std::equal(b1.begin() + 8, b1.end(), all.bytes.begin() + 8));

    // A read that starts inside a batch begins with that whole batch.
    auto mid = l->read_copy(offset(4), 1 << 20, l->log_end_offset());
    CHECK(base_offsets_of(mid.bytes) == std::vector<int64_t>{3});
    auto ranges = l->read(offset(1), 1 << 20, l->log_end_offset());
    REQUIRE(ranges.ranges.size() == 1);
    CHECK(ranges.ranges[0].offset == 0);
    CHECK(ranges.first_batch_offset == offset(0));
    CHECK(ranges.size() == b1.size() + b2.size());
}

TEST_CASE("log: reads never pass the upper bound and stop at max_bytes on a batch boundary") {
    temp_dir dir;
    log_fixture fx;
    auto cfg = small_config(1 << 20);
    auto l = fx.open(dir / "t-0", cfg, clean_state());
    std::vector<size_t> sizes;
    for (int i = 0; i < 20; ++i) {
        auto b = make_simple_batch(2, 50, 100 + i);
        sizes.push_back(b.size());
        REQUIRE(l->append(b, at(1000)).error == error_code::none);
    }
    REQUIRE(l->log_end_offset() == offset(40));
    // Upper bound 10: batches 0..4 (offsets 0..9) and nothing of the batch holding 10.
    auto r = l->read_copy(offset(0), 1 << 20, offset(10));
    CHECK(base_offsets_of(r.bytes) == std::vector<int64_t>{0, 2, 4, 6, 8});
    // An upper bound inside a batch excludes that batch.
    r = l->read_copy(offset(0), 1 << 20, offset(11));
    CHECK(base_offsets_of(r.bytes) == std::vector<int64_t>{0, 2, 4, 6, 8});
    // Reading at the upper bound returns nothing, without error.
    r = l->read_copy(offset(10), 1 << 20, offset(10));
    CHECK(r.error == error_code::none);
    CHECK(r.bytes.empty());
    // max_bytes of two and a half batches gives two whole batches.
    r = l->read_copy(offset(0), static_cast<int32_t>(sizes[0] * 2 + sizes[0] / 2), offset(40));
    CHECK(base_offsets_of(r.bytes) == std::vector<int64_t>{0, 2});
    // max_bytes smaller than the first batch: the whole first batch, or nothing without min_one.
    r = l->read_copy(offset(6), 10, offset(40));
    CHECK(base_offsets_of(r.bytes) == std::vector<int64_t>{6});
    r = l->read_copy(offset(6), 10, offset(40), false);
    CHECK(r.bytes.empty());
}

TEST_CASE("log: offsets outside [log start, log end] are out of range") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    auto b = make_simple_batch(5, 10, 100);
    REQUIRE(l->append(b, at(1000)).error == error_code::none);
    CHECK(l->read(offset(6), 1000, offset(5)).error == error_code::offset_out_of_range);
    CHECK(l->read(offset(-1), 1000, offset(5)).error == error_code::offset_out_of_range);
    auto at_end = l->read(offset(5), 1000, offset(5));
    CHECK(at_end.error == error_code::none);
    CHECK(at_end.ranges.empty());
}

TEST_CASE("log: invalid batches are refused before anything is written") {
    temp_dir dir;
    log_fixture fx;
    auto cfg = small_config();
    cfg.max_message_bytes = 1000;
    auto l = fx.open(dir / "t-0", cfg, clean_state());
    auto good = make_simple_batch(2, 10, 100);

    SUBCASE("a flipped byte fails the CRC") {
        auto bad = good;
        bad.at(batch::header_size + 3) ^= 1;
        auto both = good;
        both.insert(both.end(), bad.begin(), bad.end());
        auto r = l->append(both, at(1000));
        CHECK(r.error == error_code::corrupt_message);
    }
    SUBCASE("a batch cut short is corrupt") {
        std::vector<uint8_t> cut(good.begin(), good.end() - 1);
        CHECK(l->append(cut, at(1000)).error == error_code::corrupt_message);
    }
    SUBCASE("trailing bytes after the last batch are corrupt") {
        auto extra = good;
        extra.push_back(0);
        CHECK(l->append(extra, at(1000)).error == error_code::corrupt_message);
    }
    SUBCASE("magic other than 2 is corrupt") {
        auto bad = good;
        bad[batch::magic_at] = 1;
        CHECK(l->append(bad, at(1000)).error == error_code::corrupt_message);
    }
    SUBCASE("a batch over max.message.bytes is too large") {
        auto big = make_simple_batch(1, 2000, 100);
        CHECK(l->append(big, at(1000)).error == error_code::message_too_large);
    }
    SUBCASE("batches larger than a segment are a record list too large") {
        std::vector<uint8_t> many;
        for (int i = 0; i < 60; ++i) {
            auto b = make_simple_batch(1, 60, 100);
            many.insert(many.end(), b.begin(), b.end());
        }
        CHECK(l->append(many, at(1000)).error == error_code::record_list_too_large);
    }
    SUBCASE("a record count that disagrees with the offset delta is invalid") {
        auto bad = good;
        batch::store_be32(bad.data() + batch::record_count_at, 5);
        batch::recompute_crc(bad);
        CHECK(l->append(bad, at(1000)).error == error_code::invalid_record);
    }
    SUBCASE("clients may not write control batches") {
        batch_options o;
        o.attributes = static_cast<int16_t>(batch::control_flag);
        auto ctl = make_batch({{std::string("k"), std::string("v"), 100}}, o);
        CHECK(l->append(ctl, at(1000)).error == error_code::invalid_record);
        CHECK(l->append(ctl, at(1000, append_origin::coordinator)).error == error_code::none);
    }
    SUBCASE("timestamps beyond message.timestamp.after.max.ms are invalid") {
        auto c = cfg;
        c.message_timestamp_after_max_ms = 3600 * 1000;
        l->set_config(c);
        auto future = make_simple_batch(1, 10, 1000 + 2 * 3600 * 1000);
        CHECK(l->append(future, at(1000)).error == error_code::invalid_timestamp);
    }
    if (l->log_end_offset() == offset(0)) {
        CHECK(file_size(layout::segment_path(dir / "t-0", 0, layout::log_suffix)) == 0);
    }
}

TEST_CASE("log: LogAppendTime stamps the append time and keeps the CRC valid") {
    temp_dir dir;
    log_fixture fx;
    auto cfg = small_config();
    cfg.message_timestamp_type = timestamp_type::log_append_time;
    auto l = fx.open(dir / "t-0", cfg, clean_state());
    auto b = make_simple_batch(3, 10, 5);
    auto r = l->append(b, at(777777));
    REQUIRE(r.error == error_code::none);
    CHECK(r.log_append_time == 777777);
    auto bytes = l->read_copy(offset(0), 1 << 20, l->log_end_offset()).bytes;
    auto h = batch::header_view::parse(bytes);
    REQUIRE(h);
    CHECK(h->crc_ok());
    CHECK(h->log_append_time());
    CHECK(h->max_timestamp() == 777777);
    CHECK(l->max_timestamp().timestamp == 777777);
}

TEST_CASE("log: a batch whose header max timestamp is -1 gets the max of its records") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    // As sarama before 1.26 writes them: the records carry timestamps, the header does not.
    auto b = make_simple_batch(3, 10, 5000);
    batch::set_max_timestamp_and_recrc(b, -1, false);
    REQUIRE(l->append(b, at(6000)).error == error_code::none);
    auto bytes = l->read_copy(offset(0), 1 << 20, l->log_end_offset()).bytes;
    auto h = batch::header_view::parse(bytes);
    REQUIRE(h);
    CHECK(h->crc_ok());
    CHECK_FALSE(h->log_append_time());
    CHECK(h->max_timestamp() == 5002);
    CHECK(l->max_timestamp().timestamp == 5002);
    auto f = l->offset_for_timestamp(5001);
    REQUIRE(f);
    CHECK(f->offset == offset(1));
}

TEST_CASE("log: segments roll by segment.bytes and reads continue across them") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    offset next(0);
    for (int i = 0; i < 30; ++i) {
        auto r = append_copy(*l, make_simple_batch(2, 300, 100 + i), at(1000));
        REQUIRE(r.error == error_code::none);
        CHECK(r.base_offset == next);
        next = r.last_offset + 1;
    }
    CHECK(l->segment_count() > 2);
    CHECK(file_exists(layout::segment_path(dir / "t-0", 0, layout::log_suffix)));
    // Every offset is readable, each read starting with the batch that holds it.
    for (offset o(0); o < next; ++o) {
        auto r = l->read_copy(o, 1, next);
        REQUIRE(r.error == error_code::none);
        auto bases = base_offsets_of(r.bytes);
        REQUIRE(bases.size() == 1);
        CHECK(bases[0] == o.value() - o.value() % 2);
    }
    // Sealed segments have their index files trimmed to their entries.
    auto idx = layout::segment_path(dir / "t-0", 0, layout::index_suffix);
    CHECK(file_size(idx) % 8 == 0);
    CHECK(file_size(idx) < 4096);
}

TEST_CASE("log: the active segment reserves blocks ahead of its end and gives them back when it rolls") {
    temp_dir dir;
    {
        // Not every file system can allocate past the end of a file (then nothing is reserved).
        const std::string probe = dir / "probe";
        const int fd = ::open(probe.c_str(), O_RDWR | O_CREAT, 0644);
        REQUIRE(fd >= 0);
        const bool supported = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536) == 0;
        ::close(fd);
        if (!supported) {
            MESSAGE("skipped: fallocate(FALLOC_FL_KEEP_SIZE) is not supported here");
            return;
        }
    }
    auto allocated = [](const std::string& path) {
        struct stat st{};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        return static_cast<uint64_t>(st.st_blocks) * 512;
    };
    log_config c = small_config(1 << 20);
    log_fixture fx;
    auto l = fx.open(dir / "t-0", c, clean_state());
    offset next(0);
    for (int i = 0; i < 40; ++i) {
        auto r = append_copy(*l, make_simple_batch(4, 1000, 100 + i), at(1000));
        REQUIRE(r.error == error_code::none);
        next = r.last_offset + 1;
    }
    const auto path = layout::segment_path(dir / "t-0", 0, layout::log_suffix);
    const uint64_t size = file_size(path);
    // The size is the batches' bytes; the blocks reach past it, but not past segment.bytes.
    CHECK(size > 100'000);
    CHECK(allocated(path) >= size + 64 * 1024);
    CHECK(allocated(path) <= 1024 * 1024);
    auto whole = l->read_copy(offset(0), 1 << 30, next);
    REQUIRE(whole.error == error_code::none);
    CHECK(whole.bytes.size() == size);
    CHECK(base_offsets_of(whole.bytes).size() == 40);

    // Rolling seals the segment: the file keeps its size and gives back the reserved blocks.
    REQUIRE(l->roll(1000) == error_code::none);
    CHECK(file_size(path) == size);
    CHECK(allocated(path) < size + 4096);

    // A truncation drops the reservation with the batches; appends reserve again after it.
    auto r = append_copy(*l, make_simple_batch(4, 1000, 200), at(1000));
    REQUIRE(r.error == error_code::none);
    const auto active = layout::segment_path(dir / "t-0", r.base_offset.value(), layout::log_suffix);
    CHECK(allocated(active) >= 64 * 1024);
    CHECK(allocated(active) > file_size(active));
    REQUIRE(l->truncate_to(r.base_offset) == error_code::none);
    CHECK(file_size(active) == 0);
    CHECK(allocated(active) == 0);
}

TEST_CASE("log: preallocate sizes a new segment to segment.bytes without reserving its disk, as Kafka does") {
    // Kafka sets the file's length; blocks reserved for every empty segment would fill the disk
    // of a broker with many partitions.
    temp_dir dir;
    auto allocated = [](const std::string& path) {
        struct stat st{};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        return static_cast<uint64_t>(st.st_blocks) * 512;
    };
    log_config c = small_config(64 << 20);
    c.preallocate = true;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", c, clean_state());
    const auto path = layout::segment_path(dir / "t-0", 0, layout::log_suffix);
    CHECK(file_size(path) == 64u << 20);
    CHECK(allocated(path) < 1 << 20);
    auto r = append_copy(*l, make_simple_batch(4, 1000, 100), at(1000));
    REQUIRE(r.error == error_code::none);
    CHECK(allocated(path) < 1 << 20);
    // Rolling trims the file to its batches.
    REQUIRE(l->roll(1000) == error_code::none);
    CHECK(file_size(path) < 8192);
    const auto active = layout::segment_path(dir / "t-0", r.last_offset.value() + 1, layout::log_suffix);
    CHECK(file_size(active) == 64u << 20);
    CHECK(allocated(active) < 1 << 20);
}

TEST_CASE("log: segments roll by segment.ms measured on the batches' timestamps") {
    temp_dir dir;
    log_fixture fx;
    auto cfg = small_config(1 << 20);
    cfg.segment_ms = 1000;
    auto l = fx.open(dir / "t-0", cfg, clean_state());
    REQUIRE(append_copy(*l, make_simple_batch(1, 10, 10000), at(20000)).error == error_code::none);
    REQUIRE(append_copy(*l, make_simple_batch(1, 10, 10500), at(20000)).error == error_code::none);
    // Kafka rolls once the age exceeds segment.ms, not when it reaches it.
    REQUIRE(append_copy(*l, make_simple_batch(1, 10, 11000), at(20000)).error == error_code::none);
    CHECK(l->segment_count() == 1);
    REQUIRE(append_copy(*l, make_simple_batch(1, 10, 11001), at(20000)).error == error_code::none);
    CHECK(l->segment_count() == 2);
    CHECK(file_exists(layout::segment_path(dir / "t-0", 3, layout::log_suffix)));
}

namespace {

// Opens a new log with `cfg`, appends one batch every `step_ms` of batch time and returns, for
// each roll, how old the segment's first batch was when the next batch rolled it.
std::vector<int64_t> ages_at_roll(const log_config& cfg, int rolls, int64_t step_ms) {
    temp_dir dir;
    log_fixture fx;
    auto owned = fx.open(dir / "t-0", cfg, clean_state());
    auto& l = *owned;
    std::vector<int64_t> ages;
    int64_t t = 100'000;
    int64_t first_of_segment = t;
    size_t segments = l.segment_count();
    while (static_cast<int>(ages.size()) < rolls) {
        // Keyed, so that compacted topics take it too.
        REQUIRE(append_copy(l, make_batch({{"k", "v", t}}), at(t)).error == error_code::none);
        if (l.segment_count() != segments) {
            ages.push_back(t - first_of_segment);
            first_of_segment = t;
            segments = l.segment_count();
        }
        t += step_ms;
    }
    return ages;
}

} // namespace

TEST_CASE("log: without segment.jitter.ms every segment rolls at the same age") {
    auto cfg = small_config(1 << 20);
    cfg.segment_ms = 1000;
    for (int64_t age : ages_at_roll(cfg, 10, 10)) CHECK(age == 1010);
}

TEST_CASE("log: segment.jitter.ms takes a random amount off each segment's roll age") {
    auto cfg = small_config(1 << 20);
    cfg.segment_ms = 1000;
    cfg.segment_jitter_ms = 500;
    const auto ages = ages_at_roll(cfg, 20, 10);
    for (int64_t age : ages) {
        // The jitter is below min(segment.jitter.ms, segment.ms): the age passes 500 and at most 1000.
        CHECK(age > 500);
        CHECK(age <= 1010);
    }
    // Twenty segments with one draw each: all rolling at one age would mean no jitter (the chance
    // of that with jitter is 50^-19 at this 10 ms step).
    CHECK(std::count(ages.begin(), ages.end(), ages.front()) < static_cast<long>(ages.size()));
}

TEST_CASE("log: a compacted topic rolls at max.compaction.lag.ms when it is below segment.ms") {
    auto cfg = small_config(1 << 20);
    cfg.segment_ms = 100'000;
    cfg.cleanup_compact = true;
    cfg.max_compaction_lag_ms = 300;
    for (int64_t age : ages_at_roll(cfg, 5, 10)) CHECK(age == 310);
}

TEST_CASE("log: truncate_to removes the batches at and after the offset") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    append_some(*l, 30);
    size_t segments = l->segment_count();
    REQUIRE(segments > 3);

    CHECK(l->truncate_to(offset(20)) == error_code::none);
    CHECK(l->log_end_offset() == offset(20));
    CHECK(l->segment_count() < segments);
    CHECK(base_offsets_of(l->read_copy(offset(18), 1 << 20, offset(20)).bytes) == std::vector<int64_t>{18});
    // An offset inside a batch removes that whole batch.
    CHECK(l->truncate_to(offset(15)) == error_code::none);
    CHECK(l->log_end_offset() == offset(14));
    // Appends continue at the new end, in the segment that now is active.
    auto r = append_copy(*l, make_simple_batch(3, 10, 500), at(1000));
    CHECK(r.base_offset == offset(14));
    CHECK(base_offsets_of(l->read_copy(offset(12), 1 << 20, offset(17)).bytes) == std::vector<int64_t>{12, 14});
    // Truncating before the first segment starts the log over at that offset.
    CHECK(l->truncate_fully_and_start_at(offset(100), 1000) == error_code::none);
    CHECK(l->log_start_offset() == offset(100));
    CHECK(l->log_end_offset() == offset(100));
    CHECK(append_copy(*l, make_simple_batch(1, 10, 500), at(1000)).base_offset == offset(100));
}

TEST_CASE("log: delete_records_before moves the log start offset and deletes whole segments") {
    temp_dir dir;
    log_fixture fx;
    auto cfg = small_config();
    cfg.file_delete_delay_ms = 0;
    auto l = fx.open(dir / "t-0", cfg, clean_state());
    append_some(*l, 30);
    l->set_high_watermark(offset(50));
    CHECK(l->delete_records_before(offset(51)).error == error_code::offset_out_of_range);
    auto r = l->delete_records_before(offset(25));
    CHECK(r.error == error_code::none);
    CHECK(r.low_watermark == offset(25));
    CHECK(l->log_start_offset() == offset(25));
    CHECK(l->read(offset(24), 100, offset(50)).error == error_code::offset_out_of_range);
    // The batch holding 25 starts at 24: it is returned whole.
    CHECK(base_offsets_of(l->read_copy(offset(25), 1, offset(50)).bytes) == std::vector<int64_t>{24});
    // The first segment went: nothing in it is at or above 25.
    CHECK_FALSE(file_exists(layout::segment_path(dir / "t-0", 0, layout::log_suffix)));
    fx.deleter.drain();
    CHECK_FALSE(file_exists(layout::segment_path(dir / "t-0", 0, layout::log_suffix) + ".deleted"));
}

TEST_CASE("log: retention deletes whole old segments, renamed .deleted first") {
    temp_dir dir;
    log_fixture fx;
    auto cfg = small_config();
    cfg.file_delete_delay_ms = 60000;
    auto l = fx.open(dir / "t-0", cfg, clean_state());
    // Timestamps 1000 + i*1000: segment k holds the older records.
    for (int i = 0; i < 30; ++i)
        REQUIRE(append_copy(*l, make_simple_batch(2, 300, 1000 + i * 1000), at(40000)).error == error_code::none);
    size_t before = l->segment_count();
    auto first = layout::segment_path(dir / "t-0", 0, layout::log_suffix);
    l->set_high_watermark(l->log_end_offset());

    SUBCASE("by time") {
        auto c = cfg;
        c.retention_ms = 30000;  // now 40000: records older than 10000 are due
        l->set_config(c);
        size_t n = l->delete_old_segments(40000);
        CHECK(n >= 1);
        CHECK(l->segment_count() == before - n);
        CHECK(l->log_start_offset() > offset(0));
        CHECK(file_exists(first + ".deleted"));  // waiting out file.delete.delay.ms
        CHECK_FALSE(file_exists(first));
        // A segment goes only when all of it is older: the batch at 10000 (offset 18) stays.
        auto ts = l->offset_for_timestamp(10000);
        REQUIRE(ts);
        CHECK(ts->offset == offset(18));
        CHECK(l->log_start_offset() <= offset(18));
    }
    SUBCASE("by size") {
        auto c = cfg;
        c.retention_bytes = 5000;
        l->set_config(c);
        (void)l->delete_old_segments(40000);
        CHECK(l->size_bytes() >= 5000);
        CHECK(l->size_bytes() < 5000 + 4096);
    }
    SUBCASE("not past the high watermark") {
        auto c = cfg;
        c.retention_ms = 0;
        l->set_config(c);
        l->set_high_watermark(offset(0));
        CHECK(l->delete_old_segments(40000) == 0);
        l->set_high_watermark(l->log_end_offset());
        CHECK(l->delete_old_segments(40000) == before);
        // Every segment went; an empty one remains at the log end.
        CHECK(l->segment_count() == 1);
        CHECK(l->log_start_offset() == l->log_end_offset());
        CHECK(append_copy(*l, make_simple_batch(1, 10, 50000), at(50000)).base_offset == offset(60));
    }
    SUBCASE("not under cleanup.policy=compact alone") {
        auto c = cfg;
        c.retention_ms = 0;
        c.cleanup_delete = false;
        c.cleanup_compact = true;
        l->set_config(c);
        CHECK(l->delete_old_segments(40000) == 0);
    }
}

TEST_CASE("log: a file range stays readable after its segment is deleted") {
    temp_dir dir;
    log_fixture fx;
    auto cfg = small_config();
    cfg.file_delete_delay_ms = 0;
    auto l = fx.open(dir / "t-0", cfg, clean_state());
    append_some(*l, 30);
    auto r = l->read(offset(0), 1 << 20, l->log_end_offset());
    REQUIRE(r.ranges.size() == 1);
    auto expect = l->read_copy(offset(0), 1 << 20, l->log_end_offset()).bytes;
    l->set_high_watermark(l->log_end_offset());
    REQUIRE(l->delete_records_before(l->log_end_offset()).error == error_code::none);
    fx.deleter.drain();
    CHECK_FALSE(file_exists(layout::segment_path(dir / "t-0", 0, layout::log_suffix)));
    std::vector<uint8_t> got(static_cast<size_t>(r.ranges[0].length));
    CHECK(::pread(r.ranges[0].fd, got.data(), got.size(), r.ranges[0].offset) == static_cast<ssize_t>(got.size()));
    CHECK(got == expect);
}

TEST_CASE("log: offset_for_timestamp finds the first record that reaches the timestamp") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    // Timestamps 100, 200, ... (batch i holds offsets 2i, 2i+1 at 100(i+1) and +1).
    for (int i = 0; i < 40; ++i) REQUIRE(append_copy(*l, make_simple_batch(2, 100, 100 * (i + 1)), at(1000)).error == error_code::none);
    REQUIRE(l->segment_count() > 1);
    for (int i = 0; i < 40; ++i) {
        auto f = l->offset_for_timestamp(100 * (i + 1));
        REQUIRE(f);
        CHECK(f->offset == offset(2 * i));
        // The second record of the batch has the timestamp + 1: the answer is that record.
        auto r = l->offset_for_timestamp(100 * (i + 1) + 1);
        REQUIRE(r);
        CHECK(r->offset == offset(2 * i + 1));
        CHECK(r->timestamp == 100 * (i + 1) + 1);
        auto g = l->offset_for_timestamp(100 * (i + 1) + 50);
        if (i + 1 < 40) {
            REQUIRE(g);
            CHECK(g->offset == offset(2 * (i + 1)));
        } else {
            CHECK_FALSE(g);
        }
    }
    CHECK(l->offset_for_timestamp(0)->offset == offset(0));
    auto m = l->max_timestamp();
    CHECK(m.timestamp == 4001);
    CHECK(m.offset == offset(79));
}

TEST_CASE("log: leader epochs are recorded, persisted and answer end-offset queries") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    CHECK(l->latest_epoch() == leader_epoch(-1));
    REQUIRE(append_copy(*l, make_simple_batch(3, 10, 100), at(1000, append_origin::client, leader_epoch(1))).error == error_code::none);
    REQUIRE(append_copy(*l, make_simple_batch(3, 10, 100), at(1000, append_origin::client, leader_epoch(1))).error == error_code::none);
    REQUIRE(append_copy(*l, make_simple_batch(3, 10, 100), at(1000, append_origin::client, leader_epoch(4))).error == error_code::none);
    CHECK(l->latest_epoch() == leader_epoch(4));
    CHECK(l->end_offset_for_epoch(leader_epoch(1)).end_offset == offset(6));
    CHECK(l->end_offset_for_epoch(leader_epoch(1)).epoch == leader_epoch(1));
    CHECK(l->end_offset_for_epoch(leader_epoch(3)).epoch == leader_epoch(1));
    CHECK(l->end_offset_for_epoch(leader_epoch(3)).end_offset == offset(6));
    CHECK(l->end_offset_for_epoch(leader_epoch(4)).end_offset == offset(9));
    CHECK(l->epoch_for_offset(offset(5)) == leader_epoch(1));
    CHECK(l->epoch_for_offset(offset(6)) == leader_epoch(4));
    // The batch carries the epoch it was appended in.
    auto bytes = l->read_copy(offset(6), 1, offset(9)).bytes;
    CHECK(batch::header_view::parse(bytes)->partition_leader_epoch() == 4);
    fx.settle();
    std::vector<checkpoint::epoch_entry> entries;
    REQUIRE(checkpoint::read_epochs(dir / "t-0/leader-epoch-checkpoint", &entries) == checkpoint::read_status::ok);
    CHECK(entries == std::vector<checkpoint::epoch_entry>{{leader_epoch(1), offset(0)},
                                                         {leader_epoch(4), offset(6)}});
    // Truncation drops the epochs that started after the new end.
    CHECK(l->truncate_to(offset(6)) == error_code::none);
    CHECK(l->latest_epoch() == leader_epoch(1));
}

TEST_CASE("log: replication appends keep their offsets and refuse going backwards") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    batch_options o;
    o.base_offset = 10;
    o.leader_epoch = 3;
    auto b = make_batch({{std::nullopt, std::string("a"), 100}, {std::nullopt, std::string("b"), 101}}, o);
    auto r = l->append(b, at(1000, append_origin::replication));
    REQUIRE(r.error == error_code::none);
    CHECK(r.base_offset == offset(10));
    CHECK(l->log_end_offset() == offset(12));
    CHECK(l->latest_epoch() == leader_epoch(3));
    o.base_offset = 11;
    auto back = make_batch({{std::nullopt, std::string("c"), 100}}, o);
    CHECK(l->append(back, at(1000, append_origin::replication)).error == error_code::invalid_record);
}

TEST_CASE("log: flush advances the recovery point") {
    temp_dir dir;
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    REQUIRE(append_copy(*l, make_simple_batch(3, 10, 100), at(1000)).error == error_code::none);
    CHECK(l->recovery_point() == offset(0));
    CHECK(fx.flush_and_wait(*l) == error_code::none);
    CHECK(l->recovery_point() == offset(3));
}

TEST_CASE("log: flush.messages flushes by itself and many appends share one fsync") {
    temp_dir dir;
    log_fixture fx;
    auto cfg = small_config(1 << 20);
    cfg.flush_messages = 1;
    auto l = fx.open(dir / "t-0", cfg, clean_state());
    // Hold the flusher busy so the flushes requested by 50 appends queue up behind it.
    // Wait until the flusher runs the blocking job: a flush queued before it starts could be taken
    // in the same pass as that job, and the rest in a second pass.
    std::mutex gate;
    gate.lock();
    std::atomic<bool> entered{false};
    fx.flush.run([&gate, &entered] {
        entered = true;
        std::lock_guard hold(gate);
        return 0;
    }, {});
    while (!entered) std::this_thread::yield();
    uint64_t before = fx.flush.sync_count();
    for (int i = 0; i < 50; ++i) REQUIRE(append_copy(*l, make_simple_batch(1, 10, 100), at(1000)).error == error_code::none);
    gate.unlock();
    while (l->recovery_point() < offset(50)) fx.completions.wait_and_run(50);
    // One pass over the queue: the .log, the index files and the directory, once each.
    CHECK(fx.flush.sync_count() - before <= 4);
}

TEST_CASE("log: flush.ms flushes on tick") {
    temp_dir dir;
    log_fixture fx;
    auto cfg = small_config();
    cfg.flush_ms = 100;
    auto l = fx.open(dir / "t-0", cfg, clean_state(1000));
    REQUIRE(append_copy(*l, make_simple_batch(2, 10, 100), at(1000)).error == error_code::none);
    l->tick(1050);
    fx.settle();
    fx.completions.run();
    CHECK(l->recovery_point() == offset(0));
    l->tick(1100);
    while (l->recovery_point() < offset(2)) fx.completions.wait_and_run(50);
    CHECK(l->recovery_point() == offset(2));
}

TEST_CASE("log: a clean close and reopen finds the same data without scanning") {
    temp_dir dir;
    std::vector<uint8_t> before;
    {
        log_fixture fx;
        auto l = fx.open(dir / "t-0", small_config(), clean_state());
        for (int i = 0; i < 30; ++i)
            REQUIRE(append_copy(*l, make_simple_batch(2, 300, 100 + i), at(1000, append_origin::client, leader_epoch(2))).error == error_code::none);
        before = read_all(*l);
        REQUIRE(l->segment_count() > 2);
        l->prepare_close();
        REQUIRE(fx.flush_and_wait(*l) == error_code::none);
        fx.settle();
        l->close();
    }
    log_fixture fx;
    auto l = fx.open(dir / "t-0", small_config(), clean_state());
    CHECK(l->load_info().recovered_segments == 0);
    CHECK(l->load_info().rebuilt_indexes == 0);
    CHECK(l->log_end_offset() == offset(60));
    CHECK(l->latest_epoch() == leader_epoch(2));
    CHECK(l->max_timestamp().timestamp == 130);
    CHECK(read_all(*l) == before);
    CHECK(append_copy(*l, make_simple_batch(1, 10, 100), at(1000)).base_offset == offset(60));
}
