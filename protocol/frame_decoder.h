// Kafka request framing as pure functions over bytes, shared by the broker's connections, the
// fuzz target and the tests: split a byte stream into size-prefixed frames (the cap is checked
// before anything is allocated), parse a request header, and decode a typed request body.
// Nothing here owns memory: every view borrows the caller's buffer, which must outlive it.
// Safe on any thread.
#pragma once

#include "protocol/messages/api_table.h"
#include "protocol/wire.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace samsa::protocol {

enum class frame_status : uint8_t {
    complete,      // `frame` holds one whole frame; drop `consumed` bytes from the stream
    need_more,     // not enough bytes yet (size prefix or body incomplete)
    too_large,     // the size prefix is over the cap: close the connection
    negative_size, // the size prefix is negative: close the connection
};

struct frame_result {
    frame_status status = frame_status::need_more;
    size_t consumed = 0;     // prefix + body, when complete
    int32_t frame_size = 0;  // the announced size (also set when the frame is incomplete)
    bytes_view frame;        // the body after the 4-byte prefix, when complete
};

// Looks at the start of `buffered` for one frame of at most `max_frame_bytes` body bytes.
[[nodiscard]] frame_result next_frame(bytes_view buffered, int32_t max_frame_bytes) noexcept;

struct request_header_view {
    int16_t api_key = -1;
    int16_t api_version = -1;
    int32_t correlation_id = 0;
    std::optional<std::string_view> client_id;  // null in header v0 and when sent as null
    int16_t header_version = 1;
    const api_info* api = nullptr;  // null for a key this build does not know
    // The version is within the API's range. When it is not, the header was parsed with the
    // layout of the nearest version (flexible above the range), which is what Kafka does so
    // that it can answer ApiVersions with UNSUPPORTED_VERSION.
    bool version_supported = false;
};

struct parsed_request {
    decode_status status = decode_status::ok;  // ok, truncated, unknown_api, unsupported_version, ...
    request_header_view header;
    bytes_view body;  // the request body after the header
};

// Parses the request header at the start of a frame. Unknown keys and unsupported versions
// are reported in `status` with whatever of the header could be read (at least key, version
// and correlation id when the frame holds 8 bytes), so the caller can answer or log them.
[[nodiscard]] parsed_request parse_request_header(bytes_view frame) noexcept;

// Header versions for an API at a version, following the generator's rules: flexible requests
// use request header v2 (else v1; ControlledShutdown v0 uses v0); flexible responses use
// response header v1 (else v0), except ApiVersions responses, which always use v0.
[[nodiscard]] int16_t request_header_version(int16_t api_key, int16_t api_version) noexcept;
[[nodiscard]] int16_t response_header_version(int16_t api_key, int16_t api_version) noexcept;

// Decodes a typed request body. Trailing bytes after the body are tolerated, as Kafka does.
template <typename Message>
[[nodiscard]] decode_status decode_body(bytes_view body, int16_t version, Message& out) {
    if (version < Message::min_version || version > Message::max_version) return decode_status::unsupported_version;
    reader r(body);
    out.decode(r, version);
    return r.status();
}

// Writes a response header (correlation id, and an empty tagged-field section in v1).
void write_response_header(writer& w, int16_t api_key, int16_t api_version, int32_t correlation_id);

// Encodes a whole response frame: size prefix, header, body.
template <typename Message>
void encode_response_frame(output_buffer& out, int16_t api_version, int32_t correlation_id, const Message& body) {
    writer w(out);
    const size_t start = w.position();
    w.write_int32(0);
    write_response_header(w, Message::api_key, api_version, correlation_id);
    body.encode(w, api_version);
    w.patch_int32(start, static_cast<int32_t>(out.size() - start - 4));
}

// Encodes a whole frame answering a request at `request_version`, a version outside what this
// build can decode, with `error` (UNSUPPORTED_VERSION). The header follows the request's
// version, as the client will read it (flexible above the API's range). The body is the API's
// default response with every list empty and the top-level error_code (where the message has
// one) set, laid out at the version of the range nearest `request_version`: versions add
// fields at the end or as tagged fields, so a client that reads the lists as empty and the
// error where it expects one parses it. See docs/protocol.md, "Unsupported versions".
void encode_error_response_frame(output_buffer& out, const api_info& api, int16_t request_version,
                                 int32_t correlation_id, int16_t error);

} // namespace samsa::protocol
