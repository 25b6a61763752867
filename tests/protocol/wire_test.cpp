// protocol/wire: primitives encode as Kafka specifies and malformed input yields an error value.
// Every bad-input case checks that the reader refuses the value, returns an empty one, stops at
// the end of its input (so later reads fail too) and keeps the first error.
#include "protocol/wire.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

using namespace samsa::protocol;

namespace {

std::vector<uint8_t> bytes_of(std::initializer_list<int> values) {
    std::vector<uint8_t> out;
    for (int v : values) out.push_back(static_cast<uint8_t>(v));
    return out;
}

// `n` filler bytes after a prefix: a value that claims more than what follows.
std::vector<uint8_t> with_filler(std::vector<uint8_t> prefix, size_t n) {
    prefix.insert(prefix.end(), n, 0x61);
    return prefix;
}

// After a refusal the reader has nothing left and every later read fails with the first error.
void check_stopped(reader& r, decode_status first) {
    CHECK(r.status() == first);
    CHECK(r.remaining() == 0);
    CHECK(r.read_int8() == 0);
    CHECK(r.status() == first);
}

} // namespace

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

TEST_CASE("wire: the largest unsigned varints decode") {
    auto u32 = bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f});
    reader r(u32);
    CHECK(r.read_uvarint() == UINT32_MAX);
    CHECK(r.ok());
    auto u64 = bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
    reader r64(u64);
    CHECK(r64.read_uvarlong() == UINT64_MAX);
    CHECK(r64.ok());
}

TEST_CASE("wire: an unsigned varint of more than five bytes is refused") {
    auto six = bytes_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
    reader r(six);
    CHECK(r.read_uvarint() == 0);
    check_stopped(r, decode_status::varint_too_long);
}

TEST_CASE("wire: a fifth varint byte carrying bits beyond 32 is refused") {
    auto over = bytes_of({0xff, 0xff, 0xff, 0xff, 0x10});
    reader r(over);
    CHECK(r.read_uvarint() == 0);
    CHECK(r.status() == decode_status::varint_too_long);
    reader zr(over);
    CHECK(zr.read_varint() == 0);
    CHECK(zr.status() == decode_status::varint_too_long);
}

TEST_CASE("wire: a varlong of more than ten bytes, or a tenth byte above 1, is refused") {
    auto eleven = bytes_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
    reader r(eleven);
    CHECK(r.read_uvarlong() == 0);
    check_stopped(r, decode_status::varint_too_long);
    auto tenth = bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02});
    reader r2(tenth);
    CHECK(r2.read_varlong() == 0);
    CHECK(r2.status() == decode_status::varint_too_long);
}

TEST_CASE("wire: a varint cut off by the end of input is truncated") {
    for (auto input : {bytes_of({}), bytes_of({0x80}), bytes_of({0xff, 0xff, 0xff, 0xff})}) {
        reader r(input);
        CHECK(r.read_uvarint() == 0);
        check_stopped(r, decode_status::truncated);
    }
}

TEST_CASE("wire: fixed-width values cut off by the end of input are truncated") {
    auto seven = bytes_of({1, 2, 3, 4, 5, 6, 7});
    {
        reader r(bytes_view(seven).first(1));
        CHECK(r.read_int16() == 0);
        check_stopped(r, decode_status::truncated);
    }
    {
        reader r(bytes_view(seven).first(3));
        CHECK(r.read_int32() == 0);
        check_stopped(r, decode_status::truncated);
    }
    {
        reader r(seven);
        CHECK(r.read_int64() == 0);
        check_stopped(r, decode_status::truncated);
    }
    {
        reader r(seven);
        CHECK(r.read_float64() == 0.0);
        check_stopped(r, decode_status::truncated);
    }
    {
        auto fifteen = std::vector<uint8_t>(15, 0xab);
        reader r(fifteen);
        CHECK(r.read_uuid().is_zero());
        check_stopped(r, decode_status::truncated);
    }
}

