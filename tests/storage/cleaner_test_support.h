// Helpers shared by the log cleaner and compaction tests: a compacted topic's log_config with
// small segments, every record of a log read back with its batch's fields (each batch's CRC
// checked), one cleaning run to its end, and transactional batches and markers built for a
// producer. Single-threaded test code: the cleaning is waited for on the test's thread, through
// the fixture's completion queue; the log and the fixture must outlive each call.
#pragma once

#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"
#include "storage/log_cleaner.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace samsa::storage::test {

// cleanup.policy=compact alone, no timestamp limits, tombstones and replaced files removable at
// once (delete.retention.ms and file.delete.delay.ms 0), and segments of `segment_bytes`.
inline log_config compacted_config(int32_t segment_bytes) {
    log_config c;
    c.cleanup_compact = true;
    c.cleanup_delete = false;
    c.segment_bytes = segment_bytes;
    c.index_interval_bytes = 128;
    c.segment_index_bytes = 4096;
    c.message_timestamp_after_max_ms = no_limit;
    c.message_timestamp_before_max_ms = no_limit;
    c.delete_retention_ms = 0;
    c.file_delete_delay_ms = 0;
    return c;
}

// One record of the log with the fields of the batch that holds it.
struct stored_record {
    int64_t offset;
    int64_t timestamp;
    std::optional<std::string> key;
    std::optional<std::string> value;
    bool control;
    bool transactional;
    int64_t producer_id;
    protocol::batch::compression codec;
};

// Every record of the log, in order; each batch's CRC is checked on the way.
inline std::vector<stored_record> records_of(log& l) {
    auto text = [](protocol::bytes_view b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); };
    std::vector<stored_record> out;
    auto bytes = read_all(l);
    size_t pos = 0;
    while (pos < bytes.size()) {
        auto h = protocol::batch::header_view::parse(std::span<const uint8_t>(bytes).subspan(pos));
        REQUIRE(h);
        REQUIRE(h->crc_ok());
        protocol::record_reader r(h->bytes());
        protocol::record x;
        while (r.next(x)) {
            stored_record k{x.offset, x.timestamp, std::nullopt, std::nullopt, h->is_control(),
                            h->is_transactional(), h->producer_id(), h->codec()};
            if (x.key) k.key = text(*x.key);
            if (x.value) k.value = text(*x.value);
            out.push_back(k);
        }
        REQUIRE(r.ok());
        pos += h->total_size();
    }
    return out;
}

// Runs one cleaning of `l` and waits for its report. The files it replaces are left to the
// fixture's deleter.
inline cleaning_report clean(log_fixture& fx, log_cleaner& cleaner, const std::shared_ptr<log>& l, int64_t now,
                             bool force = true) {
    bool done = false;
    cleaning_report report;
    REQUIRE(cleaner.start(l, now, force, [&](const cleaning_report& r) {
        report = r;
        done = true;
    }));
    while (!done) fx.completions.wait_and_run(50);
    return report;
}

// A batch of one record (key, value) at `ts` from producer `pid` (epoch 0) with sequence `seq`.
inline std::vector<uint8_t> txn_batch(int64_t pid, int32_t seq, const std::string& key, const std::string& value,
                                      int64_t ts, bool transactional = true) {
    protocol::batch_options o;
    o.producer_id = pid;
    o.producer_epoch = 0;
    o.base_sequence = seq;
    o.transactional = transactional;
    protocol::record_batch_builder b(o);
    b.append({protocol::bytes_view(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
              protocol::bytes_view(reinterpret_cast<const uint8_t*>(value.data()), value.size()), {}, ts});
    return b.build().bytes;
}

// A commit or abort marker of producer `pid` (epoch 0), coordinator epoch 5.
inline std::vector<uint8_t> marker(int64_t pid, protocol::control_type type, int64_t ts) {
    protocol::batch_options o;
    o.producer_id = pid;
    o.producer_epoch = 0;
    return protocol::build_control_batch(o, {type, 5}, ts).bytes;
}

} // namespace samsa::storage::test
