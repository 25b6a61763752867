#include "broker/transactions/transaction_log.h"

#include "broker/internal_topic_partition.h"
#include "protocol/messages/transaction_log.h"

#include <algorithm>
#include <climits>
#include <map>

namespace samsa::broker {

std::vector<uint8_t> encode_transaction_log_key(std::string_view transactional_id) {
    protocol::transaction_log_key k;
    k.transactional_id = std::string(transactional_id);
    return protocol::version_prefixed_bytes(k, transaction_log_key_version);
}

std::vector<uint8_t> encode_transaction_log_value(const transaction_metadata& m) {
    protocol::transaction_log_value v;
    v.producer_id = m.producer_id.value();
    v.producer_epoch = m.producer_epoch.value();
    v.transaction_timeout_ms = m.timeout_ms;
    v.transaction_status = static_cast<int8_t>(m.state);
    if (m.state == txn_state::empty) {
        v.transaction_partitions = std::nullopt;
    } else {
        std::map<std::string, std::vector<int32_t>> by_topic;
        for (const auto& [topic, partition] : m.partitions) by_topic[topic].push_back(partition.value());
        auto& list = v.transaction_partitions.emplace();
        for (auto& [topic, ids] : by_topic) list.push_back({topic, std::move(ids)});
    }
    v.transaction_last_update_timestamp_ms = m.last_update_ms;
    v.transaction_start_timestamp_ms = m.start_ms;
    v.previous_producer_id = m.last_producer_id.value();
    v.next_producer_id = m.next_producer_id.value();
    v.client_transaction_version = m.client_transaction_version;
    return protocol::version_prefixed_bytes(v, transaction_log_value_version);
}

std::optional<std::string> decode_transaction_log_key(protocol::bytes_view key) {
    protocol::reader r(key);
    const int16_t version = r.read_int16();
    if (!r.ok() || version != transaction_log_key_version) return std::nullopt;
    protocol::transaction_log_key k;
    k.decode(r, version);
    if (!r.ok()) return std::nullopt;
    return std::move(k.transactional_id);
}

std::optional<transaction_metadata> decode_transaction_log_value(protocol::bytes_view value) {
    protocol::reader r(value);
    const int16_t version = r.read_int16();
    if (!r.ok() || version < 0) return std::nullopt;
    protocol::transaction_log_value v;
    // Newer versions only add tagged fields; read them at the newest we know.
    v.decode(r, std::min(version, protocol::transaction_log_value::max_version));
    if (!r.ok()) return std::nullopt;
    const auto state = txn_state_from_id(v.transaction_status);
    if (!state || *state == txn_state::prepare_epoch_fence) return std::nullopt;
    transaction_metadata m;
    m.producer_id = protocol::producer_id(v.producer_id);
    m.producer_epoch = protocol::producer_epoch(v.producer_epoch);
    m.timeout_ms = v.transaction_timeout_ms;
    m.state = *state;
    if (v.transaction_partitions)
        for (const auto& t : *v.transaction_partitions)
            for (const int32_t p : t.partition_ids) m.partitions.emplace(t.topic, protocol::partition_id(p));
    m.last_update_ms = v.transaction_last_update_timestamp_ms;
    m.start_ms = v.transaction_start_timestamp_ms;
    m.last_producer_id = protocol::producer_id(v.previous_producer_id);
    m.next_producer_id = protocol::producer_id(v.next_producer_id);
    m.client_transaction_version = v.client_transaction_version;
    return m;
}

protocol::partition_id transaction_log_partition(std::string_view transactional_id, int32_t partitions) noexcept {
    if (partitions <= 0) return protocol::partition_id(0);
    return protocol::partition_id(internal_topic_partition(transactional_id, partitions));
}

} // namespace samsa::broker
