#include "broker/admin/quota_rate.h"

#include <algorithm>
#include <cmath>

namespace samsa::broker {

quota_rate::quota_rate(int32_t samples, int64_t window_ms) : samples_(std::max(1, samples)), window_ms_(std::max<int64_t>(1, window_ms)) {}

void quota_rate::purge(int64_t now_ms) {
    const int64_t expire = static_cast<int64_t>(samples_) * window_ms_;
    for (auto& w : windows_)
        if (now_ms - w.start_ms >= expire) w = sample{now_ms, 0};
}

void quota_rate::record(double value, int64_t now_ms) {
    last_record_ms_ = now_ms;
    if (windows_.empty()) windows_.push_back({now_ms, 0});
    if (now_ms - windows_[current_].start_ms >= window_ms_) {
        current_ = (current_ + 1) % static_cast<size_t>(samples_);
        if (current_ >= windows_.size()) windows_.push_back({now_ms, 0});
        else windows_[current_] = sample{now_ms, 0};
    }
    windows_[current_].value += value;
}

int64_t quota_rate::window_size(int64_t now_ms) {
    purge(now_ms);
    if (windows_.empty()) windows_.push_back({now_ms, 0});
    const auto oldest = std::min_element(windows_.begin(), windows_.end(),
                                         [](const sample& a, const sample& b) { return a.start_ms < b.start_ms; });
    int64_t elapsed = now_ms - oldest->start_ms;
    const int64_t full = elapsed / window_ms_;
    const int64_t min_full = samples_ - 1;
    if (full < min_full) elapsed += (min_full - full) * window_ms_;
    return std::max<int64_t>(elapsed, 1);
}

double quota_rate::rate(int64_t now_ms) {
    const int64_t window = window_size(now_ms);  // purges first
    double total = 0;
    for (const auto& w : windows_) total += w.value;
    return total / (static_cast<double>(window) / 1000.0);
}

int64_t quota_rate::throttle_ms(double bound, int64_t now_ms) {
    const double observed = rate(now_ms);
    if (bound <= 0 || observed <= bound) return 0;
    return std::llround((observed - bound) / bound * static_cast<double>(window_size(now_ms)));
}

} // namespace samsa::broker
