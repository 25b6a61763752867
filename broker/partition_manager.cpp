#include "broker/partition_manager.h"

#include <chrono>

namespace samsa::broker {

using protocol::error_code;

partition_manager::partition_manager(const metadata_service& metadata, storage::log_manager& logs)
    : metadata_(metadata), logs_(logs) {}

int64_t partition_manager::wall_clock_ms() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

partition_handle partition_manager::open(const topic_info* topic, protocol::partition_id partition) {
    partition_handle h;
    h.topic = topic;
    h.partition = partition;
    if (partition.value() < 0 || partition.value() >= topic->partitions) {
        h.error = error_code::unknown_topic_or_partition;
        return h;
    }
    h.log = logs_.get({topic->name, partition});
    if (!h.log) {
        // The metadata lists the partition but storage has no log for it (it could not be
        // created): Kafka reports a partition without a local replica the same way.
        h.error = error_code::unknown_topic_or_partition;
        return h;
    }
    if (h.log->offline()) {
        h.error = error_code::kafka_storage_error;
        return h;
    }
    // Kafka's leader starts its epoch at the log end offset when it takes the partition over;
    // here leadership never moves, so the epoch starts when the log is first used.
    if (h.log->latest_epoch() < topic->leader_epoch) h.log->assign_leader_epoch(topic->leader_epoch);
    return h;
}

partition_handle partition_manager::find(std::string_view topic, protocol::partition_id partition) {
    const topic_info* t = metadata_.topics().find(topic);
    if (t == nullptr) {
        partition_handle h;
        h.error = error_code::unknown_topic_or_partition;
        h.partition = partition;
        return h;
    }
    return open(t, partition);
}

partition_handle partition_manager::find(const protocol::uuid& topic_id, protocol::partition_id partition) {
    const topic_info* t = metadata_.topics().find(topic_id);
    if (t == nullptr) {
        partition_handle h;
        h.error = error_code::unknown_topic_id;
        h.partition = partition;
        return h;
    }
    return open(t, partition);
}

error_code partition_manager::check_leader_epoch(const topic_info& topic,
                                                 protocol::leader_epoch current_leader_epoch) noexcept {
    if (current_leader_epoch < protocol::leader_epoch(0)) return error_code::none;
    const protocol::leader_epoch leader = topic.leader_epoch;
    if (current_leader_epoch < leader) return error_code::fenced_leader_epoch;
    if (current_leader_epoch > leader) return error_code::unknown_leader_epoch;
    return error_code::none;
}

storage::append_result partition_manager::append(const partition_handle& p, std::span<uint8_t> batches, int64_t now_ms,
                                                 storage::append_origin origin) {
    storage::append_options options;
    options.now_ms = now_ms;
    options.origin = origin;
    options.leader_epoch = p.topic->leader_epoch;
    storage::append_result r = p.log->append(batches, options);
    if (r.error != error_code::none || r.duplicate) return r;
    p.log->set_high_watermark(p.log->log_end_offset());
    waiters_.notify(p.log.get(), batches.size());
    return r;
}

} // namespace samsa::broker
