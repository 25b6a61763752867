// Helpers for the transaction coordinator tests: __transaction_state kept in memory as real v2
// batches (with fsyncs the test may hold, then complete or fail), a txn_marker_writer that
// records every request and answers when the test says so (or at once), a producer id source
// counting from 1000, and a fixture wiring them with the shared fake loop
// (tests/broker/fake_loop.h) to a transaction_coordinator whose wall clock the test moves.
#pragma once

#include "broker/transactions/transaction_coordinator.h"
#include "broker/transactions/transaction_log.h"
#include "broker/transactions/txn_marker_writer.h"
#include "tests/broker/fake_loop.h"
#include "tests/broker/memory_internal_log.h"
#include "protocol/record_batch.h"
#include "protocol/record_reader.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace samsa::broker::test {

// __transaction_state in memory, with its records decoded for the test.
class memory_transaction_log final : public memory_internal_log {
public:
    // The last record written for `id` (nullopt when none; a tombstone is a value-less record).
    struct record {
        std::string id;
        std::optional<transaction_metadata> value;
    };
    [[nodiscard]] std::vector<record> records() const {
        std::vector<record> out;
        for (int32_t p = 0; p < partitions(); ++p) {
            protocol::bytes_view rest = bytes(protocol::partition_id(p));
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
            [this]() -> std::optional<protocol::producer_id> {
                if (!ids_available) return std::nullopt;
                return protocol::producer_id(next_id++);
            },
            [this] { return wall_ms; });
        coordinator->set_markers_listener(
            [this](protocol::producer_id pid, bool commit) { told.push_back({pid.value(), commit}); });
        coordinator->start();
        loop.run_posted();
    }

    // Moves both clocks (the loop's runs timers).
    void advance(int64_t ms) {
        wall_ms += ms;
        loop.advance(static_cast<uint64_t>(ms));
    }

    init_producer_id_result init(const std::string& id, int32_t timeout = 10000,
                                 std::optional<transaction_coordinator::producer_instance> expected = std::nullopt) {
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
