// Tests broker/input_buffer.cpp: geometric growth that keeps the held bytes, reuse between
// requests, and the idle cap.
#include "broker/input_buffer.h"

#include <doctest/doctest.h>

#include <cstring>
#include <numeric>
#include <vector>

using samsa::broker::input_buffer;

namespace {

// Reads `bytes` into the buffer as a socket would: into free_space(), then commit().
void read_into(input_buffer& b, const std::vector<uint8_t>& bytes) {
    REQUIRE(b.reserve(b.size() + bytes.size()));
    REQUIRE(b.free_space().size() >= bytes.size());
    std::memcpy(b.free_space().data(), bytes.data(), bytes.size());
    b.commit(bytes.size());
}

std::vector<uint8_t> counting(size_t n, uint8_t from = 0) {
    std::vector<uint8_t> v(n);
    std::iota(v.begin(), v.end(), from);
    return v;
}

} // namespace

TEST_CASE("input_buffer: starts at its resting size with nothing held") {
    input_buffer b(1024);
    CHECK(b.capacity() == 1024);
    CHECK(b.size() == 0);
    CHECK(b.free_space().size() == 1024);
}

TEST_CASE("input_buffer: growth at least doubles and keeps the held bytes") {
    input_buffer b(16);
    const auto first = counting(10);
    read_into(b, first);
    CHECK(b.capacity_for(17) == 32);      // doubling beats the exact need
    CHECK(b.capacity_for(1000) == 1000);  // a known large frame gets exactly its size
    REQUIRE(b.reserve(17));
    CHECK(b.capacity() == 32);
    CHECK(std::vector<uint8_t>(b.held().begin(), b.held().end()) == first);
    // A frame arriving in 16-byte pieces up to 1 KiB reallocates log2(1024/16) times, not 63.
    size_t reallocations = 0;
    while (b.size() < 1024) {
        const size_t before = b.capacity();
        read_into(b, counting(16, static_cast<uint8_t>(b.size())));
        if (b.capacity() != before) ++reallocations;
    }
    CHECK(reallocations <= 6);
    const auto held = b.held();
    for (size_t i = 0; i < held.size(); ++i) REQUIRE(held[i] == static_cast<uint8_t>(i));
}

TEST_CASE("input_buffer: consume drops handled frames and moves the tail to the front") {
    input_buffer b(64);
    read_into(b, counting(40));
    b.consume(30);
    REQUIRE(b.size() == 10);
    CHECK(b.data()[0] == 30);
    CHECK(b.data()[9] == 39);
    b.consume(100);  // more than held: empties it
    CHECK(b.size() == 0);
}

TEST_CASE("input_buffer: a buffer grown for a large request is reused for the next one") {
    input_buffer b(64);
    REQUIRE(b.reserve(500));
    uint8_t* grown = b.data();
    read_into(b, counting(200));
    b.consume(200);
    CHECK_FALSE(b.release_idle(1024));  // under the idle cap: kept
    read_into(b, counting(250));
    CHECK(b.data() == grown);           // no new allocation
}

TEST_CASE("input_buffer: an empty buffer over the idle cap returns to its resting size") {
    input_buffer b(64);
    REQUIRE(b.reserve(10000));
    read_into(b, counting(100));
    CHECK_FALSE(b.release_idle(1024));  // still holds bytes: nothing moves
    CHECK(b.capacity() == 10000);
    b.consume(100);
    CHECK(b.release_idle(1024));
    CHECK(b.capacity() == 64);
    CHECK_FALSE(b.release_idle(1024));
}

TEST_CASE("input_buffer: an impossible reservation fails and leaves the buffer as it was") {
    input_buffer b(64);
    read_into(b, counting(8));
    CHECK_FALSE(b.reserve(SIZE_MAX / 2));
    CHECK(b.capacity() == 64);
    REQUIRE(b.size() == 8);
    CHECK(b.data()[7] == 7);
}
