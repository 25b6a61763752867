// The records of the internal __transaction_state topic, in Kafka's own format so that Kafka's
// tools (and Samsa's loader) read them: key and value are an int16 schema version followed by
// the struct of protocol/schema/transaction_log.json at that version. docs/transactions.md has
// the layout. Pure functions over bytes; any thread.
//
//   key   version 0  TransactionLogKey    (transactional id)
//   value version 0  TransactionLogValue  (producer id and epoch, timeout, status, partitions,
//                                          last update and start timestamps); a null value is a
//                                          tombstone: the id expired.
//   value version 1  the same, flexible (transaction.version 1+, what this broker writes), with
//                    tagged fields: 0 PreviousProducerId, 1 NextProducerId (the ids around a
//                    V2 rotation) and 2 ClientTransactionVersion.
#pragma once

#include "broker/transactions/transaction_metadata.h"
#include "protocol/kafka_ids.h"
#include "protocol/wire.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

inline constexpr std::string_view transaction_state_topic_name = "__transaction_state";

inline constexpr int16_t transaction_log_key_version = 0;
// Kafka writes version 1 once transaction.version 1 is finalized, as it is on this broker.
inline constexpr int16_t transaction_log_value_version = 1;

[[nodiscard]] std::vector<uint8_t> encode_transaction_log_key(std::string_view transactional_id);
// The state as written: Empty has null partitions (Kafka's choice), the others a list per topic.
// PrepareEpochFence is never written.
[[nodiscard]] std::vector<uint8_t> encode_transaction_log_value(const transaction_metadata& m);

// The transactional id of a key; nullopt for a malformed key or an unknown key version.
[[nodiscard]] std::optional<std::string> decode_transaction_log_key(protocol::bytes_view key);
// The metadata of a value (transactional_id is left empty); nullopt when malformed or when
// the status is not one Kafka writes.
[[nodiscard]] std::optional<transaction_metadata> decode_transaction_log_value(protocol::bytes_view value);

// The __transaction_state partition of a transactional id: Kafka's abs(String.hashCode) % count.
[[nodiscard]] protocol::partition_id transaction_log_partition(std::string_view transactional_id, int32_t partitions) noexcept;

} // namespace samsa::broker
