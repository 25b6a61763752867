// A topic's compression.type applied to the v2 batches a producer sends, as Kafka's log
// validator applies it: "producer" keeps every batch as it came; any codec ("uncompressed"
// included) rebuilds each batch whose codec differs, keeping every record (offset delta,
// timestamp, key, value, headers) and the batch's producer id, epoch, sequence and flags.
// Batches already in the topic's codec stay untouched (no re-encoding). A pure function on the
// loop thread; the result owns its bytes.
#pragma once

#include "broker/config.h"
#include "broker/topic_table.h"
#include "protocol/errors.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

struct recompression {
    protocol::error_code error = protocol::error_code::none;
    std::string message;
    std::optional<std::vector<uint8_t>> rebuilt;  // null: keep the batches as they are
};

// The topic's effective compression.type: its override, else the broker's default.
[[nodiscard]] std::string topic_compression_type(const topic_info& topic, const broker_config& cfg);

// `batches` are whole v2 batches already validated by the produce path.
[[nodiscard]] recompression recompress_for_topic(std::span<const uint8_t> batches, std::string_view compression_type);

} // namespace samsa::broker
