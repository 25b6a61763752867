// librdkafka's Admin API (the C API of librdkafka 2.0) wrapped for the admin compatibility
// tests: create topics, describe and alter configs, grow partitions, delete records and read
// watermarks, each returning what the broker answered. Test-only (librdkafka is never linked
// into the broker); header-only; one thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace samsa::compat {

struct described_entry {
    std::optional<std::string> value;
    rd_kafka_ConfigSource_t source = RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG;
    bool read_only = false;
    bool is_default = false;
    std::vector<std::pair<std::string, rd_kafka_ConfigSource_t>> synonyms;
};

struct described {
    rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::map<std::string, described_entry> entries;
};

class admin_client {
public:
    explicit admin_client(const std::string& bootstrap) {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        char err[512];
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
            throw std::runtime_error(err);
        rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (rk_ == nullptr) throw std::runtime_error(err);
        q_ = rd_kafka_queue_new(rk_);
    }
    ~admin_client() {
        rd_kafka_queue_destroy(q_);
        rd_kafka_destroy(rk_);
    }
    admin_client(const admin_client&) = delete;
    admin_client& operator=(const admin_client&) = delete;

    [[nodiscard]] rd_kafka_t* handle() const noexcept { return rk_; }

    rd_kafka_resp_err_t create_topic(const std::string& name, int partitions,
                                     const std::vector<std::pair<std::string, std::string>>& configs = {}) {
        char err[512];
        auto* t = rd_kafka_NewTopic_new(name.c_str(), partitions, 1, err, sizeof err);
        for (const auto& [k, v] : configs) (void)rd_kafka_NewTopic_set_config(t, k.c_str(), v.c_str());
        auto* opts = options(RD_KAFKA_ADMIN_OP_CREATETOPICS, false);
        rd_kafka_CreateTopics(rk_, &t, 1, opts, q_);
        auto* ev = wait(RD_KAFKA_EVENT_CREATETOPICS_RESULT);
        size_t n = 0;
        const auto* r = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        const auto out = n == 1 ? rd_kafka_topic_result_error(r[0]) : RD_KAFKA_RESP_ERR__FAIL;
        done(ev, opts);
        rd_kafka_NewTopic_destroy(t);
        return out;
    }

    described describe(rd_kafka_ResourceType_t type, const std::string& name) {
        auto* res = rd_kafka_ConfigResource_new(type, name.c_str());
        auto* opts = options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, false);
        rd_kafka_DescribeConfigs(rk_, &res, 1, opts, q_);
        auto* ev = wait(RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
        size_t n = 0;
        const auto* rs = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
        described out;
        out.error = n == 1 ? rd_kafka_ConfigResource_error(rs[0]) : RD_KAFKA_RESP_ERR__FAIL;
        if (n == 1) {
            size_t cn = 0;
            const auto* entries = rd_kafka_ConfigResource_configs(rs[0], &cn);
            for (size_t i = 0; i < cn; ++i) {
                described_entry e;
                const char* v = rd_kafka_ConfigEntry_value(entries[i]);
                if (v != nullptr) e.value = v;
                e.source = rd_kafka_ConfigEntry_source(entries[i]);
                e.read_only = rd_kafka_ConfigEntry_is_read_only(entries[i]) != 0;
                e.is_default = rd_kafka_ConfigEntry_is_default(entries[i]) != 0;
                size_t sn = 0;
                const auto* syn = rd_kafka_ConfigEntry_synonyms(entries[i], &sn);
                for (size_t s = 0; s < sn; ++s)
                    e.synonyms.emplace_back(rd_kafka_ConfigEntry_name(syn[s]), rd_kafka_ConfigEntry_source(syn[s]));
                out.entries[rd_kafka_ConfigEntry_name(entries[i])] = std::move(e);
            }
        }
        done(ev, opts);
        rd_kafka_ConfigResource_destroy(res);
        return out;
    }

