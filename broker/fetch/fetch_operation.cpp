#include "broker/fetch/fetch_operation.h"

#include "broker/admin/quota_manager.h"
#include "broker/logger.h"
#include "broker/partition_manager.h"
#include "broker/request_context.h"
#include "protocol/messages/fetch.h"

#include <algorithm>

namespace samsa::broker {

using protocol::error_code;
using protocol::fetch_response;

fetch_operation::fetch_operation(partition_manager& partitions, loop_services& loop, const fetch_settings& settings,
                                 fetch_context context)
    : partitions_(partitions), loop_(loop), settings_(settings), context_(std::move(context)) {}

fetch_operation::~fetch_operation() {
    if (waiter_ != 0) partitions_.waiters().remove(waiter_);
}

fetch_operation::read_pass fetch_operation::read_all() {
    read_pass pass;
    pass.results.reserve(context_.partitions.size());
    // The partitions share max_bytes in order (before v3 it is the broker's fetch.max.bytes).
    // Fetch v3 added KIP-74's rule that the first batch of the first partition with data is
    // returned even when it exceeds the limits; before it they are hard limits.
    int64_t left = std::max(0, settings_.max_bytes);
    bool min_one = settings_.version >= 3;
    for (const auto& p : context_.partitions) {
        partition_read_options o;
        o.version = settings_.version;
        o.by_topic_id = context_.uses_topic_ids;
        o.isolation_level = settings_.isolation_level;
        o.max_bytes = static_cast<int32_t>(left);
        o.min_one_batch = min_one;
        partition_read_result r = read_partition(partitions_, p, o);
        const size_t n = r.records_bytes();
        if (n > 0) {
            min_one = false;
            left = std::max<int64_t>(0, left - static_cast<int64_t>(n));
        }
        pass.bytes += n;
        if (r.error != error_code::none || r.diverging_epoch) pass.must_answer = true;
        pass.results.push_back(std::move(r));
    }
    return pass;
}

fetch_response fetch_operation::build(read_pass& pass, const fetch_answer& answer, size_t* spliced) const {
    fetch_response resp;
    resp.error_code = to_int(answer.error);
    resp.session_id = answer.session_id;
    for (size_t i = 0; i < pass.results.size() && i < answer.include.size() && answer.error == error_code::none; ++i) {
        if (!answer.include[i]) continue;
        const auto& key = context_.partitions[i].key;
        auto& r = pass.results[i];
        // Consecutive partitions of one topic share a topic entry, as Kafka writes them.
        if (resp.responses.empty() || resp.responses.back().topic != key.topic ||
            resp.responses.back().topic_id != key.topic_id) {
            fetch_response::fetchable_topic_response t;
            t.topic = key.topic;
            t.topic_id = key.topic_id;
            resp.responses.push_back(std::move(t));
        }
        fetch_response::partition_data d;
        d.partition_index = key.partition.value();
        d.error_code = to_int(r.error);
        d.high_watermark = r.high_watermark.value();
        d.last_stable_offset = r.last_stable_offset.value();
        d.log_start_offset = r.log_start_offset.value();
        if (r.diverging_epoch)
            d.diverging_epoch = {r.diverging_epoch->epoch.value(), r.diverging_epoch->end_offset.value()};
        // Kafka sends null to read_uncommitted consumers, the list (maybe empty) to read_committed.
        if (settings_.isolation_level == 0) {
            d.aborted_transactions = std::nullopt;
        } else {
            for (const auto& a : r.aborted) d.aborted_transactions->push_back({a.producer_id, a.first_offset});
        }
        d.preferred_read_replica = -1;
        if (!r.converted.empty()) {
            d.records = protocol::records::from_bytes(r.converted);
        } else {
            for (const auto& range : r.ranges) *spliced += static_cast<size_t>(range.length);
            d.records = r.ranges.empty() ? protocol::records::from_bytes({}) : protocol::records::from_ranges(r.ranges);
        }
        resp.responses.back().partitions.push_back(std::move(d));
    }
    return resp;
}

protocol::output_buffer fetch_operation::encode(read_pass& pass, int32_t request_throttle_ms) {
    std::vector<fetch_partition_summary> summaries;
    summaries.reserve(pass.results.size());
    for (const auto& r : pass.results) summaries.push_back(r.summary());
    auto& sessions = partitions_.sessions();
    const int16_t v = settings_.version;

