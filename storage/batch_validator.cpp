#include "storage/batch_validator.h"

#include "protocol/record_batch.h"
#include "protocol/record_reader.h"

#include <limits>

namespace samsa::storage {

namespace batch = protocol::batch;
using protocol::error_code;

namespace {

validation_result fail(error_code e, std::string why) {
    validation_result r;
    r.error = e;
    r.message = std::move(why);
    return r;
}

// now - bound and now + bound, saturating (the bounds default to "no limit").
int64_t minus_clamped(int64_t now, int64_t bound) {
    int64_t out = 0;
    return __builtin_sub_overflow(now, bound, &out) ? std::numeric_limits<int64_t>::min() : out;
}
int64_t plus_clamped(int64_t now, int64_t bound) {
    int64_t out = 0;
    return __builtin_add_overflow(now, bound, &out) ? std::numeric_limits<int64_t>::max() : out;
}

} // namespace

validation_result validate_batches(std::span<const uint8_t> input, const log_config& config,
                                   const append_options& options, int64_t next_offset) {
    validation_result out;
    if (input.empty()) return fail(error_code::corrupt_message, "no record batches");
    if (input.size() > static_cast<size_t>(config.segment_bytes))
        return fail(error_code::record_list_too_large,
                    "the batches (" + std::to_string(input.size()) + " bytes) exceed segment.bytes");
    const bool client = options.origin == append_origin::client;
    const bool check_time = client && config.message_timestamp_type == timestamp_type::create_time;
    int64_t expected = next_offset;
    size_t pos = 0;
    while (pos < input.size()) {
        protocol::decode_status why = protocol::decode_status::ok;
        auto h = batch::header_view::parse(input.subspan(pos), &why);
        if (!h) {
            return fail(error_code::corrupt_message,
                        "batch at byte " + std::to_string(pos) + ": " + std::string(protocol::to_string(why)));
        }
        if (!h->crc_ok()) return fail(error_code::corrupt_message, "batch at byte " + std::to_string(pos) + ": CRC mismatch");
        if (h->total_size() > static_cast<size_t>(config.max_message_bytes))
            return fail(error_code::message_too_large, "batch of " + std::to_string(h->total_size()) +
                                                           " bytes exceeds max.message.bytes");
        if (h->last_offset_delta() < 0 || h->record_count() < 0)
            return fail(error_code::invalid_record, "negative record count or offset delta");
        if (client) {
            if (h->record_count() == 0 || h->last_offset_delta() != h->record_count() - 1)
                return fail(error_code::invalid_record, "record count does not match the batch's offset range");
            if (h->is_control()) return fail(error_code::invalid_record, "clients may not write control batches");
        }
        if (options.origin == append_origin::replication) {
            if (h->base_offset() < expected)
                return fail(error_code::invalid_record, "replicated batch offsets go backwards");
            expected = h->last_offset() + 1;
        }
        if (check_time && h->max_timestamp() >= 0) {
            int64_t earliest = minus_clamped(options.now_ms, config.message_timestamp_before_max_ms);
            int64_t latest = plus_clamped(options.now_ms, config.message_timestamp_after_max_ms);
            if (h->max_timestamp() > latest || (h->base_timestamp() >= 0 && h->base_timestamp() < earliest))
                return fail(error_code::invalid_timestamp, "timestamp outside message.timestamp.{before,after}.max.ms");
        }
        if (client && config.cleanup_compact && !h->is_control()) {
            // Compaction keeps the latest record per key: a record without one cannot be kept
            // meaningfully, so Kafka refuses it. This is the one check that reads records.
            protocol::record_reader reader(h->bytes(), {.max_decompressed_bytes = size_t{64} << 20, .verify_crc = false});
            protocol::record rec;
            while (reader.next(rec))
                if (!rec.key) return fail(error_code::invalid_record, "compacted topic cannot accept a record without key");
            if (!reader.ok())
                return fail(error_code::corrupt_message, "batch at byte " + std::to_string(pos) + ": " +
                                                             std::string(protocol::to_string(reader.status())));
        }
        batch_info b;
        b.position = static_cast<uint32_t>(pos);
        b.size = static_cast<uint32_t>(h->total_size());
        b.base_offset = h->base_offset();
        b.last_offset = h->last_offset();
        b.max_timestamp = h->max_timestamp();
        b.leader_epoch = h->partition_leader_epoch();
        b.record_count = h->record_count();
        out.record_count += h->record_count();
        out.batches.push_back(b);
        pos += h->total_size();
    }
    return out;
}

void assign_offsets(std::span<uint8_t> input, validation_result& result, const log_config& config,
                    const append_options& options, int64_t next_offset) noexcept {
    const bool replicate = options.origin == append_origin::replication;
    const bool append_time = !replicate && config.message_timestamp_type == timestamp_type::log_append_time;
    int64_t next = next_offset;
    for (auto& b : result.batches) {
        auto bytes = input.subspan(b.position, b.size);
        if (!replicate) {
            int64_t delta = b.last_offset - b.base_offset;
            batch::set_base_offset(bytes, next);
            b.base_offset = next;
            b.last_offset = next + delta;
            next = b.last_offset + 1;
            if (options.leader_epoch >= 0) {
                batch::set_partition_leader_epoch(bytes, options.leader_epoch);
                b.leader_epoch = options.leader_epoch;
            }
        }
        if (append_time) {
            batch::set_max_timestamp_and_recrc(bytes, options.now_ms, true);
            b.max_timestamp = options.now_ms;
        }
    }
}

} // namespace samsa::storage
