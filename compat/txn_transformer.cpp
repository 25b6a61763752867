// A consume-transform-produce worker in its own process, for the transactions compatibility
// test that kills it with SIGKILL: reads IN (partition 0, from the group's committed offset,
// read_committed), and for every few messages runs one librdkafka transaction that produces
// "out-" + value to OUT and commits the consumer position with send_offsets_to_transaction.
// After each commit it writes the position it committed to STATUS_FILE. Exits 3 when it is
// fenced by a newer instance with the same transactional id, 1 on any other fatal error.
// Usage: txn_transformer BOOTSTRAP TRANSACTIONAL_ID GROUP IN OUT STATUS_FILE DELAY_MS
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int batch_size = 5;

rd_kafka_conf_t* conf_of(const std::vector<std::pair<std::string, std::string>>& s) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    for (const auto& [k, v] : s)
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            std::fprintf(stderr, "%s=%s: %s\n", k.c_str(), v.c_str(), err);
            std::exit(1);
        }
    return conf;
}

// The exit status for a transactional error that cannot be retried.
[[noreturn]] void fail(const char* what, rd_kafka_error_t* e) {
    const bool fenced = rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__FENCED ||
                        rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
                        rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
    std::fprintf(stderr, "%s: %s%s\n", what, rd_kafka_error_string(e), fenced ? " (fenced)" : "");
    std::exit(fenced ? 3 : 1);
}

void check(const char* what, rd_kafka_error_t* e) {
    if (e == nullptr) return;
    fail(what, e);
}

void write_status(const std::string& path, int64_t position) {
    {
        std::ofstream out(path + ".tmp");
        out << position << "\n";
    }
    std::rename((path + ".tmp").c_str(), path.c_str());
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 8) {
        std::fprintf(stderr, "usage: txn_transformer BOOTSTRAP TRANSACTIONAL_ID GROUP IN OUT STATUS_FILE DELAY_MS\n");
        return 2;
    }
    const std::string bootstrap = argv[1], txn_id = argv[2], group = argv[3], in = argv[4], out = argv[5], status = argv[6];
    const int delay_ms = std::atoi(argv[7]);
    char err[512];

    rd_kafka_t* consumer = rd_kafka_new(
        RD_KAFKA_CONSUMER,
        conf_of({{"bootstrap.servers", bootstrap}, {"group.id", group}, {"enable.auto.commit", "false"},
                 {"isolation.level", "read_committed"}, {"auto.offset.reset", "earliest"}, {"enable.partition.eof", "false"}}),
        err, sizeof err);
    rd_kafka_t* producer =
        rd_kafka_new(RD_KAFKA_PRODUCER,
                     conf_of({{"bootstrap.servers", bootstrap}, {"transactional.id", txn_id}, {"transaction.timeout.ms", "60000"},
                              {"linger.ms", "0"}}),
                     err, sizeof err);
    if (consumer == nullptr || producer == nullptr) {
        std::fprintf(stderr, "rd_kafka_new: %s\n", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(consumer);
    // Fences any older instance with this id and aborts its open transaction.
    check("init_transactions", rd_kafka_init_transactions(producer, 60000));

    // Start at the group's committed offset (its transactional commits once they are stable).
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(assignment, in.c_str(), 0)->offset = RD_KAFKA_OFFSET_STORED;
    if (rd_kafka_assign(consumer, assignment) != RD_KAFKA_RESP_ERR_NO_ERROR) return 1;
    rd_kafka_topic_partition_list_destroy(assignment);
    rd_kafka_consumer_group_metadata_t* group_metadata = rd_kafka_consumer_group_metadata(consumer);

    for (;;) {
        std::vector<rd_kafka_message_t*> batch;
        while (batch.size() < batch_size) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, batch.empty() ? 1000 : 100);
            if (m == nullptr) {
                if (!batch.empty()) break;
                continue;
            }
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                continue;
            }
            batch.push_back(m);
        }
        check("begin_transaction", rd_kafka_begin_transaction(producer));
        int64_t next = -1;
        for (auto* m : batch) {
            const std::string value = "out-" + std::string(static_cast<const char*>(m->payload), m->len);
            for (;;) {
                const rd_kafka_resp_err_t e =
                    rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(out.c_str()), RD_KAFKA_V_PARTITION(0),
                                      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
                if (e == RD_KAFKA_RESP_ERR__FATAL) {
                    // The fence may surface here first, from an earlier message's produce.
                    char why[512];
                    const rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(producer, why, sizeof why);
                    std::fprintf(stderr, "produce: %s\n", why);
                    return fatal == RD_KAFKA_RESP_ERR__FENCED || fatal == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
                                   fatal == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH
                               ? 3
                               : 1;
                }
                if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
                    return 1;
                }
                rd_kafka_poll(producer, 100);
            }
            next = m->offset + 1;
            rd_kafka_message_destroy(m);
            // Slow enough that a test can kill the process in the middle of a transaction.
            if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        }
        rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(offsets, in.c_str(), 0)->offset = next;
        rd_kafka_error_t* e = rd_kafka_send_offsets_to_transaction(producer, offsets, group_metadata, 60000);
        rd_kafka_topic_partition_list_destroy(offsets);
        if (e != nullptr) {
            if (rd_kafka_error_txn_requires_abort(e)) {
                // The input is read again from the committed offset.
                rd_kafka_error_destroy(e);
                check("abort_transaction", rd_kafka_abort_transaction(producer, 60000));
                return 1;
            }
            fail("send_offsets_to_transaction", e);
        }
        check("commit_transaction", rd_kafka_commit_transaction(producer, 60000));
        write_status(status, next);
    }
}
