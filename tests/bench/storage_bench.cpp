// storage_bench: prints the storage layer's figures in one run. Not a test.
//
//   storage_bench [DIR [PART]]  DIR: where to put its files (default "."): use a directory on
//                               the disk being measured. Everything is written under
//                               DIR/storage-bench-XXXXXX and removed at the end. PART: append,
//                               lookup (which includes recovery) or open; all by default; or
//                               pagecache (not part of all).
//
//   1. append throughput for 1 KiB, 16 KiB and 1 MiB batches, next to plain write() of the same
//      bytes to a file in the same directory (both into the page cache, no fsync; each side
//      writes its file back and drops it from the cache after its run, and the two alternate
//      which goes first), by the wall clock and by the appending thread's CPU time (user +
//      system: what the code costs, which on a machine shared with other jobs is steadier than
//      the wall clock); and, by CPU time, next to write() into blocks reserved ahead the way an
//      active segment reserves them, which shows what the log's margin is made of;
//   2. random offset lookup latency (log::read) in a 1 GiB log, p50 and p99;
//   3. recovery time of that 1 GiB log after an unclean stop (no recovery point: every byte is
//      scanned), with the file in the page cache and evicted from it, next to a plain
//      sequential read() of the same evicted file (the disk's own pace), alternating;
//   4. open time of 1,000 partitions after a clean stop (log_manager::open), median of 5 opens
//      (SAMSA_BENCH_OPENS sets how many);
//   5. only with PART = pagecache, a probe of the machine rather than of the code: the CPU time
//      of writing 1 GiB into new page-cache pages and then over the same, cached pages (on a
//      virtual machine that returns free memory to its host the first costs far more, and
//      every log append pays it).
#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "storage/completion_queue.h"
#include "storage/file_deleter.h"
#include "storage/flusher.h"
#include "storage/layout.h"
#include "storage/log.h"
#include "storage/log_manager.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

using namespace samsa::storage;
namespace batch = samsa::protocol::batch;
using samsa::protocol::partition_id;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

