// A librdkafka high-level (consumer group) consumer on its own thread, for the group
// compatibility tests: subscribes, follows eager or cooperative rebalances as the client drives
// them, records its assignment and every message it reads, and can commit each message
// synchronously. Test-only code; the accessors are safe from the test's thread.
#pragma once

#include "compat/rdkafka_client.h"

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace samsa::compat {

class group_consumer {
public:
    // `s` holds bootstrap.servers, group.id and whatever else the test sets.
    group_consumer(settings s, std::string topic, bool commit_each = false)
        : settings_(std::move(s)), topic_(std::move(topic)), commit_each_(commit_each) {
        thread_ = std::thread([this] { run(); });
    }
    ~group_consumer() { stop(); }
    group_consumer(const group_consumer&) = delete;
    group_consumer& operator=(const group_consumer&) = delete;

    // Leaves the group (close) and joins the thread.
    void stop() {
        stopping_ = true;
        if (thread_.joinable()) thread_.join();
    }

    [[nodiscard]] std::set<int32_t> assignment() const {
        std::lock_guard lock(mutex_);
        return assignment_;
    }
    [[nodiscard]] std::vector<consumed> messages() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    [[nodiscard]] size_t message_count() const {
        std::lock_guard lock(mutex_);
        return messages_.size();
    }
    [[nodiscard]] int rebalances() const noexcept { return rebalances_; }
    [[nodiscard]] std::string failure() const {
        std::lock_guard lock(mutex_);
        return failure_;
    }

private:
    static void drop(rd_kafka_error_t* e) {
        if (e != nullptr) rd_kafka_error_destroy(e);
    }
    static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
        auto* self = static_cast<group_consumer*>(opaque);
        const bool cooperative = std::string(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
        std::lock_guard lock(self->mutex_);
        ++self->rebalances_;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            for (int i = 0; i < parts->cnt; ++i) self->assignment_.insert(parts->elems[i].partition);
            if (cooperative) drop(rd_kafka_incremental_assign(rk, parts));
            else (void)rd_kafka_assign(rk, parts);
        } else {
            for (int i = 0; i < parts->cnt; ++i) self->assignment_.erase(parts->elems[i].partition);
            if (cooperative) drop(rd_kafka_incremental_unassign(rk, parts));
            else {
                self->assignment_.clear();
                (void)rd_kafka_assign(rk, nullptr);
            }
        }
    }

    void run() {
        settings s = settings_;
        if (commit_each_) s.emplace_back("enable.auto.commit", "false");
        rd_kafka_conf_t* conf = nullptr;
        try {
            conf = make_conf(s);
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex_);
            failure_ = e.what();
            return;
        }
        rd_kafka_conf_set_opaque(conf, this);
        rd_kafka_conf_set_rebalance_cb(conf, &group_consumer::on_rebalance);
        char err[512];
        rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
        if (rk == nullptr) {
            std::lock_guard lock(mutex_);
            failure_ = err;
            return;
        }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, topic_.c_str(), RD_KAFKA_PARTITION_UA);
        (void)rd_kafka_subscribe(rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        while (!stopping_) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 50);
            if (m == nullptr) continue;
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                bool committed = true;
                if (commit_each_) committed = rd_kafka_commit_message(rk, m, 0) == RD_KAFKA_RESP_ERR_NO_ERROR;
                // A message whose commit failed may be read again by the next owner: it is not
                // counted as consumed here, so exactly-once checks stay honest.
                if (committed) {
                    std::lock_guard lock(mutex_);
                    messages_.push_back(consumer::to_consumed(*m));
                }
            }
            rd_kafka_message_destroy(m);
        }
        (void)rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }

    settings settings_;
    std::string topic_;
    bool commit_each_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> rebalances_{0};
    mutable std::mutex mutex_;
    std::set<int32_t> assignment_;
    std::vector<consumed> messages_;
    std::string failure_;
};

} // namespace samsa::compat
