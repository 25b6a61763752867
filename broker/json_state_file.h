// The broker's small JSON state files (the metadata image, the dynamic configuration, the
// producer id block): read whole and converted, or encoded and replaced atomically (temp file,
// fsync, rename, fsync of the directory, through storage's write_file_atomically). Stateless
// functions; their owners call them on the event loop thread, at start-up and on each change.
#pragma once

#include <nlohmann/json.hpp>

#include <exception>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace samsa::broker {

// The file's text, or nullopt when it does not exist. Throws a runtime_error naming the file
// when it cannot be read.
[[nodiscard]] std::optional<std::string> read_state_file(const std::filesystem::path& file);

// The file's JSON converted by `convert`, or nullopt when the file does not exist. Throws a
// runtime_error naming the file ("corrupt <what> file ...") when it is not JSON or `convert`
// refuses it.
template <typename Convert>
[[nodiscard]] auto load_json_file(const std::filesystem::path& file, std::string_view what, Convert convert)
    -> std::optional<std::invoke_result_t<Convert, const nlohmann::json&>> {
    const auto text = read_state_file(file);
    if (!text) return std::nullopt;
    try {
        return convert(nlohmann::json::parse(*text));
    } catch (const std::exception& e) {
        throw std::runtime_error("corrupt " + std::string(what) + " file " + file.string() + ": " + e.what());
    }
}

// Replaces the file with `j`, indented, atomically: why it failed, or nullopt.
[[nodiscard]] std::optional<std::string> save_json_file(const std::filesystem::path& file, std::string_view what,
                                                        const nlohmann::json& j);

} // namespace samsa::broker
