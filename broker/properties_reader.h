// Reads Java's `.properties` text format, the format of Kafka's server.properties: `key=value`,
// `key: value` or `key value`, `#`/`!` comment lines, a trailing backslash continuing a line,
// and the escapes \t \n \r \f \\ \uXXXX. Pure functions, used at start-up on the main thread.
// The returned entries own their text; the input is only borrowed for the call.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

struct property {
    std::string key;
    std::string value;
    int line = 0;  // 1-based line where the entry starts, for error messages
};

// Entries in file order; a key given twice appears twice (the caller decides that the last wins).
[[nodiscard]] std::vector<property> parse_properties(std::string_view text);

} // namespace samsa::broker
