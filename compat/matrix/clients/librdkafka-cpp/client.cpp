// The matrix scenarios with librdkafka's C++ API (Debian librdkafka-dev, librdkafka++).
//
// Usage: client <scenario> [<phase>], or client group-member <topic> <group> for one member of
// the group scenario (started by the group scenario itself). Environment: SAMSA_BOOTSTRAP,
// SAMSA_TOPIC, SAMSA_TIMEOUT_S. Exit status 0 pass, 1 fail (reason on the last stderr line), 3 the
// C++ API cannot express the scenario (reason on stdout).
//
// The C++ API has no admin API: topics are created by the broker on first use (auto-creation,
// with its default of one partition). Only the group scenario, which needs six partitions as a
// precondition rather than as its subject, creates its topic through the C API under the C++
// handle (Handle::c_ptr(), the escape hatch the C++ API documents for this).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

std::string bootstrap;
std::string prefix;

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
    std::ostringstream s;
    (s << ... << parts);
    // _Exit: destroying live handles would log after the reason line.
    std::fprintf(stderr, "FAIL: %s\n", s.str().c_str());
    std::fflush(stderr);
    std::_Exit(1);
}

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

using clock_type = std::chrono::steady_clock;

clock_type::time_point after_seconds(double s) {
    return clock_type::now() + std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

std::string topic_name() { return prefix + "-t"; }

struct record {
    std::string value;
    std::optional<std::string> key;
    std::vector<std::pair<std::string, std::string>> headers;
    int64_t timestamp = 0;  // 0: the producer's clock
    int32_t partition = 0;
    int64_t offset = -1;
    RdKafka::MessageTimestamp::MessageTimestampType timestamp_type =
        RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE;
};

// Repetitive text, so that every codec has something to compress.
std::vector<record> plain_records(const std::string& tag, int n) {
    std::vector<record> out(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s-%05d-", tag.c_str(), i);
        out[static_cast<size_t>(i)].value = std::string(buf) + "payload payload payload payload payload payload payload";
    }
    return out;
}

std::unique_ptr<RdKafka::Conf> new_conf(const std::map<std::string, std::string>& settings = {}) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    if (conf->set("bootstrap.servers", bootstrap, err) != RdKafka::Conf::CONF_OK) fail(err);
    for (const auto& [name, value] : settings)
        if (conf->set(name, value, err) != RdKafka::Conf::CONF_OK) fail("setting ", name, ": ", err);
    return conf;
}

// Produce --------------------------------------------------------------------------------------------

class delivery_reports : public RdKafka::DeliveryReportCb {
public:
    explicit delivery_reports(std::vector<record>& records) : records_(records) {}
    void dr_cb(RdKafka::Message& m) override {
        if (m.err()) {
            if (failed_++ == 0) error_ = m.errstr();
            return;
        }
        records_[reinterpret_cast<size_t>(m.msg_opaque())].offset = m.offset();
    }
    int failed_ = 0;
    std::string error_;

private:
    std::vector<record>& records_;
};

std::unique_ptr<RdKafka::Producer> new_producer(const std::map<std::string, std::string>& settings,
                                                RdKafka::DeliveryReportCb* reports) {
    auto conf = new_conf(settings);
    std::string err;
    if (conf->set("dr_cb", reports, err) != RdKafka::Conf::CONF_OK) fail(err);
    std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
    if (!p) fail("Producer::create: ", err);
    return p;
}

void send_records(RdKafka::Producer& p, const std::string& topic, std::vector<record>& records) {
    for (size_t i = 0; i < records.size(); i++) {
        auto& r = records[i];
        RdKafka::Headers* headers = nullptr;
        if (!r.headers.empty()) {
            headers = RdKafka::Headers::create();
            for (const auto& [name, value] : r.headers) headers->add(name, value.data(), value.size());
        }
        for (;;) {
            auto e = p.produce(topic, r.partition, RdKafka::Producer::RK_MSG_COPY, r.value.data(), r.value.size(),
                               r.key ? r.key->data() : nullptr, r.key ? r.key->size() : 0, r.timestamp, headers,
                               reinterpret_cast<void*>(i));
            if (e == RdKafka::ERR__QUEUE_FULL) {
                p.poll(100);
                continue;
            }
            if (e) fail("produce: ", RdKafka::err2str(e));
            break;
        }
        p.poll(0);
    }
}

