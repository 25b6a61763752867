// The second phase of an acks=-1 Produce whose data must be on disk before it is acknowledged:
// topics with a flush policy (flush.messages or flush.ms; log.flush.interval.* on the broker)
// promise that an acknowledged acks=-1 write survives a crash, so the answer waits for the fsync
// of every partition it wrote (group commit in storage/flusher.h makes concurrent producers share
// fsyncs). A partition whose fsync failed gets KAFKA_STORAGE_ERROR instead of its offset.
//
// The request's timeout_ms bounds this wait, as it bounds Kafka's wait for the in-sync replicas
// (on this single node the ISR is this node, so that wait is nothing and the fsync is all that is
// left): partitions still unflushed when it expires get REQUEST_TIMED_OUT (written, durability
// unknown). A timeout of 0 or less sets no bound, since Kafka would have flushed inside the append.
//
// Created by the Produce handler on the loop thread; the flush callbacks (loop thread) own it
// until the last one answered. The response is held here, encoded once at the end.
#pragma once

#include "broker/handler.h"
#include "broker/loop_services.h"
#include "protocol/messages/produce.h"
#include "storage/log.h"

#include <cstddef>
#include <memory>
#include <vector>

namespace samsa::broker {

class produce_completion : public std::enable_shared_from_this<produce_completion> {
public:
    // A partition whose fsync the answer waits for: its log and its place in the response.
    struct pending {
        std::shared_ptr<storage::log> log;
        size_t topic = 0;
        size_t partition = 0;
    };

    // Starts a flush of every pending log and answers through `reply` once all completed, or
    // after `timeout_ms` (> 0) with the unflushed ones timed out. `loop` outlives the request.
    static void start(deferred_response reply, protocol::produce_response response, std::vector<pending> waits,
                      loop_services& loop, int32_t timeout_ms);

    produce_completion(deferred_response reply, protocol::produce_response response, std::vector<pending> waits)
        : reply_(std::move(reply)), response_(std::move(response)), waits_(std::move(waits)), done_(waits_.size(), false),
          left_(waits_.size()) {}

private:
    void flushed(size_t i, protocol::error_code e) noexcept;
    void timed_out() noexcept;

    deferred_response reply_;
    protocol::produce_response response_;
    std::vector<pending> waits_;
    std::vector<bool> done_;  // per wait: its flush completed
    size_t left_;
    std::unique_ptr<loop_timer> timer_;
};

// Whether acks=-1 writes to a log with this configuration wait for their fsync.
[[nodiscard]] bool acks_all_waits_for_fsync(const storage::log_config& config) noexcept;

} // namespace samsa::broker
