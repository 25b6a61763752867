// A rate measured over a sliding set of sample windows, as Kafka's Rate/SampledStat measure
// client quota usage: `samples` windows of `window_ms` each; a window starts at the first record
// after the previous one ended, windows older than samples * window_ms are forgotten, and the
// rate is the total over the elapsed time (at least samples - 1 whole windows, so a new client
// is not judged on its first milliseconds). Plain value, one thread; times are the caller's
// monotonic milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace samsa::broker {

class quota_rate {
public:
    quota_rate(int32_t samples, int64_t window_ms);

    void record(double value, int64_t now_ms);
    // Units of value per second.
    [[nodiscard]] double rate(int64_t now_ms);
    // The time the rate is computed over, in milliseconds.
    [[nodiscard]] int64_t window_size(int64_t now_ms);
    // Kafka's throttle time: how long until the rate falls to `bound` if nothing more is
    // recorded, (rate - bound) / bound * window; 0 when within the bound.
    [[nodiscard]] int64_t throttle_ms(double bound, int64_t now_ms);
    // The last time anything was recorded (idle buckets are dropped by their owner).
    [[nodiscard]] int64_t last_record_ms() const noexcept { return last_record_ms_; }

private:
    struct sample {
        int64_t start_ms = 0;
        double value = 0;
    };
    void purge(int64_t now_ms);

    int32_t samples_;
    int64_t window_ms_;
    std::vector<sample> windows_;
    size_t current_ = 0;
    int64_t last_record_ms_ = 0;
};

} // namespace samsa::broker
