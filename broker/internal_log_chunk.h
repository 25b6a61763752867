// What one read of an internal topic's partition (__consumer_offsets, __transaction_state)
// returns to the coordinator replaying it: whole batches, copied, and where to read next.
// A value type; loop thread only.
#pragma once

#include "protocol/errors.h"
#include "protocol/kafka_ids.h"

#include <cstdint>
#include <vector>

namespace samsa::broker {

struct internal_log_chunk {
    protocol::error_code error = protocol::error_code::none;
    std::vector<uint8_t> batches;  // whole v2 batches, in offset order
    protocol::offset next_offset{0};  // where the next read starts
    bool end = false;              // nothing after these batches
};

} // namespace samsa::broker