    // As Kafka does: charge the response the client would get, before the session learns of it;
    // if the client is then over its byte rate or its request time, take the bytes back and send
    // an empty response instead, leaving the session to send those partitions next time.
    const fetch_answer preview = sessions.preview(context_, summaries);
    size_t spliced = 0;
    fetch_response resp = build(pass, preview, &spliced);
    int32_t throttle = std::max(0, request_throttle_ms);
    if (settings_.quotas != nullptr) {
        const auto now = static_cast<int64_t>(loop_.now_ms());
        const auto bytes = static_cast<double>(resp.size(v));
        const int32_t bandwidth = settings_.quotas->record(quota_kind::fetch, settings_.user, settings_.client_id, bytes, now);
        throttle = std::max(throttle, bandwidth);
        if (throttle > 0) settings_.quotas->unrecord(quota_kind::fetch, settings_.user, settings_.client_id, bytes, now);
    }
    if (throttle > 0) {
        spliced = 0;
        pass = {};
        resp = build(pass, fetch_session_cache::throttled(context_), &spliced);
    } else {
        const fetch_answer answer = sessions.finish(context_, summaries, partition_manager::wall_clock_ms());
        resp.session_id = answer.session_id;  // a full fetch's new session
        if (answer.error != preview.error || answer.include != preview.include) {
            spliced = 0;
            resp = build(pass, answer, &spliced);
        }
    }
    resp.throttle_time_ms = throttle_ms_ = throttle;

    protocol::output_buffer out;
    // Only headers (and down-converted bytes) are copied: reserve for them, not for the ranges.
    out.bytes.reserve(resp.size(v) - spliced + 16);
    protocol::encode_response_frame(out, v, settings_.correlation_id, resp);
    return out;
}

protocol::output_buffer fetch_operation::respond_now(int32_t request_throttle_ms) {
    read_pass pass = context_.what == fetch_context::kind::error ? read_pass{} : read_all();
    return encode(pass, request_throttle_ms);
}

handler_result fetch_operation::start(request_context& ctx, partition_manager& partitions, const fetch_settings& settings,
                                      fetch_context context) {
    auto op = std::make_shared<fetch_operation>(partitions, ctx.loop(), settings, std::move(context));
    if (op->context_.what == fetch_context::kind::error) {
        auto frame = op->respond_now(ctx.charge_request_time());
        (void)ctx.throttle(op->throttle_ms_);
        return handler_result::ready(std::move(frame));
    }
    read_pass pass = op->read_all();
    const bool answer_now = settings.max_wait_ms <= 0 || op->context_.partitions.empty() || pass.must_answer ||
                            pass.bytes >= static_cast<size_t>(std::max(0, settings.min_bytes));
    if (answer_now) {
        auto frame = op->encode(pass, ctx.charge_request_time());
        (void)ctx.throttle(op->throttle_ms_);
        return handler_result::ready(std::move(frame));
    }
    const size_t so_far = pass.bytes;
    pass = {};  // release the file ranges: the answer reads again
    op->wait(ctx.defer(), so_far);
    return handler_result::deferred();
}

void fetch_operation::wait(deferred_response reply, size_t bytes_so_far) {
    reply_ = std::move(reply);
    accumulated_ = bytes_so_far;
    std::vector<const storage::log*> logs;
    logs.reserve(context_.partitions.size());
    for (const auto& p : context_.partitions) {
        const partition_handle h = find_fetch_partition(partitions_, p.key, context_.uses_topic_ids);
        if (h.ok()) logs.push_back(h.log.get());
    }
    std::weak_ptr<fetch_operation> weak = weak_from_this();
    // The waiter entry and the timer own the operation while it waits; the cancel hook only
    // observes it, so a closed connection frees it once both are gone.
    auto self = shared_from_this();
    timer_ = loop_.start_timer(static_cast<uint64_t>(settings_.max_wait_ms), [self] { self->complete(); });
    waiter_ = partitions_.waiters().add(logs, [self](size_t bytes) { self->on_append(bytes); });
    reply_.on_cancel([weak] {
        if (auto op = weak.lock()) op->drop();
    });
}

void fetch_operation::on_append(size_t bytes) noexcept {
    accumulated_ += bytes;
    if (accumulated_ >= static_cast<size_t>(std::max(0, settings_.min_bytes))) complete();
}

bool fetch_operation::finish() noexcept {
    if (done_) return false;
    done_ = true;
    if (waiter_ != 0) partitions_.waiters().remove(waiter_);
    waiter_ = 0;
    timer_.reset();
    return true;
}

void fetch_operation::complete() noexcept {
    auto keep = shared_from_this();
    if (!finish() || reply_.cancelled()) return;
    // This runs inside a timer callback or inside the append that woke it (another client's
    // Produce): a failure here must not escape into either.
    try {
        auto frame = respond_now(reply_.charge_request_time());
        (void)reply_.throttle(throttle_ms_);
        reply_.respond_frame(std::move(frame));
    } catch (const std::exception& e) {
        log_error("fetch: cannot answer a waiting fetch, its connection is closed: ", e.what());
        reply_ = deferred_response();  // dropped unanswered: the connection closes
    }
}

void fetch_operation::drop() noexcept {
    auto keep = shared_from_this();
    (void)finish();
}

} // namespace samsa::broker
