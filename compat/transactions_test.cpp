// Transactions against real clients: librdkafka's transactional producer on the `samsa` binary.
// Interleaved committed and aborted transactions are read back by a read_committed consumer
// (exactly the committed messages) and a read_uncommitted one (all of them); then a
// consume-transform-produce worker (txn_transformer, its own process) moves every input message
// exactly once to the output while it is fenced by a second instance, killed with SIGKILL, and
// the broker is killed and restarted under it.
#include "compat/admin_client.h"
#include "compat/broker_process.h"
#include "compat/rdkafka_client.h"

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

using namespace samsa::compat;

namespace {

const std::string samsa_binary = SAMSA_BINARY;
const std::string transformer_binary = TXN_TRANSFORMER_BINARY;

std::vector<std::string> broker_settings() {
    return {"transaction.abort.timed.out.transaction.cleanup.interval.ms=1000", "offsets.topic.num.partitions=3",
            "transaction.state.log.num.partitions=3"};
}

settings client(const broker_process& b, settings extra = {}) {
    settings s{{"bootstrap.servers", b.bootstrap()}, {"socket.timeout.ms", "10000"}};
    for (auto& e : extra) s.push_back(std::move(e));
    return s;
}

bool eventually(const std::function<bool()>& fn, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (fn()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return fn();
}

// A librdkafka transactional producer; every call must succeed.
class txn_producer {
public:
    txn_producer(const broker_process& b, const std::string& id) {
        char err[512];
        rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, make_conf(client(b, {{"transactional.id", id}, {"linger.ms", "0"}})), err, sizeof err);
        REQUIRE(rk_ != nullptr);
        ok(rd_kafka_init_transactions(rk_, 30000));
    }
    ~txn_producer() { rd_kafka_destroy(rk_); }
    void begin() { ok(rd_kafka_begin_transaction(rk_)); }
    void send(const std::string& topic, const std::string& value) {
        REQUIRE(rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
        REQUIRE(rd_kafka_flush(rk_, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);  // on the log before the next one
    }
    void commit() { ok(rd_kafka_commit_transaction(rk_, 30000)); }
    void abort() { ok(rd_kafka_abort_transaction(rk_, 30000)); }

private:
    static void ok(rd_kafka_error_t* e) {
        if (e == nullptr) return;
        const std::string what = rd_kafka_error_string(e);
        rd_kafka_error_destroy(e);
        FAIL(what);
    }
    rd_kafka_t* rk_ = nullptr;
};

std::vector<std::string> values_of(const std::vector<consumed>& msgs) {
    std::vector<std::string> out;
    for (const auto& m : msgs) out.push_back(m.value);
    return out;
}

std::vector<consumed> read_topic(const broker_process& b, const std::string& topic, const std::string& isolation, size_t at_most,
                                 std::chrono::milliseconds idle = std::chrono::seconds(5)) {
    consumer c(client(b, {{"isolation.level", isolation}}));
    c.assign(topic, 1);
    return c.read_all(at_most, idle);
}

pid_t start_transformer(const broker_process& b, const std::string& status, int delay_ms) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        const std::string delay = std::to_string(delay_ms);
        ::execl(transformer_binary.c_str(), transformer_binary.c_str(), b.bootstrap().c_str(), "ctp-tx", "ctp-group", "ctp-in",
                "ctp-out", status.c_str(), delay.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    return child;
}

int64_t read_position(const std::string& status) {
    std::ifstream in(status);
    int64_t p = -1;
    in >> p;
    return in ? p : -1;
}

// The exit status of a child that is expected to end by itself.
int wait_exit(pid_t child, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(child, &status, WNOHANG) == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return -1;
}

void kill_child(pid_t child) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
}

} // namespace

TEST_CASE("compat transactions: read_committed sees exactly the committed messages of interleaved transactions") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", broker_settings());
    {
        admin_client admin(broker.bootstrap());
        REQUIRE(admin.create_topic("mixed", 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    txn_producer a(broker, "tx-a");
    txn_producer b(broker, "tx-b");
    std::vector<std::string> committed, all;
    for (int round = 0; round < 4; ++round) {
        // Two open transactions at once, their messages interleaved in the partition; one
        // producer commits and the other aborts, taking turns.
        a.begin();
        b.begin();
        for (int i = 0; i < 3; ++i) {
            const auto va = "a-" + std::to_string(round) + "-" + std::to_string(i);
            const auto vb = "b-" + std::to_string(round) + "-" + std::to_string(i);
            a.send("mixed", va);
            b.send("mixed", vb);
            all.push_back(va);
            all.push_back(vb);
            committed.push_back(round % 2 == 0 ? va : vb);
        }
        if (round % 2 == 0) {
            a.commit();
            b.abort();
        } else {
            b.commit();
            a.abort();
        }
    }
    // The committed ones in log order: a's in even rounds, b's in odd rounds.
    const auto read_committed = values_of(read_topic(broker, "mixed", "read_committed", all.size() + 1));
    CHECK(read_committed == committed);
    const auto read_uncommitted = values_of(read_topic(broker, "mixed", "read_uncommitted", all.size() + 1));
    CHECK(read_uncommitted == all);
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat transactions: an open transaction holds read_committed consumers back until it ends") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", broker_settings());
    {
        admin_client admin(broker.bootstrap());
        REQUIRE(admin.create_topic("held", 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    txn_producer p(broker, "tx-held");
    p.begin();
    p.send("held", "first");
    CHECK(read_topic(broker, "held", "read_committed", 1, std::chrono::seconds(2)).empty());
    CHECK(values_of(read_topic(broker, "held", "read_uncommitted", 1)) == std::vector<std::string>{"first"});
    p.commit();
    CHECK(values_of(read_topic(broker, "held", "read_committed", 2)) == std::vector<std::string>{"first"});
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat transactions: consume-transform-produce moves each input exactly once across fencing, SIGKILL and a broker restart") {
    constexpr int inputs = 150;
    scratch_dir dir;
    const std::string status = (dir.path() / "transformer.status").string();
    broker_process broker(samsa_binary, dir.path() / "data", broker_settings());
    {
        admin_client admin(broker.bootstrap());
        REQUIRE(admin.create_topic("ctp-in", 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
        REQUIRE(admin.create_topic("ctp-out", 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
        producer in(client(broker));
        for (int i = 0; i < inputs; ++i) in.produce("ctp-in", 0, std::nullopt, std::to_string(i), {}, 0, static_cast<uint64_t>(i));
        REQUIRE(in.flush());
    }

    // A first instance makes progress...
    const pid_t first = start_transformer(broker, status, 40);
    REQUIRE(eventually([&] { return read_position(status) >= 20; }));
    // ...and a second one with the same transactional id fences it: the zombie stops.
    const pid_t second = start_transformer(broker, status, 40);
    CHECK(wait_exit(first, std::chrono::seconds(60)) == 3);
    const int64_t before_kill = read_position(status);
    REQUIRE(eventually([&] { return read_position(status) >= before_kill + 20; }));
    // Killed in the middle of a transaction, and the broker crashes too.
    kill_child(second);
    CHECK(broker.kill_now() == 0);
    broker.restart();

    const pid_t third = start_transformer(broker, status, 0);
    CHECK(eventually([&] { return read_position(status) == inputs; }, std::chrono::seconds(120)));
    kill_child(third);

    // Every input exactly once, in order, for a read_committed reader.
    const auto out = values_of(read_topic(broker, "ctp-out", "read_committed", inputs + 50));
    std::vector<std::string> expected;
    for (int i = 0; i < inputs; ++i) expected.push_back("out-" + std::to_string(i));
    CHECK(out.size() == expected.size());
    CHECK(out == expected);
    // The aborted attempts are in the log all the same.
    CHECK(read_topic(broker, "ctp-out", "read_uncommitted", inputs * 2).size() >= static_cast<size_t>(inputs));

    // The group's committed offset is the end of the input.
    consumer c(client(broker, {{"group.id", "ctp-group"}, {"isolation.level", "read_committed"}}));
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, "ctp-in", 0);
    REQUIRE(rd_kafka_committed(c.handle(), parts, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(parts->elems[0].offset == inputs);
    rd_kafka_topic_partition_list_destroy(parts);
    CHECK(broker.stop() == 0);
}
