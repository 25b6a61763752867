#include "storage/checkpoint_file.h"

#include "storage/file_handle.h"

#include <cerrno>
#include <charconv>

namespace samsa::storage::checkpoint {
namespace {

// Splits the text into lines (a final newline is optional) and each line into space-separated
// fields; empty lines are refused, as Kafka's reader does.
std::optional<std::vector<std::vector<std::string_view>>> split(std::string_view text) {
    std::vector<std::vector<std::string_view>> lines;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        std::vector<std::string_view> fields;
        while (!line.empty()) {
            size_t sp = line.find(' ');
            std::string_view f = line.substr(0, sp);
            if (f.empty()) return std::nullopt;
            fields.push_back(f);
            line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
            if (sp != std::string_view::npos && line.empty()) return std::nullopt;
        }
        if (fields.empty()) return std::nullopt;
        lines.push_back(std::move(fields));
    }
    return lines;
}

template <typename T>
bool parse_int(std::string_view s, T* out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size();
}

// Checks the version and count lines and returns the entry lines, each with `fields` fields.
std::optional<std::vector<std::vector<std::string_view>>> entries(std::string_view text, size_t fields) {
    auto lines = split(text);
    if (!lines || lines->size() < 2) return std::nullopt;
    int version = -1;
    int64_t count = -1;
    if ((*lines)[0].size() != 1 || !parse_int((*lines)[0][0], &version) || version != current_version)
        return std::nullopt;
    if ((*lines)[1].size() != 1 || !parse_int((*lines)[1][0], &count) || count < 0) return std::nullopt;
    if (static_cast<size_t>(count) != lines->size() - 2) return std::nullopt;
    lines->erase(lines->begin(), lines->begin() + 2);
    for (const auto& l : *lines)
        if (l.size() != fields) return std::nullopt;
    return lines;
}

read_status read_text(const std::string& path, std::string* text) {
    int rc = read_small_file(path, text);
    if (rc == -ENOENT) return read_status::missing;
    if (rc < 0) return read_status::io_error;
    return read_status::ok;
}

} // namespace

std::string format_offsets(const offset_map& offsets) {
    std::string out = std::to_string(current_version) + "\n" + std::to_string(offsets.size()) + "\n";
    for (const auto& [tp, offset] : offsets)
        out += tp.topic + " " + std::to_string(tp.partition.value()) + " " + std::to_string(offset.value()) + "\n";
    return out;
}

std::optional<offset_map> parse_offsets(std::string_view text) {
    auto lines = entries(text, 3);
    if (!lines) return std::nullopt;
    offset_map out;
    for (const auto& l : *lines) {
        int32_t partition = 0;
        int64_t offset = 0;
        if (!parse_int(l[1], &partition) || partition < 0 || !parse_int(l[2], &offset)) return std::nullopt;
        out[topic_partition{std::string(l[0]), protocol::partition_id(partition)}] = protocol::offset(offset);
    }
    return out;
}

std::string format_epochs(std::span<const epoch_entry> entries_in) {
    std::string out = std::to_string(current_version) + "\n" + std::to_string(entries_in.size()) + "\n";
    for (const auto& e : entries_in)
        out += std::to_string(e.epoch.value()) + " " + std::to_string(e.start_offset.value()) + "\n";
    return out;
}

std::optional<std::vector<epoch_entry>> parse_epochs(std::string_view text) {
    auto lines = entries(text, 2);
    if (!lines) return std::nullopt;
    std::vector<epoch_entry> out;
    for (const auto& l : *lines) {
        int32_t epoch = 0;
        int64_t start_offset = 0;
        if (!parse_int(l[0], &epoch) || !parse_int(l[1], &start_offset) || epoch < 0 || start_offset < 0)
            return std::nullopt;
        const epoch_entry e{protocol::leader_epoch(epoch), protocol::offset(start_offset)};
        // Epochs and their start offsets only grow; anything else was not written by us.
        if (!out.empty() && (e.epoch <= out.back().epoch || e.start_offset < out.back().start_offset))
            return std::nullopt;
        out.push_back(e);
    }
    return out;
}

std::string format_partition_metadata(const protocol::uuid& topic_id) {
    return "version: " + std::to_string(current_version) + "\ntopic_id: " + topic_id.to_base64();
}

std::optional<protocol::uuid> parse_partition_metadata(std::string_view text) {
    constexpr std::string_view version_key = "version: ";
    constexpr std::string_view topic_key = "topic_id: ";
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view first = text.substr(0, nl);
    std::string_view second = text.substr(nl + 1);
    if (!second.empty() && second.back() == '\n') second.remove_suffix(1);
    int version = -1;
    if (!first.starts_with(version_key) || !parse_int(first.substr(version_key.size()), &version) ||
        version != current_version)
        return std::nullopt;
    if (!second.starts_with(topic_key)) return std::nullopt;
    return protocol::uuid::from_base64(second.substr(topic_key.size()));
}

read_status read_offsets(const std::string& path, offset_map* out) {
    std::string text;
    if (auto s = read_text(path, &text); s != read_status::ok) return s;
    auto parsed = parse_offsets(text);
    if (!parsed) return read_status::corrupt;
    *out = std::move(*parsed);
    return read_status::ok;
}

read_status read_epochs(const std::string& path, std::vector<epoch_entry>* out) {
    std::string text;
    if (auto s = read_text(path, &text); s != read_status::ok) return s;
    auto parsed = parse_epochs(text);
    if (!parsed) return read_status::corrupt;
    *out = std::move(*parsed);
    return read_status::ok;
}

read_status read_partition_metadata(const std::string& path, protocol::uuid* out) {
    std::string text;
    if (auto s = read_text(path, &text); s != read_status::ok) return s;
    auto parsed = parse_partition_metadata(text);
    if (!parsed) return read_status::corrupt;
    *out = *parsed;
    return read_status::ok;
}

} // namespace samsa::storage::checkpoint