TEST_CASE("wire: a bool other than 0 or 1 is refused") {
    auto good = bytes_of({0, 1});
    reader r(good);
    CHECK_FALSE(r.read_bool());
    CHECK(r.read_bool());
    CHECK(r.ok());
    for (int bad : {2, 0x7f, 0x80, 0xff}) {
        auto input = bytes_of({bad, 1});
        reader rb(input);
        (void)rb.read_bool();
        check_stopped(rb, decode_status::bad_value);
    }
}

TEST_CASE("wire: the first error sticks") {
    auto input = bytes_of({0x05, 0x00, 0x01});  // a bool of 5, then bytes that would decode
    reader r(input);
    (void)r.read_bool();
    (void)r.read_int16();
    r.fail(decode_status::corrupt);
    CHECK(r.status() == decode_status::bad_value);
}

TEST_CASE("wire: string lengths below -1 are refused and -1 is null only where allowed") {
    for (int16_t len : {int16_t{-2}, int16_t{-100}, int16_t{INT16_MIN}}) {
        const auto u = static_cast<uint16_t>(len);
        const auto input = with_filler(bytes_of({u >> 8, u & 0xff}), 2);
        reader r(input);
        CHECK(r.read_nullable_string(false) == std::string{});
        check_stopped(r, decode_status::negative_length);
    }
    auto null_classic = bytes_of({0xff, 0xff});
    reader nullable(null_classic);
    CHECK_FALSE(nullable.read_nullable_string(false).has_value());
    CHECK(nullable.ok());
    reader required(null_classic);
    CHECK(required.read_string(false).empty());
    check_stopped(required, decode_status::negative_length);
    auto null_compact = bytes_of({0x00});
    reader compact(null_compact);
    CHECK(compact.read_string(true).empty());
    check_stopped(compact, decode_status::negative_length);
}

TEST_CASE("wire: a string longer than its input is refused without reading past it") {
    for (auto input : {with_filler(bytes_of({0x7f, 0xff}), 3), with_filler(bytes_of({0x00, 0x04}), 3),
                       with_filler(bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f}), 3)}) {
        const bool compact = input[0] == 0xff;
        reader r(input);
        CHECK(r.read_string(compact).empty());
        CHECK_FALSE(r.ok());
        CHECK(r.status() == decode_status::length_too_large);
        CHECK(r.remaining() == 0);
    }
}

TEST_CASE("wire: bytes lengths below -1 or beyond the input are refused") {
    auto negative = with_filler(bytes_of({0xff, 0xff, 0xff, 0xfe}), 4);
    reader r(negative);
    CHECK(r.read_bytes(false).empty());
    check_stopped(r, decode_status::negative_length);

    auto most_negative = with_filler(bytes_of({0x80, 0x00, 0x00, 0x00}), 4);
    reader rm(most_negative);
    auto refused = rm.read_nullable_bytes(false);
    CHECK((refused.has_value() && refused->empty()));  // an empty value, not a null
    check_stopped(rm, decode_status::negative_length);

    auto huge = with_filler(bytes_of({0x7f, 0xff, 0xff, 0xff}), 16);
    reader rh(huge);
    CHECK(rh.read_bytes(false).empty());
    check_stopped(rh, decode_status::length_too_large);

    auto one_short = with_filler(bytes_of({0x00, 0x00, 0x00, 0x05}), 4);
    reader rs(one_short);
    CHECK(rs.read_bytes(false).empty());
    check_stopped(rs, decode_status::length_too_large);

    auto compact_huge = with_filler(bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f}), 16);
    reader rc(compact_huge);
    CHECK(rc.read_bytes(true).empty());
    check_stopped(rc, decode_status::length_too_large);

    auto null_bytes = bytes_of({0xff, 0xff, 0xff, 0xff});
    reader rn(null_bytes);
    CHECK(rn.read_bytes(false).empty());
    check_stopped(rn, decode_status::negative_length);
}

