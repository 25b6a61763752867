// Helpers for the transaction coordinator tests: __transaction_state kept in memory as real v2
// batches (with fsyncs the test may hold, then complete or fail), a txn_marker_writer that records every request and answers when the test says so
// (or at once), a producer id source counting from 1000, and a fixture wiring them with the
// group tests' fake loop to a transaction_coordinator whose wall clock the test moves.
#pragma once

#include "../groups/group_test_support.h"
#include "broker/transactions/transaction_coordinator.h"
#include "broker/transactions/transaction_log.h"
#include "broker/transactions/transaction_state_log.h"
#include "broker/transactions/txn_marker_writer.h"
#include "protocol/record_batch.h"
#include "protocol/record_reader.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace samsa::broker::test {

class memory_transaction_log final : public transaction_state_log {
public:
    [[nodiscard]] int32_t partitions() const override { return static_cast<int32_t>(parts_.size()); }
    [[nodiscard]] std::string create(int32_t count, int32_t) override {
        ++creates;
        parts_.assign(static_cast<size_t>(count), {});
        return {};
    }
    [[nodiscard]] protocol::error_code append(int32_t partition, std::span<uint8_t> batches, int64_t) override {
        if (fail_appends != protocol::error_code::none) return fail_appends;
        auto& p = parts_.at(static_cast<size_t>(partition));
        const auto h = protocol::batch::header_view::parse(batches);
        REQUIRE(h.has_value());
        CHECK(h->crc_ok());
        protocol::batch::set_base_offset(batches, p.next);
        p.next += h->last_offset_delta() + 1;
        p.bytes.insert(p.bytes.end(), batches.begin(), batches.end());
        ++appends;
        return protocol::error_code::none;
    }
    [[nodiscard]] transaction_log_chunk read(int32_t partition, protocol::offset offset, int32_t) const override {
        transaction_log_chunk out;
        if (fail_reads) {
            out.error = protocol::error_code::kafka_storage_error;
            return out;
        }
        const auto& p = parts_.at(static_cast<size_t>(partition));
        protocol::bytes_view rest(p.bytes);
        while (rest.size() >= protocol::batch::log_overhead) {
            const auto h = protocol::batch::header_view::parse(rest);
            if (!h) break;
            if (h->last_offset() >= offset.value())
                out.batches.insert(out.batches.end(), rest.begin(), rest.begin() + static_cast<long>(h->total_size()));
            rest = rest.subspan(h->total_size());
        }
        out.next_offset = protocol::offset(p.next);
        out.end = true;
        return out;
    }

    // The last record written for `id` (nullopt when none; a tombstone is a value-less record).
    struct record {
        std::string id;
        std::optional<transaction_metadata> value;
    };
    [[nodiscard]] std::vector<record> records() const {
        std::vector<record> out;
        for (const auto& p : parts_) {
            protocol::bytes_view rest(p.bytes);
            while (rest.size() >= protocol::batch::log_overhead) {
                const auto h = protocol::batch::header_view::parse(rest);
                REQUIRE(h.has_value());
                protocol::record_reader reader(rest.first(h->total_size()));
                protocol::record rec;
                while (reader.next(rec)) {
                    REQUIRE(rec.key.has_value());
                    auto id = decode_transaction_log_key(*rec.key);
                    REQUIRE(id.has_value());
                    std::optional<transaction_metadata> v;
                    if (rec.value) {
                        v = decode_transaction_log_value(*rec.value);
                        REQUIRE(v.has_value());
                    }
                    out.push_back({*id, std::move(v)});
                }
                rest = rest.subspan(h->total_size());
            }
        }
        return out;
    }
    [[nodiscard]] std::optional<record> last_for(const std::string& id) const {
        std::optional<record> out;
        for (auto& r : records())
            if (r.id == id) out = r;
        return out;
    }

    protocol::error_code fail_appends = protocol::error_code::none;
    bool fail_reads = false;
    int creates = 0;
    int appends = 0;

