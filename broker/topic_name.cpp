#include "broker/topic_name.h"

namespace samsa::broker {

std::optional<std::string> topic_name_problem(std::string_view name) {
    if (name.empty()) return "Topic name is illegal, it can't be empty";
    if (name == "." || name == "..") return "Topic name cannot be \".\" or \"..\"";
    if (name.size() > max_topic_name_length)
        return "Topic name is illegal, it can't be longer than " + std::to_string(max_topic_name_length) + " characters";
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok)
            return "Topic name \"" + std::string(name) +
                   "\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
    }
    return std::nullopt;
}

} // namespace samsa::broker
