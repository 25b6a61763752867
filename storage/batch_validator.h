// Checks the record batches of one append before a byte is written, then assigns their offsets
// in place (Kafka's LogValidator, for v2 batches kept opaque). Pure functions over borrowed bytes;
// the log calls them on the event-loop thread. The rules, in order, per batch:
//
//   a whole v2 header, magic 2, batch length within the input        else corrupt_message
//   CRC-32C over attributes..end                                      else corrupt_message
//   batch size <= max.message.bytes                                   else message_too_large
//   client appends: record_count > 0, last_offset_delta == count - 1  else invalid_record
//   client appends: no control batches                                else invalid_record
//   replication: base offsets increase and do not go below the end    else invalid_record
//   client appends to a compacted topic: every record has a key     else invalid_record
//   CreateTime, client: every record's timestamp within the bounds    else invalid_timestamp
//   all batches together <= segment.bytes                             else record_list_too_large
//
// The two record checks report every failing record of the batch (record_errors: its index in
// the batch and why), as Kafka's LogValidator does; a timestamp failure wins the error code.
// Records are read only when a check needs them: a compacted topic, a finite
// message.timestamp.before.max.ms, or a header max timestamp past the after bound.
#pragma once

#include "protocol/errors.h"
#include "protocol/kafka_ids.h"
#include "protocol/record_batch.h"
#include "storage/log.h"
#include "storage/log_config.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace samsa::storage {

// What the log needs to know about one batch of an append (offsets as assigned): the header's
// fields, typed where they are read from the batch bytes.
struct batch_info {
    uint32_t position = 0;       // within the append's bytes
    uint32_t size = 0;
    protocol::offset base_offset;
    protocol::offset last_offset;
    int64_t max_timestamp = -1;  // after LogAppendTime stamping
    bool rewrite_max_timestamp = false;  // the header's was stale; assign_offsets writes this one
    protocol::leader_epoch leader_epoch = protocol::no_leader_epoch;
    int32_t record_count = 0;
};

// What `h` says about its batch, at `position` within the bytes being appended: where the
// header's raw offsets and epoch become typed. max_timestamp is the header's.
[[nodiscard]] batch_info info_of(const protocol::batch::header_view& h, uint32_t position) noexcept;

struct validation_result {
    protocol::error_code error = protocol::error_code::none;
    std::string message;
    std::vector<record_error> record_errors;  // set only by the record checks
    std::vector<batch_info> batches;
    int32_t record_count = 0;
};

// Validates `input` without changing it. `next_offset` is the log end offset (replication checks
// the batches' own offsets against it). `partition` names the log in record error messages.
// `storage` lends its capacity to the result's batch list (an earlier result's), so a steady
// stream of appends allocates nothing for it.
[[nodiscard]] validation_result validate_batches(std::span<const uint8_t> input, const log_config& config,
                                                 const append_options& options, protocol::offset next_offset,
                                                 const topic_partition* partition = nullptr,
                                                 std::vector<batch_info> storage = {});

// Second pass, after a successful validation: patches base offsets starting at `next_offset`
// (unless replicating), the leader epoch, and LogAppendTime (re-checksumming those batches).
// Updates `result.batches` to the final values.
void assign_offsets(std::span<uint8_t> input, validation_result& result, const log_config& config,
                    const append_options& options, protocol::offset next_offset) noexcept;

} // namespace samsa::storage
