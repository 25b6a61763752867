#include "broker/coordinator_partitions.h"

#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "tests/broker/fake_loop.h"
#include "tests/broker/memory_internal_log.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace samsa;
using namespace samsa::broker;
using protocol::error_code;
using protocol::partition_id;

namespace {

// Appends a one-record batch to the partition; returns its offset.
int64_t append_batch(test::memory_internal_log& log, int32_t partition) {
    const std::vector<uint8_t> value{static_cast<uint8_t>(partition), 1, 2};
    protocol::record_batch_builder builder;
    protocol::record_input in;
    in.value = protocol::bytes_view(value);
    in.timestamp = 1;
    builder.append(in);
    auto built = builder.build();
    REQUIRE(built.status == protocol::codec_status::ok);
    const int64_t at = log.end_offset(partition_id(partition));
    REQUIRE(log.append(partition_id(partition), built.bytes, 1) == error_code::none);
    return at;
}

// What the load told the coordinator, in order: "replay p: offsets", "finish p", "unreadable p".
struct recorded_steps {
    std::vector<std::string> events;
    std::vector<int64_t> offsets;  // base offsets of every replayed batch, in order

    coordinator_partitions::load_steps steps(const coordinator_partitions* watched = nullptr) {
        coordinator_partitions::load_steps s;
        s.replay = [this](partition_id p, protocol::bytes_view batches) {
            std::string e = "replay " + std::to_string(p.value()) + ":";
            while (batches.size() >= protocol::batch::log_overhead) {
                const auto h = protocol::batch::header_view::parse(batches);
                REQUIRE(h.has_value());
                offsets.push_back(h->base_offset());
                e += " " + std::to_string(h->base_offset());
                batches = batches.subspan(h->total_size());
            }
            events.push_back(e);
        };
        s.finish = [this, watched](partition_id p) {
            // The partition counts as loaded by the time its finish step runs.
            if (watched != nullptr) CHECK_FALSE(watched->loading(p));
            events.push_back("finish " + std::to_string(p.value()));
        };
        s.unreadable = [this](partition_id p, error_code e) {
            CHECK(e == error_code::kafka_storage_error);
            events.push_back("unreadable " + std::to_string(p.value()));
        };
        return s;
    }
};

} // namespace

TEST_CASE("coordinator_partitions: a partition read in several chunks replays all its batches in order") {
    test::memory_internal_log log;
    (void)log.create(1, 1024);
    for (int i = 0; i < 5; ++i) (void)append_batch(log, 0);
    log.batches_per_read = 2;
    test::fake_loop loop;
    coordinator_partitions parts("__internal", log, loop, 4, 1024);
    recorded_steps rec;
    parts.load(rec.steps(&parts));
    CHECK(parts.count() == 1);
    CHECK(parts.loading(partition_id(0)));

    CHECK(loop.run_one());  // offsets 0-1
    CHECK(loop.run_one());  // 2-3
    CHECK(parts.loading(partition_id(0)));  // not finished before its end is read
    CHECK(loop.run_one());  // 4, the end
    CHECK_FALSE(parts.loading(partition_id(0)));
    CHECK(loop.run_posted() == 0);
    CHECK(loop.posts() == 3);  // one task per chunk
    CHECK(loop.started() == 0);  // and no timer
    CHECK(log.reads == 3);
    CHECK(rec.offsets == std::vector<int64_t>{0, 1, 2, 3, 4});
    CHECK(rec.events == std::vector<std::string>{"replay 0: 0 1", "replay 0: 2 3", "replay 0: 4", "finish 0"});
    CHECK_FALSE(parts.loading_any());
}

TEST_CASE("coordinator_partitions: partitions load one after another, in partition order") {
    test::memory_internal_log log;
    (void)log.create(3, 1024);
    (void)append_batch(log, 2);
    (void)append_batch(log, 0);
    (void)append_batch(log, 1);
    (void)append_batch(log, 2);
    test::fake_loop loop;
    coordinator_partitions parts("__internal", log, loop, 4, 1024);
    recorded_steps rec;
    parts.load(rec.steps(&parts));
    CHECK(loop.waiting() == 1);  // only the first partition's task, the others follow it

    CHECK(loop.run_one());
    CHECK_FALSE(parts.loading(partition_id(0)));
    CHECK(parts.loading(partition_id(1)));
    CHECK(parts.loading(partition_id(2)));
    CHECK(parts.loading_any());
    CHECK(loop.run_posted() == 2);
    CHECK_FALSE(parts.loading_any());
    CHECK(rec.events == std::vector<std::string>{"replay 0: 0", "finish 0", "replay 1: 0", "finish 1", "replay 2: 0 1",
                                                 "finish 2"});
}

