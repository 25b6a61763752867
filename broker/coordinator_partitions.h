// The partitions of a coordinator's internal topic (__consumer_offsets for the group
// coordinator, __transaction_state for the transaction coordinator) as that coordinator sees
// them: how many there are (0 until the topic exists), which are still loading, the topic's
// configured shape (by which keys are placed before it exists) and its creation on first use,
// and the start-up load, which reads each partition chunk by chunk, one posted task per chunk
// so the loop keeps serving, and hands every chunk to the coordinator.
// Owned by its coordinator; the coordinator_log and loop_services it is given outlive it, the
// topic name must live as long as it does. Destroying it, or stop(), drops the load tasks still
// posted. Loop thread only.
#pragma once

#include "broker/coordinator_log.h"
#include "broker/loop_services.h"
#include "protocol/errors.h"
#include "protocol/kafka_ids.h"
#include "protocol/wire.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace samsa::broker {

class coordinator_partitions {
public:
    // What the coordinator does with what the load reads; called on the loop thread, from the
    // load's posted tasks.
    struct load_steps {
        // One chunk of whole batches of the partition, in log order.
        std::function<void(protocol::partition_id, protocol::bytes_view)> replay;
        // The partition's end was reached: it is loaded already (loading() is false for it from here on).
        std::function<void(protocol::partition_id)> finish;
        // The partition could not be read: it stays loading (its keys keep answering
        // COORDINATOR_LOAD_IN_PROGRESS rather than forgetting their state) and the load goes on
        // with the next partition. Earlier chunks of it may have been replayed already: what
        // replay staged for it must be dropped here, or the next partition's finish would take it.
        std::function<void(protocol::partition_id, protocol::error_code)> unreadable;
    };

    // `partitions` and `segment_bytes` are the configured shape of the topic when it is created.
    coordinator_partitions(std::string_view topic, coordinator_log& log, loop_services& loop, int32_t partitions,
                           int32_t segment_bytes);
    coordinator_partitions(const coordinator_partitions&) = delete;
    coordinator_partitions& operator=(const coordinator_partitions&) = delete;

    // Takes the partition count of the existing topic (0 when there is none), marks every
    // partition loading and posts the load of the first; the others follow in order.
    void load(load_steps steps);
    // The load does not go on: its tasks still posted do nothing (shutdown).
    void stop() noexcept;

    // Creates the topic with its configured shape on first use (an existing topic is taken as it
    // is), every partition loaded. none, or COORDINATOR_NOT_AVAILABLE when it cannot be created.
    [[nodiscard]] protocol::error_code ensure_created();

    // The topic's partition count, 0 until it exists.
    [[nodiscard]] int32_t count() const noexcept { return static_cast<int32_t>(states_.size()); }
    // The count keys are placed by: the topic's, or the configured one before it exists.
    [[nodiscard]] int32_t routing_count() const noexcept { return count() > 0 ? count() : configured_partitions_; }
    [[nodiscard]] bool loading(protocol::partition_id partition) const noexcept;
    [[nodiscard]] bool loading_any() const noexcept;

private:
    enum class state : uint8_t { loading, loaded };

    void load_partition(protocol::partition_id partition, protocol::offset from);
    void post_load(protocol::partition_id partition, protocol::offset from);

    std::string_view topic_;
    coordinator_log& log_;
    loop_services& loop_;
    int32_t configured_partitions_;
    int32_t segment_bytes_;
    std::vector<state> states_;  // one per partition of the topic, empty until it exists
    load_steps steps_;
    // The load's posted tasks hold it weakly: once it is gone (stop(), or this object
    // destroyed) they do nothing.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace samsa::broker
