// The data path against real clients: the `samsa` binary on a loopback port, driven by
// librdkafka (produce/consume round trips at every acks and compression codec, old protocol
// versions, mid-batch consumption, offsets by timestamp, crash and restart) and by kcat. Every
// test checks what came back message by message: offset, key, value and headers.
#include "compat/broker_process.h"
#include "compat/rdkafka_client.h"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using namespace samsa::compat;

namespace {

const std::string samsa_binary = SAMSA_BINARY;

settings client(const broker_process& b, settings extra = {}) {
    settings s{{"bootstrap.servers", b.bootstrap()}, {"socket.timeout.ms", "10000"}, {"topic.metadata.refresh.interval.ms", "1000"}};
    for (auto& e : extra) s.push_back(std::move(e));
    return s;
}

std::string value_of(int i, size_t size = 0) {
    std::string v = "value-" + std::to_string(i) + "-";
    while (v.size() < size) v += static_cast<char>('a' + (v.size() % 26));
    return v;
}

struct sent_message {
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
};

std::vector<sent_message> messages(int n, size_t size = 0) {
    std::vector<sent_message> out;
    for (int i = 0; i < n; ++i)
        out.push_back({"key-" + std::to_string(i), value_of(i, size), {{"seq", std::to_string(i)}, {"kind", i % 2 ? "odd" : "even"}}});
    return out;
}

// Produces `msgs` to partition 0 and checks every delivery report.
void produce_all(producer& p, const std::string& topic, const std::vector<sent_message>& msgs, bool expect_offsets = true) {
    for (size_t i = 0; i < msgs.size(); ++i) p.produce(topic, 0, msgs[i].key, msgs[i].value, msgs[i].headers, 0, i);
    REQUIRE(p.flush());
    REQUIRE(p.deliveries().size() == msgs.size());
    for (const auto& d : p.deliveries()) {
        CHECK(d.error == RD_KAFKA_RESP_ERR_NO_ERROR);
        if (expect_offsets) CHECK(d.offset == static_cast<int64_t>(d.id));
    }
}

// Consumes partition 0 from `from` and checks every message against `msgs`.
void consume_and_check(const broker_process& b, const std::string& topic, const std::vector<sent_message>& msgs,
                       int64_t from = 0, settings extra = {}, bool check_headers = true) {
    consumer c(client(b, std::move(extra)));
    c.assign(topic, 1, from);
    const auto got = c.read_all(msgs.size() - static_cast<size_t>(from));
    REQUIRE(got.size() == msgs.size() - static_cast<size_t>(from));
    for (size_t i = 0; i < got.size(); ++i) {
        const auto& m = got[i];
        const auto& want = msgs[static_cast<size_t>(from) + i];
        CHECK(m.offset == from + static_cast<int64_t>(i));
        CHECK(m.key == want.key);
        CHECK(m.value == want.value);
        if (check_headers) CHECK(m.headers == want.headers);
    }
}

std::string run(const std::string& cmd) {
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    REQUIRE(f != nullptr);
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
    CHECK(::pclose(f) == 0);
    return out;
}

} // namespace

