// The record set of one partition of a Produce request, made ready to append: Kafka's rules on
// what each Produce version may carry, and the conversion of old clients' message sets.
//
//   v3+   exactly one record batch of magic 2                       else INVALID_RECORD
//   v3-6  no zstd (KIP-110: zstd needs Produce v7)                   else UNSUPPORTED_COMPRESSION_TYPE
//   v0-2  magic 0/1 message sets (Kafka 0.8-0.10 clients) are converted to one v2 batch, keeping
//         keys, values, timestamps and the producer's codec; magic 2 batches pass as they are
//
// A v2 batch stays where it arrived, in the request frame, and the log patches its offsets there
// (the dispatcher lends the frame, a slice of the connection's input buffer, for the call). Pure
// function, loop thread; the result borrows the request's bytes or owns the converted ones.
#pragma once

#include "protocol/errors.h"
#include "protocol/wire.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace samsa::broker {

struct produce_records {
    protocol::error_code error = protocol::error_code::none;
    std::string message;            // why, for the response's error_message (v8+)
    std::span<uint8_t> borrowed;    // a v2 batch, in place in the request frame
    std::vector<uint8_t> converted; // or a legacy message set converted to one v2 batch

    // What to append; empty for an empty record set before v3.
    [[nodiscard]] std::span<uint8_t> batches() noexcept { return converted.empty() ? borrowed : converted; }
};

// `records` is the partition's records field as decoded from the request frame.
[[nodiscard]] produce_records prepare_produce_records(int16_t version, const protocol::records& records);

} // namespace samsa::broker
