// A broker's data path without sockets, for the Produce, Fetch, ListOffsets and
// OffsetForLeaderEpoch tests: real storage (log_storage over a temporary directory), the metadata
// service, the partition_manager and the dispatcher with the default handler table, driven by a
// manual loop whose clock and timers the test moves. Requests are built with the generated codecs
// and responses decoded again; record batches are built with protocol/record_batch_builder.h.
#pragma once

#include "broker/admin/config_registry.h"
#include "broker/admin/quota_manager.h"
#include "broker/dispatcher.h"
#include "broker/handlers/handlers.h"
#include "broker/log_storage.h"
#include "broker/partition_manager.h"
#include "broker/transactions/producer_id_manager.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace samsa::broker::test {

// loop_services whose time only moves when the test says so. post() may be called from any
// thread (storage's flusher wakes the loop with it); run_posted() runs the posts on the test thread.
class manual_loop final : public loop_services {
public:
    struct timer_state {
        uint64_t due = 0;
        std::function<void()> fn;
    };
    class handle final : public loop_timer {
    public:
        explicit handle(std::shared_ptr<timer_state> s) : state_(std::move(s)) {}
        ~handle() override { cancel(); }
        void cancel() noexcept override {
            if (state_) state_->fn = nullptr;
            state_.reset();
        }

    private:
        std::shared_ptr<timer_state> state_;
    };

    std::unique_ptr<loop_timer> start_timer(uint64_t delay_ms, std::function<void()> fn) override {
        auto s = std::make_shared<timer_state>();
        s->due = now_ + delay_ms;
        s->fn = std::move(fn);
        timers_.push_back(s);
        return std::make_unique<handle>(s);
    }
    bool post(std::function<void()> fn) override {
        std::lock_guard lock(mu_);
        posted_.push_back(std::move(fn));
        return true;
    }
    uint64_t now_ms() const noexcept override { return now_; }

    // Runs what other threads posted; returns how many ran.
    size_t run_posted() {
        std::vector<std::function<void()>> batch;
        {
            std::lock_guard lock(mu_);
            batch.swap(posted_);
        }
        for (auto& fn : batch) fn();
        return batch.size();
    }
    // Moves the clock and fires the timers that became due (in due order); returns how many fired.
    size_t advance(uint64_t ms) {
        now_ += ms;
        size_t fired = 0;
        for (;;) {
            std::shared_ptr<timer_state> next;
            for (const auto& t : timers_)
                if (t->fn && t->due <= now_ && (!next || t->due < next->due)) next = t;
            if (!next) break;
            auto fn = std::move(next->fn);
            next->fn = nullptr;
            fn();
            ++fired;
        }
        std::erase_if(timers_, [](const auto& t) { return !t->fn; });
        return fired;
    }
    [[nodiscard]] size_t pending_timers() const {
        size_t n = 0;
        for (const auto& t : timers_)
            if (t->fn) ++n;
        return n;
    }

private:
    uint64_t now_ = 0;
    std::vector<std::shared_ptr<timer_state>> timers_;
    std::mutex mu_;
    std::vector<std::function<void()>> posted_;
};

// One request in flight: its slot tells whether (and what) it answered.
struct call_result {
    std::shared_ptr<response_slot> slot;
    std::unique_ptr<response_queue> queue;
    bool closed = false;

    [[nodiscard]] bool answered() const { return slot->st == response_slot::state::ready; }
    [[nodiscard]] bool waiting() const { return slot->st == response_slot::state::waiting; }
    // The response frame without its size prefix (file ranges read back), once answered. It is
    // kept here: a response decoded from it borrows its record bytes, so it lives as long as
    // this call_result.
    [[nodiscard]] const std::vector<uint8_t>& frame() const { return frames_.emplace_back(read_frame()); }
    // The same bytes handed to the caller, who then keeps them alive for what is decoded from them.
    [[nodiscard]] std::vector<uint8_t> read_frame() const {
        REQUIRE(answered());
        auto flat = slot->frame.flatten();
        REQUIRE(flat.size() >= 4);
        protocol::reader r(flat);
        CHECK(static_cast<size_t>(r.read_int32()) == flat.size() - 4);
        flat.erase(flat.begin(), flat.begin() + 4);  // in place: the one copy is flatten's
        return flat;
    }

private:
    mutable std::deque<std::vector<uint8_t>> frames_;
};

class data_path_fixture {
public:
    explicit data_path_fixture(std::vector<std::pair<std::string, std::string>> extra = {})
        : cfg_(test_config(dir_.path(), std::move(extra))), store_(dir_.path()), storage_(cfg_, loop_),
          md_(cfg_, store_, storage_, metadata_service::open_image(cfg_, store_)),
          partitions_(md_, storage_.manager()), d_(default_handlers()),
          services_{md_, storage_.manager(), loop_, cfg_, nullptr, &partitions_} {
        storage_.open(md_.topics());
        conn_.id = 1;
        conn_.listener = "PLAINTEXT";
        conn_.advertised_host = "127.0.0.1";
        conn_.advertised_port = 9092;
    }
    ~data_path_fixture() { (void)storage_.close(); }

    void create_topic(const std::string& name, int32_t partitions,
                      std::vector<std::pair<std::string, std::optional<std::string>>> configs = {}) {
        const new_topic t{name, partitions, 1, {}, std::move(configs)};
        const auto out = md_.create_topics(std::span(&t, 1), false);
        REQUIRE(out[0].error == protocol::error_code::none);
    }

