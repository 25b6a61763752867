// A coordinator's access to the partitions of its internal topic (the group coordinator's
// __consumer_offsets, the transaction coordinator's __transaction_state): create the topic,
// append a batch of the coordinator's records to one partition, learn when appends are durable,
// read a partition back at start-up. Implemented over the broker's partition logs by
// internal_topic_log and, in tests, in memory. Owned by whoever builds the coordinator and
// outlives it; loop thread only.
#pragma once

#include "broker/internal_log_chunk.h"
#include "protocol/errors.h"
#include "protocol/kafka_ids.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace samsa::broker {

class coordinator_log {
public:
    virtual ~coordinator_log() = default;
    // The topic's partition count, 0 while the topic does not exist.
    [[nodiscard]] virtual int32_t partitions() const = 0;
    // Creates the topic (cleanup.policy=compact) with `count` partitions. Returns why it
    // failed, or an empty string.
    [[nodiscard]] virtual std::string create(int32_t count, int32_t segment_bytes) = 0;
    // Appends v2 batches (offsets are assigned in place) as the coordinator; the records are
    // on the log, and visible to readers, when this returns none.
    [[nodiscard]] virtual protocol::error_code append(protocol::partition_id partition, std::span<uint8_t> batches, int64_t now_ms) = 0;
    // Whether an append to the partition is durable only after an fsync (the topic's flush
    // policy: the rule acks=-1 produces follow).
    [[nodiscard]] virtual bool waits_for_fsync(protocol::partition_id partition) const = 0;
    // Calls `done` on the loop thread, later (never from inside this call), once what was
    // appended to the partition so far is durable: none, or the storage error that prevented it.
    virtual void when_durable(protocol::partition_id partition, std::function<void(protocol::error_code)> done) = 0;
    // Whether the partition holds appends that wait for an fsync not done yet.
    [[nodiscard]] virtual bool has_pending_writes(protocol::partition_id partition) const = 0;
    // Whole batches from `offset` (or the log start, if later), about `max_bytes` (at least one
    // batch).
    [[nodiscard]] virtual internal_log_chunk read(protocol::partition_id partition, protocol::offset offset, int32_t max_bytes) const = 0;
};

} // namespace samsa::broker
