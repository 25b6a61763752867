// The fuzz targets' oracle for one generated message type: whatever decodes must encode to
// exactly size() bytes and decode again to an equal value. A violation prints what broke and
// aborts, which libFuzzer reports as a crash with the input that caused it. Stateless; the
// bytes must live for the call.
#pragma once

#include "protocol/wire.h"

#include <cstdio>
#include <cstdlib>

namespace samsa::protocol::fuzz {

[[noreturn]] inline void violated(const char* what, int16_t version) {
    std::fprintf(stderr, "round trip violated at v%d: %s\n", version, what);
    std::abort();
}

template <typename Message>
void round_trip(bytes_view body, int16_t version) {
    if (version < Message::min_version || version > Message::max_version) return;
    reader first_reader(body);
    Message first;
    first.decode(first_reader, version);
    if (!first_reader.ok()) return;

    output_buffer out;
    writer w(out);
    first.encode(w, version);
    if (out.bytes.size() != first.size(version)) violated("size() differs from the encoded length", version);

    reader second_reader(out.bytes);
    Message second;
    second.decode(second_reader, version);
    if (!second_reader.ok()) violated("re-encoded bytes do not decode", version);
    if (second_reader.remaining() != 0) violated("re-encoded bytes decode with bytes left over", version);
    if (!(second == first)) violated("re-decoded value differs", version);
}

} // namespace samsa::protocol::fuzz
