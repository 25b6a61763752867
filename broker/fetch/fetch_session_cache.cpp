#include "broker/fetch/fetch_session_cache.h"

#include <limits>

namespace samsa::broker {

using protocol::error_code;

fetch_session::fetch_session(int32_t id, bool uses_topic_ids, int64_t now_ms)
    : id_(id), uses_topic_ids_(uses_topic_ids), created_ms_(now_ms), last_used_ms_(now_ms) {}

std::vector<fetch_partition_request> fetch_session::partitions() const {
    std::vector<fetch_partition_request> out;
    out.reserve(partitions_.size());
    for (const auto& p : partitions_) out.push_back({p.key, p.params});
    return out;
}

void fetch_session::upsert(const fetch_partition_request& p) {
    if (const auto it = index_.find(p.key); it != index_.end()) {
        it->second->params = p.params;
        return;
    }
    partitions_.push_back(cached_partition{p.key, p.params});
    index_.emplace(p.key, std::prev(partitions_.end()));
}

void fetch_session::forget(const fetch_partition_key& k) {
    const auto it = index_.find(k);
    if (it == index_.end()) return;
    partitions_.erase(it->second);
    index_.erase(it);
}

bool fetch_session::must_respond(const fetch_partition_key& k, const fetch_partition_summary& s, bool update) {
    const auto it = index_.find(k);
    if (it == index_.end()) return true;
    cached_partition& c = *it->second;
    const bool respond = s.records_bytes > 0 || c.high_watermark != s.high_watermark ||
                         c.log_start_offset != s.log_start_offset || s.error != error_code::none;
    if (!update) return respond;
    c.high_watermark = s.high_watermark;
    c.log_start_offset = s.log_start_offset;
    // Forget the high watermark after an error so the partition is sent again once it is gone.
    if (s.error != error_code::none) c.high_watermark = protocol::no_offset;
    if (respond) partitions_.splice(partitions_.end(), partitions_, it->second);  // round robin
    return respond;
}

int32_t fetch_session_cache::next_epoch(int32_t epoch) noexcept {
    if (epoch < 0) return final_epoch;
    if (epoch == std::numeric_limits<int32_t>::max()) return 1;
    return epoch + 1;
}

std::shared_ptr<fetch_session> fetch_session_cache::find(int32_t id) const {
    const auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second;
}

void fetch_session_cache::remove(int32_t id) noexcept { sessions_.erase(id); }

int32_t fetch_session_cache::new_session_id() {
    std::uniform_int_distribution<int32_t> pick(1, std::numeric_limits<int32_t>::max() - 1);
    for (;;) {
        const int32_t id = pick(rng_);
        if (!sessions_.contains(id)) return id;
    }
}

bool fetch_session_cache::make_room(size_t new_size, int64_t now_ms) {
    if (sessions_.size() < max_sessions_) return true;
    if (sessions_.empty()) return false;
    // A stale session (unused for the eviction time) goes first, the least recently used one.
    auto lru = sessions_.begin();
    const fetch_session* smallest = nullptr;
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
        const fetch_session& s = *it->second;
        if (s.last_used_ms() < lru->second->last_used_ms()) lru = it;
        // Only sessions older than the eviction time may be displaced by a larger one.
        if (now_ms - s.created_ms() > eviction_ms_ &&
            (smallest == nullptr || s.size() < smallest->size() || (s.size() == smallest->size() && s.id() < smallest->id())))
            smallest = &s;
    }
    if (now_ms - lru->second->last_used_ms() > eviction_ms_) {
        sessions_.erase(lru);
        return true;
    }
    if (smallest != nullptr && new_size > smallest->size()) {
        remove(smallest->id());
        return true;
    }
    return false;
}