    // Sends an encoded request frame (with its size prefix) through the dispatcher. The frame is
    // mutable: Produce patches offsets into it, as into a connection's input buffer.
    call_result send(std::vector<uint8_t>& frame) {
        call_result c;
        c.queue = std::make_unique<response_queue>([] {});
        c.slot = c.queue->push();
        const auto res = d_.dispatch(protocol::bytes_view(frame).subspan(4), services_, conn_, c.slot);
        c.closed = res.close;
        return c;
    }

    template <typename Request>
    call_result start(const Request& req, int16_t version, int32_t corr = 7) {
        frames_.push_back(encode_request(req, version, corr));
        return send(frames_.back());
    }

    // A request that must answer at once.
    template <typename Request>
    typename Request::response_type call(const Request& req, int16_t version, int32_t corr = 7) {
        auto c = start(req, version, corr);
        REQUIRE_FALSE(c.closed);
        REQUIRE(c.answered());
        // A decoded `records` field borrows the frame's bytes, so the frame lives as long as the
        // fixture does.
        responses_.push_back(c.read_frame());
        return decode_response<typename Request::response_type>(responses_.back(), version, corr);
    }

    // Runs storage completions (fsyncs) until `done` holds or two seconds pass.
    template <typename Pred>
    bool pump_until(Pred done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            if (loop_.run_posted() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return true;
    }

    [[nodiscard]] std::shared_ptr<storage::log> log(const std::string& topic, int32_t p) {
        return storage_.manager().get({topic, protocol::partition_id(p)});
    }
    [[nodiscard]] const topic_info& topic(const std::string& name) const { return *md_.topics().find(name); }

    // Client quotas: gives the client id `client_id` the quota `key` = `value` and enforces quotas
    // from then on; the rates are measured on the manual loop's clock.
    void set_quota(const std::string& client_id, const std::string& key, double value) {
        quota_alteration a;
        a.entity = {{"client-id", client_id}};
        a.entity_as_sent = {{"client-id", client_id}};
        a.ops = {{key, value, false}};
        quota_table_.apply(a);
        services_.quotas = &quotas_;
    }

    // Serves the configuration APIs (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs) from
    // now on, with a config_registry over this fixture's configuration, metadata and storage.
    config_registry& enable_configs() {
        configs_ = std::make_unique<config_registry>(cfg_, md_, storage_, dir_.path());
        configs_->load();
        services_.configs = configs_.get();
        return *configs_;
    }

    // Hands out producer ids (InitProducerId) from `ids` from now on.
    void set_producer_ids(producer_id_manager* ids) { services_.producer_ids = ids; }
    // Serves the transaction and group APIs with these coordinators from now on (null: none).
    void set_coordinators(transaction_coordinator* txns, group_coordinator* groups) {
        services_.transactions = txns;
        services_.groups = groups;
    }
    metadata_service& metadata() { return md_; }
    storage::log_manager& logs() { return storage_.manager(); }

    manual_loop& loop() { return loop_; }
    partition_manager& partitions() { return partitions_; }
    const std::filesystem::path& dir() const { return dir_.path(); }

private:
    temp_dir dir_;
    broker_config cfg_;
    metadata_store store_;
    manual_loop loop_;
    log_storage storage_;
    metadata_service md_;
    partition_manager partitions_;
    dispatcher d_;
    broker_services services_;
    connection_info conn_;
    std::deque<std::vector<uint8_t>> frames_;  // request frames stay alive: produce patches them
    std::deque<std::vector<uint8_t>> responses_;  // response frames of call(): decoded records borrow them
    client_quota_table quota_table_;
    quota_manager quotas_{cfg_, quota_table_};
    std::unique_ptr<config_registry> configs_;
};

// ---- record helpers --------------------------------------------------------------------------

struct test_record {
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
    int64_t timestamp = 1700000000000;
};

inline std::vector<uint8_t> make_batch(const std::vector<test_record>& records,
                                       protocol::compression codec = protocol::compression::none) {
    protocol::batch_options o;
    o.codec = codec;
    protocol::record_batch_builder b(o);
    for (const auto& r : records) {
        std::vector<protocol::record_header> hs;
        for (const auto& [k, v] : r.headers)
            hs.push_back({k, protocol::bytes_view(reinterpret_cast<const uint8_t*>(v.data()), v.size())});
        protocol::record_input in;
        in.key = protocol::bytes_view(reinterpret_cast<const uint8_t*>(r.key.data()), r.key.size());
        in.value = protocol::bytes_view(reinterpret_cast<const uint8_t*>(r.value.data()), r.value.size());
        in.headers = hs;
        in.timestamp = r.timestamp;
        b.append(in);
    }
    auto built = b.build();
    REQUIRE(built.status == protocol::codec_status::ok);
    return std::move(built.bytes);
}

inline std::string as_string(const std::optional<protocol::bytes_view>& b) {
    return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("<null>");
}

struct read_back_record {
    int64_t offset = 0;
    int64_t timestamp = 0;
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Every record of the v2 batches in `bytes` (a fetch response's records), in order.
inline std::vector<read_back_record> read_records(protocol::bytes_view bytes) {
    std::vector<read_back_record> out;
    size_t pos = 0;
    while (pos < bytes.size()) {
        auto h = protocol::batch::header_view::parse(bytes.subspan(pos));
        REQUIRE(h.has_value());
        protocol::record_reader r(h->bytes());
        protocol::record rec;
        while (r.next(rec)) {
            read_back_record x;
            x.offset = rec.offset;
            x.timestamp = rec.timestamp;
            x.key = as_string(rec.key);
            x.value = as_string(rec.value);
            for (const auto& hd : rec.headers) x.headers.emplace_back(std::string(hd.key), as_string(hd.value));
            out.push_back(std::move(x));
        }
        REQUIRE(r.ok());
        pos += h->total_size();
    }
    return out;
}

} // namespace samsa::broker::test
