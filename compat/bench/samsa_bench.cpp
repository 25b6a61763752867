// samsa_bench: produces N messages of S bytes with librdkafka, consumes them back, verifies every
// one (its sequence number, size and payload bytes) and prints throughput (MB/s, msgs/s),
// delivery latency percentiles and, for Samsa, the broker process's CPU time per GB moved. It
// runs the same workload against librdkafka's in-process mock cluster and prints the ratio.
//
//   samsa_bench [--messages N] [--size S] [--acks 0|1|-1] [--compression none|gzip|snappy|lz4|zstd]
//               [--partitions P] [--rate MSGS_PER_S] [--linger MS] [--target both|samsa|mock]
//               [--samsa PATH] [--override key=value ...] [--client key=value ...] [--data-dir PARENT]
//               [--bootstrap HOST:PORT [--broker-pid PID]] [--compare-idempotence ROUNDS]
//               [--transactions N [--txn-size M] [--txn-abort-every K]]
//
// --rate paces the producer at a fixed message rate (latency runs); 0 produces as fast as
// librdkafka accepts. Samsa runs as a child process with a temporary data directory, or is one
// already running (--bootstrap; topics are then auto-created with its num.partitions).
// --compare-idempotence runs Samsa ROUNDS times with acks=-1 and ROUNDS times with
// enable.idempotence=true (alternating, a fresh broker each time) and prints the median produce
// throughput of each and the idempotent producer's cost in percent.
// --transactions runs N transactions of M messages (default 100) of --size bytes with one
// transactional producer against Samsa, prints transactions/s and the p50/p99 latency of
// commit_transaction, and checks with a read_committed consumer that exactly the committed
// messages are there (every K-th transaction is aborted when --txn-abort-every is given).
#include "compat/bench/bench_client.h"
#include "compat/bench/transactions_workload.h"
#include "compat/broker_process.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef SAMSA_BINARY
#define SAMSA_BINARY "samsa"
#endif

namespace {

using clock_type = std::chrono::steady_clock;
using samsa::compat::broker_process;
using samsa::compat::scratch_dir;
using samsa::bench::assign_from_beginning;
using samsa::bench::conf_of;

struct options {
    uint64_t messages = 1000000;
    size_t size = 100;
    std::string acks = "1";
    std::string compression = "none";
    int32_t partitions = 1;
    uint64_t rate = 0;
    std::string linger = "5";
    std::string target = "both";
    std::string samsa = SAMSA_BINARY;
    std::vector<std::string> overrides;
    std::vector<std::pair<std::string, std::string>> client;  // extra librdkafka settings
    std::string data_parent;  // where the child's data directory goes (default: the temp dir)
    std::string bootstrap;  // an already running Samsa (profiling) instead of a child process
    pid_t broker_pid = 0;   // its pid, for the CPU figures
    int compare_idempotence = 0;  // rounds of plain acks=-1 against idempotent runs
    int transactions = 0;         // transactions to run (the transactions mode), 0: not that mode
    int txn_size = 100;
    int txn_abort_every = 0;
};

struct results {
    double produce_s = 0;
    double consume_s = 0;
    double p50_us = 0, p99_us = 0, p999_us = 0;
    double produce_cpu_s = -1, consume_cpu_s = -1;  // the broker's, when it is a process
    double client_produce_cpu_s = 0;                 // this process's (with the mock: the mock too)
    uint64_t errors = 0;
    uint64_t stored = 0;    // messages the broker still holds after the produce phase
    uint64_t verified = 0;  // of those, read back and checked byte for byte
};

// Message layout: sequence number (8 bytes), send time in ns (8 bytes), then bytes that depend on
// the sequence number, so a consumer can verify every byte it received.
constexpr size_t header_bytes = 16;

uint8_t pattern(uint64_t seq, size_t i) { return static_cast<uint8_t>((seq * 31 + i * 7) & 0xff); }

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}

