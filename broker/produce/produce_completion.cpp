#include "broker/produce/produce_completion.h"

#include "broker/logger.h"

namespace samsa::broker {

using protocol::error_code;

bool acks_all_waits_for_fsync(const storage::log_config& config) noexcept {
    return config.flush_messages != storage::no_limit || config.flush_ms != storage::no_limit;
}

void produce_completion::start(deferred_response reply, protocol::produce_response response, std::vector<pending> waits) {
    auto self = std::make_shared<produce_completion>(std::move(reply), std::move(response), waits.size());
    for (auto& w : waits) {
        auto log = w.log;
        log->flush([self, w = std::move(w)](error_code e) { self->flushed(w, e); });
    }
}

void produce_completion::flushed(const pending& p, error_code e) noexcept {
    // Runs among storage's completions: a failure must not escape and cost the others theirs.
    try {
        if (e != error_code::none) {
            auto& part = response_.responses[p.topic].partition_responses[p.partition];
            part.error_code = to_int(e);
            part.base_offset = -1;
            part.log_append_time_ms = -1;
            part.error_message = "the write could not be made durable";
        }
        if (--left_ == 0) reply_.respond(response_);
    } catch (const std::exception& ex) {
        log_error("produce: cannot answer an acks=-1 request, its connection is closed: ", ex.what());
        reply_ = deferred_response();
    }
}

} // namespace samsa::broker
