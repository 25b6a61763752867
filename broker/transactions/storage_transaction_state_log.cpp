#include "broker/transactions/storage_transaction_state_log.h"

namespace samsa::broker {

int32_t storage_transaction_state_log::partitions() const { return topic_.partitions(); }

std::string storage_transaction_state_log::create(int32_t count, int32_t segment_bytes) {
    return topic_.create(count, segment_bytes);
}

protocol::error_code storage_transaction_state_log::append(protocol::partition_id partition, std::span<uint8_t> batches, int64_t now_ms) {
    return topic_.append(partition, batches, now_ms);
}

transaction_log_chunk storage_transaction_state_log::read(protocol::partition_id partition, protocol::offset offset, int32_t max_bytes) const {
    return topic_.read(partition, offset, max_bytes);
}

} // namespace samsa::broker
