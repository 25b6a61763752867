// Small RAII wrappers over librdkafka's C API for the compatibility tests and the benchmark: a
// producer that records every delivery report, and a consumer that reads assigned partitions
// from given offsets (no consumer group). Test-only code (librdkafka is never linked into the
// broker). Header-only; each object is used from one thread (delivery reports arrive in poll()).
#pragma once

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace samsa::compat {

using settings = std::vector<std::pair<std::string, std::string>>;

inline rd_kafka_conf_t* make_conf(const settings& s) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    for (const auto& [k, v] : s)
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error("librdkafka setting " + k + "=" + v + ": " + err);
        }
    return conf;
}

struct delivery {
    rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
    int32_t partition = -1;
    int64_t offset = -1;
    uint64_t id = 0;          // the caller's message id (its opaque)
    int64_t latency_us = 0;   // from produce() to the report
};

class producer {
public:
    explicit producer(settings s) {
        rd_kafka_conf_t* conf = make_conf(s);
        rd_kafka_conf_set_opaque(conf, this);
        rd_kafka_conf_set_dr_msg_cb(conf, &producer::on_delivery);
        char err[512];
        rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (rk_ == nullptr) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(std::string("rd_kafka_new: ") + err);
        }
    }
    ~producer() {
        rd_kafka_flush(rk_, 10000);
        rd_kafka_destroy(rk_);
    }
    producer(const producer&) = delete;
    producer& operator=(const producer&) = delete;

    // Queues one message; retries while librdkafka's queue is full. The id comes back in the
    // delivery report.
    void produce(const std::string& topic, int32_t partition, const std::optional<std::string>& key,
                 const std::string& value, const std::vector<std::pair<std::string, std::string>>& headers = {},
                 int64_t timestamp = 0, uint64_t id = 0) {
        produce_raw(topic, partition, key ? key->data() : nullptr, key ? key->size() : 0, value.data(), value.size(),
                    headers, timestamp, id);
    }

    void produce_raw(const std::string& topic, int32_t partition, const char* key, size_t key_size, const char* value,
                     size_t value_size, const std::vector<std::pair<std::string, std::string>>& headers = {},
                     int64_t timestamp = 0, uint64_t id = 0) {
        for (;;) {
            rd_kafka_headers_t* hs = nullptr;
            if (!headers.empty()) {
                hs = rd_kafka_headers_new(headers.size());
                for (const auto& [k, v] : headers) rd_kafka_header_add(hs, k.data(), static_cast<ssize_t>(k.size()), v.data(), static_cast<ssize_t>(v.size()));
            }
            auto* sent = new sent_at{id, std::chrono::steady_clock::now()};
            const rd_kafka_resp_err_t e = rd_kafka_producev(
                rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(const_cast<char*>(key), key_size),
                RD_KAFKA_V_VALUE(const_cast<char*>(value), value_size), RD_KAFKA_V_TIMESTAMP(timestamp),
                RD_KAFKA_V_HEADERS(hs), RD_KAFKA_V_OPAQUE(sent), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return;
            delete sent;
            if (hs != nullptr) rd_kafka_headers_destroy(hs);
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(e));
            rd_kafka_poll(rk_, 10);
        }
    }

    void poll(int timeout_ms = 0) { rd_kafka_poll(rk_, timeout_ms); }
    // Waits for every queued message's delivery report; false on timeout.
    bool flush(int timeout_ms = 30000) { return rd_kafka_flush(rk_, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR; }
    [[nodiscard]] const std::vector<delivery>& deliveries() const noexcept { return deliveries_; }
    [[nodiscard]] rd_kafka_t* handle() const noexcept { return rk_; }

private:
    struct sent_at {
        uint64_t id;
        std::chrono::steady_clock::time_point at;
    };
    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
        auto* self = static_cast<producer*>(opaque);
        std::unique_ptr<sent_at> s(static_cast<sent_at*>(m->_private));
        delivery d;
        d.error = m->err;
        d.partition = m->partition;
        d.offset = m->offset;
        if (s) {
            d.id = s->id;
            d.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - s->at).count();
        }
        self->deliveries_.push_back(d);
    }

    rd_kafka_t* rk_ = nullptr;
    std::vector<delivery> deliveries_;
};