double thread_cpu_seconds() {
    timespec ts{};
    if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double process_cpu_seconds() {
    timespec ts{};
    if (::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// How long this thread has waited for a CPU while runnable (other jobs on a shared machine).
double runqueue_wait_seconds() {
    FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
    if (!f) return 0;
    unsigned long long on_cpu = 0, waited = 0;
    const bool ok = std::fscanf(f, "%llu %llu", &on_cpu, &waited) == 2;
    std::fclose(f);
    return ok ? static_cast<double>(waited) * 1e-9 : 0;
}

// MB/s by the wall clock and by the thread's CPU time.
struct throughput {
    double wall_mbps = 0;
    double cpu_mbps = 0;
};

// The middle value (the upper one of an even count).
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Writes `path`'s dirty pages back and drops the file from the page cache, so a later read meets
// the disk and runs do not slow each other down.
void evict_from_cache(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
}

uint64_t file_size_of(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}
uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

// A valid v2 batch of (about) `size` bytes holding one record whose value is filler.
std::vector<uint8_t> make_batch_of_size(size_t size, uint32_t seed) {
    const size_t body = size - batch::header_size;
    // A record: length, attributes, timestamp delta, offset delta, key length (-1), value length,
    // value, header count; every field but the value and the lengths takes one byte.
    size_t value = body - 5;
    auto record_size = [](size_t v) { return 5 + varint_size(zigzag(static_cast<int64_t>(v))) + v; };
    auto total = [&](size_t v) { return varint_size(zigzag(static_cast<int64_t>(record_size(v)))) + record_size(v); };
    while (value > 0 && total(value) > body) --value;
    std::vector<uint8_t> b(batch::header_size + total(value), 0);
    uint8_t* p = b.data() + batch::header_size;
    auto put = [&](uint64_t v) {
        while (v >= 0x80) {
            *p++ = static_cast<uint8_t>(v | 0x80);
            v >>= 7;
        }
        *p++ = static_cast<uint8_t>(v);
    };
    put(zigzag(static_cast<int64_t>(record_size(value))));
    *p++ = 0;
    put(0);
    put(0);
    put(zigzag(-1));
    put(zigzag(static_cast<int64_t>(value)));
    std::mt19937 rng(seed);
    for (size_t i = 0; i < value; ++i) *p++ = static_cast<uint8_t>(rng());
    put(0);
    uint8_t* h = b.data();
    batch::store_be32(h + batch::length_at, static_cast<uint32_t>(b.size() - batch::log_overhead));
    h[batch::magic_at] = 2;
    batch::store_be64(h + batch::base_timestamp_at, 1'700'000'000'000ULL);
    batch::store_be64(h + batch::max_timestamp_at, 1'700'000'000'000ULL);
    batch::store_be64(h + batch::producer_id_at, static_cast<uint64_t>(-1));
    h[batch::producer_epoch_at] = 0xff;
    h[batch::producer_epoch_at + 1] = 0xff;
    batch::store_be32(h + batch::base_sequence_at, static_cast<uint32_t>(-1));
    batch::store_be32(h + batch::record_count_at, 1);
    batch::recompute_crc(b);
    return b;
}

struct services {
    completion_queue completions;
    flusher flush{completions};
    file_deleter deleter;
    log_context context() { return log_context{flush, deleter, completions}; }
};

log_config bench_config() {
    log_config c;
    c.max_message_bytes = 2 * 1024 * 1024;
    c.message_timestamp_after_max_ms = no_limit;
    c.message_timestamp_before_max_ms = no_limit;
    return c;
}

void drain(services& s) {
    bool done = false;
    s.flush.run([] { return 0; }, [&](int) { done = true; });
    while (!done) s.completions.wait_and_run(50);
}

// Time and CPU time spent by one side of the comparison, summed over its slices.
struct side_totals {
    double wall = 0;
    double cpu = 0;
    uint64_t bytes = 0;
    void add(const clock_type::time_point& start, double cpu_start, uint64_t n) {
        wall += seconds_since(start);
        cpu += thread_cpu_seconds() - cpu_start;
        bytes += n;
    }
    [[nodiscard]] throughput rate() const {
        const auto b = static_cast<double>(bytes);
        return {b / wall / 1e6, b / cpu / 1e6};
    }
};

// Writes the batches, in turn, to the end of a plain file with write().
class plain_writer {
public:
    // `reserve`: allocate blocks ahead of the end as an active segment does (fallocate with
    // FALLOC_FL_KEEP_SIZE, as much as the file holds, 64 KiB to 8 MiB at a time), to show what
    // the log's margin over a plain write() is made of.
    explicit plain_writer(std::string path, bool reserve = false) : path_(std::move(path)), reserve_(reserve) {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd_ < 0) {
            std::perror("open");
            std::exit(1);
        }
    }
    // Writes about `bytes` (whole batches) and adds the time to `totals`.
    void write(const std::vector<std::vector<uint8_t>>& batches, uint64_t bytes, side_totals& totals) {
        uint64_t written = 0;
        const auto start = clock_type::now();
        const double cpu = thread_cpu_seconds();
        while (written < bytes) {
            const auto& b = batches[next_++ % batches.size()];
            if (reserve_ && size_ + b.size() > reserved_) {
                const uint64_t to = std::max<uint64_t>(size_ + b.size(),
                                                       reserved_ + std::clamp<uint64_t>(size_, 64 * 1024, 8 * 1024 * 1024));
                if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(reserved_), static_cast<off_t>(to - reserved_)) == 0)
                    reserved_ = to;
            }
            if (::write(fd_, b.data(), b.size()) != static_cast<ssize_t>(b.size())) {
                std::perror("write");
                std::exit(1);
            }
            written += b.size();
            size_ += b.size();
        }
        totals.add(start, cpu, written);
    }
    // Outside the timing: writes the dirty pages back and drops them, so runs do not slow each other.
    void finish() {
        ::fdatasync(fd_);
        ::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd_);
        ::unlink(path_.c_str());
    }

private:
    std::string path_;
    bool reserve_ = false;
    int fd_ = -1;
    size_t next_ = 0;
    uint64_t size_ = 0;
    uint64_t reserved_ = 0;
};

