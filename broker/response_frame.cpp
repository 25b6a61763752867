#include "broker/response_frame.h"

namespace samsa::broker {

protocol::output_buffer response_buffer(size_t expected) {
    protocol::output_buffer out;
    out.bytes.reserve(expected);
    return out;
}

} // namespace samsa::broker