// Produces every record, waits for its delivery report and fills in its offset.
void produce(const std::string& topic, std::vector<record>& records, const std::map<std::string, std::string>& settings = {}) {
    delivery_reports reports(records);
    auto p = new_producer(settings, &reports);
    send_records(*p, topic, records);
    if (p->flush(20000)) fail(p->outq_len(), " records were not delivered within 20s");
    // A fatal error (such as an idempotent producer the broker cannot serve) purges the queue:
    // the deliveries then fail with "purged", and the fatal error is the reason.
    if (std::string fatal; p->fatal_error(fatal)) fail("fatal producer error: ", fatal);
    if (reports.failed_) fail(reports.failed_, " deliveries failed: ", reports.error_);
}

// Read -------------------------------------------------------------------------------------------------

record to_record(const RdKafka::Message& m) {
    record r;
    r.value.assign(static_cast<const char*>(m.payload()), m.len());
    if (m.key_pointer()) r.key.emplace(static_cast<const char*>(m.key_pointer()), m.key_len());
    if (auto* h = const_cast<RdKafka::Message&>(m).headers())
        for (const auto& header : h->get_all())
            r.headers.emplace_back(header.key(), std::string(static_cast<const char*>(header.value()), header.value_size()));
    r.timestamp = m.timestamp().timestamp;
    r.timestamp_type = m.timestamp().type;
    r.offset = m.offset();
    r.partition = m.partition();
    return r;
}

class reader {
public:
    reader(const std::string& topic, int64_t start, const std::map<std::string, std::string>& settings = {}) {
        auto conf = new_conf(settings);
        std::string err;
        conf->set("group.id", topic + "-reader", err);
        conf->set("enable.partition.eof", "true", err);
        conf->set("enable.auto.commit", "false", err);
        consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
        if (!consumer_) fail("KafkaConsumer::create: ", err);
        std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, 0, start));
        std::vector<RdKafka::TopicPartition*> tps{tp.get()};
        if (auto e = consumer_->assign(tps)) fail("assign: ", RdKafka::err2str(e));
    }
    ~reader() { consumer_->close(); }

    // Reads until the partition's end (the last stable offset under read_committed).
    std::vector<record> to_end(double timeout) {
        std::vector<record> out;
        auto deadline = after_seconds(timeout);
        for (;;) {
            if (clock_type::now() > deadline)
                fail("the end of the partition was not reached within ", timeout, "s (", out.size(), " records read)");
            std::unique_ptr<RdKafka::Message> m(consumer_->consume(200));
            if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
            if (m->err() == RdKafka::ERR__PARTITION_EOF) {
                end_offset_ = m->offset();
                return out;
            }
            if (m->err()) fail("consume: ", m->errstr());
            out.push_back(to_record(*m));
        }
    }
    int64_t end_offset() const { return end_offset_; }

private:
    std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
    int64_t end_offset_ = -1;
};

std::vector<record> read_all(const std::string& topic, int64_t start, const std::map<std::string, std::string>& settings = {}) {
    reader r(topic, start, settings);
    return r.to_end(20);
}

// got must be exactly the values of want at consecutive offsets from first.
void check_sequence(const std::vector<record>& got, const std::vector<record>& want, int64_t first, const std::string& what) {
    if (got.size() != want.size()) fail(what, ": read ", got.size(), " records, expected ", want.size());
    for (size_t i = 0; i < got.size(); i++) {
        if (got[i].value != want[i].value) fail(what, ": offset ", got[i].offset, " holds ", got[i].value, ", expected ", want[i].value);
        if (got[i].offset != first + static_cast<int64_t>(i)) fail(what, ": record ", i, " is at offset ", got[i].offset);
    }
}

std::vector<record> slice(const std::vector<record>& v, size_t from) { return {v.begin() + static_cast<long>(from), v.end()}; }

// Topics ------------------------------------------------------------------------------------------------

// The metadata the broker has now; with a topic name, asking for it creates it (auto-creation).
std::unique_ptr<RdKafka::Metadata> metadata(RdKafka::Handle& h, const std::string* topic_to_create = nullptr) {
    std::unique_ptr<RdKafka::Topic> t;
    std::string err;
    if (topic_to_create) t.reset(RdKafka::Topic::create(&h, *topic_to_create, nullptr, err));
    RdKafka::Metadata* md = nullptr;
    if (auto e = h.metadata(t == nullptr, t.get(), &md, 10000)) fail("metadata: ", RdKafka::err2str(e));
    return std::unique_ptr<RdKafka::Metadata>(md);
}

