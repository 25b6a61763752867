// protocol/wire: primitives encode as Kafka specifies and malformed input yields an error value.
#include "protocol/wire.h"

#include <doctest/doctest.h>

using namespace samsa::protocol;

TEST_CASE("wire: varints round trip at their boundaries") {
    for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{63}, int64_t{-64}, int64_t{64},
                      int64_t{INT32_MAX}, int64_t{INT32_MIN}, INT64_MAX, INT64_MIN}) {
        output_buffer out;
        writer w(out);
        w.write_varlong(v);
        CHECK(out.bytes.size() == varlong_size(v));
        reader r(out.bytes);
        CHECK(r.read_varlong() == v);
        CHECK(r.ok());
    }
}
