#include "protocol/wire.h"

#include <unistd.h>

#include <bit>

namespace samsa::protocol {

std::string_view to_string(decode_status s) noexcept {
    switch (s) {
    case decode_status::ok: return "ok";
    case decode_status::truncated: return "input ends inside a value";
    case decode_status::negative_length: return "negative length";
    case decode_status::length_too_large: return "length exceeds the remaining bytes";
    case decode_status::varint_too_long: return "varint too long";
    case decode_status::bad_value: return "value out of range";
    case decode_status::trailing_bytes: return "unexpected trailing bytes";
    case decode_status::unknown_api: return "unknown API key";
    case decode_status::unsupported_version: return "unsupported API version";
    case decode_status::frame_too_large: return "frame exceeds the size limit";
    case decode_status::corrupt: return "corrupt data";
    }
    return "unknown";
}

// ---- uuid ---------------------------------------------------------------------------------

namespace {
constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}
} // namespace

bool uuid::is_zero() const noexcept {
    for (auto b : bytes)
        if (b != 0) return false;
    return true;
}

std::string uuid::to_base64() const {
    std::string out;
    out.reserve(22);
    uint32_t acc = 0;
    int bits = 0;
    for (uint8_t b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(b64_alphabet[(acc >> bits) & 0x3f]);
        }
    }
    if (bits > 0) out.push_back(b64_alphabet[(acc << (6 - bits)) & 0x3f]);
    return out;
}

std::optional<uuid> uuid::from_base64(std::string_view text) {
    if (text.size() != 22) return std::nullopt;
    uuid u;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (char c : text) {
        int v = b64_value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == 16) return std::nullopt;
            u.bytes[n++] = static_cast<uint8_t>(acc >> bits);
        }
    }
    if (n != 16) return std::nullopt;
    return u;
}

// ---- records / output_buffer ----------------------------------------------------------------

bool records::operator==(const records& o) const noexcept {
    if (null_ != o.null_) return false;
    if (null_) return true;
    if (ranges_ != o.ranges_) return false;
    return bytes_.size() == o.bytes_.size() &&
           (bytes_.empty() || std::memcmp(bytes_.data(), o.bytes_.data(), bytes_.size()) == 0);
}

size_t output_buffer::size() const noexcept {
    size_t n = bytes.size();
    for (const auto& s : splices) n += static_cast<size_t>(s.range.length);
    return n;
}

std::vector<uint8_t> output_buffer::flatten() const {
    std::vector<uint8_t> out;
    out.reserve(size());
    size_t from = 0;
    for (const auto& s : splices) {
        out.insert(out.end(), bytes.begin() + static_cast<ptrdiff_t>(from), bytes.begin() + static_cast<ptrdiff_t>(s.at));
        from = s.at;
        size_t old = out.size();
        out.resize(old + static_cast<size_t>(s.range.length));
        ssize_t got = ::pread(s.range.fd, out.data() + old, static_cast<size_t>(s.range.length), s.range.offset);
        if (got != s.range.length) out.resize(old);
    }
    out.insert(out.end(), bytes.begin() + static_cast<ptrdiff_t>(from), bytes.end());
    return out;
}

// ---- reader ---------------------------------------------------------------------------------

double reader::read_float64() noexcept { return std::bit_cast<double>(read_be<uint64_t>()); }

bool reader::read_bool() noexcept {
    uint8_t v = read_be<uint8_t>();
    if (v > 1) fail(decode_status::bad_value);
    return v == 1;
}

uuid reader::read_uuid() noexcept {
    uuid u;
    auto raw = read_raw(16);
    if (raw.size() == 16) std::memcpy(u.bytes.data(), raw.data(), 16);
    return u;
}

uint64_t reader::read_uvarlong() noexcept {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (pos_ >= size_) {
            fail(decode_status::truncated);
            return 0;
        }
        uint8_t b = data_[pos_++];
        if (shift == 63 && b > 1) break;
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return v;
    }
    fail(decode_status::varint_too_long);
    return 0;
}

uint32_t reader::read_uvarint() noexcept {
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (pos_ >= size_) {
            fail(decode_status::truncated);
            return 0;
        }
        uint8_t b = data_[pos_++];
        if (shift == 28 && b > 0x0f) break;
        v |= static_cast<uint32_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return v;
    }
    fail(decode_status::varint_too_long);
    return 0;
}

