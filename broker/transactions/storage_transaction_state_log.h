// transaction_state_log over the broker's own topics and partition logs: __transaction_state is
// created through the metadata service like any topic (compacted), and the coordinator appends
// to and reads from its storage::log partitions directly, as Kafka's coordinator writes to its
// local replica. Owned by the node, after the metadata service and the log manager it uses;
// loop thread only.
#pragma once

#include "broker/internal_topic_log.h"
#include "broker/metadata_service.h"
#include "broker/transactions/transaction_log.h"
#include "broker/transactions/transaction_state_log.h"
#include "storage/log_manager.h"

namespace samsa::broker {

class storage_transaction_state_log final : public transaction_state_log {
public:
    storage_transaction_state_log(metadata_service& metadata, storage::log_manager& logs)
        : topic_(transaction_state_topic_name, metadata, logs) {}

    [[nodiscard]] int32_t partitions() const override;
    [[nodiscard]] std::string create(int32_t count, int32_t segment_bytes) override;
    [[nodiscard]] bool waits_for_fsync(protocol::partition_id partition) const override {
        return topic_.waits_for_fsync(partition);
    }
    void when_durable(protocol::partition_id partition, std::function<void(protocol::error_code)> done) override {
        topic_.when_durable(partition, std::move(done));
    }
    [[nodiscard]] protocol::error_code append(protocol::partition_id partition, std::span<uint8_t> batches, int64_t now_ms) override;
    [[nodiscard]] transaction_log_chunk read(protocol::partition_id partition, protocol::offset offset, int32_t max_bytes) const override;

private:
    internal_topic_log topic_;
};

} // namespace samsa::broker