    // A flush policy the test plays: when `hold_fsync` is set, appends wait for their fsync
    // and when_durable() answers only when the test calls release().
    [[nodiscard]] bool waits_for_fsync(int32_t) const override { return hold_fsync; }
    void when_durable(int32_t, std::function<void(protocol::error_code)> done) override { held.push_back(std::move(done)); }
    // Completes every durability wait so far with `error`; returns how many there were.
    size_t release(protocol::error_code error = protocol::error_code::none) {
        auto waits = std::move(held);
        held.clear();
        for (auto& w : waits) w(error);
        return waits.size();
    }
    bool hold_fsync = false;
    std::vector<std::function<void(protocol::error_code)>> held;

private:
    struct part {
        std::vector<uint8_t> bytes;
        int64_t next = 0;
    };
    std::vector<part> parts_;
};

class fake_marker_writer final : public txn_marker_writer {
public:
    struct call {
        txn_marker_request request;
        completion done;
    };
    void write_markers(const txn_marker_request& request, completion done) override {
        if (answer_at_once) {
            done(results_for(request, protocol::error_code::none));
            requests.push_back(request);
            return;
        }
        requests.push_back(request);
        pending.push_back({request, std::move(done)});
    }
    // Answers the oldest pending call with `error` for every partition.
    void answer(protocol::error_code error = protocol::error_code::none) {
        REQUIRE(!pending.empty());
        auto c = std::move(pending.front());
        pending.erase(pending.begin());
        c.done(results_for(c.request, error));
    }
    static std::vector<txn_marker_result> results_for(const txn_marker_request& r, protocol::error_code error) {
        std::vector<txn_marker_result> out;
        for (const auto& p : r.partitions) out.push_back({p, error});
        return out;
    }

    bool answer_at_once = false;
    std::vector<txn_marker_request> requests;
    std::vector<call> pending;
};

struct txn_fixture {
    explicit txn_fixture(transaction_config c = test_config()) : config(c) { rebuild(); }

    static transaction_config test_config() {
        transaction_config c;
        c.max_timeout_ms = 60000;
        c.id_expiration_ms = 3600000;
        c.abort_check_interval_ms = 1000;
        c.expiration_check_interval_ms = 60000;
        c.log_partitions = 4;
        c.marker_retry_backoff_ms = 100;
        return c;
    }

    // A new coordinator over the same log (a restart), started; loading runs when posted work does.
    void rebuild() {
        coordinator.reset();
        coordinator = std::make_unique<transaction_coordinator>(
            config, loop, log, markers,
            [this]() -> std::optional<int64_t> {
                if (!ids_available) return std::nullopt;
                return next_id++;
            },
            [this] { return wall_ms; });
        coordinator->set_markers_listener([this](int64_t pid, bool commit) { told.push_back({pid, commit}); });
        coordinator->start();
        loop.run_posted();
    }

    // Moves both clocks (the loop's runs timers).
    void advance(int64_t ms) {
        wall_ms += ms;
        loop.advance(static_cast<uint64_t>(ms));
    }

    init_producer_id_result init(const std::string& id, int32_t timeout = 10000,
                                 std::optional<std::pair<int64_t, int16_t>> expected = std::nullopt) {
        return coordinator->init_producer_id(id, timeout, expected);
    }
    transaction_coordinator& c() { return *coordinator; }
    [[nodiscard]] txn_state state(const std::string& id) const {
        const auto* m = coordinator->find(id);
        REQUIRE(m != nullptr);
        return m->state;
    }

    transaction_config config;
    fake_loop loop;
    memory_transaction_log log;
    fake_marker_writer markers;
    int64_t next_id = 1000;
    bool ids_available = true;
    int64_t wall_ms = 1'700'000'000'000;
    std::vector<std::pair<int64_t, bool>> told;
    std::unique_ptr<transaction_coordinator> coordinator;
};

} // namespace samsa::broker::test