TEST_CASE("compat: librdkafka round trips with every codec and every acks, keys and headers intact") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    const auto msgs = messages(300, 200);
    for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
        for (const char* acks : {"0", "1", "-1"}) {
            CAPTURE(codec);
            CAPTURE(acks);
            const std::string topic = std::string("rt-") + codec + "-" + (acks[0] == '-' ? "all" : acks);
            {
                // The topic does not exist yet: the producer's Metadata request creates it.
                producer p(client(broker, {{"compression.codec", codec}, {"acks", acks}, {"linger.ms", "5"}}));
                produce_all(p, topic, msgs, std::string(acks) != "0");
            }
            consume_and_check(broker, topic, msgs);
        }
    }
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat: old clients (Produce/Fetch v0-v2, message formats 0 and 1) round trip") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    const auto msgs = messages(120, 50);
    for (const char* fallback : {"0.9.0", "0.10.0"}) {
        for (const char* codec : {"none", "gzip", "snappy", "lz4"}) {
            CAPTURE(fallback);
            CAPTURE(codec);
            const std::string topic = std::string("old-") + fallback + "-" + codec;
            const settings old{{"api.version.request", "false"}, {"broker.version.fallback", fallback}};
            settings pcfg = old;
            pcfg.emplace_back("compression.codec", codec);
            // Old formats have no headers: send none.
            auto plain = msgs;
            for (auto& m : plain) m.headers.clear();
            {
                // Old clients cannot create topics through Metadata v0: create it with a new client.
                producer creator(client(broker));
                creator.produce(topic, 0, std::string("key-0"), plain[0].value);
                REQUIRE(creator.flush());
                REQUIRE(creator.deliveries().at(0).error == RD_KAFKA_RESP_ERR_NO_ERROR);
            }
            producer p(client(broker, pcfg));
            for (size_t i = 1; i < plain.size(); ++i) p.produce(topic, 0, plain[i].key, plain[i].value, {}, 0, i);
            REQUIRE(p.flush());
            for (const auto& d : p.deliveries()) {
                CHECK(d.error == RD_KAFKA_RESP_ERR_NO_ERROR);
                CHECK(d.offset == static_cast<int64_t>(d.id));
            }
            consume_and_check(broker, topic, plain, 0, old, false);
            consume_and_check(broker, topic, plain, 0, {}, false);
        }
    }
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat: consuming from the middle of a batch starts at the asked offset") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    const auto msgs = messages(200);
    {
        // A long linger puts all messages in very few batches.
        producer p(client(broker, {{"linger.ms", "200"}, {"batch.num.messages", "10000"}}));
        produce_all(p, "mid", msgs);
    }
    for (int64_t from : {int64_t{37}, int64_t{1}, int64_t{199}}) {
        CAPTURE(from);
        consume_and_check(broker, "mid", msgs, from);
    }
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat: offsets for timestamps (ListOffsets by time)") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count() - 600000;
    {
        producer p(client(broker, {{"linger.ms", "0"}}));
        for (int i = 0; i < 50; ++i) {
            p.produce("times", 0, std::string("k"), value_of(i), {}, t0 + i * 1000, static_cast<uint64_t>(i));
            REQUIRE(p.flush());  // one batch per message: offsets by time are found per batch
        }
    }
    consumer c(client(broker));
    for (const auto& [ts, want] : std::vector<std::pair<int64_t, int64_t>>{
             {t0 + 5500, 6}, {t0, 0}, {t0 - 1, 0}, {t0 + 49000, 49}, {t0 + 49001, -1}}) {
        CAPTURE(ts);
        rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, "times", 0)->offset = ts;
        const auto e = rd_kafka_offsets_for_times(c.handle(), l, 10000);
        CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR);
        CHECK(l->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR);
        CHECK(l->elems[0].offset == want);
        rd_kafka_topic_partition_list_destroy(l);
    }
    int64_t low = -1, high = -1;
    CHECK(rd_kafka_query_watermark_offsets(c.handle(), "times", 0, &low, &high, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    CHECK(low == 0);
    CHECK(high == 50);
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat: kcat produces and consumes keys, values and headers") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data");
    const auto input = dir.path() / "input.txt";
    {
        std::ofstream out(input);
        for (int i = 0; i < 40; ++i) out << "key-" << i << ":" << value_of(i) << "\n";
    }
    run("kcat -b " + broker.bootstrap() + " -P -t kc -p 0 -K: -H origin=kcat -H n=1 -z snappy -l " + input.string());
    const std::string out = run("kcat -b " + broker.bootstrap() + " -C -t kc -p 0 -o beginning -e -q -f '%o|%k|%s|%h\\n'");
    std::istringstream lines(out);
    std::string line;
    int i = 0;
    while (std::getline(lines, line)) {
        CHECK(line == std::to_string(i) + "|key-" + std::to_string(i) + "|" + value_of(i) + "|origin=kcat,n=1");
        ++i;
    }
    CHECK(i == 40);
    // Offsets from the middle, and the last message only.
    const std::string tail = run("kcat -b " + broker.bootstrap() + " -C -t kc -p 0 -o 38 -e -q -f '%o %k\\n'");
    CHECK(tail == "38 key-38\n39 key-39\n");
    const std::string meta = run("kcat -b " + broker.bootstrap() + " -L -t kc");
    CHECK(meta.find("topic \"kc\" with 1 partitions") != std::string::npos);
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat: a clean stop and restart keeps every message") {
    scratch_dir dir;
    const auto msgs = messages(500, 100);
    broker_process broker(samsa_binary, dir.path() / "data", {"num.partitions=1"});
    {
        producer p(client(broker, {{"compression.codec", "lz4"}}));
        produce_all(p, "kept", msgs);
    }
    CHECK(broker.stop() == 0);
    CHECK(std::filesystem::exists(dir.path() / "data" / ".kafka_cleanshutdown"));
    broker.restart();
    consume_and_check(broker, "kept", msgs);
    // Producing after the restart continues at the next offset.
    {
        producer p(client(broker));
        p.produce("kept", 0, std::string("after"), "restart");
        REQUIRE(p.flush());
        CHECK(p.deliveries().at(0).offset == 500);
    }
    CHECK(broker.stop() == 0);
}

TEST_CASE("compat: SIGKILL mid-produce loses no message acknowledged with acks=-1 (fsync per message)") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", {"log.flush.interval.messages=1"});
    {
        producer warm(client(broker));
        warm.produce("durable", 0, std::string("k"), "first");
        REQUIRE(warm.flush());
    }
    std::vector<delivery> acked;
    {
        producer p(client(broker, {{"acks", "all"}, {"linger.ms", "1"}, {"message.timeout.ms", "3000"},
                                   {"retries", "0"}}));
        std::atomic<bool> stop{false};
        const auto started = std::chrono::steady_clock::now();
        uint64_t next = 1;
        // Produce steadily; kill the broker once a few thousand writes were acknowledged.
        while (!stop) {
            p.produce("durable", 0, std::string("k"), value_of(static_cast<int>(next)), {}, 0, next);
            ++next;
            p.poll(0);
            size_t ok = 0;
            for (const auto& d : p.deliveries()) ok += d.error == RD_KAFKA_RESP_ERR_NO_ERROR;
            if (ok >= 3000 || std::chrono::steady_clock::now() - started > std::chrono::seconds(20)) stop = true;
            if (next % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        REQUIRE(broker.kill_now() == 0);
        (void)p.flush(5000);
        for (const auto& d : p.deliveries())
            if (d.error == RD_KAFKA_RESP_ERR_NO_ERROR) acked.push_back(d);
    }
    REQUIRE(acked.size() >= 3000);
    broker.restart();
    consumer c(client(broker));
    c.assign("durable", 1);
    std::map<int64_t, std::string> stored;
    (void)c.read(SIZE_MAX, std::chrono::seconds(3), [&](const rd_kafka_message_t& m) {
        stored[m.offset] = std::string(static_cast<const char*>(m.payload), m.len);
    });
    size_t missing = 0;
    for (const auto& d : acked) {
        const auto it = stored.find(d.offset);
        if (it == stored.end() || it->second != value_of(static_cast<int>(d.id))) ++missing;
    }
    CHECK(missing == 0);
    MESSAGE("acknowledged before the kill: ", acked.size(), ", stored after restart: ", stored.size());
    CHECK(broker.stop() == 0);
}
