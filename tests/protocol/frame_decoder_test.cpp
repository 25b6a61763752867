// protocol/frame_decoder: framing, request headers and typed bodies under bad input. Frames are
// built byte by byte (frame_bytes) and corrupted with byte-level helpers, so each case shows the
// exact bytes a client would send. Allocation sizes are watched through a replacement of the
// global operator new, to prove that lengths and counts are checked before anything is reserved.
#include "protocol/frame_decoder.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/controlled_shutdown.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/messages/sasl_authenticate.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

using namespace samsa::protocol;

namespace {

// The largest single allocation made while an allocation_watch is alive (one thread at a time).
std::atomic<bool> watching{false};
std::atomic<size_t> largest_allocation{0};

class allocation_watch {
public:
    allocation_watch() noexcept {
        largest_allocation.store(0);
        watching.store(true);
    }
    ~allocation_watch() { watching.store(false); }
    allocation_watch(const allocation_watch&) = delete;
    allocation_watch& operator=(const allocation_watch&) = delete;
    [[nodiscard]] size_t largest() const noexcept { return largest_allocation.load(); }
};

} // namespace

// Kept out of line: inlined, GCC pairs the free() below with the built-in operator new and
// reports a mismatch that does not exist.
[[gnu::noinline]] void* operator new(std::size_t n) {
    if (watching.load(std::memory_order_relaxed)) {
        size_t seen = largest_allocation.load(std::memory_order_relaxed);
        while (n > seen && !largest_allocation.compare_exchange_weak(seen, n)) {
        }
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

constexpr int32_t max_frame = 100 * 1024 * 1024;

// Builds wire bytes in the order written.
struct frame_bytes {
    std::vector<uint8_t> b;

    frame_bytes& i8(int v) {
        b.push_back(static_cast<uint8_t>(v));
        return *this;
    }
    frame_bytes& i16(int v) {
        for (int s = 8; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(static_cast<uint16_t>(v) >> s));
        return *this;
    }
    frame_bytes& i32(int64_t v) {
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(static_cast<uint32_t>(v) >> s));
        return *this;
    }
    frame_bytes& uvarint(uint32_t v) {
        while (v >= 0x80) {
            b.push_back(static_cast<uint8_t>(v | 0x80));
            v >>= 7;
        }
        b.push_back(static_cast<uint8_t>(v));
        return *this;
    }
    frame_bytes& classic_string(std::string_view s) {
        i16(static_cast<int>(s.size()));
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    frame_bytes& compact_string(std::string_view s) {
        uvarint(static_cast<uint32_t>(s.size() + 1));
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    frame_bytes& raw(const std::vector<uint8_t>& more) {
        b.insert(b.end(), more.begin(), more.end());
        return *this;
    }
    frame_bytes& filler(size_t n) {
        b.insert(b.end(), n, 0);
        return *this;
    }
    // Request header v1: key, version, correlation id, client id (classic string).
    frame_bytes& header_v1(int16_t key, int16_t version, int32_t correlation, std::string_view client = "cli") {
        return i16(key).i16(version).i32(correlation).classic_string(client);
    }
    // Request header v2: v1 plus an empty tagged-field section.
    frame_bytes& header_v2(int16_t key, int16_t version, int32_t correlation, std::string_view client = "cli") {
        return header_v1(key, version, correlation, client).uvarint(0);
    }
    // The whole thing behind a 4-byte size prefix.
    [[nodiscard]] std::vector<uint8_t> framed() const {
        frame_bytes f;
        f.i32(static_cast<int64_t>(b.size()));
        f.raw(b);
        return f.b;
    }
};

std::vector<uint8_t> truncated(std::vector<uint8_t> v, size_t n) {
    v.resize(n);
    return v;
}

template <typename Message>
std::vector<uint8_t> encoded(const Message& m, int16_t version) {
    output_buffer out;
    writer w(out);
    m.encode(w, version);
    return out.bytes;
}

template <typename Message>
decode_status decode_as(const std::vector<uint8_t>& body, int16_t version, Message& out) {
    return decode_body(bytes_view(body), version, out);
}

} // namespace

// ---- framing ----------------------------------------------------------------------------------

TEST_CASE("frame_decoder: fewer than four bytes need more") {
    const auto frame = frame_bytes{}.filler(10).framed();
    for (size_t n = 0; n < 4; ++n) {
        auto res = next_frame(bytes_view(frame).first(n), max_frame);
        CHECK(res.status == frame_status::need_more);
        CHECK(res.consumed == 0);
    }
}

TEST_CASE("frame_decoder: a frame is incomplete until its last byte arrives") {
    const auto frame = frame_bytes{}.header_v1(3, 1, 7).i32(0).framed();
    for (size_t n = 4; n < frame.size(); ++n) {
        auto res = next_frame(bytes_view(frame).first(n), max_frame);
        INFO("bytes available: " << n);
        CHECK(res.status == frame_status::need_more);
        CHECK(res.frame_size == static_cast<int32_t>(frame.size() - 4));
    }
    auto res = next_frame(frame, max_frame);
    CHECK(res.status == frame_status::complete);
    CHECK(res.consumed == frame.size());
    CHECK(res.frame.data() == frame.data() + 4);  // a slice of the input, not a copy
}

TEST_CASE("frame_decoder: back-to-back frames come out one at a time") {
    auto stream = frame_bytes{}.header_v1(3, 1, 1).i32(0).framed();
    const auto second = frame_bytes{}.header_v1(3, 1, 2).i32(0).framed();
    const size_t first_size = stream.size();
    stream.insert(stream.end(), second.begin(), second.end());
    stream.push_back(0x00);  // the start of a third prefix

    auto one = next_frame(stream, max_frame);
    REQUIRE(one.status == frame_status::complete);
    CHECK(one.consumed == first_size);
    auto two = next_frame(bytes_view(stream).subspan(one.consumed), max_frame);
    REQUIRE(two.status == frame_status::complete);
    CHECK(parse_request_header(two.frame).header.correlation_id == 2);
    auto three = next_frame(bytes_view(stream).subspan(one.consumed + two.consumed), max_frame);
    CHECK(three.status == frame_status::need_more);
}

TEST_CASE("frame_decoder: a negative size prefix is refused") {
    for (int64_t size : {int64_t{-1}, int64_t{-4096}, int64_t{INT32_MIN}}) {
        const auto bytes = frame_bytes{}.i32(size).filler(8).b;
        auto res = next_frame(bytes, max_frame);
        CHECK(res.status == frame_status::negative_size);
        CHECK(res.frame_size == size);
        CHECK(res.consumed == 0);
    }
}

TEST_CASE("frame_decoder: an oversized prefix is refused from the prefix alone, allocating nothing") {
    const auto prefix_only = frame_bytes{}.i32(INT32_MAX).b;
    allocation_watch watch;
    auto res = next_frame(prefix_only, max_frame);
    CHECK(res.status == frame_status::too_large);
    CHECK(res.frame_size == INT32_MAX);
    CHECK(watch.largest() == 0);

    const auto at_cap = frame_bytes{}.i32(1000).b;
    CHECK(next_frame(at_cap, 1000).status == frame_status::need_more);
    CHECK(next_frame(at_cap, 999).status == frame_status::too_large);
}

TEST_CASE("frame_decoder: an empty frame is complete and its header truncated") {
    const auto frame = frame_bytes{}.framed();
    auto res = next_frame(frame, max_frame);
    REQUIRE(res.status == frame_status::complete);
    CHECK(res.frame.empty());
    CHECK(parse_request_header(res.frame).status == decode_status::truncated);
}

// ---- request headers --------------------------------------------------------------------------

TEST_CASE("frame_decoder: a header cut anywhere is truncated") {
    const auto v1 = frame_bytes{}.header_v1(3, 4, 42, "client-1").b;
    const auto v2 = frame_bytes{}.header_v1(3, 9, 42, "client-1").uvarint(1).uvarint(5).uvarint(2).i8(1).i8(2).b;
    for (const auto* full : {&v1, &v2}) {
        for (size_t n = 0; n < full->size(); ++n) {
            auto parsed = parse_request_header(truncated(*full, n));
            INFO("header of " << full->size() << " bytes cut at " << n);
            CHECK(parsed.status == decode_status::truncated);
            if (n >= 8) CHECK(parsed.header.correlation_id == 42);  // still reported
        }
        auto whole = parse_request_header(*full);
        CHECK(whole.status == decode_status::ok);
        CHECK(whole.body.empty());
    }
}

TEST_CASE("frame_decoder: a client id length below -1 is refused and -1 is null") {
    const auto bad = frame_bytes{}.i16(3).i16(4).i32(9).i16(-2).filler(4).b;
    CHECK(parse_request_header(bad).status == decode_status::negative_length);

    const auto null_id = frame_bytes{}.i16(3).i16(4).i32(9).i16(-1).i32(0).b;
    auto parsed = parse_request_header(null_id);
    CHECK(parsed.status == decode_status::ok);
    CHECK_FALSE(parsed.header.client_id.has_value());
    CHECK(parsed.body.size() == 4);
}

TEST_CASE("frame_decoder: the request header's tagged fields are skipped, whatever their tags") {
    const auto frame = frame_bytes{}
                           .header_v1(3, 12, 5, "c")
                           .uvarint(2)
                           .uvarint(0).uvarint(3).i8(1).i8(2).i8(3)
                           .uvarint(4000).uvarint(1).i8(9)
                           .i8(0x77)  // the first body byte
                           .b;
    auto parsed = parse_request_header(frame);
    CHECK(parsed.status == decode_status::ok);
    CHECK(parsed.header.header_version == 2);
    REQUIRE(parsed.body.size() == 1);
    CHECK(parsed.body[0] == 0x77);

    const auto overlong = frame_bytes{}.header_v1(3, 12, 5, "c").uvarint(1).uvarint(0).uvarint(100).i8(1).b;
    CHECK(parse_request_header(overlong).status == decode_status::truncated);

    const auto endless_count = frame_bytes{}.header_v1(3, 12, 5, "c").i8(0x80).i8(0x80).i8(0x80).i8(0x80).i8(0x80)
                                   .i8(0x01).filler(4).b;
    CHECK(parse_request_header(endless_count).status == decode_status::varint_too_long);
}

TEST_CASE("frame_decoder: an unknown API key is reported with the header") {
    for (int16_t key : {int16_t{999}, int16_t{-7}, int16_t{INT16_MAX}}) {
        const auto frame = frame_bytes{}.header_v1(key, 3, 1234, "who").i32(0).b;
        auto parsed = parse_request_header(frame);
        INFO("api key " << key);
        CHECK(parsed.status == decode_status::unknown_api);
        CHECK(parsed.header.api == nullptr);
        CHECK(parsed.header.api_key == key);
        CHECK(parsed.header.api_version == 3);
        CHECK(parsed.header.correlation_id == 1234);
        CHECK(parsed.header.client_id == std::optional<std::string_view>("who"));
        CHECK_FALSE(parsed.header.version_supported);
        CHECK(parsed.body.size() == 4);
    }
}

TEST_CASE("frame_decoder: a version above the range is reported with a flexible header") {
    const auto frame = frame_bytes{}.header_v2(3, 99, 77, "m").i8(0x55).b;
    auto parsed = parse_request_header(frame);
    CHECK(parsed.status == decode_status::unsupported_version);
    REQUIRE(parsed.header.api != nullptr);
    CHECK(parsed.header.api->key == 3);
    CHECK_FALSE(parsed.header.version_supported);
    CHECK(parsed.header.header_version == 2);
    CHECK(parsed.header.correlation_id == 77);
    REQUIRE(parsed.body.size() == 1);
    CHECK(parsed.body[0] == 0x55);

    metadata_request m;
    CHECK(decode_body(parsed.body, 99, m) == decode_status::unsupported_version);
    CHECK(decode_body(parsed.body, -1, m) == decode_status::unsupported_version);
}

TEST_CASE("frame_decoder: ApiVersions above its range parses, so the broker can answer UNSUPPORTED_VERSION") {
    // A client newer than this build sends ApiVersions v200 with header v2 and a body of flexible
    // fields this build cannot know; the header still parses, tagged fields included.
    const auto frame = frame_bytes{}
                           .header_v1(18, 200, 31, "new-client")
                           .uvarint(1).uvarint(7).uvarint(2).i8(0).i8(0)
                           .compact_string("lib").compact_string("9.9").uvarint(0)
                           .b;
    auto parsed = parse_request_header(frame);
    CHECK(parsed.status == decode_status::unsupported_version);
    CHECK(parsed.header.api_key == 18);
    CHECK(parsed.header.api_version == 200);
    CHECK(parsed.header.correlation_id == 31);
    CHECK(parsed.header.header_version == 2);
    CHECK(parsed.header.client_id == std::optional<std::string_view>("new-client"));
    CHECK(parsed.body.size() == 9);

    // The answer: v0 (every client reads it), UNSUPPORTED_VERSION and the supported range.
    api_versions_response answer;
    answer.error_code = to_int(error_code::unsupported_version);
    answer.api_keys.push_back({18, api_versions_request::min_version, api_versions_request::max_version});
    output_buffer out;
    encode_response_frame(out, 0, parsed.header.correlation_id, answer);
    const auto expected = frame_bytes{}.i32(31).i16(35).i32(1).i16(18).i16(0).i16(4).framed();
    CHECK(out.bytes == expected);
}

TEST_CASE("frame_decoder: ControlledShutdown v0 uses request header v0, without a client id") {
    CHECK(request_header_version(7, 0) == 0);
    CHECK(request_header_version(7, 1) == 1);
    CHECK(request_header_version(7, 3) == 2);

    const auto frame = frame_bytes{}.i16(7).i16(0).i32(88).i32(5).b;  // key, version, id, broker id
    auto parsed = parse_request_header(frame);
    CHECK(parsed.status == decode_status::ok);
    CHECK(parsed.header.header_version == 0);
    CHECK_FALSE(parsed.header.client_id.has_value());
    REQUIRE(parsed.body.size() == 4);
    controlled_shutdown_request req;
    CHECK(decode_body(parsed.body, 0, req) == decode_status::ok);
    CHECK(req.broker_id == 5);

    // Read as v1, the same bytes lose the broker id's first two bytes to an empty client id.
    const auto v1 = frame_bytes{}.i16(7).i16(1).i32(88).i32(5).b;
    CHECK(parse_request_header(v1).status == decode_status::ok);
    CHECK(parse_request_header(v1).header.client_id == std::optional<std::string_view>(""));
}

TEST_CASE("frame_decoder: ApiVersions responses use response header v0 even when flexible") {
    CHECK(response_header_version(18, 0) == 0);
    CHECK(response_header_version(18, 3) == 0);
    CHECK(response_header_version(18, 4) == 0);
    CHECK(response_header_version(3, 8) == 0);
    CHECK(response_header_version(3, 9) == 1);

    api_versions_response body;
    output_buffer api_versions_frame;
    encode_response_frame(api_versions_frame, 3, 0x01020304, body);
    const auto body_bytes = encoded(body, 3);
    // size prefix, correlation id, then the body straight away: no tagged-field byte.
    CHECK(api_versions_frame.bytes == frame_bytes{}.i32(0x01020304).raw(body_bytes).framed());

    metadata_response meta;
    output_buffer metadata_frame;
    encode_response_frame(metadata_frame, 9, 0x01020304, meta);
    CHECK(metadata_frame.bytes == frame_bytes{}.i32(0x01020304).uvarint(0).raw(encoded(meta, 9)).framed());
}

// ---- request bodies ----------------------------------------------------------------------------

TEST_CASE("frame_decoder: a null where the version does not allow it is refused") {
    // Metadata's Topics array may be null from v1; a topic Name may be null from v10.
    const auto null_topics = frame_bytes{}.i32(-1).b;
    metadata_request m;
    CHECK(decode_as(null_topics, 0, m) == decode_status::negative_length);
    metadata_request m1;
    CHECK(decode_as(null_topics, 1, m1) == decode_status::ok);
    CHECK_FALSE(m1.topics.has_value());

    metadata_request with_null_name;
    with_null_name.topics = std::vector<metadata_request::metadata_request_topic>(1);
    (*with_null_name.topics)[0].name = std::nullopt;
    metadata_request back9;
    CHECK(decode_as(encoded(with_null_name, 9), 9, back9) == decode_status::negative_length);
    metadata_request back10;
    CHECK(decode_as(encoded(with_null_name, 10), 10, back10) == decode_status::ok);
    CHECK(back10 == with_null_name);
    metadata_request back4;
    CHECK(decode_as(encoded(with_null_name, 4), 4, back4) == decode_status::negative_length);
}

TEST_CASE("frame_decoder: a bool other than 0 or 1 in a request is refused") {
    auto body = encoded(metadata_request{}, 4);  // topics (empty), AllowAutoTopicCreation
    REQUIRE(body.size() == 5);
    metadata_request ok;
    CHECK(decode_as(body, 4, ok) == decode_status::ok);
    body[4] = 2;
    metadata_request bad;
    CHECK(decode_as(body, 4, bad) == decode_status::bad_value);
}

TEST_CASE("frame_decoder: unknown tagged fields are skipped and a known one is decoded") {
    // Fetch v12 ends with the request's tagged fields; ClusterId is tag 0.
    fetch_request plain;
    auto body = encoded(plain, 12);
    REQUIRE(body.back() == 0);  // no tagged fields
    body.pop_back();
    const auto tags = frame_bytes{}
                          .uvarint(3)
                          .uvarint(0).uvarint(4).compact_string("abc")
                          .uvarint(9).uvarint(2).i8(0xde).i8(0xad)
                          .uvarint(100000).uvarint(0)
                          .b;
    auto with_tags = body;
    with_tags.insert(with_tags.end(), tags.begin(), tags.end());
    fetch_request back;
    CHECK(decode_as(with_tags, 12, back) == decode_status::ok);
    CHECK(back.cluster_id == std::optional<std::string>("abc"));
    back.cluster_id = plain.cluster_id;
    CHECK(back == plain);

    // A tagged field longer than what remains, and a known tag whose value overruns its size.
    auto overrun = body;
    const auto long_tag = frame_bytes{}.uvarint(1).uvarint(9).uvarint(50).i8(1).b;
    overrun.insert(overrun.end(), long_tag.begin(), long_tag.end());
    fetch_request o;
    CHECK(decode_as(overrun, 12, o) == decode_status::truncated);

    auto bad_known = body;
    const auto inner = frame_bytes{}.uvarint(1).uvarint(0).uvarint(2).uvarint(10).i8('a').b;
    bad_known.insert(bad_known.end(), inner.begin(), inner.end());
    fetch_request k;
    CHECK(decode_as(bad_known, 12, k) != decode_status::ok);
}

TEST_CASE("frame_decoder: array counts far beyond the frame fail fast without a large allocation") {
    // Metadata v1: a topics count of 2^31-1 followed by 6 bytes.
    const auto classic = frame_bytes{}.i32(INT32_MAX).filler(6).b;
    // Metadata v9 (compact): a count of 2^32-2.
    const auto compact = frame_bytes{}.uvarint(UINT32_MAX).filler(6).b;
    // Produce v3: one topic whose partition count is huge.
    const auto nested = frame_bytes{}.i16(-1).i16(1).i32(1000).i32(1).classic_string("t").i32(0x40000000).filler(8).b;

    allocation_watch watch;
    metadata_request m1;
    CHECK(decode_as(classic, 1, m1) == decode_status::length_too_large);
    metadata_request m9;
    CHECK(decode_as(compact, 9, m9) == decode_status::length_too_large);
    produce_request p;
    CHECK(decode_as(nested, 3, p) == decode_status::length_too_large);
    CHECK(watch.largest() < 1024);
}

TEST_CASE("frame_decoder: string and bytes lengths beyond the frame fail without a large allocation") {
    // Metadata v1: one topic whose name claims 32767 bytes; SaslAuthenticate v0: 2^31-1 bytes.
    const auto name = frame_bytes{}.i32(1).i16(INT16_MAX).filler(3).b;
    const auto auth = frame_bytes{}.i32(INT32_MAX).filler(3).b;
    const auto compact_auth = frame_bytes{}.uvarint(UINT32_MAX).filler(3).uvarint(0).b;
    const auto negative = frame_bytes{}.i32(-5).filler(3).b;

    allocation_watch watch;
    metadata_request m;
    CHECK_FALSE(decode_as(name, 1, m) == decode_status::ok);
    sasl_authenticate_request a;
    CHECK(decode_as(auth, 0, a) == decode_status::length_too_large);
    sasl_authenticate_request c;
    CHECK(decode_as(compact_auth, 2, c) == decode_status::length_too_large);
    sasl_authenticate_request n;
    CHECK(decode_as(negative, 0, n) == decode_status::negative_length);
    CHECK(watch.largest() < 1024);
}

TEST_CASE("frame_decoder: trailing bytes after a body are tolerated") {
    auto body = encoded(metadata_request{}, 1);
    body.push_back(0xee);
    metadata_request m;
    CHECK(decode_as(body, 1, m) == decode_status::ok);
}

// ---- random input --------------------------------------------------------------------------------

namespace {

// splitmix64: a fixed sequence on every platform, unlike the standard distributions.
struct prng {
    uint64_t state;
    uint64_t next() noexcept {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) noexcept { return static_cast<size_t>(next() % n); }
};

// Mostly small values, so that counts and lengths are often plausible and decoding goes deep.
std::vector<uint8_t> random_body(prng& rng, bool biased) {
    std::vector<uint8_t> out(rng.below(biased ? 512 : 96));
    for (auto& b : out) {
        if (!biased) {
            b = static_cast<uint8_t>(rng.next());
            continue;
        }
        const size_t pick = rng.below(10);
        b = pick < 5 ? 0 : pick < 7 ? 1 : pick < 8 ? 0xff : static_cast<uint8_t>(rng.next());
    }
    return out;
}

} // namespace

TEST_CASE("frame_decoder: every request and response at every version survives random bytes") {
    prng rng{0x5a4d5341};
    size_t decoded = 0, accepted = 0, apis_reached = 0;
    for (const auto& api : all_apis()) {
        size_t accepted_here = 0;
        for (int16_t v = api.min_version; v <= api.max_version; ++v) {
            for (int i = 0; i < 24; ++i) {
                const auto body = random_body(rng, i % 3 != 0);
                const auto request = api.check_request(body, v);
                const auto response = api.check_response(body, v);
                CHECK(static_cast<unsigned>(request) <= static_cast<unsigned>(decode_status::corrupt));
                CHECK(static_cast<unsigned>(response) <= static_cast<unsigned>(decode_status::corrupt));
                accepted_here += (request == decode_status::ok) + (response == decode_status::ok);
                decoded += 2;
            }
        }
        accepted += accepted_here;
        apis_reached += accepted_here > 0;
    }
    MESSAGE(decoded << " random bodies decoded, " << accepted << " accepted, for " << apis_reached << " of "
                    << all_apis().size() << " APIs");
    CHECK(decoded > 5000);
    // The biased inputs decode whole messages for most APIs, not only their first length.
    CHECK(apis_reached * 2 > all_apis().size());
}

TEST_CASE("frame_decoder: random frames never break header parsing") {
    prng rng{0x6672616d};
    for (int i = 0; i < 4000; ++i) {
        auto frame = random_body(rng, i % 2 == 0);
        if (frame.size() >= 2 && i % 4 == 1) {  // a known key, to reach the client id and tags
            frame[0] = 0;
            frame[1] = static_cast<uint8_t>(rng.below(80));
        }
        auto parsed = parse_request_header(frame);
        if (parsed.status == decode_status::ok || parsed.status == decode_status::unsupported_version ||
            parsed.status == decode_status::unknown_api) {
            CHECK(parsed.body.data() + parsed.body.size() == frame.data() + frame.size());
        }
        auto res = next_frame(frame, 1 << 16);
        CHECK(res.consumed <= frame.size());
    }
}