int partition_count(RdKafka::Handle& h, const std::string& topic) {
    auto md = metadata(h);
    for (const auto* t : *md->topics())
        if (t->topic() == topic && !t->err()) return static_cast<int>(t->partitions()->size());
    return 0;
}

std::unique_ptr<RdKafka::Producer> plain_producer() {
    std::string err;
    auto conf = new_conf();
    std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
    if (!p) fail("Producer::create: ", err);
    return p;
}

std::string auto_created_topic() {
    auto p = plain_producer();
    auto topic = topic_name();
    metadata(*p, &topic);
    auto deadline = after_seconds(10);
    while (partition_count(*p, topic) != 1)
        if (clock_type::now() > deadline) fail(topic, " was not auto-created with one partition");
    return topic;
}

// Scenarios ----------------------------------------------------------------------------------------------

void scenario_metadata() {
    auto p = plain_producer();
    auto md = metadata(*p);
    auto colon = bootstrap.rfind(':');
    const auto& brokers = *md->brokers();
    if (brokers.size() != 1 || brokers[0]->id() != 1 || brokers[0]->host() != bootstrap.substr(0, colon) ||
        brokers[0]->port() != std::atoi(bootstrap.c_str() + colon + 1))
        fail("metadata lists ", brokers.size(), " brokers; expected node 1 at ", bootstrap);
    if (partition_count(*p, topic_name()) != 0) fail(topic_name(), " exists before it was created");
    auto_created_topic();
}

void produce_consume(const std::map<std::string, std::string>& settings, bool offsets_known) {
    auto topic = auto_created_topic();
    auto sent = plain_records("m", 300);
    produce(topic, sent, settings);
    for (size_t i = 0; offsets_known && i < sent.size(); i++)
        if (sent[i].offset != static_cast<int64_t>(i)) fail("delivery report ", i, " gave offset ", sent[i].offset);
    check_sequence(read_all(topic, RdKafka::Topic::OFFSET_BEGINNING), sent, 0, "consume");
}

void scenario_headers_keys_timestamps() {
    auto topic = auto_created_topic();
    int64_t base = now_ms() - 3600000;  // an hour ago: not what the broker would stamp
    std::vector<record> sent(50);
    for (int i = 0; i < 50; i++) {
        auto& r = sent[static_cast<size_t>(i)];
        r.value = "v-" + std::to_string(i);
        if (i % 7 != 0) r.key = "key-" + std::to_string(i);
        r.timestamp = base + i * 10;
        // A repeated name, and a binary value with a zero byte.
        if (i % 5 != 0)
            r.headers = {{"trace", "t-" + std::to_string(i)}, {"bin", std::string("\0\xff", 2) + char(i)}, {"trace", "second"}};
    }
    produce(topic, sent);
    auto got = read_all(topic, RdKafka::Topic::OFFSET_BEGINNING);
    check_sequence(got, sent, 0, "consume");
    for (size_t i = 0; i < got.size(); i++) {
        if (got[i].key != sent[i].key) fail("offset ", i, ": key ", got[i].key.value_or("(null)"), ", sent ", sent[i].key.value_or("(null)"));
        if (got[i].headers != sent[i].headers) fail("offset ", i, ": ", got[i].headers.size(), " headers differ from the ", sent[i].headers.size(), " sent");
        if (got[i].timestamp != sent[i].timestamp || got[i].timestamp_type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_CREATE_TIME)
            fail("offset ", i, ": timestamp ", got[i].timestamp, " (type ", got[i].timestamp_type, "), sent ", sent[i].timestamp, " (CreateTime)");
    }
}

void scenario_consume_from_earliest() {
    auto topic = auto_created_topic();
    auto sent = plain_records("e", 200);
    produce(topic, sent);
    check_sequence(read_all(topic, RdKafka::Topic::OFFSET_BEGINNING), sent, 0, "from earliest");
}

void scenario_consume_from_latest() {
    auto topic = auto_created_topic();
    auto old = plain_records("old", 100), fresh = plain_records("new", 100);
    produce(topic, old);
    reader r(topic, RdKafka::Topic::OFFSET_END);
    // The end-of-partition event says "latest" was resolved and fetched from.
    if (!r.to_end(15).empty() || r.end_offset() != 100) fail("the reader at latest reached the end at ", r.end_offset(), ", expected 100");
    produce(topic, fresh);
    check_sequence(r.to_end(15), fresh, 100, "from latest");
}

