// The second phase of an acks=-1 Produce whose data must be on disk before it is acknowledged:
// topics with a flush policy (flush.messages or flush.ms; log.flush.interval.* on the broker)
// promise that an acknowledged acks=-1 write survives a crash, so the answer waits for the fsync
// of every partition it wrote (group commit in storage/flusher.h makes concurrent producers share
// fsyncs). A partition whose fsync failed gets KAFKA_STORAGE_ERROR instead of its offset.
//
// Created by the Produce handler on the loop thread; the flush callbacks (loop thread) own it
// until the last one answered. The response is held here, encoded once at the end.
#pragma once

#include "broker/handler.h"
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

    // Starts a flush of every pending log and answers through `reply` once all completed.
    static void start(deferred_response reply, protocol::produce_response response, std::vector<pending> waits);

    produce_completion(deferred_response reply, protocol::produce_response response, size_t waits)
        : reply_(std::move(reply)), response_(std::move(response)), left_(waits) {}

private:
    void flushed(const pending& p, protocol::error_code e) noexcept;

    deferred_response reply_;
    protocol::produce_response response_;
    size_t left_;
};

// Whether acks=-1 writes to a log with this configuration wait for their fsync.
[[nodiscard]] bool acks_all_waits_for_fsync(const storage::log_config& config) noexcept;

} // namespace samsa::broker