int32_t reader::read_varint() noexcept {
    uint32_t u = read_uvarint();
    return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t reader::read_varlong() noexcept {
    uint64_t u = read_uvarlong();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

bytes_view reader::read_raw(size_t n) noexcept {
    if (remaining() < n) {
        fail(decode_status::truncated);
        return {};
    }
    bytes_view v{data_ + pos_, n};
    pos_ += n;
    return v;
}

bool reader::read_nullable_view(int32_t len, std::optional<bytes_view>& out) noexcept {
    if (!ok()) return false;
    if (len == -1) {
        out.reset();
        return true;
    }
    if (len < 0) {
        fail(decode_status::negative_length);
        return false;
    }
    if (static_cast<size_t>(len) > remaining()) {
        fail(decode_status::length_too_large);
        return false;
    }
    out = read_raw(static_cast<size_t>(len));
    return true;
}

int64_t reader::read_length(bool compact) noexcept {
    int64_t len;
    if (compact) {
        len = static_cast<int64_t>(read_uvarint()) - 1;
    } else {
        len = read_int32();
    }
    if (!ok()) return -2;
    if (len < -1) {
        fail(decode_status::negative_length);
        return -2;
    }
    if (len > static_cast<int64_t>(remaining())) {
        fail(decode_status::length_too_large);
        return -2;
    }
    return len;
}

std::optional<std::string> reader::read_nullable_string(bool compact) noexcept {
    int64_t len;
    if (compact) {
        len = static_cast<int64_t>(read_uvarint()) - 1;
    } else {
        len = read_int16();
    }
    if (!ok()) return std::string{};
    if (len < -1) {
        fail(decode_status::negative_length);
        return std::string{};
    }
    if (len == -1) return std::nullopt;
    if (static_cast<size_t>(len) > remaining()) {
        fail(decode_status::length_too_large);
        return std::string{};
    }
    auto raw = read_raw(static_cast<size_t>(len));
    return std::string(reinterpret_cast<const char*>(raw.data()), raw.size());
}

std::string reader::read_string(bool compact) noexcept {
    auto s = read_nullable_string(compact);
    if (!s) {
        fail(decode_status::negative_length);
        return {};
    }
    return std::move(*s);
}

std::optional<std::vector<uint8_t>> reader::read_nullable_bytes(bool compact) noexcept {
    int64_t len = read_length(compact);
    if (len == -1) return std::nullopt;
    if (len < 0) return std::vector<uint8_t>{};
    auto raw = read_raw(static_cast<size_t>(len));
    return std::vector<uint8_t>(raw.begin(), raw.end());
}

std::vector<uint8_t> reader::read_bytes(bool compact) noexcept {
    auto b = read_nullable_bytes(compact);
    if (!b) {
        fail(decode_status::negative_length);
        return {};
    }
    return std::move(*b);
}

records reader::read_records(bool compact) noexcept {
    int64_t len = read_length(compact);
    if (len < 0) return {};
    return records::from_bytes(read_raw(static_cast<size_t>(len)));
}

int32_t reader::read_array_length(bool compact, bool nullable, size_t min_element_size) noexcept {
    int64_t n = compact ? static_cast<int64_t>(read_uvarint()) - 1 : read_int32();
    if (!ok()) return 0;
    if (n == -1 && nullable) return -1;
    if (n < 0) {
        fail(decode_status::negative_length);
        return 0;
    }
    size_t min = min_element_size == 0 ? 1 : min_element_size;
    if (static_cast<uint64_t>(n) > remaining() / min) {
        fail(decode_status::length_too_large);
        return 0;
    }
    return static_cast<int32_t>(n);
}

// ---- writer ---------------------------------------------------------------------------------

void writer::write_float64(double v) { put_be(std::bit_cast<uint64_t>(v)); }

void writer::write_uvarlong(uint64_t v) {
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = static_cast<uint8_t>(v | 0x80);
        v >>= 7;
    }
    b[n++] = static_cast<uint8_t>(v);
    out_.bytes.insert(out_.bytes.end(), b, b + n);
}

void writer::write_uvarint(uint32_t v) { write_uvarlong(v); }
void writer::write_varint(int32_t v) { write_uvarlong(zigzag32(v)); }
void writer::write_varlong(int64_t v) { write_uvarlong(zigzag64(v)); }

void writer::write_raw(bytes_view b) { out_.bytes.insert(out_.bytes.end(), b.begin(), b.end()); }

void writer::write_string(std::string_view s, bool compact) {
    if (compact) {
        write_uvarint(static_cast<uint32_t>(s.size() + 1));
    } else {
        write_int16(static_cast<int16_t>(s.size()));
    }
    write_raw({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

void writer::write_nullable_string(const std::optional<std::string>& s, bool compact) {
    if (!s) {
        if (compact) {
            write_uvarint(0);
        } else {
            write_int16(-1);
        }
        return;
    }
    write_string(*s, compact);
}

void writer::write_bytes(bytes_view b, bool compact) {
    if (compact) {
        write_uvarint(static_cast<uint32_t>(b.size() + 1));
    } else {
        write_int32(static_cast<int32_t>(b.size()));
    }
    write_raw(b);
}

void writer::write_nullable_bytes(const std::optional<std::vector<uint8_t>>& b, bool compact) {
    if (!b) {
        write_array_length(-1, compact);
        return;
    }
    write_bytes(*b, compact);
}

void writer::write_records(const records& r, bool compact) {
    if (r.is_null()) {
        write_array_length(-1, compact);
        return;
    }
    size_t n = r.size();
    if (compact) {
        write_uvarint(static_cast<uint32_t>(n + 1));
    } else {
        write_int32(static_cast<int32_t>(n));
    }
    write_raw(r.bytes());
    for (const auto& range : r.ranges()) out_.splices.push_back({out_.bytes.size(), range});
}

void writer::write_array_length(int32_t n, bool compact) {
    if (compact) {
        write_uvarint(static_cast<uint32_t>(n + 1));
    } else {
        write_int32(n);
    }
}

void writer::patch_int32(size_t at, int32_t v) noexcept {
    auto u = static_cast<uint32_t>(v);
    for (size_t i = 0; i < 4; ++i) out_.bytes[at + i] = static_cast<uint8_t>(u >> (24 - 8 * i));
}

} // namespace samsa::protocol
