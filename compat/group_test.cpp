// Consumer groups against real clients: the `samsa` binary on a loopback port and librdkafka's
// high-level consumer (classic protocol). Members share partitions with no overlap and no gap
// under each assignor, a member killed with SIGKILL is expelled after its session timeout,
// synchronous commits give exactly-once consumption across rebalances, and committed offsets
// survive a broker restart, clean or crashed. librdkafka 2.0 has no KIP-848 consumer (group.protocol=consumer
// arrived in 2.4); consumer_protocol_test.cpp drives that protocol on the wire instead.
#include "compat/broker_process.h"
#include "compat/rdkafka_client.h"
#include "compat/rdkafka_group_consumer.h"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>

using namespace samsa::compat;

namespace {

const std::string samsa_binary = SAMSA_BINARY;
const std::string member_binary = GROUP_MEMBER_BINARY;

std::vector<std::string> broker_settings() {
    return {"num.partitions=6", "group.initial.rebalance.delay.ms=300"};
}

settings member(const broker_process& b, const std::string& group, const std::string& strategy = "range") {
    return {{"bootstrap.servers", b.bootstrap()}, {"group.id", group},          {"session.timeout.ms", "6000"},
            {"heartbeat.interval.ms", "500"},     {"auto.offset.reset", "earliest"}, {"partition.assignment.strategy", strategy},
            {"topic.metadata.refresh.interval.ms", "1000"}};
}

void produce(const broker_process& b, const std::string& topic, int count, int first = 0) {
    producer p({{"bootstrap.servers", b.bootstrap()}, {"linger.ms", "5"}});
    for (int i = first; i < first + count; ++i) p.produce(topic, RD_KAFKA_PARTITION_UA, "k" + std::to_string(i), "v" + std::to_string(i));
    REQUIRE(p.flush());
    for (const auto& d : p.deliveries()) REQUIRE(d.error == RD_KAFKA_RESP_ERR_NO_ERROR);
}

// Waits until `done` holds, polling; false after `timeout`.
template <typename Fn>
bool eventually(Fn&& done, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
}

// The members' assignments cover partitions 0..5 exactly once, every member holding some.
bool exact_cover(const std::vector<std::unique_ptr<group_consumer>>& members, int partitions = 6) {
    std::multiset<int32_t> all;
    for (const auto& m : members) {
        const auto a = m->assignment();
        if (a.empty()) return false;
        all.insert(a.begin(), a.end());
    }
    if (all.size() != static_cast<size_t>(partitions)) return false;
    for (int p = 0; p < partitions; ++p)
        if (all.count(p) != 1) return false;
    return true;
}

std::set<int32_t> read_status(const std::filesystem::path& file) {
    std::set<int32_t> out;
    std::ifstream in(file);
    int32_t p = 0;
    while (in >> p) out.insert(p);
    return out;
}

} // namespace

TEST_CASE("compat groups: three librdkafka consumers share six partitions with no overlap and no gap") {
    for (const std::string strategy : {"range", "roundrobin", "cooperative-sticky"}) {
        CAPTURE(strategy);
        scratch_dir dir;
        broker_process broker(samsa_binary, dir.path() / "data", broker_settings());
        produce(broker, "shared", 60);
        std::vector<std::unique_ptr<group_consumer>> members;
        for (int i = 0; i < 3; ++i) members.push_back(std::make_unique<group_consumer>(member(broker, "g-" + strategy, strategy), "shared"));
        CHECK(eventually([&] { return exact_cover(members); }));
        for (const auto& m : members) {
            CHECK(m->failure().empty());
            CHECK(m->assignment().size() == 2);
        }
        // Every message is read once by whoever owns its partition.
        CHECK(eventually([&] {
            size_t n = 0;
            for (const auto& m : members) n += m->message_count();
            return n == 60;
        }));

        // A fourth member joins: the six partitions spread over four, still exactly once.
        members.push_back(std::make_unique<group_consumer>(member(broker, "g-" + strategy, strategy), "shared"));
        CHECK(eventually([&] { return exact_cover(members); }));
        for (auto& m : members) m->stop();
        CHECK(broker.stop() == 0);
    }
}

