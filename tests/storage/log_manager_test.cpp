// storage/log_manager: partitions across log dirs, checkpoints, the clean-shutdown marker.
#include "storage/log_manager.h"

#include "storage/checkpoint_file.h"
#include "storage/layout.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <type_traits>

using namespace samsa::storage;
using namespace samsa::storage::test;
using samsa::protocol::error_code;
using samsa::protocol::offset;
using samsa::protocol::partition_id;

// A partition is named by a partition_id: neither a raw integer nor another kind of id names one.
static_assert(std::is_constructible_v<topic_partition, std::string, partition_id>);
static_assert(!std::is_constructible_v<topic_partition, std::string, int32_t>);
static_assert(!std::is_constructible_v<topic_partition, std::string, samsa::protocol::leader_epoch>);

namespace {

log_manager_config config_for(const temp_dir& a, const temp_dir& b) {
    log_manager_config c;
    c.log_dirs = {a / "logs", b / "logs"};
    c.defaults.segment_bytes = 4096;
    c.defaults.index_interval_bytes = 256;
    c.defaults.segment_index_bytes = 4096;
    c.defaults.message_timestamp_after_max_ms = no_limit;
    return c;
}

void append_some(samsa::storage::log& l, int n) {
    for (int i = 0; i < n; ++i) REQUIRE(append_copy(l, make_simple_batch(2, 300, 100 + i), at(1000)).error == error_code::none);
}

// Opens `m` at `now`: locks its dirs and loads (or recovers) the logs in them.
void open_at(log_manager& m, int64_t now) {
    std::string error;
    REQUIRE(m.open(now, &error));
}

// Creates partition t-0 in `m` with the defaults and appends `batches` batches to it.
std::shared_ptr<samsa::storage::log> t0_with(log_manager& m, const log_manager_config& cfg, int batches) {
    std::string error;
    auto l = m.get_or_create({"t", partition_id(0)}, cfg.defaults, 1000, &error);
    append_some(*l, batches);
    return l;
}

} // namespace

TEST_CASE("log_manager: partitions spread over log dirs and are found again after a clean stop") {
    temp_dir a, b;
    auto cfg = config_for(a, b);
    {
        log_manager m(cfg, {});
        open_at(m, 1000);
        std::string error;
        for (int p = 0; p < 4; ++p) {
            auto l = m.get_or_create({"orders", partition_id(p)}, cfg.defaults, 1000, &error);
            REQUIRE(l);
            append_some(*l, 5 + p);
        }
        CHECK(m.get_or_create({"orders", partition_id(0)}, cfg.defaults, 1000, &error) == m.get({"orders", partition_id(0)}));
        CHECK(file_exists(a / "logs/orders-0/00000000000000000000.log"));
        CHECK(file_exists(b / "logs/orders-1/00000000000000000000.log"));
        m.close();
    }
    CHECK(file_exists(a / "logs/.kafka_cleanshutdown"));
    CHECK(file_exists(b / "logs/.kafka_cleanshutdown"));
    checkpoint::offset_map rp;
    REQUIRE(checkpoint::read_offsets(a / "logs/recovery-point-offset-checkpoint", &rp) == checkpoint::read_status::ok);
    CHECK(rp.at({"orders", partition_id(0)}) == offset(10));
    CHECK(rp.at({"orders", partition_id(2)}) == offset(14));

    log_manager m(cfg, {});
    open_at(m, 2000);
    // Opening removes the marker: a crash from now on is unclean.
    CHECK_FALSE(file_exists(a / "logs/.kafka_cleanshutdown"));
    CHECK(m.size() == 4);
    for (int p = 0; p < 4; ++p) {
        auto l = m.get({"orders", partition_id(p)});
        REQUIRE(l);
        CHECK(l->log_end_offset() == offset(2 * (5 + p)));
        CHECK(l->load_info().clean_shutdown);
        CHECK(l->load_info().recovered_segments == 0);
    }
    m.close();
}

TEST_CASE("log_manager: without a clean stop, logs recover from their recovery points") {
    temp_dir a, b;
    auto cfg = config_for(a, b);
    {
        log_manager m(cfg, {});
        open_at(m, 1000);
        auto l = t0_with(m, cfg, 30);
        bool flushed = false;
        l->flush([&](error_code) { flushed = true; });
        while (!flushed) m.wait_and_run_completions(50);
        m.write_checkpoints(true);
        append_some(*l, 3);
        // No close(): the destructor is a crash as far as the files can tell.
    }
    CHECK_FALSE(file_exists(a / "logs/.kafka_cleanshutdown"));
    log_manager m(cfg, {});
    open_at(m, 2000);
    auto l = m.get({"t", partition_id(0)});
    REQUIRE(l);
    CHECK_FALSE(l->load_info().clean_shutdown);
    CHECK(l->load_info().recovered_segments == 1);
    CHECK(l->log_end_offset() == offset(66));
    m.close();
}

