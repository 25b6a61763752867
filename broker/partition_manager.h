// The data path's view of this node's partitions, shared by Produce, Fetch, ListOffsets and
// OffsetForLeaderEpoch: finds a partition's log by topic name or topic id, checks the leader epoch
// a client sent (KIP-320), appends a producer's batches (moving the high watermark and waking the
// fetches that wait for data), and owns what fetches keep between requests: the fetch session
// cache (KIP-227) and the table of long-polling fetches.
//
// Owned by the node and outliving every request; handlers reach it through
// request_context::partitions(). The metadata service and the log manager it borrows outlive it.
// Loop thread only.
#pragma once

#include "broker/fetch/fetch_session_cache.h"
#include "broker/fetch/fetch_waiter_table.h"
#include "broker/metadata_service.h"
#include "broker/topic_table.h"
#include "protocol/errors.h"
#include "protocol/kafka_ids.h"
#include "protocol/wire.h"
#include "storage/log.h"
#include "storage/log_manager.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace samsa::broker {

// One partition as the data path sees it. `topic` points into the metadata's topic table and is
// valid for the current loop iteration only (a DeleteTopics later may erase it); `log` keeps the
// log alive as long as the handle lives.
struct partition_handle {
    protocol::error_code error = protocol::error_code::none;
    const topic_info* topic = nullptr;
    protocol::partition_id partition{-1};
    std::shared_ptr<storage::log> log;

    [[nodiscard]] bool ok() const noexcept { return error == protocol::error_code::none; }
};

class partition_manager {
public:
    partition_manager(const metadata_service& metadata, storage::log_manager& logs);
    partition_manager(const partition_manager&) = delete;
    partition_manager& operator=(const partition_manager&) = delete;

    // The partition's log, or UNKNOWN_TOPIC_OR_PARTITION (by name) / UNKNOWN_TOPIC_ID (by id).
    // The first lookup of a log starts the topic's leader epoch in its epoch cache.
    [[nodiscard]] partition_handle find(std::string_view topic, protocol::partition_id partition);
    [[nodiscard]] partition_handle find(const protocol::uuid& topic_id, protocol::partition_id partition);

    // KIP-320: a client's view of the leader epoch (-1: not given) against the partition's.
    // FENCED_LEADER_EPOCH when the client's is older, UNKNOWN_LEADER_EPOCH when newer.
    [[nodiscard]] static protocol::error_code check_leader_epoch(const topic_info& topic,
                                                                 protocol::leader_epoch current_leader_epoch) noexcept;

    // Appends a producer's v2 batches (patched in place: offsets, leader epoch), then makes them
    // visible (high watermark = log end offset: this node is the whole ISR) and wakes the fetches
    // waiting on the partition. `now_ms` is the wall clock. Coordinators of this node append as
    // storage::append_origin::coordinator (transaction markers).
    [[nodiscard]] storage::append_result append(const partition_handle& p, std::span<uint8_t> batches, int64_t now_ms,
                                                storage::append_origin origin = storage::append_origin::client);

    [[nodiscard]] fetch_session_cache& sessions() noexcept { return sessions_; }
    [[nodiscard]] fetch_waiter_table& waiters() noexcept { return waiters_; }

    // Milliseconds since the epoch: record timestamps, LogAppendTime, session ages.
    [[nodiscard]] static int64_t wall_clock_ms() noexcept;

private:
    [[nodiscard]] partition_handle open(const topic_info* topic, protocol::partition_id partition);

    const metadata_service& metadata_;
    storage::log_manager& logs_;
    fetch_session_cache sessions_;
    fetch_waiter_table waiters_;
};

} // namespace samsa::broker