struct consumed {
    int32_t partition = -1;
    int64_t offset = -1;
    int64_t timestamp = -1;
    std::optional<std::string> key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
};

class consumer {
public:
    explicit consumer(settings s) {
        // librdkafka's consumer API needs a group id even when partitions are assigned by hand
        // (no group is joined then).
        if (std::none_of(s.begin(), s.end(), [](const auto& kv) { return kv.first == "group.id"; }))
            s.emplace_back("group.id", "samsa-compat");
        s.emplace_back("enable.auto.commit", "false");
        s.emplace_back("enable.partition.eof", "false");
        rd_kafka_conf_t* conf = make_conf(s);
        char err[512];
        rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
        if (rk_ == nullptr) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(std::string("rd_kafka_new: ") + err);
        }
        rd_kafka_poll_set_consumer(rk_);
    }
    ~consumer() {
        (void)rd_kafka_consumer_close(rk_);
        rd_kafka_destroy(rk_);
    }
    consumer(const consumer&) = delete;
    consumer& operator=(const consumer&) = delete;

    // Reads `topic` partitions [0, partitions) from `offset` (or RD_KAFKA_OFFSET_BEGINNING).
    void assign(const std::string& topic, int32_t partitions, int64_t offset = RD_KAFKA_OFFSET_BEGINNING) {
        rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
        for (int32_t p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = offset;
        const rd_kafka_resp_err_t e = rd_kafka_assign(rk_, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(std::string("assign: ") + rd_kafka_err2str(e));
    }

    // Calls `fn` for each message until `count` were read or `timeout` passed with none arriving.
    // Returns how many were read. Consumer errors are thrown (a test must not hide them).
    template <typename Fn>
    size_t read(size_t count, std::chrono::milliseconds idle_timeout, Fn&& fn) {
        size_t n = 0;
        auto last = std::chrono::steady_clock::now();
        while (n < count) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
            if (m == nullptr) {
                if (std::chrono::steady_clock::now() - last > idle_timeout) break;
                continue;
            }
            std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> guard(m, rd_kafka_message_destroy);
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
                throw std::runtime_error(std::string("consume: ") + rd_kafka_message_errstr(m));
            }
            last = std::chrono::steady_clock::now();
            fn(*m);
            ++n;
        }
        return n;
    }

    // Every message as a value, for content checks.
    std::vector<consumed> read_all(size_t count, std::chrono::milliseconds idle_timeout = std::chrono::seconds(10)) {
        std::vector<consumed> out;
        (void)read(count, idle_timeout, [&](const rd_kafka_message_t& m) { out.push_back(to_consumed(m)); });
        return out;
    }

    static consumed to_consumed(const rd_kafka_message_t& m) {
        consumed c;
        c.partition = m.partition;
        c.offset = m.offset;
        rd_kafka_timestamp_type_t type;
        c.timestamp = rd_kafka_message_timestamp(&m, &type);
        if (m.key != nullptr) c.key = std::string(static_cast<const char*>(m.key), m.key_len);
        c.value = std::string(static_cast<const char*>(m.payload), m.len);
        rd_kafka_headers_t* hs = nullptr;
        if (rd_kafka_message_headers(&m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR && hs != nullptr) {
            const char* name = nullptr;
            const void* value = nullptr;
            size_t size = 0;
            for (size_t i = 0; rd_kafka_header_get_all(hs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
                c.headers.emplace_back(name, std::string(static_cast<const char*>(value), size));
        }
        return c;
    }

    [[nodiscard]] rd_kafka_t* handle() const noexcept { return rk_; }

private:
    rd_kafka_t* rk_ = nullptr;
};

} // namespace samsa::compat
