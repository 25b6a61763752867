#include "storage/batch_validator.h"

#include "protocol/record_batch.h"
#include "protocol/record_reader.h"

#include <algorithm>
#include <limits>
#include <optional>

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
// The bounds as Kafka prints them: Java's long arithmetic wraps.
int64_t wrapped(int64_t a, int64_t b, bool add) {
    const auto ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
    return static_cast<int64_t>(add ? ua + ub : ua - ub);
}

std::string partition_text(const topic_partition* tp) { return tp ? tp->dir_name() : std::string("(unnamed)"); }

// The per-record checks of one batch (a key on compacted topics, CreateTime within the bounds).
// Adds a record_error for every failing record; returns false when the records do not decode.
bool check_records(const batch::header_view& h, const log_config& config, const append_options& options,
                   bool check_keys, bool check_time, const topic_partition* tp, validation_result& out) {
    const int64_t before = config.timestamp_before_bound(), after = config.timestamp_after_bound();
    const int64_t earliest = minus_clamped(options.now_ms, before), latest = plus_clamped(options.now_ms, after);
    protocol::record_reader reader(h.bytes(), {.max_decompressed_bytes = size_t{64} << 20, .verify_crc = false});
    protocol::record rec;
    int32_t position = 0;
    while (reader.next(rec)) {
        if (check_keys && !rec.key) {
            out.record_errors.push_back({position, "Compacted topic cannot accept message without key in topic partition " +
                                                    partition_text(tp)});
        } else if (check_time && rec.timestamp != -1 && (rec.timestamp < earliest || rec.timestamp > latest)) {
            out.error = error_code::invalid_timestamp;
            out.record_errors.push_back(
                {position, "Timestamp " + std::to_string(rec.timestamp) + " of message with offset " + std::to_string(rec.offset) +
                            " is out of range. The timestamp should be within [" +
                            std::to_string(wrapped(options.now_ms, before, false)) + ", " +
                            std::to_string(wrapped(options.now_ms, after, true)) + "]"});
        }
        ++position;
    }
    return reader.ok();
}

// The largest record timestamp of a batch, or nullopt when its records do not decode.
std::optional<int64_t> max_record_timestamp(const batch::header_view& h) {
    protocol::record_reader reader(h.bytes(), {.max_decompressed_bytes = size_t{64} << 20, .verify_crc = false});
    protocol::record rec;
    int64_t max = -1;
    while (reader.next(rec)) max = std::max(max, rec.timestamp);
    if (!reader.ok()) return std::nullopt;
    return max;
}

// The response's error_message for a batch the record checks refused, worded as Kafka's.
std::string record_errors_message(const validation_result& r) {
    if (r.error == error_code::invalid_timestamp) return "One or more records have been rejected due to invalid timestamp";
    std::string shown;
    for (size_t i = 0; i < r.record_errors.size() && i < 3; ++i) {
        if (i > 0) shown += ", ";
        shown += "RecordError(batchIndex=" + std::to_string(r.record_errors[i].batch_index) + ", message='" +
                 r.record_errors[i].message + "')";
    }
    return "One or more records have been rejected due to " + std::to_string(r.record_errors.size()) +
           " record errors in total, and only showing the first three errors at most: [" + shown + "]";
}

} // namespace

batch_info info_of(const batch::header_view& h, uint32_t position) noexcept {
    batch_info b;
    b.position = position;
    b.size = static_cast<uint32_t>(h.total_size());
    b.base_offset = protocol::offset(h.base_offset());
    b.last_offset = protocol::offset(h.last_offset());
    b.max_timestamp = h.max_timestamp();
    b.leader_epoch = protocol::leader_epoch(h.partition_leader_epoch());
    b.record_count = h.record_count();
    return b;
}

validation_result validate_batches(std::span<const uint8_t> input, const log_config& config,
                                   const append_options& options, protocol::offset next_offset,
                                   const topic_partition* partition, std::vector<batch_info> storage) {
    validation_result out;
    out.batches = std::move(storage);
    out.batches.clear();
    if (input.empty()) return fail(error_code::corrupt_message, "no record batches");
    if (input.size() > static_cast<size_t>(config.segment_bytes))
        return fail(error_code::record_list_too_large,
                    "the batches (" + std::to_string(input.size()) + " bytes) exceed segment.bytes");
    const bool client = options.origin == append_origin::client;
    const bool check_time = client && config.message_timestamp_type == timestamp_type::create_time;
    protocol::offset expected = next_offset;
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
            if (protocol::offset(h->base_offset()) < expected)
                return fail(error_code::invalid_record, "replicated batch offsets go backwards");
            expected = protocol::offset(h->last_offset()) + 1;
        }
        // Some producers (sarama before 1.26) leave the header's max timestamp at -1 while every
        // record carries its own. Kafka derives the max from the records and rewrites the header;
        // without that, ListOffsets by time and time-based retention would never see the batch.
        int64_t max_timestamp = h->max_timestamp();
        const bool stale_max = check_time && h->record_count() > 0 && max_timestamp < h->base_timestamp();
        if (stale_max) {
            auto derived = max_record_timestamp(*h);
            if (!derived) return fail(error_code::corrupt_message, "batch at byte " + std::to_string(pos) + ": records do not decode");
            max_timestamp = *derived;
        }
        // Reading records costs a decode (and a decompression): only when a check needs them.
        // Without a finite before-bound, a header max timestamp inside the after-bound clears
        // every record of the batch.
        const bool keys = client && config.cleanup_compact && !h->is_control();
        const bool times = check_time && (config.timestamp_before_bound() != no_limit ||
                                          max_timestamp > plus_clamped(options.now_ms, config.timestamp_after_bound()));
        if (keys || times) {
            validation_result checked;
            checked.error = error_code::invalid_record;
            if (!check_records(*h, config, options, keys, times, partition, checked))
                return fail(error_code::corrupt_message, "batch at byte " + std::to_string(pos) + ": records do not decode");
            if (!checked.record_errors.empty()) {
                checked.message = record_errors_message(checked);
                return checked;
            }
        }
        batch_info b = info_of(*h, static_cast<uint32_t>(pos));
        b.max_timestamp = max_timestamp;
        b.rewrite_max_timestamp = stale_max && max_timestamp != h->max_timestamp();
        out.record_count += h->record_count();
        out.batches.push_back(b);
        pos += h->total_size();
    }
    return out;
}

void assign_offsets(std::span<uint8_t> input, validation_result& result, const log_config& config,
                    const append_options& options, protocol::offset next_offset) noexcept {
    const bool replicate = options.origin == append_origin::replication;
    const bool append_time = !replicate && config.message_timestamp_type == timestamp_type::log_append_time;
    protocol::offset next = next_offset;
    for (auto& b : result.batches) {
        auto bytes = input.subspan(b.position, b.size);
        if (!replicate) {
            const int64_t delta = b.last_offset - b.base_offset;
            batch::set_base_offset(bytes, next.value());
            b.base_offset = next;
            b.last_offset = next + delta;
            next = b.last_offset + 1;
            if (options.leader_epoch >= protocol::leader_epoch(0)) {
                batch::set_partition_leader_epoch(bytes, options.leader_epoch.value());
                b.leader_epoch = options.leader_epoch;
            }
        }
        if (append_time) {
            batch::set_max_timestamp_and_recrc(bytes, options.now_ms, true);
            b.max_timestamp = options.now_ms;
        } else if (b.rewrite_max_timestamp) {
            batch::set_max_timestamp_and_recrc(bytes, b.max_timestamp, false);
        }
    }
}

} // namespace samsa::storage