TEST_CASE("coordinator_partitions: an unreadable partition stays loading while the next ones load") {
    test::memory_internal_log log;
    (void)log.create(3, 1024);
    for (int32_t p = 0; p < 3; ++p) (void)append_batch(log, p);
    log.unreadable = {1};
    test::fake_loop loop;
    coordinator_partitions parts("__internal", log, loop, 4, 1024);
    recorded_steps rec;
    parts.load(rec.steps(&parts));
    CHECK(loop.run_posted() == 3);
    CHECK(rec.events == std::vector<std::string>{"replay 0: 0", "finish 0", "unreadable 1", "replay 2: 0", "finish 2"});
    CHECK_FALSE(parts.loading(partition_id(0)));
    CHECK(parts.loading(partition_id(1)));
    CHECK_FALSE(parts.loading(partition_id(2)));
    CHECK(parts.loading_any());
}

TEST_CASE("coordinator_partitions: without the topic nothing is posted and no partition is loading") {
    test::memory_internal_log log;
    test::fake_loop loop;
    coordinator_partitions parts("__internal", log, loop, 4, 1024);
    recorded_steps rec;
    parts.load(rec.steps());
    CHECK(parts.count() == 0);
    CHECK(loop.posts() == 0);
    CHECK_FALSE(parts.loading(partition_id(0)));
    CHECK_FALSE(parts.loading_any());
    CHECK(log.reads == 0);
}

TEST_CASE("coordinator_partitions: ensure_created creates the topic once, every partition loaded") {
    test::memory_internal_log log;
    test::fake_loop loop;
    coordinator_partitions parts("__internal", log, loop, 3, 4096);
    recorded_steps rec;
    parts.load(rec.steps());  // no topic yet
    CHECK(parts.routing_count() == 3);  // keys are placed as the configured topic will have them
    CHECK(parts.ensure_created() == error_code::none);
    CHECK(log.creates == 1);
    CHECK(log.created_segment_bytes == 4096);
    CHECK(log.partitions() == 3);
    CHECK(parts.count() == 3);
    CHECK_FALSE(parts.loading_any());
    CHECK(parts.ensure_created() == error_code::none);
    CHECK(log.creates == 1);
    CHECK(parts.count() == 3);
    CHECK(loop.posts() == 0);
}

TEST_CASE("coordinator_partitions: ensure_created takes an existing topic as it is") {
    test::memory_internal_log log;
    test::fake_loop loop;
    coordinator_partitions parts("__internal", log, loop, 5, 4096);
    (void)log.create(2, 1024);  // created after this coordinator looked (another path made it)
    CHECK(parts.ensure_created() == error_code::none);
    CHECK(log.creates == 1);
    CHECK(parts.count() == 2);
    CHECK(parts.routing_count() == 2);
    CHECK_FALSE(parts.loading(partition_id(1)));
}

TEST_CASE("coordinator_partitions: destroying the owner mid-load stops its posted tasks") {
    test::memory_internal_log log;
    (void)log.create(2, 1024);
    for (int i = 0; i < 3; ++i) {
        (void)append_batch(log, 0);
        (void)append_batch(log, 1);
    }
    log.batches_per_read = 1;
    test::fake_loop loop;
    recorded_steps rec;
    std::optional<coordinator_partitions> parts;
    parts.emplace("__internal", log, loop, 4, 1024);
    parts->load(rec.steps());
    CHECK(loop.run_one());
    REQUIRE(loop.waiting() == 1);  // the partition's next chunk
    parts.reset();
    CHECK(loop.run_posted() == 1);  // the task runs, and does nothing
    CHECK(log.reads == 1);
    CHECK(rec.events == std::vector<std::string>{"replay 0: 0"});
}

TEST_CASE("coordinator_partitions: stop() ends the load, the partitions left loading") {
    test::memory_internal_log log;
    (void)log.create(2, 1024);
    (void)append_batch(log, 0);
    (void)append_batch(log, 1);
    test::fake_loop loop;
    coordinator_partitions parts("__internal", log, loop, 4, 1024);
    recorded_steps rec;
    parts.load(rec.steps());
    CHECK(loop.run_one());
    parts.stop();
    CHECK(loop.run_posted() == 1);
    CHECK(log.reads == 1);
    CHECK(rec.events == std::vector<std::string>{"replay 0: 0", "finish 0"});
    CHECK(parts.loading(partition_id(1)));
}
