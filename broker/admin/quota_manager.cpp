#include "broker/admin/quota_manager.h"

#include <algorithm>
#include <climits>

namespace samsa::broker {

namespace {

std::string_view key_of(quota_kind k) {
    switch (k) {
        case quota_kind::produce: return producer_byte_rate;
        case quota_kind::fetch: return consumer_byte_rate;
        case quota_kind::request: return request_percentage;
    }
    return {};
}

// Kafka forgets a client's usage after an hour without requests.
constexpr int64_t idle_bucket_ms = 3600 * 1000;

} // namespace

quota_rate* quota_manager::bucket(quota_kind kind, std::string_view user, std::string_view client_id, double* bound) {
    const auto q = table_.resolve(key_of(kind), user, client_id);
    if (!q) return nullptr;
    *bound = q->bound;
    bucket_key key{kind, q->bucket_user, q->bucket_client_id};
    auto it = buckets_.find(key);
    if (it == buckets_.end())
        it = buckets_.emplace(std::move(key), quota_rate(cfg_.quota_window_num, int64_t{cfg_.quota_window_size_seconds} * 1000)).first;
    return &it->second;
}

int32_t quota_manager::record(quota_kind kind, std::string_view user, std::string_view client_id, double amount, int64_t now_ms) {
    drop_idle(now_ms);
    double bound = 0;
    quota_rate* r = bucket(kind, user, client_id, &bound);
    if (r == nullptr) return 0;
    // Request time is a percentage of one thread: a second of handler time per second is 100.
    r->record(kind == quota_kind::request ? amount * 100.0 / 1e9 : amount, now_ms);
    int64_t wait = r->throttle_ms(bound, now_ms);
    // Kafka bounds the request-time throttle by one quota window.
    if (kind == quota_kind::request) wait = std::min<int64_t>(wait, int64_t{cfg_.quota_window_size_seconds} * 1000);
    return static_cast<int32_t>(std::clamp<int64_t>(wait, 0, INT32_MAX));
}

void quota_manager::unrecord(quota_kind kind, std::string_view user, std::string_view client_id, double amount, int64_t now_ms) {
    double bound = 0;
    quota_rate* r = bucket(kind, user, client_id, &bound);
    if (r != nullptr) r->record(-(kind == quota_kind::request ? amount * 100.0 / 1e9 : amount), now_ms);
}

bool quota_manager::applies(quota_kind kind, std::string_view user, std::string_view client_id) const {
    return table_.resolve(key_of(kind), user, client_id).has_value();
}

std::optional<double> quota_manager::max_value_in_window(quota_kind kind, std::string_view user,
                                                         std::string_view client_id) const {
    const auto q = table_.resolve(key_of(kind), user, client_id);
    if (!q) return std::nullopt;
    return q->bound * static_cast<double>(cfg_.quota_window_num - 1) * static_cast<double>(cfg_.quota_window_size_seconds);
}

double quota_manager::rate(quota_kind kind, std::string_view user, std::string_view client_id, int64_t now_ms) {
    double bound = 0;
    quota_rate* r = bucket(kind, user, client_id, &bound);
    return r == nullptr ? 0 : r->rate(now_ms);
}

void quota_manager::drop_idle(int64_t now_ms) {
    if (now_ms - last_sweep_ms_ < 60'000) return;
    last_sweep_ms_ = now_ms;
    std::erase_if(buckets_, [&](const auto& b) { return now_ms - b.second.last_record_ms() > idle_bucket_ms; });
}

} // namespace samsa::broker
