// Crash safety, with real processes: a child appends numbered batches through log_manager,
// flushes, and reports each batch once its fsync completed; the parent kills it with SIGKILL at a
// random moment, reopens the log dir (an unclean start) and checks that every reported batch is
// present and intact, that nothing after the torn point is returned, and that offsets continue
// without gaps or reuse. Rounds: SAMSA_CRASH_ROUNDS (default 10). SIGKILL keeps the page cache, so
// this proves the recovery logic and the ordering of acknowledgements, not the disk's own
// durability; batches of up to 1 MiB make kills land inside write() now and then (torn writes).
#include "protocol/record_batch.h"
#include "storage/log_manager.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

using namespace samsa::storage;
using namespace samsa::storage::test;
using samsa::protocol::error_code;
using samsa::protocol::offset;
using samsa::protocol::partition_id;
namespace batch = samsa::protocol::batch;

namespace {

struct ack {
    int64_t seq;
    int64_t offset;
};

log_manager_config crash_config(const std::string& dir) {
    log_manager_config c;
    c.log_dirs = {dir};
    c.defaults.segment_bytes = 4 * 1024 * 1024;
    c.defaults.index_interval_bytes = 4096;
    c.defaults.segment_index_bytes = 64 * 1024;
    c.defaults.message_timestamp_after_max_ms = no_limit;
    c.defaults.retention_bytes = 24 * 1024 * 1024;  // retention runs (and is killed) too
    c.defaults.file_delete_delay_ms = 0;
    c.flush_offset_checkpoint_interval_ms = 20;  // the child ticks once per flush, now += 1
    c.retention_check_interval_ms = 50;
    return c;
}

// The batch for sequence number `seq`: one record whose value starts with the number, then
// filler whose length depends on the number (some batches are large).
std::vector<uint8_t> numbered_batch(int64_t seq) {
    std::mt19937 rng(static_cast<uint32_t>(seq * 2654435761u));
    size_t filler = rng() % 4 == 0 ? 64 * 1024 + rng() % (960 * 1024) : rng() % 4096;
    std::string value = "seq:" + std::to_string(seq) + ":" + std::string(filler, static_cast<char>('a' + seq % 26));
    return make_batch({{std::nullopt, value, 1000 + seq}});
}

int64_t seq_of(std::span<const uint8_t> batch_bytes) {
    // The value follows the record header; find the "seq:" marker in the first bytes.
    std::string_view text(reinterpret_cast<const char*>(batch_bytes.data()), std::min<size_t>(batch_bytes.size(), 200));
    size_t at = text.find("seq:");
    if (at == std::string_view::npos) return -1;
    return std::strtoll(text.data() + at + 4, nullptr, 10);
}

[[noreturn]] void child_main(const std::string& dir, int64_t first_seq, int ack_fd) {
    log_manager m(crash_config(dir), {});
    std::string error;
    if (!m.open(1000, &error)) ::_exit(3);
    auto l = m.get_or_create({"crash", partition_id(0)}, crash_config(dir).defaults, 1000, &error);
    if (!l) ::_exit(4);
    int64_t seq = first_seq;
    int64_t now = 1000;
    for (;;) {
        // A few appends, then one flush for all of them; report them once it completed.
        std::vector<ack> pending;
        int n = 1 + static_cast<int>(seq % 8);
        for (int i = 0; i < n; ++i, ++seq) {
            auto b = numbered_batch(seq);
            auto r = l->append(b, at(now));
            if (r.error != error_code::none) ::_exit(5);
            pending.push_back({seq, r.base_offset.value()});
        }
        l->set_high_watermark(l->log_end_offset());
        bool done = false;
        error_code result = error_code::none;
        l->flush([&](error_code e) {
            result = e;
            done = true;
        });
        while (!done) m.wait_and_run_completions(100);
        if (result != error_code::none) ::_exit(6);
        for (const auto& a : pending)
            if (::write(ack_fd, &a, sizeof a) != static_cast<ssize_t>(sizeof a)) ::_exit(7);
        m.tick(++now);
    }
}

} // namespace

TEST_CASE("crash: batches acknowledged after fsync survive SIGKILL, nothing torn is returned") {
    const char* rounds_env = std::getenv("SAMSA_CRASH_ROUNDS");
    const int rounds = rounds_env && *rounds_env ? std::atoi(rounds_env) : 10;
    temp_dir dir;
    std::mt19937 rng(std::random_device{}());
    int64_t next_seq = 0;
    int torn_rounds = 0;
    uint64_t total_acked = 0;
    for (int round = 0; round < rounds; ++round) {
        CAPTURE(round);
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            child_main(dir.path(), next_seq, fds[1]);
        }
        ::close(fds[1]);
        ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
        std::vector<ack> acks;
        auto read_acks = [&] {
            ack a{};
            while (::read(fds[0], &a, sizeof a) == static_cast<ssize_t>(sizeof a)) acks.push_back(a);
        };
        // Wait for the child to get going, then kill it at a random moment.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (acks.empty() && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fds[0], POLLIN, 0};
            ::poll(&p, 1, 20);
            read_acks();
        }
        REQUIRE_FALSE(acks.empty());
        auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(rng() % 400);
        while (std::chrono::steady_clock::now() < kill_at) {
            pollfd p{fds[0], POLLIN, 0};
            ::poll(&p, 1, 5);
            read_acks();
        }
        ::kill(pid, SIGKILL);
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        REQUIRE(WIFSIGNALED(status));
        read_acks();
        ::close(fds[0]);
        total_acked += acks.size();

        log_manager m(crash_config(dir.path()), {});
        std::string error;
        REQUIRE(m.open(2000, &error));
        auto l = m.get({"crash", partition_id(0)});
        REQUIRE(l);
        CHECK_FALSE(l->load_info().clean_shutdown);
        if (l->load_info().truncated_bytes > 0) ++torn_rounds;
        // Every batch in the log is whole, checksummed, numbered n, n+1, ... at offsets n, n+1, ...
        // (retention removes old segments, so the log may start after 0).
        auto all = read_all(*l);
        size_t pos = 0;
        int64_t expect = l->log_start_offset().value();
        while (pos < all.size()) {
            auto h = batch::header_view::parse(std::span<const uint8_t>(all).subspan(pos));
            REQUIRE(h);
            REQUIRE(h->crc_ok());
            REQUIRE(h->base_offset() == expect);
            REQUIRE(seq_of(h->bytes()) == expect);
            REQUIRE(h->bytes().size() == numbered_batch(expect).size());
            ++expect;
            pos += h->total_size();
        }
        REQUIRE(l->log_end_offset() == offset(expect));
        // Everything acknowledged is there (the seq at its offset was checked above), except what
        // retention deleted, which is always a prefix.
        for (const auto& a : acks) {
            REQUIRE(a.offset == a.seq);
            REQUIRE(offset(a.offset) < l->log_end_offset());
        }
        REQUIRE(l->log_start_offset() <= offset(acks.back().offset));
        next_seq = l->log_end_offset().value();
        // Offsets continue right after the last intact batch.
        auto b = numbered_batch(next_seq);
        auto r = l->append(b, at(3000));
        REQUIRE(r.error == error_code::none);
        REQUIRE(r.base_offset == offset(next_seq));
        ++next_seq;
        m.close();
    }
    MESSAGE("crash: " << rounds << " rounds, " << total_acked << " batches acknowledged, " << next_seq
                      << " in the log, " << torn_rounds << " rounds ended in a torn write");
}
