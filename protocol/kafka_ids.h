// Distinct types for the integers Kafka uses as positions and identifiers: absolute offsets,
// offsets relative to a segment's base (what .index and .timeindex entries store), leader epochs,
// producer ids and epochs, node ids and partition ids. Passing one where another is expected, or
// a raw integer where either is expected, does not compile; the raw value goes in by explicit
// construction and comes out with value(). A relative offset becomes absolute only through
// absolute_offset(base, relative). The generated message structs keep raw integers (they mirror
// the wire); handlers and services convert at that boundary. Plain values: any thread, no
// lifetime rules, the same size and code as the integers they wrap.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <optional>
#include <type_traits>

namespace samsa::protocol {

// An integer that means one thing (`Tag`): ordered and hashable, but no arithmetic and no mixing.
template <typename Rep, typename Tag>
class strong_id {
public:
    using rep = Rep;

    constexpr strong_id() noexcept = default;
    constexpr explicit strong_id(Rep v) noexcept : v_(v) {}

    [[nodiscard]] constexpr Rep value() const noexcept { return v_; }

    constexpr auto operator<=>(const strong_id&) const noexcept = default;

    template <typename C, typename T>
    friend std::basic_ostream<C, T>& operator<<(std::basic_ostream<C, T>& os, strong_id id) {
        return os << +id.v_;  // `+` so a narrow type prints as a number
    }

private:
    Rep v_ = 0;
};

// An absolute offset in a partition log. Offsets move by counts (offset + n, offset - n) and
// their difference is a count; adding two offsets, or an offset and a relative offset, does not
// compile.
class offset {
public:
    using rep = int64_t;

    constexpr offset() noexcept = default;
    constexpr explicit offset(int64_t v) noexcept : v_(v) {}

    [[nodiscard]] constexpr int64_t value() const noexcept { return v_; }

    constexpr auto operator<=>(const offset&) const noexcept = default;

    [[nodiscard]] friend constexpr offset operator+(offset o, int64_t count) noexcept { return offset(o.v_ + count); }
    [[nodiscard]] friend constexpr offset operator-(offset o, int64_t count) noexcept { return offset(o.v_ - count); }
    [[nodiscard]] friend constexpr int64_t operator-(offset a, offset b) noexcept { return a.v_ - b.v_; }
    constexpr offset& operator+=(int64_t count) noexcept { v_ += count; return *this; }
    constexpr offset& operator-=(int64_t count) noexcept { v_ -= count; return *this; }
    constexpr offset& operator++() noexcept { ++v_; return *this; }
    constexpr offset operator++(int) noexcept { offset o = *this; ++v_; return o; }

    template <typename C, typename T>
    friend std::basic_ostream<C, T>& operator<<(std::basic_ostream<C, T>& os, offset o) {
        return os << o.v_;
    }

private:
    int64_t v_ = 0;
};

// An offset minus its segment's base offset, as the 4-byte fields of index entries hold it.
// Kafka reads the field as signed; a negative value marks a corrupt entry.
using relative_offset = strong_id<int32_t, struct relative_offset_tag>;
using leader_epoch = strong_id<int32_t, struct leader_epoch_tag>;
using producer_id = strong_id<int64_t, struct producer_id_tag>;
using producer_epoch = strong_id<int16_t, struct producer_epoch_tag>;
using node_id = strong_id<int32_t, struct node_id_tag>;
using partition_id = strong_id<int32_t, struct partition_id_tag>;

// Kafka's "none" values (-1 on the wire).
inline constexpr offset no_offset{-1};
inline constexpr leader_epoch no_leader_epoch{-1};
inline constexpr producer_id no_producer_id{-1};
inline constexpr producer_epoch no_producer_epoch{-1};
inline constexpr node_id no_node_id{-1};

// The absolute offset of an index entry: the one way from a relative offset to an offset.
[[nodiscard]] constexpr offset absolute_offset(offset base, relative_offset r) noexcept { return base + r.value(); }

// `o` relative to `base`; nullopt when it is below the base or too far above it for 4 bytes.
[[nodiscard]] constexpr std::optional<relative_offset> relative_to(offset base, offset o) noexcept {
    const int64_t d = o - base;
    if (d < 0 || d > std::numeric_limits<int32_t>::max()) return std::nullopt;
    return relative_offset(static_cast<int32_t>(d));
}

// Zero overhead: the wrappers are the size of their integers and copy like them.
static_assert(sizeof(offset) == sizeof(int64_t) && std::is_trivially_copyable_v<offset>);
static_assert(sizeof(relative_offset) == sizeof(int32_t) && std::is_trivially_copyable_v<relative_offset>);
static_assert(sizeof(leader_epoch) == sizeof(int32_t) && std::is_trivially_copyable_v<leader_epoch>);
static_assert(sizeof(producer_id) == sizeof(int64_t) && std::is_trivially_copyable_v<producer_id>);
static_assert(sizeof(producer_epoch) == sizeof(int16_t) && std::is_trivially_copyable_v<producer_epoch>);
static_assert(sizeof(node_id) == sizeof(int32_t) && std::is_trivially_copyable_v<node_id>);
static_assert(sizeof(partition_id) == sizeof(int32_t) && std::is_trivially_copyable_v<partition_id>);

} // namespace samsa::protocol

template <typename Rep, typename Tag>
struct std::hash<samsa::protocol::strong_id<Rep, Tag>> {
    [[nodiscard]] size_t operator()(samsa::protocol::strong_id<Rep, Tag> id) const noexcept {
        return std::hash<Rep>{}(id.value());
    }
};

template <>
struct std::hash<samsa::protocol::offset> {
    [[nodiscard]] size_t operator()(samsa::protocol::offset o) const noexcept {
        return std::hash<int64_t>{}(o.value());
    }
};