TEST_CASE("wire: records lengths are checked like bytes and null is kept") {
    auto huge = with_filler(bytes_of({0x7f, 0xff, 0xff, 0xff}), 8);
    reader r(huge);
    CHECK(r.read_records(false).is_null());
    check_stopped(r, decode_status::length_too_large);

    auto negative = bytes_of({0xff, 0xff, 0xff, 0xfd});
    reader rn(negative);
    (void)rn.read_records(false);
    check_stopped(rn, decode_status::negative_length);

    auto null_compact = bytes_of({0x00});
    reader rc(null_compact);
    CHECK(rc.read_records(true).is_null());
    CHECK(rc.ok());

    auto three = bytes_of({0x04, 1, 2, 3});
    reader ok(three);
    auto rec = ok.read_records(true);
    CHECK_FALSE(rec.is_null());
    CHECK(rec.size() == 3);
    CHECK(rec.bytes().data() == three.data() + 1);  // borrowed, not copied
}

TEST_CASE("wire: array counts below -1, or null where not allowed, are refused") {
    auto minus_two = bytes_of({0xff, 0xff, 0xff, 0xfe});
    reader r(minus_two);
    CHECK(r.read_array_length(false, true, 1) == 0);
    check_stopped(r, decode_status::negative_length);

    auto minus_one = bytes_of({0xff, 0xff, 0xff, 0xff});
    reader rn(minus_one);
    CHECK(rn.read_array_length(false, true, 1) == -1);
    CHECK(rn.ok());
    reader rr(minus_one);
    CHECK(rr.read_array_length(false, false, 1) == 0);
    check_stopped(rr, decode_status::negative_length);

    auto compact_null = bytes_of({0x00});
    reader rc(compact_null);
    CHECK(rc.read_array_length(true, false, 1) == 0);
    check_stopped(rc, decode_status::negative_length);
}

TEST_CASE("wire: an array count the remaining bytes cannot hold fails before any element is read") {
    // Four int32 elements need 16 bytes; 15 remain.
    auto short_by_one = with_filler(bytes_of({0x00, 0x00, 0x00, 0x04}), 15);
    reader r(short_by_one);
    CHECK(r.read_array_length(false, false, 4) == 0);
    check_stopped(r, decode_status::length_too_large);

    auto exact = with_filler(bytes_of({0x00, 0x00, 0x00, 0x04}), 16);
    reader re(exact);
    CHECK(re.read_array_length(false, false, 4) == 4);
    CHECK(re.ok());
    CHECK(re.remaining() == 16);

    for (auto input : {with_filler(bytes_of({0x7f, 0xff, 0xff, 0xff}), 8),
                       with_filler(bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f}), 8)}) {
        reader rh(input);
        CHECK(rh.read_array_length(input.size() == 13, false, 1) == 0);
        check_stopped(rh, decode_status::length_too_large);
    }
}

TEST_CASE("wire: a zero minimum element size still bounds the count by the remaining bytes") {
    auto input = with_filler(bytes_of({0x00, 0x00, 0x00, 0x09}), 8);
    reader r(input);
    CHECK(r.read_array_length(false, false, 0) == 0);
    CHECK(r.status() == decode_status::length_too_large);
}

TEST_CASE("wire: raw reads beyond the input are truncated and return nothing") {
    auto input = bytes_of({1, 2, 3});
    reader r(input);
    CHECK(r.read_raw(4).empty());
    check_stopped(r, decode_status::truncated);
}

TEST_CASE("wire: strings round trip across the compact length's one-byte boundary") {
    for (size_t n : {size_t{0}, size_t{126}, size_t{127}, size_t{128}, size_t{300}}) {
        for (bool compact : {false, true}) {
            const std::string s(n, 'x');
            output_buffer out;
            writer w(out);
            w.write_string(s, compact);
            CHECK(out.bytes.size() == string_prefix_size(n, compact) + n);
            reader r(out.bytes);
            CHECK(r.read_string(compact) == s);
            CHECK(r.ok());
            CHECK(r.remaining() == 0);
        }
    }
}