void scenario_consume_from_timestamp() {
    auto topic = auto_created_topic();
    int64_t base = now_ms() - 3600000;
    auto sent = plain_records("ts", 200);
    for (size_t i = 0; i < sent.size(); i++) sent[i].timestamp = base + static_cast<int64_t>(i) * 1000;
    produce(topic, sent);
    auto p = plain_producer();
    std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, 0, base + 120 * 1000 - 500));
    std::vector<RdKafka::TopicPartition*> tps{tp.get()};
    if (auto e = p->offsetsForTimes(tps, 10000); e || tp->err()) fail("offsetsForTimes: ", RdKafka::err2str(e ? e : tp->err()));
    if (tp->offset() != 120) fail("offset for the timestamp is ", tp->offset(), ", expected 120");
    check_sequence(read_all(topic, tp->offset()), slice(sent, 120), 120, "from timestamp");
}

void scenario_consume_from_mid_batch() {
    auto topic = auto_created_topic();
    auto sent = plain_records("mid", 200);
    // One producer: the records travel in batches, so offset 77 lies inside one and the broker
    // returns that batch from its start; the client must skip the records before 77.
    produce(topic, sent);
    check_sequence(read_all(topic, 77), slice(sent, 77), 77, "from offset 77");
}

void scenario_idempotent() {
    auto topic = auto_created_topic();
    auto sent = plain_records("idem", 500);
    produce(topic, sent, {{"enable.idempotence", "true"}});
    for (size_t i = 0; i < sent.size(); i++)
        if (sent[i].offset != static_cast<int64_t>(i)) fail("delivery report ", i, " gave offset ", sent[i].offset);
    check_sequence(read_all(topic, RdKafka::Topic::OFFSET_BEGINNING), sent, 0, "idempotent produce");
}

void check(RdKafka::Error* error, const char* what) {
    if (error) fail(what, ": ", error->str());
}

void scenario_transactions() {
    auto topic = auto_created_topic();
    auto committed = plain_records("committed", 20), aborted = plain_records("aborted", 20), later = plain_records("later", 10);
    std::vector<record>* transactions[] = {&committed, &aborted, &later};
    for (auto* records : transactions) {
        delivery_reports reports(*records);
        // A new producer per transaction with the same id: each one fences the one before.
        auto p = new_producer({{"transactional.id", prefix + "-tx"}}, &reports);
        check(p->init_transactions(15000), "init_transactions");
        check(p->begin_transaction(), "begin_transaction");
        send_records(*p, topic, *records);
        p->flush(15000);
        if (reports.failed_) fail("deliveries failed: ", reports.error_);
        check(records == &aborted ? p->abort_transaction(15000) : p->commit_transaction(15000), "end of the transaction");
    }
    // Offsets: 0..19 and the commit marker at 20, aborted records 21..40 and their marker 41.
    auto got = read_all(topic, RdKafka::Topic::OFFSET_BEGINNING, {{"isolation.level", "read_committed"}});
    if (got.size() != 30) fail("read_committed read ", got.size(), " records, expected the 30 committed ones");
    check_sequence({got.begin(), got.begin() + 20}, committed, 0, "read_committed, first transaction");
    check_sequence(slice(got, 20), later, 42, "read_committed, last transaction");
    auto all = read_all(topic, RdKafka::Topic::OFFSET_BEGINNING, {{"isolation.level", "read_uncommitted"}});
    if (all.size() != 50) fail("read_uncommitted read ", all.size(), " records, expected all 50");
    for (size_t i = 0; i < 50; i++) {
        const auto& want = i < 20 ? committed[i] : i < 40 ? aborted[i - 20] : later[i - 40];
        if (all[i].value != want.value) fail("read_uncommitted: record ", i, " is ", all[i].value, ", expected ", want.value);
    }
}

// Offsets across a broker restart ---------------------------------------------------------------------

int64_t committed_offset(const std::string& group, const std::string& topic) {
    std::string err;
    auto conf = new_conf({{"group.id", group}});
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, 0));
    std::vector<RdKafka::TopicPartition*> tps{tp.get()};
    if (auto e = c->committed(tps, 10000); e || tp->err()) fail("committed: ", RdKafka::err2str(e ? e : tp->err()));
    c->close();
    return tp->offset();
}