// Appends the batches, in turn, to a new log.
class log_appender {
public:
    explicit log_appender(std::string dir) : dir_(std::move(dir)) {
        log_load_state state;
        state.clean_shutdown = true;
        std::string error;
        log_ = log::open(dir_, {"bench", partition_id(0)}, bench_config(), svc_.context(), state, &error);
        if (!log_) {
            std::fprintf(stderr, "open: %s\n", error.c_str());
            std::exit(1);
        }
        options_.now_ms = 1'700'000'000'000;
    }
    void write(std::vector<std::vector<uint8_t>>& batches, uint64_t bytes, side_totals& totals) {
        uint64_t written = 0;
        const auto start = clock_type::now();
        const double cpu = thread_cpu_seconds();
        while (written < bytes) {
            auto& b = batches[next_++ % batches.size()];
            auto r = log_->append(b, options_);
            if (r.error != samsa::protocol::error_code::none) {
                std::fprintf(stderr, "append: %s\n", r.error_message.c_str());
                std::exit(1);
            }
            written += b.size();
        }
        totals.add(start, cpu, written);
    }
    void finish() {
        bool flushed = false;
        log_->flush([&](samsa::protocol::error_code) { flushed = true; });
        while (!flushed) svc_.completions.wait_and_run(50);
        evict_from_cache(layout::segment_path(dir_, 0, layout::log_suffix));
        drain(svc_);
        log_->close();
        log_.reset();
        (void)remove_tree(dir_);
    }

private:
    services svc_;
    std::string dir_;
    std::shared_ptr<samsa::storage::log> log_;
    append_options options_;
    size_t next_ = 0;
};

std::vector<std::vector<uint8_t>> batches_of(size_t size, size_t count) {
    std::vector<std::vector<uint8_t>> out;
    for (size_t i = 0; i < count; ++i) out.push_back(make_batch_of_size(size, static_cast<uint32_t>(i + 1)));
    return out;
}

} // namespace

