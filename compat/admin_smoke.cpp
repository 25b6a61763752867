// Drives a running broker with librdkafka's admin API, as an existing Kafka tool would:
// creates topics (with configs, validate_only and the expected errors), reads them back
// through metadata, deletes them, and checks every answer. Exits non-zero, saying why, on
// the first mismatch. Usage: admin_smoke HOST:PORT
#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int timeout_ms = 10000;

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "admin_smoke: FAIL: %s\n", why.c_str());
    std::exit(1);
}

struct topic_spec {
    std::string name;
    int partitions;
    int replication_factor;
    std::vector<std::pair<std::string, std::string>> configs;
};

rd_kafka_event_t* wait_for(rd_kafka_queue_t* q, rd_kafka_event_type_t type) {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms);
    if (ev == nullptr) fail("no admin result within the timeout");
    if (rd_kafka_event_type(ev) != type) fail(std::string("unexpected event ") + rd_kafka_event_name(ev));
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail(std::string("admin request failed: ") + rd_kafka_event_error_string(ev));
    return ev;
}

// Creates the topics and returns each topic's error code, in request order.
std::vector<rd_kafka_resp_err_t> create(rd_kafka_t* rk, const std::vector<topic_spec>& specs, bool validate_only) {
    char errstr[512];
    std::vector<rd_kafka_NewTopic_t*> topics;
    for (const auto& s : specs) {
        auto* t = rd_kafka_NewTopic_new(s.name.c_str(), s.partitions, s.replication_factor, errstr, sizeof errstr);
        if (t == nullptr) fail(std::string("NewTopic: ") + errstr);
        for (const auto& [k, v] : s.configs)
            if (rd_kafka_NewTopic_set_config(t, k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) fail("set_config");
        topics.push_back(t);
    }
    auto* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof errstr) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail(errstr);
    if (validate_only && rd_kafka_AdminOptions_set_validate_only(opts, 1, errstr, sizeof errstr) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail(errstr);
    auto* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, topics.data(), topics.size(), opts, q);
    auto* ev = wait_for(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    size_t n = 0;
    const auto* results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != specs.size()) fail("CreateTopics returned " + std::to_string(n) + " results for " + std::to_string(specs.size()));
    std::vector<rd_kafka_resp_err_t> out;
    for (size_t i = 0; i < n; ++i) {
        if (specs[i].name != rd_kafka_topic_result_name(results[i])) fail("CreateTopics results out of order");
        out.push_back(rd_kafka_topic_result_error(results[i]));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
    return out;
}

std::vector<rd_kafka_resp_err_t> remove(rd_kafka_t* rk, const std::vector<std::string>& names) {
    std::vector<rd_kafka_DeleteTopic_t*> topics;
    for (const auto& n : names) topics.push_back(rd_kafka_DeleteTopic_new(n.c_str()));
    auto* q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, topics.data(), topics.size(), nullptr, q);
    auto* ev = wait_for(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    size_t n = 0;
    const auto* results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    if (n != names.size()) fail("DeleteTopics returned " + std::to_string(n) + " results");
    std::vector<rd_kafka_resp_err_t> out;
    for (size_t i = 0; i < n; ++i) out.push_back(rd_kafka_topic_result_error(results[i]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
    return out;
}

// The partition count of `name` in a fresh metadata response, or -1 when it is not listed.
int partitions_of(rd_kafka_t* rk, const std::string& name) {
    const rd_kafka_metadata_t* md = nullptr;
    const auto err = rd_kafka_metadata(rk, 1, nullptr, &md, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) fail(std::string("metadata: ") + rd_kafka_err2str(err));
    int found = -1;
    if (md->broker_cnt != 1) fail("metadata lists " + std::to_string(md->broker_cnt) + " brokers, expected 1");
    for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& t = md->topics[i];
        if (name != t.topic) continue;
        if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) fail(name + ": " + rd_kafka_err2str(t.err));
        found = t.partition_cnt;
        for (int p = 0; p < t.partition_cnt; ++p) {
            if (t.partitions[p].leader != md->brokers[0].id) fail(name + ": a partition is not led by the broker");
            if (t.partitions[p].replica_cnt != 1 || t.partitions[p].isr_cnt != 1) fail(name + ": replicas/isr are not [broker]");
        }
    }
    rd_kafka_metadata_destroy(md);
    return found;
}

void expect(rd_kafka_resp_err_t got, rd_kafka_resp_err_t want, const std::string& what) {
    if (got != want)
        fail(what + ": got " + rd_kafka_err2name(got) + ", expected " + rd_kafka_err2name(want));
    std::printf("ok: %s -> %s\n", what.c_str(), rd_kafka_err2name(got));
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: admin_smoke HOST:PORT\n");
        return 2;
    }
    char errstr[512];
    auto* conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK) fail(errstr);
    auto* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == nullptr) fail(errstr);

    const auto created = create(rk,
                                {{"compat-a", 3, 1, {{"retention.ms", "3600000"}, {"cleanup.policy", "delete"}}},
                                 {"compat-b", -1, -1, {}},
                                 {"compat-rf3", 1, 3, {}},
                                 {"compat-bad-config", 1, 1, {{"no.such.config", "1"}}},
                                 {"bad topic name", 1, 1, {}}},
                                false);
    expect(created[0], RD_KAFKA_RESP_ERR_NO_ERROR, "create compat-a (3 partitions, configs)");
    expect(created[1], RD_KAFKA_RESP_ERR_NO_ERROR, "create compat-b (broker defaults)");
    expect(created[2], RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR, "create with replication factor 3");
    expect(created[3], RD_KAFKA_RESP_ERR_INVALID_CONFIG, "create with an unknown config");
    expect(created[4], RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, "create with an invalid name");

    expect(create(rk, {{"compat-a", 3, 1, {}}}, false)[0], RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "create compat-a again");
    expect(create(rk, {{"compat-dry", 2, 1, {}}}, true)[0], RD_KAFKA_RESP_ERR_NO_ERROR, "validate_only create");

    if (partitions_of(rk, "compat-a") != 3) fail("compat-a does not have 3 partitions in metadata");
    if (partitions_of(rk, "compat-b") != 1) fail("compat-b does not have num.partitions (1) partitions");
    if (partitions_of(rk, "compat-dry") != -1) fail("validate_only created compat-dry");
    std::printf("ok: metadata shows the created topics\n");

    const auto deleted = remove(rk, {"compat-a", "compat-missing"});
    expect(deleted[0], RD_KAFKA_RESP_ERR_NO_ERROR, "delete compat-a");
    expect(deleted[1], RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "delete a missing topic");
    if (partitions_of(rk, "compat-a") != -1) fail("compat-a is still in metadata after deletion");
    std::printf("ok: metadata no longer shows compat-a\n");

    rd_kafka_destroy(rk);
    std::printf("admin_smoke: all checks passed\n");
    return 0;
}