// A subscribed member reads count records, commits the offset after them and leaves.
std::vector<record> group_read(const std::string& group, const std::string& topic, size_t count) {
    std::string err;
    auto conf = new_conf({{"group.id", group}, {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"}});
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!c) fail("KafkaConsumer::create: ", err);
    if (auto e = c->subscribe({topic})) fail("subscribe: ", RdKafka::err2str(e));
    std::vector<record> out;
    auto deadline = after_seconds(30);
    while (out.size() < count) {
        if (clock_type::now() > deadline) fail("the group member read ", out.size(), " records within 30s, expected ", count);
        std::unique_ptr<RdKafka::Message> m(c->consume(200));
        if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
        if (m->err()) fail("consume: ", m->errstr());
        out.push_back(to_record(*m));
    }
    std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, 0, out.back().offset + 1));
    std::vector<RdKafka::TopicPartition*> tps{tp.get()};
    if (auto e = c->commitSync(tps)) fail("commitSync: ", RdKafka::err2str(e));
    c->close();
    return out;
}

void scenario_offsets_restart(const std::string& phase) {
    auto topic = topic_name(), group = prefix + "-g";
    auto sent = plain_records("o", 100);
    if (phase == "commit") {
        auto_created_topic();
        produce(topic, sent);
        check_sequence(group_read(group, topic, 60), {sent.begin(), sent.begin() + 60}, 0, "before the restart");
        if (auto o = committed_offset(group, topic); o != 60) fail("committed offset ", o, ", expected 60");
    } else if (phase == "verify") {
        if (auto o = committed_offset(group, topic); o != 60) fail("committed offset after the restart is ", o, ", expected 60");
        check_sequence(group_read(group, topic, 40), slice(sent, 60), 60, "after the restart");
    } else {
        fail("unknown phase ", phase);
    }
}

// The group scenario ------------------------------------------------------------------------------------

constexpr int group_partitions = 6;
volatile sig_atomic_t member_stop = 0;

class print_rebalance : public RdKafka::RebalanceCb {
public:
    void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err, std::vector<RdKafka::TopicPartition*>& tps) override {
        std::string line = "assigned ";
        if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
            c->assign(tps);
            for (size_t i = 0; i < tps.size(); i++) line += (i ? "," : "") + std::to_string(tps[i]->partition());
        } else {
            c->unassign();
        }
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
    }
};

// One member: prints `assigned p,...` on every rebalance and `read p offset` per record; leaves
// the group cleanly on SIGTERM.
int group_member(const std::string& topic, const std::string& group) {
    signal(SIGTERM, [](int) { member_stop = 1; });
    print_rebalance rebalance;
    std::string err;
    auto conf = new_conf({{"group.id", group}, {"auto.offset.reset", "earliest"}, {"session.timeout.ms", "6000"}});
    conf->set("rebalance_cb", &rebalance, err);
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!c) fail("KafkaConsumer::create: ", err);
    if (auto e = c->subscribe({topic})) fail("subscribe: ", RdKafka::err2str(e));
    while (!member_stop) {
        std::unique_ptr<RdKafka::Message> m(c->consume(100));
        if (!m->err()) {
            std::printf("read %d %lld\n", m->partition(), static_cast<long long>(m->offset()));
            std::fflush(stdout);
        }
    }
    c->close();
    return 0;
}

struct member {
    pid_t pid = -1;
    int fd = -1;
    std::string buffer;
    std::optional<std::set<int>> assigned;
};

std::set<std::pair<int, int64_t>> read_by_members;

member start_member(const std::string& topic, const std::string& group) {
    int fds[2];
    if (pipe(fds) != 0) fail("pipe: ", std::strerror(errno));
    member m;
    m.pid = fork();
    if (m.pid < 0) fail("fork: ", std::strerror(errno));
    if (m.pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/proc/self/exe", "client", "group-member", topic.c_str(), group.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(fds[1]);
    m.fd = fds[0];
    fcntl(m.fd, F_SETFL, O_NONBLOCK);
    return m;
}

void pump(member& m) {
    char buf[4096];
    ssize_t n;
    while ((n = read(m.fd, buf, sizeof buf)) > 0) m.buffer.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = m.buffer.find('\n')) != std::string::npos) {
        std::istringstream line(m.buffer.substr(0, nl));
        m.buffer.erase(0, nl + 1);
        std::string word;
        line >> word;
        if (word == "assigned") {
            std::set<int> s;
            std::string list;
            line >> list;
            std::istringstream parts(list);
            for (std::string p; std::getline(parts, p, ',');) s.insert(std::stoi(p));
            m.assigned = s;
        } else if (word == "read") {
            int p;
            int64_t o;
            line >> p >> o;
            read_by_members.emplace(p, o);
        }
    }
}

