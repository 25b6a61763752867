#include "broker/produce/produce_completion.h"

#include "broker/logger.h"

namespace samsa::broker {

using protocol::error_code;

bool acks_all_waits_for_fsync(const storage::log_config& config) noexcept {
    return config.flush_messages != storage::no_limit || config.flush_ms != storage::no_limit;
}

void produce_completion::start(deferred_response reply, protocol::produce_response response, std::vector<pending> waits,
                               loop_services& loop, int32_t timeout_ms) {
    auto self = std::make_shared<produce_completion>(std::move(reply), std::move(response), std::move(waits));
    if (timeout_ms > 0) {
        // The flush callbacks own the completion; the timer only looks in while it lives.
        self->timer_ = loop.start_timer(static_cast<uint64_t>(timeout_ms), [weak = std::weak_ptr<produce_completion>(self)] {
            if (auto s = weak.lock()) s->timed_out();
        });
    }
    for (size_t i = 0; i < self->waits_.size(); ++i) {
        auto log = self->waits_[i].log;
        log->flush([self, i](error_code e) { self->flushed(i, e); });
    }
}

void produce_completion::flushed(size_t i, error_code e) noexcept {
    // Runs among storage's completions: a failure must not escape and cost the others theirs.
    try {
        done_[i] = true;
        if (!reply_.pending()) return;  // answered already: the timeout expired first
        if (e != error_code::none) {
            const auto& p = waits_[i];
            auto& part = response_.responses[p.topic].partition_responses[p.partition];
            part.error_code = to_int(e);
            part.base_offset = -1;
            part.log_append_time_ms = -1;
        }
        if (--left_ == 0) {
            if (timer_) timer_->cancel();
            reply_.respond(response_);
        }
    } catch (const std::exception& ex) {
        log_error("produce: cannot answer an acks=-1 request, its connection is closed: ", ex.what());
        reply_ = deferred_response();
    }
}

void produce_completion::timed_out() noexcept {
    try {
        if (!reply_.pending()) return;
        for (size_t i = 0; i < waits_.size(); ++i) {
            if (done_[i]) continue;
            auto& part = response_.responses[waits_[i].topic].partition_responses[waits_[i].partition];
            part.error_code = to_int(error_code::request_timed_out);
            part.base_offset = -1;
            part.log_append_time_ms = -1;
        }
        reply_.respond(response_);
    } catch (const std::exception& ex) {
        log_error("produce: cannot answer a timed-out acks=-1 request, its connection is closed: ", ex.what());
        reply_ = deferred_response();
    }
}

} // namespace samsa::broker
