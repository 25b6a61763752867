// Reads one partition for a Fetch: finds it, checks the client's leader epoch (v9+) and its last
// fetched epoch (v12+, a diverging log), reads whole batches from the fetch offset up to the high
// watermark within a byte limit, and reports the offsets a fetch response carries. Record bytes
// stay in the segment files: the result holds file ranges that the transport sends with
// sendfile. Only for Fetch v0-v3, whose clients read message format 0/1, are the batches copied
// and converted (down-conversion); a zstd batch cannot be converted (UNSUPPORTED_COMPRESSION_TYPE).
//
// Pure with respect to sockets; loop thread only (it reads the partition's log). The result owns
// what it holds (file ranges keep their files open) and may outlive the call.
#pragma once

#include "broker/fetch/fetch_session_cache.h"
#include "broker/partition_manager.h"
#include "protocol/errors.h"
#include "protocol/wire.h"
#include "storage/txn_index.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace samsa::broker {

struct partition_read_options {
    int16_t version = 0;             // the Fetch version
    bool by_topic_id = false;        // v13+: partitions are named by topic id
    int8_t isolation_level = 0;      // 0 read_uncommitted, 1 read_committed
    int32_t max_bytes = 0;           // what is left of the request's budget for this partition
    bool min_one_batch = true;       // return the first batch even when it exceeds max_bytes
};

struct partition_read_result {
    protocol::error_code error = protocol::error_code::none;
    protocol::offset high_watermark = protocol::no_offset;
    protocol::offset last_stable_offset = protocol::no_offset;
    protocol::offset log_start_offset = protocol::no_offset;
    std::optional<storage::epoch_end_offset> diverging_epoch;  // where the fetcher's last epoch ends here
    std::vector<protocol::file_range> ranges;  // zero-copy record bytes
    std::vector<uint8_t> converted;            // down-converted record bytes (v0-v3)
    // read_committed: the aborted transactions overlapping what was read (the consumer drops
    // their batches).
    std::vector<storage::aborted_txn> aborted;

    [[nodiscard]] size_t records_bytes() const noexcept;
    [[nodiscard]] fetch_partition_summary summary() const noexcept;
};

// The magic a Fetch version's clients understand: 0 (v0-v1), 1 (v2-v3), 2 (v4+).
[[nodiscard]] constexpr int8_t fetch_magic(int16_t version) noexcept {
    return version <= 1 ? 0 : version <= 3 ? 1 : 2;
}

// The partition a fetch names, by topic id (v13+) or by name.
[[nodiscard]] partition_handle find_fetch_partition(partition_manager& partitions, const fetch_partition_key& key,
                                                    bool by_topic_id);

[[nodiscard]] partition_read_result read_partition(partition_manager& partitions, const fetch_partition_request& p,
                                                   const partition_read_options& options);

} // namespace samsa::broker
