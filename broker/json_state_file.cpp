#include "broker/json_state_file.h"

#include "storage/file_handle.h"

#include <cerrno>
#include <cstring>

namespace samsa::broker {

std::optional<std::string> read_state_file(const std::filesystem::path& file) {
    std::string text;
    const int rc = storage::read_small_file(file.string(), &text);
    if (rc == -ENOENT) return std::nullopt;
    if (rc < 0) throw std::runtime_error("cannot read " + file.string() + ": " + std::strerror(-rc));
    return text;
}

std::optional<std::string> save_json_file(const std::filesystem::path& file, std::string_view what, const nlohmann::json& j) {
    std::string text;
    try {
        text = j.dump(2) + "\n";
    } catch (const std::exception& e) {
        return "cannot encode the " + std::string(what) + ": " + e.what();
    }
    if (const int err = storage::write_file_atomically(file.string(), text); err != 0)
        return "cannot write " + file.string() + " atomically: " + std::strerror(err);
    return std::nullopt;
}

} // namespace samsa::broker