TEST_CASE("compat groups: a member killed with SIGKILL is expelled after its session timeout and its partitions move") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", broker_settings());
    produce(broker, "crashy", 12);
    std::vector<std::unique_ptr<group_consumer>> members;
    members.push_back(std::make_unique<group_consumer>(member(broker, "crash-group"), "crashy"));
    members.push_back(std::make_unique<group_consumer>(member(broker, "crash-group"), "crashy"));
    const auto status = dir.path() / "member.status";
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::execl(member_binary.c_str(), member_binary.c_str(), broker.bootstrap().c_str(), "crash-group", "crashy",
                status.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Three members, two partitions each.
    CHECK(eventually([&] {
        const auto theirs = read_status(status);
        std::set<int32_t> all = theirs;
        for (const auto& m : members) {
            const auto a = m->assignment();
            if (a.size() != 2) return false;
            all.insert(a.begin(), a.end());
        }
        return theirs.size() == 2 && all.size() == 6;
    }));
    ::kill(child, SIGKILL);
    int wstatus = 0;
    ::waitpid(child, &wstatus, 0);
    const auto killed_at = std::chrono::steady_clock::now();
    // Nobody says the member left: only its session timeout (6 s) can expel it.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    CHECK(members[0]->assignment().size() + members[1]->assignment().size() == 4);
    CHECK(eventually([&] { return exact_cover(members); }, std::chrono::seconds(30)));
    const auto took = std::chrono::steady_clock::now() - killed_at;
    CHECK(took >= std::chrono::seconds(5));
    CHECK(took < std::chrono::seconds(20));
    for (auto& m : members) m->stop();
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat groups: with synchronous commits every message is consumed exactly once across rebalances") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", broker_settings());
    constexpr int total = 600;
    produce(broker, "once", total);
    std::vector<std::unique_ptr<group_consumer>> members;
    for (int i = 0; i < 3; ++i) members.push_back(std::make_unique<group_consumer>(member(broker, "once-group"), "once", true));
    auto consumed = [&] {
        size_t n = 0;
        for (const auto& m : members) n += m->message_count();
        return n;
    };
    REQUIRE(eventually([&] { return consumed() >= 100; }));
    // One member leaves mid-stream and a new one joins: partitions move twice.
    members[0]->stop();
    members.push_back(std::make_unique<group_consumer>(member(broker, "once-group"), "once", true));
    CHECK(eventually([&] { return consumed() >= total; }, std::chrono::seconds(60)));
    std::this_thread::sleep_for(std::chrono::seconds(2));  // nothing more may arrive
    std::map<std::string, int> seen;
    for (const auto& m : members)
        for (const auto& msg : m->messages()) ++seen[msg.value];
    CHECK(seen.size() == static_cast<size_t>(total));
    for (const auto& [value, n] : seen) {
        CAPTURE(value);
        CHECK(n == 1);
    }
    for (auto& m : members) m->stop();
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat groups: committed offsets survive a broker restart, clean (SIGTERM) or crashed (SIGKILL)") {
    for (const bool crash : {false, true}) {
        CAPTURE(crash);
        scratch_dir dir;
        broker_process broker(samsa_binary, dir.path() / "data", broker_settings());
        produce(broker, "durable", 100);
        {
            group_consumer first(member(broker, "durable-group"), "durable", true);
            REQUIRE(eventually([&] { return first.message_count() == 100; }));
            first.stop();
        }
        produce(broker, "durable", 40, 100);
        if (crash) (void)broker.kill_now();
        else REQUIRE(broker.stop() == 0);
        broker.restart();
        group_consumer second(member(broker, "durable-group"), "durable", true);
        CHECK(eventually([&] { return second.message_count() == 40; }));
        std::this_thread::sleep_for(std::chrono::seconds(2));
        const auto got = second.messages();
        CHECK(got.size() == 40);  // the first 100 were committed before the restart
        std::set<std::string> values;
        for (const auto& m : got) values.insert(m.value);
        for (int i = 100; i < 140; ++i) CHECK(values.contains("v" + std::to_string(i)));
        second.stop();
        CHECK(broker.stop() == 0);
    }
}
