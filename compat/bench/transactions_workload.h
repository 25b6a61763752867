// The transactions workload of samsa_bench (--transactions N): one librdkafka transactional
// producer runs init_transactions once, then N transactions of `txn_size` messages each
// (begin, produce x txn_size, commit; every `abort_every`-th is aborted instead), timing each
// commit; a read_committed consumer then checks that exactly the committed messages are in the
// topic, once each, and none of the aborted ones. Runs on the calling thread (librdkafka's own
// threads aside) against a broker that is already listening.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace samsa::bench {

struct transactions_options {
    std::string bootstrap;
    std::string topic = "bench-txn";
    int32_t partitions = 1;
    int transactions = 1000;
    int txn_size = 100;
    size_t message_size = 100;
    int abort_every = 0;  // 0: commit every transaction
    std::string linger = "5";
    std::vector<std::pair<std::string, std::string>> client;  // extra librdkafka settings
};

struct transactions_result {
    double seconds = 0;             // first begin_transaction to the last commit's return
    int committed = 0;
    int aborted = 0;
    double commit_p50_us = 0, commit_p99_us = 0, commit_max_us = 0;  // commit_transaction() calls
    uint64_t expected = 0;          // messages of committed transactions
    uint64_t verified = 0;          // of those, read back once with read_committed
    uint64_t unexpected = 0;        // aborted, duplicated or malformed messages read back
    uint64_t errors = 0;            // delivery and consume errors
    double producer_cpu_s = 0;      // this process's CPU time while the transactions ran
    [[nodiscard]] bool ok() const { return verified == expected && unexpected == 0 && errors == 0; }
};

// Throws std::runtime_error when the producer cannot be set up or a transaction call fails.
[[nodiscard]] transactions_result run_transactions(const transactions_options& o);

} // namespace samsa::bench