struct delivery_stats {
    std::vector<uint32_t> latency_us;
    std::atomic<uint64_t> delivered{0};
    std::atomic<uint64_t> errors{0};
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* s = static_cast<delivery_stats*>(opaque);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (s->errors++ < 5) std::fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
    } else if (m->len >= header_bytes) {
        int64_t sent = 0;
        std::memcpy(&sent, static_cast<const char*>(m->payload) + 8, sizeof sent);
        const int64_t us = (now_ns() - sent) / 1000;
        s->latency_us.push_back(static_cast<uint32_t>(std::clamp<int64_t>(us, 0, UINT32_MAX)));
    }
    s->delivered++;
}

double percentile(std::vector<uint32_t>& v, double p) {
    if (v.empty()) return 0;
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i];
}

void produce_phase(const options& o, const std::string& bootstrap, const std::string& topic, results& r) {
    delivery_stats stats;
    stats.latency_us.reserve(o.messages);
    // The producer's queue keeps librdkafka's bounds (queue.buffering.max.messages and .kbytes),
    // as an application that sets nothing has: produce() waits on a full queue. With a queue
    // large enough for the whole run, one stall of the broker left the client's queue long for
    // the rest of it, and the client's own CPU per message grew with its length
    // (docs/performance.md, "Why the client falls behind").
    rd_kafka_conf_t* conf = conf_of({{"bootstrap.servers", bootstrap},
                                     {"acks", o.acks},
                                     {"compression.codec", o.compression},
                                     {"linger.ms", o.linger},
                                     {"batch.size", "1000000"}},
                                    o.client);
    rd_kafka_conf_set_opaque(conf, &stats);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == nullptr) throw std::runtime_error(err);
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    // Warm up: metadata and connections, so the clock measures the data path only.
    {
        std::vector<char> buf(std::max(o.size, header_bytes), 0);
        const uint64_t seq = UINT64_MAX;
        std::memcpy(buf.data(), &seq, 8);
        const int64_t t = now_ns();
        std::memcpy(buf.data() + 8, &t, 8);
        for (int32_t p = 0; p < o.partitions; ++p)
            (void)rd_kafka_produce(rkt, p, RD_KAFKA_MSG_F_COPY, buf.data(), buf.size(), nullptr, 0, nullptr);
        rd_kafka_flush(rk, 30000);
        stats.latency_us.clear();
        stats.delivered = 0;
    }
    std::vector<char> buf(std::max(o.size, header_bytes));
    const double cpu_before = broker_process::proc_cpu_seconds(::getpid());
    const auto start = clock_type::now();
    for (uint64_t seq = 0; seq < o.messages; ++seq) {
        if (o.rate > 0) {
            // Sleep rather than spin: on a small machine a spinning client steals the CPU the
            // broker and librdkafka's own threads need, and the latency measured would be its own.
            const auto due = start + std::chrono::nanoseconds(seq * 1000000000ull / o.rate);
            while (clock_type::now() < due) {
                rd_kafka_poll(rk, 0);
                std::this_thread::sleep_until(due);
            }
        }
        std::memcpy(buf.data(), &seq, 8);
        for (size_t i = header_bytes; i < buf.size(); ++i) buf[i] = static_cast<char>(pattern(seq, i));
        const int64_t t = now_ns();
        std::memcpy(buf.data() + 8, &t, 8);
        const auto partition = static_cast<int32_t>(seq % static_cast<uint64_t>(o.partitions));
        while (rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, buf.data(), buf.size(), nullptr, 0, nullptr) != 0) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(rd_kafka_last_error()));
            rd_kafka_poll(rk, 1);
        }
        rd_kafka_poll(rk, 0);
    }
    while (stats.delivered < o.messages) rd_kafka_poll(rk, 10);
    r.produce_s = std::chrono::duration<double>(clock_type::now() - start).count();
    r.client_produce_cpu_s = broker_process::proc_cpu_seconds(::getpid()) - cpu_before;
    r.errors += stats.errors;
    r.p50_us = percentile(stats.latency_us, 0.50);
    r.p99_us = percentile(stats.latency_us, 0.99);
    r.p999_us = percentile(stats.latency_us, 0.999);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