fetch_context fetch_session_cache::new_context(int32_t session_id, int32_t epoch,
                                               std::vector<fetch_partition_request> requested,
                                               std::span<const fetch_partition_key> forgotten, bool uses_topic_ids,
                                               int64_t now_ms) {
    fetch_context ctx;
    ctx.uses_topic_ids = uses_topic_ids;
    if (epoch == initial_epoch || epoch == final_epoch) {
        // A full request closes the session it names.
        if (session_id != no_session) remove(session_id);
        ctx.what = epoch == final_epoch ? fetch_context::kind::sessionless : fetch_context::kind::full;
        ctx.partitions = std::move(requested);
        return ctx;
    }
    const auto session = find(session_id);
    if (!session) {
        ctx.what = fetch_context::kind::error;
        ctx.error = error_code::fetch_session_id_not_found;
        return ctx;
    }
    if (session->epoch() != epoch) {
        ctx.what = fetch_context::kind::error;
        ctx.error = error_code::invalid_fetch_session_epoch;
        return ctx;
    }
    if (session->uses_topic_ids() != uses_topic_ids) {
        ctx.what = fetch_context::kind::error;
        ctx.error = error_code::fetch_session_topic_id_error;
        return ctx;
    }
    for (const auto& p : requested) session->upsert(p);
    for (const auto& k : forgotten) session->forget(k);
    if (session->size() == 0) {
        remove(session->id());
        ctx.what = fetch_context::kind::sessionless;
        ctx.partitions = std::move(requested);
        return ctx;
    }
    session->last_used_ms_ = now_ms;
    session->epoch_ = next_epoch(session->epoch_);
    ctx.what = fetch_context::kind::incremental;
    ctx.session = session;
    ctx.expected_epoch = session->epoch_;
    ctx.partitions = session->partitions();
    return ctx;
}

fetch_answer fetch_session_cache::finish(const fetch_context& ctx, std::span<const fetch_partition_summary> read,
                                         int64_t now_ms) {
    fetch_answer out;
    switch (ctx.what) {
        case fetch_context::kind::error:
            out.error = ctx.error;
            return out;
        case fetch_context::kind::sessionless:
            out.include.assign(read.size(), true);
            return out;
        case fetch_context::kind::full: {
            out.include.assign(read.size(), true);
            if (!make_room(ctx.partitions.size(), now_ms)) return out;
            auto s = std::make_shared<fetch_session>(new_session_id(), ctx.uses_topic_ids, now_ms);
            for (size_t i = 0; i < ctx.partitions.size(); ++i) {
                s->upsert(ctx.partitions[i]);
                if (i >= read.size()) continue;
                auto& c = *s->index_.at(ctx.partitions[i].key);
                c.high_watermark = read[i].error == error_code::none ? read[i].high_watermark : protocol::no_offset;
                c.log_start_offset = read[i].log_start_offset;
            }
            out.session_id = s->id();
            sessions_.emplace(s->id(), std::move(s));
            return out;
        }
        case fetch_context::kind::incremental: {
            // A request that reused this epoch while this one waited for data wins.
            if (ctx.session->epoch() != ctx.expected_epoch) {
                out.error = error_code::invalid_fetch_session_epoch;
                out.session_id = ctx.session->id();
                return out;
            }
            out.session_id = ctx.session->id();
            out.include.resize(read.size(), false);
            for (size_t i = 0; i < read.size() && i < ctx.partitions.size(); ++i)
                out.include[i] = ctx.session->must_respond(ctx.partitions[i].key, read[i], true);
            return out;
        }
    }
    return out;
}

fetch_answer fetch_session_cache::preview(const fetch_context& ctx, std::span<const fetch_partition_summary> read) const {
    fetch_answer out;
    switch (ctx.what) {
        case fetch_context::kind::error: out.error = ctx.error; return out;
        case fetch_context::kind::sessionless:
        case fetch_context::kind::full: out.include.assign(read.size(), true); return out;
        case fetch_context::kind::incremental:
            out.session_id = ctx.session->id();
            if (ctx.session->epoch() != ctx.expected_epoch) {
                out.error = error_code::invalid_fetch_session_epoch;
                return out;
            }
            out.include.resize(read.size(), false);
            for (size_t i = 0; i < read.size() && i < ctx.partitions.size(); ++i)
                out.include[i] = ctx.session->must_respond(ctx.partitions[i].key, read[i], false);
            return out;
    }
    return out;
}

fetch_answer fetch_session_cache::throttled(const fetch_context& ctx) {
    fetch_answer out;
    if (ctx.what != fetch_context::kind::incremental) return out;
    out.session_id = ctx.session->id();
    if (ctx.session->epoch() != ctx.expected_epoch) out.error = error_code::invalid_fetch_session_epoch;
    return out;
}

} // namespace samsa::broker
