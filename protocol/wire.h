// Kafka's primitive wire types: a bounds-checked reader over borrowed bytes, and a writer that
// appends to an output_buffer which may also carry file ranges to be sent without copying.
// Owned by whoever creates them, for the duration of one decode or encode on one thread; a
// reader borrows its bytes, which must outlive it and every span or records value it hands out.
// Errors are sticky: after the first failure every read returns a zero value and status() tells why.
#pragma once

#include "protocol/errors.h"

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::protocol {

using bytes_view = std::span<const uint8_t>;

struct uuid {
    std::array<uint8_t, 16> bytes{};

    [[nodiscard]] bool is_zero() const noexcept;
    [[nodiscard]] std::string to_base64() const;  // Kafka's URL-safe, unpadded text form
    static std::optional<uuid> from_base64(std::string_view text);
    auto operator<=>(const uuid&) const = default;
};

// A byte range of an open file, sent with sendfile() instead of being copied into memory.
// `owner` keeps whatever owns the descriptor alive until the bytes have been written.
struct file_range {
    int fd = -1;
    int64_t offset = 0;
    int32_t length = 0;
    std::shared_ptr<const void> owner;

    bool operator==(const file_range& o) const noexcept {
        return fd == o.fd && offset == o.offset && length == o.length;
    }
};

// The value of a `records` field: null, borrowed bytes (a decoded request, a batch built in
// memory), or a list of file ranges (a fetch response). Never owns record bytes.
class records {
public:
    records() = default;
    static records from_bytes(bytes_view b) {
        records r;
        r.null_ = false;
        r.bytes_ = b;
        return r;
    }
    static records from_ranges(std::vector<file_range> ranges) {
        records r;
        r.null_ = false;
        r.ranges_ = std::move(ranges);
        return r;
    }

    [[nodiscard]] bool is_null() const noexcept { return null_; }
    [[nodiscard]] bytes_view bytes() const noexcept { return bytes_; }
    [[nodiscard]] const std::vector<file_range>& ranges() const noexcept { return ranges_; }
    [[nodiscard]] size_t size() const noexcept {
        size_t n = bytes_.size();
        for (const auto& r : ranges_) n += static_cast<size_t>(r.length);
        return n;
    }
    // Two values are equal when they are both null or carry the same bytes (same ranges).
    bool operator==(const records& o) const noexcept;

private:
    bool null_ = true;
    bytes_view bytes_;
    std::vector<file_range> ranges_;
};

// Encoded bytes plus the file ranges to splice in at given positions. A transport sends
// bytes[0, s0.at), s0.range, bytes[s0.at, s1.at), s1.range, ... and the tail.
struct output_buffer {
    struct splice {
        size_t at;
        file_range range;
    };
    std::vector<uint8_t> bytes;
    std::vector<splice> splices;

    [[nodiscard]] size_t size() const noexcept;
    // Flattens into one byte string, reading spliced file ranges with pread (tests and tools).
    [[nodiscard]] std::vector<uint8_t> flatten() const;
};

// Offsets and timestamps built from untrusted deltas are added without signed overflow: a
// hostile delta wraps around instead of being undefined behaviour.
[[nodiscard]] inline int64_t wrapping_add(int64_t a, int64_t b) noexcept {
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

class reader {
public:
    explicit reader(bytes_view in) noexcept : data_(in.data()), size_(in.size()) {}

    [[nodiscard]] bool ok() const noexcept { return status_ == decode_status::ok; }
    [[nodiscard]] decode_status status() const noexcept { return status_; }
    [[nodiscard]] size_t remaining() const noexcept { return size_ - pos_; }
    [[nodiscard]] size_t position() const noexcept { return pos_; }
    [[nodiscard]] bytes_view rest() const noexcept { return {data_ + pos_, size_ - pos_}; }
    void fail(decode_status s) noexcept {
        if (status_ == decode_status::ok) status_ = s;
        pos_ = size_;
    }

    int8_t read_int8() noexcept { return static_cast<int8_t>(read_be<uint8_t>()); }
    int16_t read_int16() noexcept { return static_cast<int16_t>(read_be<uint16_t>()); }
    int32_t read_int32() noexcept { return static_cast<int32_t>(read_be<uint32_t>()); }
    int64_t read_int64() noexcept { return static_cast<int64_t>(read_be<uint64_t>()); }
    uint16_t read_uint16() noexcept { return read_be<uint16_t>(); }
    uint32_t read_uint32() noexcept { return read_be<uint32_t>(); }
    double read_float64() noexcept;
    bool read_bool() noexcept;
    uuid read_uuid() noexcept;

    uint32_t read_uvarint() noexcept;
    uint64_t read_uvarlong() noexcept;
    int32_t read_varint() noexcept;   // zig-zag
    int64_t read_varlong() noexcept;  // zig-zag

    std::string read_string(bool compact) noexcept;
    std::optional<std::string> read_nullable_string(bool compact) noexcept;
    std::vector<uint8_t> read_bytes(bool compact) noexcept;
    std::optional<std::vector<uint8_t>> read_nullable_bytes(bool compact) noexcept;
    records read_records(bool compact) noexcept;

    // An array length: -1 for null (only when `nullable`), else a count checked so that
    // count * min_element_size fits in what remains. Callers may reserve() the count.
    int32_t read_array_length(bool compact, bool nullable, size_t min_element_size) noexcept;

    // The bytes of a key or value whose length the caller has just read, in whichever encoding
    // its format uses (int32 in legacy messages, varint in v2 records): -1 for null, else checked
    // against what remains. Returns false, with the reason in status(), if the length read failed
    // or is out of range. The view points into the reader's bytes.
    [[nodiscard]] bool read_nullable_view(int32_t len, std::optional<bytes_view>& out) noexcept;

    // A length-prefixed region (compact or classic) to be decoded on its own.
    bytes_view read_raw(size_t n) noexcept;
    void skip(size_t n) noexcept { (void)read_raw(n); }

private:
    template <typename T>
    T read_be() noexcept {
        if (remaining() < sizeof(T)) {
            fail(decode_status::truncated);
            return 0;
        }
        T v{};
        for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | data_[pos_ + i]);
        pos_ += sizeof(T);
        return v;
    }
    // Returns the byte count of a string/bytes value, -1 for null, or -2 after a failure.
    int64_t read_length(bool compact) noexcept;

    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    decode_status status_ = decode_status::ok;
};

class writer {
public:
    explicit writer(output_buffer& out) noexcept : out_(out) {}

    void write_int8(int8_t v) { put_be(static_cast<uint8_t>(v)); }
    void write_int16(int16_t v) { put_be(static_cast<uint16_t>(v)); }
    void write_int32(int32_t v) { put_be(static_cast<uint32_t>(v)); }
    void write_int64(int64_t v) { put_be(static_cast<uint64_t>(v)); }
    void write_uint16(uint16_t v) { put_be(v); }
    void write_uint32(uint32_t v) { put_be(v); }
    void write_float64(double v);
    void write_bool(bool v) { put_be(static_cast<uint8_t>(v ? 1 : 0)); }
    void write_uuid(const uuid& v) { write_raw(v.bytes); }

    void write_uvarint(uint32_t v);
    void write_uvarlong(uint64_t v);
    void write_varint(int32_t v);
    void write_varlong(int64_t v);

    void write_string(std::string_view s, bool compact);
    void write_nullable_string(const std::optional<std::string>& s, bool compact);
    void write_bytes(bytes_view b, bool compact);
    void write_nullable_bytes(const std::optional<std::vector<uint8_t>>& b, bool compact);
    void write_records(const records& r, bool compact);
    void write_array_length(int32_t n, bool compact);  // n == -1 writes null
    void write_raw(bytes_view b);

    [[nodiscard]] size_t position() const noexcept { return out_.bytes.size(); }
    // Overwrites 4 bytes at `at` (a size prefix known only after the body was written).
    void patch_int32(size_t at, int32_t v) noexcept;

private:
    template <typename T>
    void put_be(T v) {
        uint8_t b[sizeof(T)];
        for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
        out_.bytes.insert(out_.bytes.end(), b, b + sizeof(T));
    }
    output_buffer& out_;
};

// Encoded sizes, for size() without encoding.
[[nodiscard]] constexpr size_t uvarint_size(uint64_t v) noexcept {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}
[[nodiscard]] constexpr uint32_t zigzag32(int32_t v) noexcept {
    return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
[[nodiscard]] constexpr uint64_t zigzag64(int64_t v) noexcept {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
[[nodiscard]] constexpr size_t varint_size(int32_t v) noexcept { return uvarint_size(zigzag32(v)); }
[[nodiscard]] constexpr size_t varlong_size(int64_t v) noexcept { return uvarint_size(zigzag64(v)); }
// Size of a length or count prefix: int16/int32 classic, or unsigned varint of n+1 compact.
[[nodiscard]] constexpr size_t string_prefix_size(size_t len, bool compact) noexcept {
    return compact ? uvarint_size(len + 1) : 2;
}
[[nodiscard]] constexpr size_t bytes_prefix_size(size_t len, bool compact) noexcept {
    return compact ? uvarint_size(len + 1) : 4;
}
[[nodiscard]] constexpr size_t array_prefix_size(size_t count, bool compact) noexcept {
    return compact ? uvarint_size(count + 1) : 4;
}


// A struct's bytes after an int16 version prefix, the layout of the records in Kafka's internal
// topics and of the consumer protocol's embedded metadata. `prefix` is usually the version the
// struct is encoded at; some record keys carry a type number there instead.
template <typename Struct>
[[nodiscard]] std::vector<uint8_t> version_prefixed_bytes(const Struct& s, int16_t prefix, int16_t struct_version) {
    output_buffer out;
    out.bytes.reserve(s.size(struct_version) + 2);
    writer w(out);
    w.write_int16(prefix);
    s.encode(w, struct_version);
    return std::move(out.bytes);
}

template <typename Struct>
[[nodiscard]] std::vector<uint8_t> version_prefixed_bytes(const Struct& s, int16_t version) {
    return version_prefixed_bytes(s, version, version);
}

} // namespace samsa::protocol
