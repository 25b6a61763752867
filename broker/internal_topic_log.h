// The coordinator_log of one internal topic (__consumer_offsets, __transaction_state, named at
// construction) over the broker's own topics and partition logs: created through the metadata
// service like any topic (compacted), appended to and read from its storage::log partitions
// directly, as Kafka's coordinators write to their local replica. The node owns one per
// coordinator, after the metadata service and the log manager it uses; loop thread only.
//
// Durability: an append is as durable as an acks=-1 produce to the same partition only once
// when_durable() reports so: when the topic has a flush policy that is after an fsync on the
// log manager's flusher thread (group commit), otherwise at once (the same rule as Produce).
#pragma once

#include "broker/coordinator_log.h"
#include "broker/internal_log_chunk.h"
#include "broker/metadata_service.h"
#include "protocol/kafka_ids.h"
#include "storage/log_manager.h"

#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace samsa::broker {

class internal_topic_log final : public coordinator_log {
public:
    internal_topic_log(std::string_view topic, metadata_service& metadata, storage::log_manager& logs)
        : topic_(topic), metadata_(metadata), logs_(logs) {}

    // The topic's partition count, 0 while the topic does not exist.
    [[nodiscard]] int32_t partitions() const override;
    // Creates the compacted topic; an existing one is fine. Returns why it failed, or "".
    [[nodiscard]] std::string create(int32_t count, int32_t segment_bytes) override;
    // Appends coordinator batches to one partition and makes them visible (one replica).
    [[nodiscard]] protocol::error_code append(protocol::partition_id partition, std::span<uint8_t> batches, int64_t now_ms) override;
    // Whether an acks=-1 produce to the partition would wait for its fsync (flush.messages or
    // flush.ms set on the topic, or log.flush.interval.* on the broker).
    [[nodiscard]] bool waits_for_fsync(protocol::partition_id partition) const override;
    // Calls `done` on the loop thread, never from inside this call, once everything appended to
    // the partition so far is on disk: none, or KAFKA_STORAGE_ERROR when the fsync failed (the
    // partition is then offline) or the partition is gone.
    void when_durable(protocol::partition_id partition, std::function<void(protocol::error_code)> done) override;
    // Whether the partition holds appends that wait for an fsync (its flush policy) not done yet.
    [[nodiscard]] bool has_pending_writes(protocol::partition_id partition) const override;
    // Up to `max_bytes` of whole batches from `offset` (or the log start, if later).
    [[nodiscard]] internal_log_chunk read(protocol::partition_id partition, protocol::offset offset, int32_t max_bytes) const override;

private:
    [[nodiscard]] storage::topic_partition tp(protocol::partition_id partition) const { return {topic_, partition}; }

    std::string topic_;
    metadata_service& metadata_;
    storage::log_manager& logs_;
};

} // namespace samsa::broker
