#include "compat/bench/transactions_workload.h"

#include "compat/bench/bench_client.h"

#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace samsa::bench {

namespace {

using clock_type = std::chrono::steady_clock;

// Message layout: sequence number (8 bytes), its transaction's number (8 bytes), then bytes that
// depend on the sequence number, so the consumer can check every byte.
constexpr size_t header_bytes = 16;

uint8_t pattern(uint64_t seq, size_t i) { return static_cast<uint8_t>((seq * 131 + i * 3) & 0xff); }

// Throws with the call's name when a transaction call failed.
void check(const char* what, rd_kafka_error_t* e) {
    if (e == nullptr) return;
    const std::string message = std::string(what) + ": " + rd_kafka_error_string(e);
    rd_kafka_error_destroy(e);
    throw std::runtime_error(message);
}

std::atomic<uint64_t> delivery_errors{0};

// Messages of a transaction that is to be aborted carry a non-null opaque: their delivery may
// fail (purged by the abort) without that being an error of the run.
int to_abort_marker = 0;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && m->_private == nullptr && delivery_errors++ < 5)
        std::fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i];
}

double process_cpu_seconds() {
    rusage u{};
    (void)::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool aborts(const transactions_options& o, int txn) { return o.abort_every > 0 && (txn + 1) % o.abort_every == 0; }

void produce(const transactions_options& o, transactions_result& r) {
    rd_kafka_conf_t* conf = conf_of({{"bootstrap.servers", o.bootstrap},
                                     {"transactional.id", "samsa-bench-" + std::to_string(::getpid())},
                                     {"linger.ms", o.linger},
                                     {"acks", "all"}},
                                    o.client);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == nullptr) throw std::runtime_error(err);
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
    try {
        check("init_transactions", rd_kafka_init_transactions(rk, 30000));
        std::vector<char> buf(std::max(o.message_size, header_bytes));
        std::vector<double> commit_us;
        commit_us.reserve(static_cast<size_t>(o.transactions));
        uint64_t seq = 0;
        const double cpu0 = process_cpu_seconds();
        const auto start = clock_type::now();
        for (int txn = 0; txn < o.transactions; ++txn) {
            check("begin_transaction", rd_kafka_begin_transaction(rk));
            const auto t = static_cast<uint64_t>(txn);
            void* opaque = aborts(o, txn) ? &to_abort_marker : nullptr;
            for (int i = 0; i < o.txn_size; ++i, ++seq) {
                std::memcpy(buf.data(), &seq, 8);
                std::memcpy(buf.data() + 8, &t, 8);
                for (size_t b = header_bytes; b < buf.size(); ++b) buf[b] = static_cast<char>(pattern(seq, b));
                const auto partition = static_cast<int32_t>(seq % static_cast<uint64_t>(o.partitions));
                while (rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, buf.data(), buf.size(), nullptr, 0, opaque) != 0) {
                    if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(rd_kafka_last_error()));
                    rd_kafka_poll(rk, 1);
                }
            }
            if (aborts(o, txn)) {
                check("abort_transaction", rd_kafka_abort_transaction(rk, 30000));
                ++r.aborted;
                continue;
            }
            const auto before = clock_type::now();
            check("commit_transaction", rd_kafka_commit_transaction(rk, 30000));
            commit_us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - before).count());
            ++r.committed;
            r.expected += static_cast<uint64_t>(o.txn_size);
        }
        r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
        r.producer_cpu_s = process_cpu_seconds() - cpu0;
        r.commit_p50_us = percentile(commit_us, 0.50);
        r.commit_p99_us = percentile(commit_us, 0.99);
        r.commit_max_us = commit_us.empty() ? 0 : *std::max_element(commit_us.begin(), commit_us.end());
    } catch (...) {
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        throw;
    }
    r.errors += delivery_errors.exchange(0);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

void verify(const transactions_options& o, transactions_result& r) {
    rd_kafka_conf_t* conf = conf_of({{"bootstrap.servers", o.bootstrap},
                                     {"group.id", "samsa-bench-txn"},
                                     {"isolation.level", "read_committed"},
                                     {"enable.auto.commit", "false"},
                                     {"enable.partition.eof", "true"},
                                     {"auto.offset.reset", "earliest"}},
                                    o.client);
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk == nullptr) throw std::runtime_error(err);
    rd_kafka_poll_set_consumer(rk);
    assign_from_beginning(rk, o.topic, o.partitions);

    const uint64_t total = static_cast<uint64_t>(o.transactions) * static_cast<uint64_t>(o.txn_size);
    std::vector<bool> seen(total, false);
    std::vector<bool> at_end(static_cast<size_t>(o.partitions), false);
    auto last = clock_type::now();
    // Done when every partition reported its end after everything committed was read, or when
    // nothing arrives for 20 s.
    for (;;) {
        const bool all_ends = std::all_of(at_end.begin(), at_end.end(), [](bool b) { return b; });
        if (all_ends && r.verified >= r.expected) break;
        if (clock_type::now() - last > std::chrono::seconds(20)) break;
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (m == nullptr) continue;
        last = clock_type::now();
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < o.partitions) at_end[static_cast<size_t>(m->partition)] = true;
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (r.errors++ < 5) std::fprintf(stderr, "consume error: %s\n", rd_kafka_message_errstr(m));
        } else {
            if (m->partition >= 0 && m->partition < o.partitions) at_end[static_cast<size_t>(m->partition)] = false;
            uint64_t seq = 0, txn = 0;
            bool ok = m->len == std::max(o.message_size, header_bytes);
            if (ok) {
                std::memcpy(&seq, m->payload, 8);
                std::memcpy(&txn, static_cast<const char*>(m->payload) + 8, 8);
                ok = seq < total && !seen[seq] && txn < static_cast<uint64_t>(o.transactions) &&
                     seq / static_cast<uint64_t>(o.txn_size) == txn && !aborts(o, static_cast<int>(txn));
            }
            const auto* p = static_cast<const uint8_t*>(m->payload);
            for (size_t b = header_bytes; ok && b < m->len; ++b) ok = p[b] == pattern(seq, b);
            if (ok) {
                seen[seq] = true;
                ++r.verified;
            } else if (r.unexpected++ < 5) {
                std::fprintf(stderr, "unexpected message at partition %d offset %lld\n", static_cast<int>(m->partition),
                             static_cast<long long>(m->offset));
            }
        }
        rd_kafka_message_destroy(m);
    }
    (void)rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

} // namespace

transactions_result run_transactions(const transactions_options& o) {
    if (o.transactions < 1 || o.txn_size < 1 || o.partitions < 1)
        throw std::runtime_error("--transactions, --txn-size and --partitions must be positive");
    transactions_result r;
    produce(o, r);
    verify(o, r);
    return r;
}

} // namespace samsa::bench
