// Counters the server keeps about its connections. Written on the loop thread; tests read
// them after run() has returned.
#pragma once

#include <cstdint>

namespace samsa::broker {

struct server_stats {
    uint64_t accepted = 0;
    uint64_t closed = 0;
    uint64_t requests = 0;
    uint64_t rejected_frames = 0;  // oversized, negative or malformed frames
    uint64_t idle_closed = 0;
    uint64_t read_pauses = 0;      // times a connection stopped reading for backpressure
    uint64_t write_waits = 0;      // times a sendfile found the socket full and waited
};

} // namespace samsa::broker