TEST_CASE("log_manager: a missing recovery-point checkpoint recovers everything") {
    temp_dir a, b;
    auto cfg = config_for(a, b);
    {
        log_manager m(cfg, {});
        open_at(m, 1000);
        t0_with(m, cfg, 30);
        m.write_checkpoints(true);
    }
    REQUIRE(::unlink((a / "logs/recovery-point-offset-checkpoint").c_str()) == 0);
    log_manager m(cfg, {});
    open_at(m, 2000);
    auto l = m.get({"t", partition_id(0)});
    CHECK(l->load_info().recovered_segments == l->load_info().segments);
    CHECK(l->log_end_offset() == offset(60));
    m.close();
}

TEST_CASE("log_manager: the log start offset is checkpointed and survives a crash") {
    temp_dir a, b;
    auto cfg = config_for(a, b);
    {
        log_manager m(cfg, {});
        open_at(m, 1000);
        auto l = t0_with(m, cfg, 10);
        l->set_high_watermark(l->log_end_offset());
        REQUIRE(l->delete_records_before(offset(7)).error == error_code::none);
        m.tick(1001);  // a moved start offset is written right away
        m.write_checkpoints(true);
    }
    checkpoint::offset_map so;
    REQUIRE(checkpoint::read_offsets(a / "logs/log-start-offset-checkpoint", &so) == checkpoint::read_status::ok);
    CHECK(so.at({"t", partition_id(0)}) == offset(7));
    log_manager m(cfg, {});
    open_at(m, 2000);
    CHECK(m.get({"t", partition_id(0)})->log_start_offset() == offset(7));
    CHECK(m.get({"t", partition_id(0)})->read(offset(6), 100, offset(20)).error == error_code::offset_out_of_range);
    m.close();
}

TEST_CASE("log_manager: removing a partition deletes its directory") {
    temp_dir a, b;
    auto cfg = config_for(a, b);
    log_manager m(cfg, {});
    open_at(m, 1000);
    std::string error;
    auto l = m.get_or_create({"gone", partition_id(3)}, cfg.defaults, 1000, &error);
    append_some(*l, 3);
    auto range = l->read(offset(0), 1 << 20, l->log_end_offset());
    l.reset();
    CHECK(m.remove({"gone", partition_id(3)}));
    CHECK_FALSE(m.remove({"gone", partition_id(3)}));
    CHECK_FALSE(m.get({"gone", partition_id(3)}));
    m.close();
    CHECK_FALSE(file_exists(a / "logs/gone-3"));
    CHECK_FALSE(file_exists(b / "logs/gone-3"));
    // A reader that held a range still reads its bytes.
    REQUIRE(range.ranges.size() == 1);
    std::vector<uint8_t> buf(static_cast<size_t>(range.ranges[0].length));
    CHECK(::pread(range.ranges[0].fd, buf.data(), buf.size(), 0) == static_cast<ssize_t>(buf.size()));
}

TEST_CASE("log_manager: a log that cannot be made for want of descriptors leaves no directory behind") {
    temp_dir a, b;
    auto cfg = config_for(a, b);
    log_manager m(cfg, {});
    open_at(m, 1000);
    std::string error;
    {
        fd_limit limit(0);
        CHECK_FALSE(m.get_or_create({"starved", partition_id(0)}, cfg.defaults, 1000, &error));
    }
    CHECK(error.find("Too many open files") != std::string::npos);
    CHECK_FALSE(m.get({"starved", partition_id(0)}));
    CHECK(m.size() == 0);
    CHECK_FALSE(file_exists(a / "logs/starved-0"));
    CHECK_FALSE(file_exists(b / "logs/starved-0"));

    // Once descriptors are back the partition is made as usual.
    REQUIRE(m.get_or_create({"starved", partition_id(0)}, cfg.defaults, 1000, &error));
    m.close();
    // Only the good log is left: what the failure made was removed, not just renamed.
    size_t entries = 0;
    for (const auto* dir : {&a, &b})
        for (const auto& e : std::filesystem::directory_iterator(*dir / "logs"))
            if (e.path().filename().string().starts_with("starved")) ++entries;
    CHECK(entries == 1);
}

TEST_CASE("log_manager: a log dir is locked against a second manager") {
    temp_dir a, b;
    auto cfg = config_for(a, b);
    log_manager m(cfg, {});
    open_at(m, 1000);
    log_manager second(cfg, {});
    std::string error;
    CHECK_FALSE(second.open(1000, &error));
    CHECK(error.find("in use") != std::string::npos);
    m.close();
}

TEST_CASE("log_manager: the wake function is called from background threads") {
    temp_dir a, b;
    auto cfg = config_for(a, b);
    std::atomic<int> wakes{0};
    log_manager m(cfg, [&] { ++wakes; });
    open_at(m, 1000);
    auto l = t0_with(m, cfg, 2);
    bool done = false;
    l->flush([&](error_code e) {
        CHECK(e == error_code::none);
        done = true;
    });
    while (!done) m.wait_and_run_completions(50);
    CHECK(wakes > 0);
    m.close();
}