int main(int argc, char** argv) {
    std::string base = argc > 1 ? argv[1] : ".";
    std::string part = argc > 2 ? argv[2] : "all";
    auto wanted = [&](const char* name) { return part == "all" || part == name; };
    std::string tmpl = base + "/storage-bench-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::string root = buf.data();
    // 1,000 partitions keep about 3,000 files open.
    rlimit nofile{};
    if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 8192) {
        nofile.rlim_cur = std::min<rlim_t>(nofile.rlim_max, 8192);
        (void)::setrlimit(RLIMIT_NOFILE, &nofile);
    }
    std::printf("storage_bench in %s (CRC-32C: %s)\n\n", root.c_str(),
                samsa::protocol::crc32c_engine_name(samsa::protocol::crc32c_active_engine()));

    // ---- 1. append throughput ----------------------------------------------------------------
    if (wanted("append")) {
    const int runs = 9;
    const int slices = 16;
    const uint64_t total = 256ULL * 1024 * 1024;
    std::printf("append throughput into the page cache, %d runs of 256 MiB per side, each run interleaving\n"
                "%d slices of 16 MiB of plain write(), of log appends and of write() into reserved blocks\n"
                "(rotating which goes first); medians:\n",
                runs, slices);
    std::printf("  %-10s %14s %14s %8s   %14s %14s %8s\n", "batch", "log MB/s", "write() MB/s", "ratio",
                "log MB/CPU-s", "write() MB/CPU-s", "ratio");
    // A log always lives in a process with storage threads (flusher, file deleter), and once a
    // process has a second thread the kernel takes a reference on the file for every write()
    // (about 6% of a 1 KiB write here). The plain write() runs with the same threads alive, so
    // the comparison is of the two code paths, not of a one-thread and a many-thread process.
    services background_threads;
    std::vector<std::string> reserved_lines;
    for (size_t size : {size_t{1024}, size_t{16 * 1024}, size_t{1024 * 1024}}) {
        // The sources rotate through 64 batches (1 KiB, 16 KiB) or 2 (1 MiB): at most 2 MiB, which
        // stays in the CPU cache as a request just received from a socket would. Every side reads
        // the same buffers in the same state.
        auto batches = batches_of(size, size >= 1024 * 1024 ? 2 : 64);
        std::vector<double> logs, plains, log_cpus, plain_cpus, reserved_cpus, ratios, cpu_ratios, reserved_ratios;
        for (int run = 0; run < runs; ++run) {
            // The files grow side by side, slice after slice, so the sides meet the same page
            // cache, memory and machine load; each is written back and dropped afterwards.
            plain_writer plain(root + "/plain.bin");
            plain_writer reserved(root + "/reserved.bin", true);
            log_appender appender(root + "/append-0");
            side_totals p, r, l;
            for (int slice = 0; slice < slices; ++slice) {
                for (int k = 0; k < 3; ++k) {
                    switch ((slice + run + k) % 3) {
                    case 0: plain.write(batches, total / slices, p); break;
                    case 1: appender.write(batches, total / slices, l); break;
                    default: reserved.write(batches, total / slices, r); break;
                    }
                }
            }
            plain.finish();
            reserved.finish();
            appender.finish();
            const throughput pr = p.rate(), rr = r.rate(), lr = l.rate();
            plains.push_back(pr.wall_mbps);
            plain_cpus.push_back(pr.cpu_mbps);
            reserved_cpus.push_back(rr.cpu_mbps);
            logs.push_back(lr.wall_mbps);
            log_cpus.push_back(lr.cpu_mbps);
            ratios.push_back(lr.wall_mbps / pr.wall_mbps);
            cpu_ratios.push_back(lr.cpu_mbps / pr.cpu_mbps);
            reserved_ratios.push_back(lr.cpu_mbps / rr.cpu_mbps);
        }
        char label[32];
        std::snprintf(label, sizeof label, "%zu KiB", size / 1024);
        // The ratio columns are medians of the runs' own ratios (each run's sides ran together).
        std::printf("  %-10s %14.0f %14.0f %7.0f%%   %14.0f %14.0f %7.0f%%\n", label, median(logs), median(plains),
                    100.0 * median(ratios), median(log_cpus), median(plain_cpus), 100.0 * median(cpu_ratios));
        char line[160];
        std::snprintf(line, sizeof line, "  %-10s %14.0f %22.0f %7.0f%%", label, median(log_cpus), median(reserved_cpus),
                      100.0 * median(reserved_ratios));
        reserved_lines.emplace_back(line);
    }
    std::printf("the same log appends next to write() into blocks reserved ahead the way an active segment\n"
                "reserves them (fallocate, FALLOC_FL_KEEP_SIZE), by CPU time:\n");
    std::printf("  %-10s %14s %22s %8s\n", "batch", "log MB/CPU-s", "reserved write() MB/CPU-s", "ratio");
    for (const auto& line : reserved_lines) std::printf("%s\n", line.c_str());
    }

    // ---- 2. lookups in a 1 GiB log ------------------------------------------------------------
    const std::string big = root + "/big-0";
    samsa::protocol::offset end{0};
    if (wanted("lookup")) {
        services svc;
        log_load_state state;
        state.clean_shutdown = true;
        std::string error;
        auto l = log::open(big, {"big", partition_id(0)}, bench_config(), svc.context(), state, &error);
        auto batches = batches_of(1024, 64);
        append_options o;
        o.now_ms = 1'700'000'000'000;
        uint64_t written = 0;
        size_t i = 0;
        while (written < 1024ULL * 1024 * 1024 - 2048) {
            auto& b = batches[i++ % batches.size()];
            if (l->append(b, o).error != samsa::protocol::error_code::none) return 1;
            written += b.size();
        }
        end = l->log_end_offset();
        std::mt19937_64 rng(42);
        std::vector<double> micros;
        const int lookups = 200000;
        micros.reserve(lookups);
        uint64_t bytes = 0;
        for (int k = 0; k < lookups; ++k) {
            const samsa::protocol::offset offset(static_cast<int64_t>(rng() % static_cast<uint64_t>(end.value())));
            auto t = clock_type::now();
            auto r = l->read(offset, 64 * 1024, end);
            micros.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
            bytes += r.size();
        }
        std::sort(micros.begin(), micros.end());
        std::printf("\nrandom offset lookup (log::read, 64 KiB max) in a %.2f GiB log of %lld 1 KiB batches:\n",
                    static_cast<double>(l->size_bytes()) / (1 << 30), static_cast<long long>(end.value()));
        std::printf("  %d lookups: p50 %.1f us, p99 %.1f us, max %.1f us (%.0f KiB per read on average)\n", lookups,
                    micros[micros.size() / 2], micros[micros.size() * 99 / 100], micros.back(),
                    static_cast<double>(bytes) / lookups / 1024);
        drain(svc);
        l->close();
    }

    // ---- 3. recovery of the 1 GiB log ---------------------------------------------------------
    if (wanted("lookup")) {
    const int rounds = 5;
    std::printf("\nrecovery of the 1 GiB log after an unclean stop (no recovery point: every byte scanned),\n"
                "%d rounds, median (wall clock; CPU time of the whole process, read-ahead thread included):\n", rounds);
    const std::string seg = layout::segment_path(big, 0, layout::log_suffix);
    auto drop_from_cache = [&] { evict_from_cache(seg); };
    // The disk's own sequential pace, for comparison: read() of the whole file, 4 MiB at a time,
    // with the kernel told the reads are sequential (the fastest plain read found here).
    auto plain_read_seconds = [&] {
        int fd = ::open(seg.c_str(), O_RDONLY);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        std::vector<uint8_t> chunk(4 << 20);
        auto start = clock_type::now();
        for (ssize_t n; (n = ::read(fd, chunk.data(), chunk.size())) > 0;) {}
        double s = seconds_since(start);
        ::close(fd);
        return s;
    };
    struct timing {
        double wall = 0;
        double cpu = 0;
        double cpu_wait = 0;  // of the opening thread, waiting for a CPU
    };
    auto recover = [&]() -> timing {
        services svc;
        log_load_state state;
        state.clean_shutdown = false;
        std::string error;
        auto start = clock_type::now();
        const double cpu_start = process_cpu_seconds();
        const double wait_start = runqueue_wait_seconds();
        auto l = log::open(big, {"big", partition_id(0)}, bench_config(), svc.context(), state, &error);
        const timing t{seconds_since(start), process_cpu_seconds() - cpu_start, runqueue_wait_seconds() - wait_start};
        if (!l || l->log_end_offset() != end || l->load_info().recovered_segments != 1) {
            std::fprintf(stderr, "recovery did not find the log intact\n");
            std::exit(1);
        }
        drain(svc);
        l->close();
        return t;
    };
    const double mb = static_cast<double>(file_size_of(seg)) / 1e6;
    std::vector<double> hot_wall, hot_cpu, cold_wall, cold_cpu, raw;
    for (int round = 0; round < rounds; ++round) {
        (void)recover();  // leaves the whole file in the page cache
        timing hot = recover();
        hot_wall.push_back(hot.wall);
        hot_cpu.push_back(hot.cpu);
        // Cold: the plain read and the recovery alternate which goes first.
        timing cold;
        double plain = 0;
        if (round % 2 == 0) {
            drop_from_cache();
            plain = plain_read_seconds();
            drop_from_cache();
            cold = recover();
        } else {
            drop_from_cache();
            cold = recover();
            drop_from_cache();
            plain = plain_read_seconds();
        }
        cold_wall.push_back(cold.wall);
        cold_cpu.push_back(cold.cpu);
        raw.push_back(plain);
        std::printf("  round %d: in cache %.3f s; evicted %.3f s, plain read() of the evicted file %.3f s"
                    " (waits for a CPU: %.3f s, %.3f s)\n",
                    round + 1, hot.wall, cold.wall, plain, hot.cpu_wait, cold.cpu_wait);
    }
    std::printf("  %-34s %.3f s (%.0f MB/s), %.3f s of CPU\n", "file in the page cache:", median(hot_wall),
                mb / median(hot_wall), median(hot_cpu));
    std::printf("  %-34s %.3f s (%.0f MB/s), %.3f s of CPU\n", "file evicted from the page cache:", median(cold_wall),
                mb / median(cold_wall), median(cold_cpu));
    std::printf("  %-34s %.3f s (%.0f MB/s)\n", "plain read() of the evicted file:", median(raw),
                mb / median(raw));
    (void)remove_tree(big);
    }

    // ---- 4. open 1,000 partitions after a clean stop -----------------------------------------
    if (wanted("open")) {
        log_manager_config cfg;
        cfg.log_dirs = {root + "/logs"};
        cfg.defaults = bench_config();
        cfg.defaults.segment_index_bytes = 1024 * 1024;
        auto b = make_batch_of_size(1024, 7);
        {
            log_manager m(cfg, {});
            std::string error;
            if (!m.open(0, &error)) return 1;
            append_options o;
            o.now_ms = 1'700'000'000'000;
            for (int p = 0; p < 1000; ++p) {
                auto l = m.get_or_create({"topic" + std::to_string(p % 10), partition_id(p / 10)}, cfg.defaults, 0, &error);
                if (!l) {
                    std::fprintf(stderr, "create: %s\n", error.c_str());
                    return 1;
                }
                for (int k = 0; k < 20; ++k) {
                    auto copy = b;
                    if (l->append(copy, o).error != samsa::protocol::error_code::none) return 1;
                }
            }
            m.close();
        }
        // The first open after the writes meets a warm page cache, as a restart does; the median
        // of several opens is printed with the spread.
        const int opens = std::getenv("SAMSA_BENCH_OPENS") ? std::atoi(std::getenv("SAMSA_BENCH_OPENS")) : 5;
        std::vector<double> times;
        for (int i = 0; i < opens; ++i) {
            log_manager m(cfg, {});
            std::string error;
            auto start = clock_type::now();
            bool ok = m.open(0, &error);
            times.push_back(seconds_since(start));
            if (!ok || m.size() != 1000) {
                std::fprintf(stderr, "open: %s\n", error.c_str());
                return 1;
            }
            m.close();
        }
        std::sort(times.begin(), times.end());
        std::printf("\nopen of 1,000 partitions (20 KiB each) after a clean stop, %d opens: median %.1f ms "
                    "(%.1f-%.1f ms)\n", opens, times[times.size() / 2] * 1000, times.front() * 1000, times.back() * 1000);
    }
    // ---- 5. the machine: what a new page-cache page costs (only when asked for) ---------------
    if (part == "pagecache") {
        // Writing into the page cache takes free pages. On a virtual machine that hands free
        // memory back to its host (virtio-balloon free page reporting), the first touch of such
        // a page costs a fault in the host, and every byte a log appends pays it. Each round
        // writes 1 GiB into a new file after 3 s idle, then writes the same 1 GiB again over
        // the pages now in the cache: the difference is what taking new pages costs.
        const size_t chunk = 1024 * 1024;
        const uint64_t total = 1ULL << 30;
        std::vector<uint8_t> source(chunk, 0x5a);
        auto write_gib = [&](int fd) {
            const double cpu = thread_cpu_seconds();
            for (uint64_t done = 0; done < total; done += chunk)
                if (::pwrite(fd, source.data(), chunk, static_cast<off_t>(done)) != static_cast<ssize_t>(chunk)) {
                    std::perror("pwrite");
                    std::exit(1);
                }
            return thread_cpu_seconds() - cpu;
        };
        std::vector<double> fresh, again;
        for (int round = 0; round < 5; ++round) {
            ::sleep(3);
            const std::string path = root + "/pagecache.bin";
            const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0) {
                std::perror("open");
                return 1;
            }
            fresh.push_back(write_gib(fd));
            again.push_back(write_gib(fd));
            ::close(fd);
            ::unlink(path.c_str());  // the dirty pages are dropped unwritten, and freed
        }
        std::sort(fresh.begin(), fresh.end());
        std::sort(again.begin(), again.end());
        std::printf("\nCPU time of write() of 1 GiB in 1 MiB calls, 5 rounds (median, min-max):\n"
                    "  into new page-cache pages:           %.2f s (%.2f-%.2f)\n"
                    "  over the same pages, already cached: %.2f s (%.2f-%.2f)\n",
                    fresh[2], fresh.front(), fresh.back(), again[2], again.front(), again.back());
    }
    (void)remove_tree(root);
    return 0;
}
