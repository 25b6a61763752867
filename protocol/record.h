// One record of a v2 record batch as a zero-copy view: what record_reader hands out. Keys,
// values and headers point into bytes someone else owns (the batch, or a reader's decompressed
// copy) and live exactly as long as those bytes. Plain values, any thread.
//
// A record on the wire (docs/protocol.md):
//   length varint | attributes int8 | timestamp_delta varlong | offset_delta varint |
//   key_length varint, key | value_length varint, value | header_count varint, headers
//   header: key_length varint, key (a string, never null) | value_length varint, value
// Lengths of -1 mean null.
#pragma once

#include "protocol/wire.h"

#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

namespace samsa::protocol {

struct record_header {
    std::string_view key;
    std::optional<bytes_view> value;  // nullopt: null
};

// Reads one header at the reader's position; false (with the reader failed) when malformed.
[[nodiscard]] bool read_record_header(reader& in, record_header& out) noexcept;

// The headers of one record, decoded on iteration from bytes that were validated when the
// record was read, so iteration itself cannot fail.
class header_list {
public:
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = record_header;
        using difference_type = std::ptrdiff_t;
        using pointer = const record_header*;
        using reference = const record_header&;

        iterator() = default;
        iterator(bytes_view rest, int32_t left) noexcept : rest_(rest), left_(left) { load(); }
        reference operator*() const noexcept { return current_; }
        pointer operator->() const noexcept { return &current_; }
        iterator& operator++() noexcept {
            --left_;
            load();
            return *this;
        }
        iterator operator++(int) noexcept {
            iterator before = *this;
            ++*this;
            return before;
        }
        bool operator==(const iterator& o) const noexcept { return left_ == o.left_; }

    private:
        void load() noexcept;
        bytes_view rest_;
        int32_t left_ = 0;
        record_header current_;
    };

    header_list() = default;
    header_list(bytes_view bytes, int32_t count) noexcept : bytes_(bytes), count_(count) {}

    [[nodiscard]] int32_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] iterator begin() const noexcept { return {bytes_, count_}; }
    [[nodiscard]] iterator end() const noexcept { return {}; }

private:
    bytes_view bytes_;
    int32_t count_ = 0;
};

struct record {
    int8_t attributes = 0;        // no bits defined by Kafka yet; kept as read
    int64_t timestamp_delta = 0;
    int32_t offset_delta = 0;
    int64_t offset = 0;           // the batch's base offset + offset_delta
    int64_t timestamp = -1;       // base timestamp + delta; the batch's max timestamp under LogAppendTime
    std::optional<bytes_view> key;
    std::optional<bytes_view> value;
    header_list headers;
};

} // namespace samsa::protocol
