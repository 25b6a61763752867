// The broker's event log: one line per event on stderr, "<UTC timestamp> <LEVEL> <message>".
// A process-wide singleton because every layer logs; writes are serialised by a mutex so the
// loop thread and helper threads never interleave lines. Tests may redirect lines to a sink.
// Arguments are formatted at the call and need not outlive it.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace samsa::broker {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

[[nodiscard]] std::string_view to_string(log_level l) noexcept;

// Lines below `min` are dropped. Default: info.
void set_log_level(log_level min) noexcept;
[[nodiscard]] bool log_enabled(log_level l) noexcept;

// Replaces stderr with `sink` (tests); an empty function restores stderr.
using log_sink = std::function<void(log_level, std::string_view line)>;
void set_log_sink(log_sink sink);

// Writes one already formatted event. Never throws.
void log_line(log_level l, std::string_view message) noexcept;

template <typename... Args>
void log(log_level l, const Args&... args) noexcept {
    if (!log_enabled(l)) return;
    try {
        std::ostringstream os;
        (os << ... << args);
        log_line(l, os.str());
    } catch (...) {
        log_line(l, "(log message could not be formatted)");
    }
}

template <typename... Args> void log_debug(const Args&... a) noexcept { log(log_level::debug, a...); }
template <typename... Args> void log_info(const Args&... a) noexcept { log(log_level::info, a...); }
template <typename... Args> void log_warn(const Args&... a) noexcept { log(log_level::warn, a...); }
template <typename... Args> void log_error(const Args&... a) noexcept { log(log_level::error, a...); }

} // namespace samsa::broker
