// One Fetch request from its session context to its response: reads every partition of the
// context in order within the request's byte budget, answers at once when there is enough data
// (min_bytes), an error, a diverging epoch, or no wait allowed, and otherwise waits (long polling)
// until appends to its partitions bring min_bytes or max_wait_ms passes, then reads again and
// answers. The response is encoded with its record bytes as file ranges (sendfile), so the only
// bytes in memory are the response's headers.
//
// A client over its consumer byte-rate or request-time quota gets, as from Kafka (KIP-219), an
// empty response carrying throttle_time_ms: the bytes it would have got are not charged, and its
// fetch session is not told of partitions it was not sent, so the next fetch carries them.
//
//   start --enough data / error / no wait--> answered
//   start --otherwise--> waiting --appends reach min_bytes / timer--> answered
//                        waiting --connection closed--> dropped (no answer)
//
// Created by the Fetch handler on the loop thread. A waiting operation is owned by its waiter
// entry and its timer (shared_ptr); the partition_manager and loop_services it uses outlive it.
#pragma once

#include "broker/fetch/fetch_session_cache.h"
#include "broker/fetch/fetch_waiter_table.h"
#include "broker/fetch/partition_read.h"
#include "broker/handler.h"
#include "broker/loop_services.h"
#include "protocol/messages/fetch.h"
#include "protocol/wire.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace samsa::broker {

class partition_manager;
class quota_manager;
class request_context;

// The request-level settings of a fetch.
struct fetch_settings {
    int16_t version = 0;
    int32_t correlation_id = 0;
    int32_t max_wait_ms = 0;
    int32_t min_bytes = 0;
    int32_t max_bytes = 0;
    int8_t isolation_level = 0;
    // The client's consumer byte-rate quota (admin/quota_manager.h), charged with the size of
    // the response; null where no quota is enforced.
    quota_manager* quotas = nullptr;
    std::string user;
    std::string client_id;
};

class fetch_operation : public std::enable_shared_from_this<fetch_operation> {
public:
    // Runs the fetch: answers now (the returned result is ready) or takes ctx.defer() and answers
    // later (deferred).
    [[nodiscard]] static handler_result start(request_context& ctx, partition_manager& partitions,
                                              const fetch_settings& settings, fetch_context context);

    fetch_operation(partition_manager& partitions, loop_services& loop, const fetch_settings& settings,
                    fetch_context context);
    ~fetch_operation();
    fetch_operation(const fetch_operation&) = delete;
    fetch_operation& operator=(const fetch_operation&) = delete;

    // Reads the context's partitions and encodes the response frame (updating the session unless
    // the client is throttled). `request_throttle_ms` is the request-time quota's throttle.
    [[nodiscard]] protocol::output_buffer respond_now(int32_t request_throttle_ms);

private:
    struct read_pass {
        std::vector<partition_read_result> results;
        size_t bytes = 0;
        bool must_answer = false;  // an error or a diverging epoch: Kafka answers at once
    };

    [[nodiscard]] read_pass read_all();
    [[nodiscard]] protocol::output_buffer encode(read_pass& pass, int32_t request_throttle_ms);
    [[nodiscard]] protocol::fetch_response build(read_pass& pass, const fetch_answer& answer, size_t* spliced) const;
    void wait(deferred_response reply, size_t bytes_so_far);
    void on_append(size_t bytes) noexcept;
    // Marks the operation done and leaves the waiter table and the timer: false if it already was.
    [[nodiscard]] bool finish() noexcept;
    void complete() noexcept;
    void drop() noexcept;

    partition_manager& partitions_;
    loop_services& loop_;
    fetch_settings settings_;
    fetch_context context_;
    deferred_response reply_;
    std::unique_ptr<loop_timer> timer_;
    fetch_waiter_table::waiter_id waiter_ = 0;
    size_t accumulated_ = 0;
    bool done_ = false;
    int32_t throttle_ms_ = 0;  // the quota throttle of the last encoded response
};

} // namespace samsa::broker
