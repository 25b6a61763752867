#include "broker/logger.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace samsa::broker {

namespace {
std::atomic<int> min_level{static_cast<int>(log_level::info)};
std::mutex sink_mutex;
log_sink current_sink;  // guarded by sink_mutex

// "2024-01-02T03:04:05.678Z"
void format_timestamp(char (&out)[32]) noexcept {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t secs = system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char date[24];
    if (std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0) date[0] = '\0';
    std::snprintf(out, sizeof out, "%s.%03dZ", date, static_cast<int>(ms));
}
} // namespace

std::string_view to_string(log_level l) noexcept {
    switch (l) {
        case log_level::debug: return "DEBUG";
        case log_level::info: return "INFO";
        case log_level::warn: return "WARN";
        case log_level::error: return "ERROR";
    }
    return "?";
}

void set_log_level(log_level min) noexcept { min_level.store(static_cast<int>(min)); }

bool log_enabled(log_level l) noexcept { return static_cast<int>(l) >= min_level.load(std::memory_order_relaxed); }

void set_log_sink(log_sink sink) {
    std::lock_guard lock(sink_mutex);
    current_sink = std::move(sink);
}

void log_line(log_level l, std::string_view message) noexcept {
    char ts[32];
    format_timestamp(ts);
    std::lock_guard lock(sink_mutex);
    if (current_sink) {
        try {
            std::string line;
            line.reserve(message.size() + 40);
            line.append(ts).append(" ").append(to_string(l)).append(" ").append(message);
            current_sink(l, line);
        } catch (...) {
            // A failing test sink must not take the broker down; the line is lost.
        }
        return;
    }
    const auto level = to_string(l);
    std::fprintf(stderr, "%s %.*s %.*s\n", ts, static_cast<int>(level.size()), level.data(),
                 static_cast<int>(message.size()), message.data());
}

} // namespace samsa::broker
