// Incremental fetch sessions (KIP-227, Fetch v7+): the broker remembers the partitions a consumer
// fetches, so later requests list only what changed and responses carry only partitions with news.
// docs/data_path.md describes the rules; in short, per request (session id, epoch):
//
//   (0, -1)   sessionless full fetch           (id, -1)  close `id`, then sessionless full fetch
//   (0,  0)   full fetch creating a session    (id,  0)  close `id`, then full fetch creating one
//   (id, n>0) incremental: `id` must exist (else FETCH_SESSION_ID_NOT_FOUND) and expect epoch n
//             (else INVALID_FETCH_SESSION_EPOCH); the request's partitions are added or updated,
//             forgotten ones removed, and the session then expects n+1.
//
// A session's partitions keep their order; those in a response move to the end, so partitions
// share a fetch's max_bytes fairly. The cache is bounded: a new session may evict one unused for
// the eviction time, else the smallest session older than that time if the new one is larger;
// otherwise it is not created (session id 0 in the response: the client goes on without one).
//
// Owned by the partition_manager; loop thread only. Sessions are shared_ptrs so a fetch waiting
// for data keeps its session even if the cache evicts it meanwhile.
#pragma once

#include "protocol/errors.h"
#include "protocol/kafka_ids.h"
#include "protocol/wire.h"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace samsa::broker {

// A partition in a session: by topic id in sessions of Fetch v13+ (the name left empty), by name
// before (the id left zero).
struct fetch_partition_key {
    protocol::uuid topic_id;
    std::string topic;
    protocol::partition_id partition{0};
    auto operator<=>(const fetch_partition_key&) const = default;
};

// What the client asks of one partition.
struct fetch_partition_params {
    protocol::offset fetch_offset{0};
    int32_t max_bytes = 0;
    protocol::leader_epoch current_leader_epoch = protocol::no_leader_epoch;
    protocol::leader_epoch last_fetched_epoch = protocol::no_leader_epoch;
    protocol::offset log_start_offset = protocol::no_offset;  // the fetcher's own (followers); unused by consumers
};

struct fetch_partition_request {
    fetch_partition_key key;
    fetch_partition_params params;
};

// What the response said about a partition, for deciding what an incremental response must carry.
struct fetch_partition_summary {
    size_t records_bytes = 0;
    protocol::offset high_watermark = protocol::no_offset;
    protocol::offset log_start_offset = protocol::no_offset;
    protocol::error_code error = protocol::error_code::none;
};

class fetch_session {
public:
    fetch_session(int32_t id, bool uses_topic_ids, int64_t now_ms);

    [[nodiscard]] int32_t id() const noexcept { return id_; }
    // The epoch the next incremental request must carry.
    [[nodiscard]] int32_t epoch() const noexcept { return epoch_; }
    [[nodiscard]] bool uses_topic_ids() const noexcept { return uses_topic_ids_; }
    [[nodiscard]] size_t size() const noexcept { return partitions_.size(); }
    [[nodiscard]] int64_t created_ms() const noexcept { return created_ms_; }
    [[nodiscard]] int64_t last_used_ms() const noexcept { return last_used_ms_; }

    // The partitions to read, in session order.
    [[nodiscard]] std::vector<fetch_partition_request> partitions() const;

private:
    friend class fetch_session_cache;

    struct cached_partition {
        fetch_partition_key key;
        fetch_partition_params params;
        protocol::offset high_watermark = protocol::no_offset;    // as last sent (-1: never, or after an error)
        protocol::offset log_start_offset = protocol::no_offset;  // as last sent
    };

    void upsert(const fetch_partition_request& p);
    void forget(const fetch_partition_key& k);
    // Whether an incremental response must carry this partition; with `update`, records what
    // was sent (and moves the partition to the end).
    [[nodiscard]] bool must_respond(const fetch_partition_key& k, const fetch_partition_summary& s, bool update);

    int32_t id_;
    int32_t epoch_ = 1;
    bool uses_topic_ids_;
    int64_t created_ms_;
    int64_t last_used_ms_;
    std::list<cached_partition> partitions_;
    std::map<fetch_partition_key, std::list<cached_partition>::iterator> index_;
};

// The outcome of reading a request's session fields: which partitions to read and how to answer.
struct fetch_context {
    enum class kind : uint8_t { error, sessionless, full, incremental };
    kind what = kind::sessionless;
    protocol::error_code error = protocol::error_code::none;  // kind::error
    std::vector<fetch_partition_request> partitions;          // what to read, in order
    bool uses_topic_ids = false;
    std::shared_ptr<fetch_session> session;                   // kind::incremental
    int32_t expected_epoch = 0;                               // kind::incremental
};

// How to answer, once the partitions were read.
struct fetch_answer {
    protocol::error_code error = protocol::error_code::none;  // the top-level error
    int32_t session_id = 0;
    std::vector<bool> include;  // per context partition: carried by the response
};

class fetch_session_cache {
public:
    static constexpr int32_t initial_epoch = 0;
    static constexpr int32_t final_epoch = -1;
    static constexpr int32_t no_session = 0;

    // max.incremental.fetch.session.cache.slots and min.incremental.fetch.session.eviction.ms.
    explicit fetch_session_cache(size_t max_sessions = 1000, int64_t eviction_ms = 120000)
        : max_sessions_(max_sessions), eviction_ms_(eviction_ms) {}

    // Interprets a request's session id and epoch (see the table above). `requested` are the
    // request's partitions, `forgotten` its forgotten topics; `uses_topic_ids` is version >= 13.
    [[nodiscard]] fetch_context new_context(int32_t session_id, int32_t epoch,
                                            std::vector<fetch_partition_request> requested,
                                            std::span<const fetch_partition_key> forgotten, bool uses_topic_ids,
                                            int64_t now_ms);

    // After the read: creates the session of a full fetch, or filters an incremental response
    // and records what it tells the client. `read` has one summary per context partition.
    [[nodiscard]] fetch_answer finish(const fetch_context& ctx, std::span<const fetch_partition_summary> read,
                                      int64_t now_ms);

    // What finish() would answer, changing nothing: the response a quota is charged for before
    // it is known whether the client gets it (Kafka's getResponseSize).
    [[nodiscard]] fetch_answer preview(const fetch_context& ctx, std::span<const fetch_partition_summary> read) const;
    // The answer to a throttled client (KIP-219), carrying no partition: a full fetch creates no
    // session, an incremental one keeps its session (already at the next epoch, with the
    // request's changes) without recording anything as sent; a session error is not repeated.
    [[nodiscard]] static fetch_answer throttled(const fetch_context& ctx);

    [[nodiscard]] size_t size() const noexcept { return sessions_.size(); }
    [[nodiscard]] std::shared_ptr<fetch_session> find(int32_t id) const;
    [[nodiscard]] static int32_t next_epoch(int32_t epoch) noexcept;

private:
    void remove(int32_t id) noexcept;
    [[nodiscard]] bool make_room(size_t new_size, int64_t now_ms);
    [[nodiscard]] int32_t new_session_id();

    size_t max_sessions_;
    int64_t eviction_ms_;
    std::map<int32_t, std::shared_ptr<fetch_session>> sessions_;
    std::mt19937 rng_{std::random_device{}()};
};

} // namespace samsa::broker
