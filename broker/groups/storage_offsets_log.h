// offsets_log over the broker's own topics and partition logs: __consumer_offsets is created
// through the metadata service like any topic (compacted), and the coordinator appends to and
// reads from its storage::log partitions directly, as Kafka's coordinator writes to its local
// replica. Owned by the node, after the metadata service and the log manager it uses; loop
// thread only.
#pragma once

#include "broker/groups/offsets_log.h"
#include "broker/groups/topic_source.h"
#include "broker/internal_topic_log.h"
#include "broker/metadata_service.h"
#include "storage/log_manager.h"

namespace samsa::broker {

class storage_offsets_log final : public offsets_log {
public:
    storage_offsets_log(metadata_service& metadata, storage::log_manager& logs)
        : topic_(offsets_topic_name, metadata, logs) {}

    [[nodiscard]] int32_t partitions() const override;
    [[nodiscard]] std::string create(int32_t count, int32_t segment_bytes) override;
    [[nodiscard]] bool waits_for_fsync(protocol::partition_id partition) const override {
        return topic_.waits_for_fsync(partition);
    }
    void when_durable(protocol::partition_id partition, std::function<void(protocol::error_code)> done) override {
        topic_.when_durable(partition, std::move(done));
    }
    [[nodiscard]] bool has_pending_writes(protocol::partition_id partition) const override {
        return topic_.has_pending_writes(partition);
    }
    [[nodiscard]] protocol::error_code append(protocol::partition_id partition, std::span<uint8_t> batches, int64_t now_ms) override;
    [[nodiscard]] offsets_chunk read(protocol::partition_id partition, protocol::offset offset, int32_t max_bytes) const override;

private:
    internal_topic_log topic_;
};

// topic_source over the metadata service's topic table.
class metadata_topic_source final : public topic_source {
public:
    explicit metadata_topic_source(const metadata_service& metadata) : metadata_(metadata) {}
    [[nodiscard]] std::optional<topic_meta> by_name(std::string_view name) const override;
    [[nodiscard]] std::optional<topic_meta> by_id(const protocol::uuid& id) const override;
    [[nodiscard]] std::vector<topic_meta> all() const override;

private:
    const metadata_service& metadata_;
};

} // namespace samsa::broker