void wait_for_assignment(std::vector<member*> members, double timeout, const std::string& what) {
    auto deadline = after_seconds(timeout);
    for (;;) {
        std::multiset<int> owned;
        bool all = true;
        for (auto* m : members) {
            pump(*m);
            all = all && m->assigned && !m->assigned->empty();
            if (m->assigned) owned.insert(m->assigned->begin(), m->assigned->end());
            int status;
            if (waitpid(m->pid, &status, WNOHANG) == m->pid) fail(what, ": a member exited (status ", status, ")");
        }
        if (all && owned == std::multiset<int>{0, 1, 2, 3, 4, 5}) return;
        if (clock_type::now() > deadline) fail(what, ": the assignments never covered partitions 0..5 exactly once within ", timeout, "s");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void create_group_topic(const std::string& topic) {
    auto p = plain_producer();
    rd_kafka_t* rk = p->c_ptr();
    char err[512];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), group_partitions, 1, err, sizeof err);
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 20000);
    if (!ev || rd_kafka_event_error(ev)) fail("CreateTopics: ", ev ? rd_kafka_event_error_string(ev) : "no result");
    size_t n;
    const rd_kafka_topic_result_t** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 1 || rd_kafka_topic_result_error(res[0])) fail("CreateTopics: ", n ? rd_kafka_topic_result_error_string(res[0]) : "no topic");
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
}

void scenario_group() {
    auto topic = topic_name(), group = prefix + "-g";
    create_group_topic(topic);
    auto sent = plain_records("g", 50 * group_partitions);
    for (size_t i = 0; i < sent.size(); i++) sent[i].partition = static_cast<int32_t>(i / 50);
    produce(topic, sent);
    member a = start_member(topic, group), b = start_member(topic, group), c = start_member(topic, group);
    wait_for_assignment({&a, &b, &c}, 40, "three members");
    // A clean leave (LeaveGroup): its partitions move to the other two.
    kill(a.pid, SIGTERM);
    int status;
    waitpid(a.pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("member a did not exit cleanly on SIGTERM (status ", status, ")");
    pump(a);
    wait_for_assignment({&b, &c}, 30, "after member a left");
    // A crash: only the session timeout (6 s) tells the coordinator.
    kill(b.pid, SIGKILL);
    waitpid(b.pid, &status, 0);
    pump(b);
    wait_for_assignment({&c}, 40, "after member b was killed");
    auto deadline = after_seconds(20);
    for (;;) {
        pump(c);
        size_t missing = 0;
        for (const auto& r : sent) missing += !read_by_members.count({r.partition, r.offset});
        if (missing == 0) break;
        if (clock_type::now() > deadline) fail(missing, " of ", sent.size(), " records were read by no member");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    kill(c.pid, SIGKILL);
    waitpid(c.pid, &status, 0);
}

[[noreturn]] void not_expressible(const char* reason) {
    std::printf("%s\n", reason);
    std::fflush(stdout);
    std::_Exit(3);
}

}  // namespace

int main(int argc, char** argv) {
    const char* b = std::getenv("SAMSA_BOOTSTRAP");
    const char* t = std::getenv("SAMSA_TOPIC");
    if (!b || !t || argc < 2) fail("usage: SAMSA_BOOTSTRAP=.. SAMSA_TOPIC=.. client <scenario> [<phase>]");
    bootstrap = b;
    prefix = t;
    std::string s = argv[1];
    if (s == "group-member" && argc == 4) return group_member(argv[2], argv[3]);
    if (s == "metadata") scenario_metadata();
    else if (s.rfind("produce-consume-", 0) == 0) produce_consume({{"compression.type", s.substr(16)}}, true);
    else if (s == "headers-keys-timestamps") scenario_headers_keys_timestamps();
    else if (s.rfind("acks-", 0) == 0) produce_consume({{"acks", s.substr(5)}}, s != "acks-0");
    else if (s == "consume-from-earliest") scenario_consume_from_earliest();
    else if (s == "consume-from-latest") scenario_consume_from_latest();
    else if (s == "consume-from-timestamp") scenario_consume_from_timestamp();
    else if (s == "consume-from-mid-batch") scenario_consume_from_mid_batch();
    else if (s == "group") scenario_group();
    else if (s == "offsets-restart") scenario_offsets_restart(argc > 2 ? argv[2] : "");
    else if (s == "admin") not_expressible("librdkafka's C++ API has no admin API");
    else if (s == "idempotent") scenario_idempotent();
    else if (s == "transactions") scenario_transactions();
    else fail("unknown scenario ", s);
    return 0;
}
