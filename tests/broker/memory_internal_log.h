// An internal topic (__consumer_offsets, __transaction_state) kept in memory for the group and
// transaction coordinator tests: whole v2 batches per partition with their offsets assigned on
// append, appends and reads the test can make fail (all, or one partition's), reads the test may
// cut into chunks of a few batches, and fsyncs the test may hold, then complete or fail: the
// coordinator_log both coordinators are given. Owned by the test's fixture, which
// outlives the coordinator; loop thread only.
#pragma once

#include "broker/coordinator_log.h"
#include "broker/internal_log_chunk.h"
#include "protocol/errors.h"
#include "protocol/kafka_ids.h"
#include "protocol/record_batch.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace samsa::broker::test {

class memory_internal_log : public coordinator_log {
public:
    [[nodiscard]] int32_t partitions() const override { return static_cast<int32_t>(parts_.size()); }
    [[nodiscard]] std::string create(int32_t count, int32_t segment_bytes) override {
        ++creates;
        created_segment_bytes = segment_bytes;
        parts_.assign(static_cast<size_t>(count), {});
        return {};
    }
    [[nodiscard]] protocol::error_code append(protocol::partition_id partition, std::span<uint8_t> batches, int64_t) override {
        if (fail_appends != protocol::error_code::none) return fail_appends;
        auto& p = parts_.at(static_cast<size_t>(partition.value()));
        const auto h = protocol::batch::header_view::parse(batches);
        REQUIRE(h.has_value());
        CHECK(h->crc_ok());
        protocol::batch::set_base_offset(batches, p.next);
        p.next += h->last_offset_delta() + 1;
        p.bytes.insert(p.bytes.end(), batches.begin(), batches.end());
        p.pending = hold_fsync;
        ++appends;
        return protocol::error_code::none;
    }
    [[nodiscard]] internal_log_chunk read(protocol::partition_id partition, protocol::offset offset, int32_t) const override {
        ++reads;
        internal_log_chunk out;
        if (fail_reads || unreadable.contains(partition.value())) {
            out.error = protocol::error_code::kafka_storage_error;
            return out;
        }
        const auto& p = parts_.at(static_cast<size_t>(partition.value()));
        protocol::bytes_view rest(p.bytes);
        out.next_offset = protocol::offset(p.next);
        out.end = true;
        size_t taken = 0;
        while (rest.size() >= protocol::batch::log_overhead) {
            const auto h = protocol::batch::header_view::parse(rest);
            if (!h) break;
            if (h->last_offset() >= offset.value()) {
                if (batches_per_read > 0 && taken == batches_per_read) {
                    // The chunk ends before this batch; the next read starts at it.
                    out.next_offset = protocol::offset(h->base_offset());
                    out.end = false;
                    break;
                }
                out.batches.insert(out.batches.end(), rest.begin(), rest.begin() + static_cast<long>(h->total_size()));
                ++taken;
            }
            rest = rest.subspan(h->total_size());
        }
        return out;
    }

    // The offset the next append to the partition gets.
    [[nodiscard]] int64_t end_offset(protocol::partition_id partition) const { return parts_.at(static_cast<size_t>(partition.value())).next; }
    // Every batch appended to the partition, in log order.
    [[nodiscard]] protocol::bytes_view bytes(protocol::partition_id partition) const { return parts_.at(static_cast<size_t>(partition.value())).bytes; }

    protocol::error_code fail_appends = protocol::error_code::none;  // what every append answers, when set
    bool fail_reads = false;                                         // reads answer kafka_storage_error
    std::set<int32_t> unreadable;    // partitions whose reads answer kafka_storage_error
    size_t batches_per_read = 0;     // at most this many batches per read (0: all there are)
    mutable int reads = 0;
    int creates = 0;
    int appends = 0;
    int32_t created_segment_bytes = 0;

    // A flush policy the test plays: when `hold_fsync` is set, appends wait for their fsync
    // (they are pending until the next release()) and when_durable() answers only when the test
    // calls release().
    [[nodiscard]] bool waits_for_fsync(protocol::partition_id) const override { return hold_fsync; }
    void when_durable(protocol::partition_id, std::function<void(protocol::error_code)> done) override { held.push_back(std::move(done)); }
    // Whether the partition has appends since the last release() (while `hold_fsync` is set).
    [[nodiscard]] bool has_pending_writes(protocol::partition_id partition) const override {
        return parts_.at(static_cast<size_t>(partition.value())).pending;
    }
    // Completes every durability wait so far with `error`; returns how many there were.
    size_t release(protocol::error_code error = protocol::error_code::none) {
        auto waits = std::move(held);
        held.clear();
        for (auto& p : parts_) p.pending = false;
        for (auto& w : waits) w(error);
        return waits.size();
    }
    // Completes only the oldest durability wait, with `error` (a fsync of one partition failing
    // while another's succeeds).
    void release_oldest(protocol::error_code error) {
        REQUIRE_FALSE(held.empty());
        auto wait = std::move(held.front());
        held.erase(held.begin());
        wait(error);
    }
    bool hold_fsync = false;
    std::vector<std::function<void(protocol::error_code)>> held;

private:
    struct part {
        std::vector<uint8_t> bytes;
        int64_t next = 0;
        bool pending = false;  // appended since the last release()
    };
    std::vector<part> parts_;
};

} // namespace samsa::broker::test
