// The `samsa` command line: `samsa [--config FILE] [--override key=value ...] [--help]
// [--version] [--print-config-docs]`. A pure parser (the tests call it), used once by main on the main thread.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace samsa::broker {

struct command_line {
    std::optional<std::string> config_file;
    std::vector<std::string> overrides;  // "key=value", applied after the file, in order
    bool help = false;
    bool version = false;
    bool print_config_docs = false;  // print docs/configuration.md, generated from the key tables
};

class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws usage_error for an unknown option or a missing value.
[[nodiscard]] command_line parse_command_line(const std::vector<std::string>& args);

[[nodiscard]] std::string usage_text();

} // namespace samsa::broker
