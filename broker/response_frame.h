// Encodes a whole response frame (size prefix, response header, body) into a buffer sized for
// it in one allocation. Used by request_context::respond and deferred_response::respond on the
// loop thread; the returned buffer belongs to the caller.
#pragma once

#include "protocol/frame_decoder.h"
#include "protocol/wire.h"

#include <cstddef>
#include <cstdint>

namespace samsa::broker {

// An empty buffer with room for `expected` bytes. Out of line on purpose: it also keeps GCC 12
// from a false -Wstringop-overflow when it inlines the first write into a vector it knows is
// empty.
[[nodiscard]] protocol::output_buffer response_buffer(size_t expected);

template <typename Message>
[[nodiscard]] protocol::output_buffer encode_response(int16_t version, int32_t correlation_id, const Message& body) {
    // 4 (size) + 4 (correlation id) + 1 (tagged fields) + the body.
    auto out = response_buffer(9 + body.size(version));
    protocol::encode_response_frame(out, version, correlation_id, body);
    return out;
}

} // namespace samsa::broker