    // Legacy AlterConfigs: the resource's settings become `configs`.
    rd_kafka_resp_err_t alter(rd_kafka_ResourceType_t type, const std::string& name,
                              const std::vector<std::pair<std::string, std::string>>& configs, bool validate_only = false) {
        auto* res = rd_kafka_ConfigResource_new(type, name.c_str());
        for (const auto& [k, v] : configs) (void)rd_kafka_ConfigResource_set_config(res, k.c_str(), v.c_str());
        auto* opts = options(RD_KAFKA_ADMIN_OP_ALTERCONFIGS, validate_only);
        rd_kafka_AlterConfigs(rk_, &res, 1, opts, q_);
        auto* ev = wait(RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
        size_t n = 0;
        const auto* rs = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
        const auto out = n == 1 ? rd_kafka_ConfigResource_error(rs[0]) : RD_KAFKA_RESP_ERR__FAIL;
        done(ev, opts);
        rd_kafka_ConfigResource_destroy(res);
        return out;
    }

    rd_kafka_resp_err_t create_partitions(const std::string& topic, int count, bool validate_only = false) {
        char err[512];
        auto* np = rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(count), err, sizeof err);
        if (np == nullptr) throw std::runtime_error(err);
        auto* opts = options(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, validate_only);
        rd_kafka_CreatePartitions(rk_, &np, 1, opts, q_);
        auto* ev = wait(RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT);
        size_t n = 0;
        const auto* r = rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
        const auto out = n == 1 ? rd_kafka_topic_result_error(r[0]) : RD_KAFKA_RESP_ERR__FAIL;
        done(ev, opts);
        rd_kafka_NewPartitions_destroy(np);
        return out;
    }

    // DeleteRecords of one partition: its error and the low watermark it reported.
    std::pair<rd_kafka_resp_err_t, int64_t> delete_records(const std::string& topic, int32_t partition, int64_t offset) {
        auto* list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = offset;
        auto* del = rd_kafka_DeleteRecords_new(list);
        rd_kafka_topic_partition_list_destroy(list);
        auto* opts = options(RD_KAFKA_ADMIN_OP_DELETERECORDS, false);
        rd_kafka_DeleteRecords(rk_, &del, 1, opts, q_);
        auto* ev = rd_kafka_queue_poll(q_, 15000);
        if (ev == nullptr) throw std::runtime_error("no DeleteRecords result");
        std::pair<rd_kafka_resp_err_t, int64_t> out{rd_kafka_event_error(ev), -1};
        if (out.first != RD_KAFKA_RESP_ERR_NO_ERROR) last_error_ = rd_kafka_event_error_string(ev);
        if (out.first == RD_KAFKA_RESP_ERR_NO_ERROR && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_DELETERECORDS_RESULT) {
            const auto* offsets = rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
            if (offsets != nullptr && offsets->cnt == 1) out = {offsets->elems[0].err, offsets->elems[0].offset};
        }
        done(ev, opts);
        rd_kafka_DeleteRecords_destroy(del);
        return out;
    }

    // ListOffsets earliest and latest.
    std::pair<int64_t, int64_t> watermarks(const std::string& topic, int32_t partition) {
        int64_t low = -1, high = -1;
        const auto e = rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high, 10000);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(std::string("watermarks: ") + rd_kafka_err2str(e));
        return {low, high};
    }

private:
    rd_kafka_AdminOptions_t* options(rd_kafka_admin_op_t op, bool validate_only) {
        char err[512];
        auto* o = rd_kafka_AdminOptions_new(rk_, op);
        (void)rd_kafka_AdminOptions_set_request_timeout(o, 10000, err, sizeof err);
        if (validate_only) (void)rd_kafka_AdminOptions_set_validate_only(o, 1, err, sizeof err);
        return o;
    }
    rd_kafka_event_t* wait(rd_kafka_event_type_t type) {
        rd_kafka_event_t* ev = rd_kafka_queue_poll(q_, 15000);
        if (ev == nullptr) throw std::runtime_error("no admin result within 15 s");
        if (rd_kafka_event_type(ev) != type) {
            const std::string name = rd_kafka_event_name(ev);
            rd_kafka_event_destroy(ev);
            throw std::runtime_error("unexpected admin event " + name);
        }
        if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            const std::string why = rd_kafka_event_error_string(ev);
            rd_kafka_event_destroy(ev);
            throw std::runtime_error("admin request failed: " + why);
        }
        return ev;
    }
    static void done(rd_kafka_event_t* ev, rd_kafka_AdminOptions_t* opts) {
        rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(opts);
    }

    rd_kafka_t* rk_ = nullptr;
    rd_kafka_queue_t* q_ = nullptr;

public:
    // Why the last request that failed as a whole failed.
    std::string last_error_;
};

} // namespace samsa::compat
