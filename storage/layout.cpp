#include "storage/layout.h"

#include <charconv>

namespace samsa::storage::layout {

namespace {

std::string offset_digits_of(int64_t offset) {
    std::string digits = std::to_string(offset < 0 ? 0 : offset);
    if (digits.size() >= offset_digits) return digits;
    return std::string(offset_digits - digits.size(), '0') + digits;
}

} // namespace

std::string join(const std::string& dir, std::string_view name) {
    std::string out = dir;
    if (!out.empty() && out.back() != '/') out.push_back('/');
    out.append(name);
    return out;
}

std::string segment_path(const std::string& dir, int64_t base_offset, std::string_view suffix) {
    std::string name = offset_digits_of(base_offset);
    name.append(suffix);
    return join(dir, name);
}

std::string offset_name(protocol::offset offset) { return offset_digits_of(offset.value()); }

std::string segment_path(const std::string& dir, protocol::offset base_offset, std::string_view suffix) {
    return segment_path(dir, base_offset.value(), suffix);
}

std::string txn_index_path(const std::string& dir, protocol::offset base_offset, std::string_view suffix) {
    std::string path = segment_path(dir, base_offset, txn_index_suffix);
    path.append(suffix);
    return path;
}

std::optional<protocol::offset> parse_segment_base(std::string_view name, std::string_view suffix) {
    if (auto v = parse_segment_name(name, suffix)) return protocol::offset(*v);
    return std::nullopt;
}

std::optional<int64_t> parse_segment_name(std::string_view name, std::string_view suffix) {
    if (name.size() != offset_digits + suffix.size() || !name.ends_with(suffix)) return std::nullopt;
    int64_t v = 0;
    const char* first = name.data();
    const char* last = name.data() + offset_digits;
    for (const char* p = first; p != last; ++p)
        if (*p < '0' || *p > '9') return std::nullopt;
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr != last) return std::nullopt;
    return v;
}

std::optional<partition_dir_name> parse_partition_dir(std::string_view name) {
    size_t dash = name.rfind('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
    std::string_view digits = name.substr(dash + 1);
    for (char c : digits)
        if (c < '0' || c > '9') return std::nullopt;
    int32_t p = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
    // Topic names are [a-zA-Z0-9._-]; anything else is not a partition directory.
    std::string_view topic = name.substr(0, dash);
    for (char c : topic) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok) return std::nullopt;
    }
    return partition_dir_name{std::string(topic), protocol::partition_id(p)};
}

} // namespace samsa::storage::layout