void consume_phase(const options& o, const std::string& bootstrap, const std::string& topic, results& r) {
    rd_kafka_conf_t* conf = conf_of({{"bootstrap.servers", bootstrap},
                                     {"group.id", "samsa-bench"},
                                     {"enable.auto.commit", "false"},
                                     {"enable.partition.eof", "false"},
                                     {"auto.offset.reset", "earliest"},
                                     {"queued.min.messages", "1000000"}},
                                    o.client);
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk == nullptr) throw std::runtime_error(err);
    rd_kafka_poll_set_consumer(rk);
    // What the broker holds: all of it for Samsa; librdkafka's mock cluster keeps only the last
    // few megabytes of each partition, so it is checked (and timed) on what it kept.
    r.stored = 0;
    for (int32_t p = 0; p < o.partitions; ++p) {
        int64_t low = 0, high = 0;
        const auto e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 10000);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(std::string("watermarks: ") + rd_kafka_err2str(e));
        r.stored += static_cast<uint64_t>(high - low);
    }
    // The warm-up wrote one message per partition.
    r.stored = r.stored >= static_cast<uint64_t>(o.partitions) ? r.stored - static_cast<uint64_t>(o.partitions) : 0;
    r.stored = std::min(r.stored, o.messages);
    assign_from_beginning(rk, topic, o.partitions);

    std::vector<bool> seen(o.messages, false);
    uint64_t verified = 0, bad = 0;
    // Timed from the first message: connecting and looking up offsets are not throughput.
    auto start = clock_type::now();
    bool first = true;
    auto last = start;
    while (verified < r.stored) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (m == nullptr) {
            if (clock_type::now() - last > std::chrono::seconds(20)) break;
            continue;
        }
        last = clock_type::now();
        if (first) {
            start = last;
            first = false;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->len == std::max(o.size, header_bytes)) {
            uint64_t seq = 0;
            std::memcpy(&seq, m->payload, 8);
            if (seq == UINT64_MAX) {  // the warm-up messages
                rd_kafka_message_destroy(m);
                continue;
            }
            bool ok = seq < o.messages && !seen[seq];
            const auto* p = static_cast<const uint8_t*>(m->payload);
            for (size_t i = header_bytes; ok && i < m->len; ++i) ok = p[i] == pattern(seq, i);
            if (ok) {
                seen[seq] = true;
                ++verified;
            } else if (bad++ < 5) {
                std::fprintf(stderr, "bad message at partition %" PRId32 " offset %" PRId64 "\n", m->partition, m->offset);
            }
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && bad++ < 5) {
            std::fprintf(stderr, "consume error: %s\n", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    r.consume_s = std::chrono::duration<double>(clock_type::now() - start).count();
    r.verified = verified;
    r.errors += bad;
    (void)rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

void print(const char* name, const options& o, const results& r) {
    const double mb = static_cast<double>(o.messages) * static_cast<double>(o.size) / 1e6;
    const double gb = mb / 1e3;
    const double consumed_mb = static_cast<double>(r.verified) * static_cast<double>(o.size) / 1e6;
    std::printf("%-6s produce %9.1f MB/s %11.0f msgs/s | latency p50 %7.0f us p99 %7.0f us p99.9 %7.0f us\n", name,
                mb / r.produce_s, static_cast<double>(o.messages) / r.produce_s, r.p50_us, r.p99_us, r.p999_us);
    std::printf("%-6s consume %9.1f MB/s %11.0f msgs/s | verified %" PRIu64 " of %" PRIu64 " stored (%" PRIu64
                " produced), errors %" PRIu64 "\n",
                name, consumed_mb / r.consume_s, static_cast<double>(r.verified) / r.consume_s, r.verified, r.stored,
                o.messages, r.errors);
    if (r.produce_cpu_s >= 0)
        std::printf("%-6s broker CPU: produce %.2f s/GB, consume %.2f s/GB\n", name, r.produce_cpu_s / gb, r.consume_cpu_s / gb);
    std::printf("%-6s client process CPU while producing: %.2f s/GB%s\n", name, r.client_produce_cpu_s / gb,
                r.produce_cpu_s >= 0 ? "" : " (includes the in-process mock broker)");
    std::fflush(stdout);
}

results run_external(const options& o) {
    results r;
    const std::string topic = "bench-" + std::to_string(::getpid());
    const double cpu0 = o.broker_pid > 0 ? broker_process::proc_cpu_seconds(o.broker_pid) : 0;
    produce_phase(o, o.bootstrap, topic, r);
    const double cpu1 = o.broker_pid > 0 ? broker_process::proc_cpu_seconds(o.broker_pid) : 0;
    consume_phase(o, o.bootstrap, topic, r);
    const double cpu2 = o.broker_pid > 0 ? broker_process::proc_cpu_seconds(o.broker_pid) : 0;
    if (o.broker_pid > 0) {
        r.produce_cpu_s = cpu1 - cpu0;
        r.consume_cpu_s = cpu2 - cpu1;
    }
    return r;
}

results run_samsa(const options& o) {
    if (!o.bootstrap.empty()) return run_external(o);
    std::optional<scratch_dir> dir;
    if (o.data_parent.empty()) dir.emplace("samsa-bench");
    else dir.emplace("samsa-bench", o.data_parent);
    std::vector<std::string> overrides{"num.partitions=" + std::to_string(o.partitions), "log.level=warn"};
    for (const auto& x : o.overrides) overrides.push_back(x);
    broker_process broker(o.samsa, dir->path() / "data", overrides);
    results r;
    const std::string topic = "bench";
    double cpu0 = broker.cpu_seconds();
    produce_phase(o, broker.bootstrap(), topic, r);
    double cpu1 = broker.cpu_seconds();
    consume_phase(o, broker.bootstrap(), topic, r);
    double cpu2 = broker.cpu_seconds();
    r.produce_cpu_s = cpu1 - cpu0;
    r.consume_cpu_s = cpu2 - cpu1;
    if (broker.stop() != 0) std::fprintf(stderr, "samsa did not stop cleanly\n");
    return r;
}

results run_mock(const options& o) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_t* owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (owner == nullptr) throw std::runtime_error(err);
    rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(owner, 1);
    if (mc == nullptr) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
    const std::string topic = "bench";
    (void)rd_kafka_mock_topic_create(mc, topic.c_str(), o.partitions, 1);
    results r;
    const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    produce_phase(o, bootstrap, topic, r);
    consume_phase(o, bootstrap, topic, r);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    return r;
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--messages") o.messages = std::stoull(next());
        else if (a == "--size") o.size = std::stoull(next());
        else if (a == "--acks") o.acks = next();
        else if (a == "--compression") o.compression = next();
        else if (a == "--partitions") o.partitions = std::stoi(next());
        else if (a == "--rate") o.rate = std::stoull(next());
        else if (a == "--linger") o.linger = next();
        else if (a == "--target") o.target = next();
        else if (a == "--samsa") o.samsa = next();
        else if (a == "--override") o.overrides.push_back(next());
        else if (a == "--data-dir") o.data_parent = next();
        else if (a == "--client") {
            const std::string kv = next();
            const auto eq = kv.find('=');
            if (eq == std::string::npos) throw std::runtime_error("--client wants key=value");
            o.client.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
        }
        else if (a == "--bootstrap") o.bootstrap = next();
        else if (a == "--broker-pid") o.broker_pid = std::stoi(next());
        else if (a == "--compare-idempotence") o.compare_idempotence = std::stoi(next());
        else if (a == "--transactions") o.transactions = std::stoi(next());
        else if (a == "--txn-size") o.txn_size = std::stoi(next());
        else if (a == "--txn-abort-every") o.txn_abort_every = std::stoi(next());
        else throw std::runtime_error("unknown option " + a);
    }
    if (o.partitions < 1 || o.messages == 0) throw std::runtime_error("--partitions and --messages must be positive");
    return o;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Plain acks=-1 against enable.idempotence=true, alternating so that drift in the machine's load
// hits both alike. Returns the exit status.
int compare_idempotence(const options& base) {
    std::vector<double> plain, idempotent;
    bool ok = true;
    for (int round = 0; round < base.compare_idempotence; ++round) {
        for (const bool idem : {false, true}) {
            options o = base;
            o.acks = "-1";
            o.client.emplace_back("enable.idempotence", idem ? "true" : "false");
            const results r = run_samsa(o);
            const double msgs = static_cast<double>(o.messages) / r.produce_s;
            (idem ? idempotent : plain).push_back(msgs);
            std::printf("round %d %-10s produce %11.0f msgs/s %8.1f MB/s, broker CPU %.2f s/GB\n", round + 1,
                        idem ? "idempotent" : "acks=-1", msgs, msgs * static_cast<double>(o.size) / 1e6,
                        r.produce_cpu_s / (static_cast<double>(o.messages) * static_cast<double>(o.size) / 1e9));
            std::fflush(stdout);
            ok = ok && r.stored == o.messages && r.verified == o.messages && r.errors == 0;
        }
    }
    const double p = median(plain), i = median(idempotent);
    std::printf("median of %d: acks=-1 %.0f msgs/s, idempotent %.0f msgs/s, idempotence costs %.1f%%\n",
                base.compare_idempotence, p, i, p > 0 ? (p - i) / p * 100 : 0.0);
    if (!ok) std::printf("VERIFICATION FAILED\n");
    return ok ? 0 : 1;
}

// The transactions mode against a child Samsa (or --bootstrap). Returns the exit status.
int run_transactions_mode(const options& o) {
    samsa::bench::transactions_options t;
    t.partitions = o.partitions;
    t.transactions = o.transactions;
    t.txn_size = o.txn_size;
    t.message_size = o.size;
    t.abort_every = o.txn_abort_every;
    t.linger = o.linger;
    t.client = o.client;
    std::optional<scratch_dir> dir;
    std::optional<broker_process> broker;
    if (o.bootstrap.empty()) {
        if (o.data_parent.empty()) dir.emplace("samsa-bench");
        else dir.emplace("samsa-bench", o.data_parent);
        std::vector<std::string> overrides{"num.partitions=" + std::to_string(o.partitions), "log.level=warn"};
        for (const auto& x : o.overrides) overrides.push_back(x);
        broker.emplace(o.samsa, dir->path() / "data", overrides);
        t.bootstrap = broker->bootstrap();
    } else {
        t.bootstrap = o.bootstrap;
        t.topic += "-" + std::to_string(::getpid());
    }
    const pid_t pid = broker ? broker->pid() : o.broker_pid;
    const double cpu0 = pid > 0 ? broker_process::proc_cpu_seconds(pid) : 0;
    const double client0 = broker_process::proc_cpu_seconds(::getpid());
    const auto r = samsa::bench::run_transactions(t);
    const double cpu = pid > 0 ? broker_process::proc_cpu_seconds(pid) - cpu0 : -1;
    const double client = broker_process::proc_cpu_seconds(::getpid()) - client0;
    std::printf("transactions: %d committed, %d aborted in %.2f s: %.0f transactions/s (%.0f msgs/s)\n", r.committed,
                r.aborted, r.seconds, static_cast<double>(r.committed + r.aborted) / r.seconds,
                static_cast<double>(r.committed + r.aborted) * o.txn_size / r.seconds);
    std::printf("commit_transaction latency: p50 %.0f us, p99 %.0f us, max %.0f us\n", r.commit_p50_us, r.commit_p99_us,
                r.commit_max_us);
    // Both include setting up (the internal topics, the consumer) and the read_committed check.
    const int n = r.committed + r.aborted;
    if (cpu >= 0) std::printf("broker CPU: %.2f s, %.0f us per transaction\n", cpu, cpu * 1e6 / n);
    std::printf("client CPU: %.2f s in all; while the transactions ran %.2f s, %.0f us per transaction\n", client,
                r.producer_cpu_s, r.producer_cpu_s * 1e6 / n);
    std::printf("read_committed: verified %llu of %llu committed messages, unexpected %llu, errors %llu\n",
                static_cast<unsigned long long>(r.verified), static_cast<unsigned long long>(r.expected),
                static_cast<unsigned long long>(r.unexpected), static_cast<unsigned long long>(r.errors));
    if (broker && broker->stop() != 0) std::fprintf(stderr, "samsa did not stop cleanly\n");
    if (!r.ok()) std::printf("VERIFICATION FAILED\n");
    return r.ok() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    try {
        const options o = parse(argc, argv);
        if (o.transactions > 0) {
            std::printf("workload: %d transactions x %d messages x %zu B, partitions=%d, linger.ms=%s\n", o.transactions,
                        o.txn_size, o.size, o.partitions, o.linger.c_str());
            return run_transactions_mode(o);
        }
        if (o.compare_idempotence > 0) {
            std::printf("workload: %" PRIu64 " x %zu B, partitions=%d, linger.ms=%s, acks=-1 vs enable.idempotence=true\n",
                        o.messages, o.size, o.partitions, o.linger.c_str());
            return compare_idempotence(o);
        }
        std::printf("workload: %" PRIu64 " x %zu B, acks=%s, compression=%s, partitions=%d, rate=%s, linger.ms=%s\n",
                    o.messages, o.size, o.acks.c_str(), o.compression.c_str(), o.partitions,
                    o.rate ? std::to_string(o.rate).c_str() : "unlimited", o.linger.c_str());
        std::optional<results> s, m;
        if (o.target == "both" || o.target == "samsa") {
            s = run_samsa(o);
            print("samsa", o, *s);
        }
        if (o.target == "both" || o.target == "mock") {
            m = run_mock(o);
            print("mock", o, *m);
        }
        if (s && m)
            std::printf("ratio samsa/mock: produce %.2fx, consume %.2fx (msgs/s), p99 latency %.2fx\n",
                        m->produce_s / s->produce_s,
                        (static_cast<double>(s->verified) / s->consume_s) / (static_cast<double>(m->verified) / m->consume_s),
                        m->p99_us > 0 ? s->p99_us / m->p99_us : 0.0);
        // On a machine with fewer cores than the client and broker threads want, produce throughput
        // follows the CPU each side spends per GB; this line shows that cost with the broker included.
        if (s && m && s->produce_cpu_s >= 0) {
            const double gb = static_cast<double>(o.messages) * static_cast<double>(o.size) / 1e9;
            std::printf("CPU per GB produced, client + broker: samsa %.2f s (broker %.2f), mock %.2f s\n",
                        (s->client_produce_cpu_s + s->produce_cpu_s) / gb, s->produce_cpu_s / gb,
                        m->client_produce_cpu_s / gb);
        }
        // Samsa must return every message; the mock every message it kept.
        const bool ok = (!s || (s->stored == o.messages && s->verified == o.messages && s->errors == 0)) &&
                        (!m || (m->verified == m->stored && m->errors == 0));
        if (!ok) std::printf("VERIFICATION FAILED\n");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "samsa_bench: %s\n", e.what());
        return 2;
    }
}
