// Helpers for the group coordinator tests: the shared fake loop (tests/broker/fake_loop.h:
// timers fire when the test advances time, posted work runs when the test says so),
// __consumer_offsets kept in memory as real v2 batches (with fsyncs the test may hold, then
// complete or fail), a fixed topic table, a fixture that wires them to a group_coordinator with a
// test configuration (initial rebalance delay 0 unless set), and assignments built from integer
// lists.
#pragma once

#include "broker/groups/group_coordinator.h"
#include "broker/groups/topic_source.h"
#include "protocol/messages/consumer_protocol.h"
#include "tests/broker/fake_loop.h"
#include "tests/broker/memory_internal_log.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace samsa::broker::test {

// Assignments written out in tests as integer lists: {{topic, {0, 1}}, ...}.
inline partition_set partitions(std::initializer_list<int32_t> ids) {
    partition_set out;
    insert_partitions(out, ids);
    return out;
}
inline topic_partitions assignment(
    std::initializer_list<std::pair<protocol::uuid, std::initializer_list<int32_t>>> topics) {
    topic_partitions out;
    for (const auto& [id, ids] : topics) out[id] = partitions(ids);
    return out;
}

class fake_topics final : public topic_source {
public:
    void add(const std::string& name, int32_t partitions) {
        protocol::uuid id;
        id.bytes[0] = static_cast<uint8_t>(topics_.size() + 1);
        id.bytes[15] = 0x42;
        topics_[name] = topic_meta{name, id, partitions};
    }
    void grow(const std::string& name, int32_t partitions) { topics_.at(name).partitions = partitions; }
    void remove(const std::string& name) { topics_.erase(name); }
    [[nodiscard]] protocol::uuid id(const std::string& name) const { return topics_.at(name).id; }

    [[nodiscard]] std::optional<topic_meta> by_name(std::string_view name) const override {
        const auto it = topics_.find(std::string(name));
        if (it == topics_.end()) return std::nullopt;
        return it->second;
    }
    [[nodiscard]] std::optional<topic_meta> by_id(const protocol::uuid& id) const override {
        for (const auto& [n, t] : topics_)
            if (t.id == id) return t;
        return std::nullopt;
    }
    [[nodiscard]] std::vector<topic_meta> all() const override {
        std::vector<topic_meta> out;
        for (const auto& [n, t] : topics_) out.push_back(t);
        return out;
    }

private:
    std::map<std::string, topic_meta> topics_;
};

// ConsumerProtocolSubscription bytes (version 1) for `topics`.
inline std::vector<uint8_t> subscription(const std::vector<std::string>& topics) {
    protocol::consumer_protocol_subscription s;
    s.topics = topics;
    protocol::output_buffer out;
    out.bytes.reserve(s.size(1) + 2);  // also keeps GCC 12 from a false stringop-overflow warning
    protocol::writer w(out);
    w.write_int16(1);
    s.encode(w, 1);
    return std::move(out.bytes);
}

// The first ConsumerGroupHeartbeat of a new KIP-848 member (epoch 0, owning nothing yet).
inline consumer_heartbeat_params join_params_for(std::vector<std::string> topics, std::optional<std::string> assignor = std::nullopt) {
    consumer_heartbeat_params p;
    p.member_epoch = 0;
    p.rebalance_timeout_ms = 20'000;
    p.subscribed_topic_names = std::move(topics);
    p.server_assignor = std::move(assignor);
    p.owned = topic_partitions{};
    p.client_id = "client";
    return p;
}

// A parked JoinGroup or SyncGroup: records its answer when it comes.
template <typename Result>
struct answer {
    std::shared_ptr<std::optional<Result>> value = std::make_shared<std::optional<Result>>();
    [[nodiscard]] std::function<void(Result)> callback() const {
        return [v = value](Result r) {
            CHECK_FALSE(v->has_value());  // one answer per request
            *v = std::move(r);
        };
    }
    [[nodiscard]] bool ready() const { return value->has_value(); }
    [[nodiscard]] const Result& get() const {
        REQUIRE(value->has_value());
        return **value;
    }
};

// A classic consumer's JoinGroup (range assignor over `topics`, 10 s session, 30 s rebalance).
inline join_params classic_join_params(std::string member_id = "", std::vector<std::string> topics = {"orders"}) {
    join_params p;
    p.member_id = std::move(member_id);
    p.client_id = "client";
    p.client_host = "/127.0.0.1";
    p.session_timeout_ms = 10'000;
    p.rebalance_timeout_ms = 30'000;
    p.protocol_type = "consumer";
    p.protocols.push_back({"range", subscription(topics)});
    return p;
}

struct group_fixture {
    explicit group_fixture(group_config c = test_config()) : cfg(std::move(c)) {
        topics.add("orders", 6);
        topics.add("payments", 3);
        make();
    }

    static group_config test_config() {
        group_config c;
        c.initial_rebalance_delay_ms = 0;
        c.offsets_topic_partitions = 4;
        return c;
    }

    // A fresh coordinator over the same log (a broker restart), loaded unless told otherwise.
    void make(bool load = true) {
        coordinator.reset();
        coordinator = std::make_unique<group_coordinator>(cfg, loop, log, topics, [this] { return wall_ms(); });
        coordinator->start();
        if (load) loop.run_posted();
    }
    [[nodiscard]] int64_t wall_ms() const { return wall_base + static_cast<int64_t>(loop.now_ms()); }
    group_coordinator& gc() { return *coordinator; }

    join_params params(std::string member_id = "", std::vector<std::string> topics_ = {"orders"}) const {
        return classic_join_params(std::move(member_id), std::move(topics_));
    }
    answer<join_result> join(const std::string& group, join_params p) {
        answer<join_result> a;
        gc().join_group(group, std::move(p), a.callback());
        return a;
    }
    // KIP-394 two-step join (v4+): returns the parked second JoinGroup.
    answer<join_result> join_new(const std::string& group, join_params p) {
        p.require_known_member_id = true;
        auto first = join(group, p);
        REQUIRE(first.ready());
        REQUIRE(first.get().error == protocol::error_code::member_id_required);
        p.member_id = first.get().member_id;
        return join(group, std::move(p));
    }
    answer<sync_result> sync(const std::string& group, const std::string& member, int32_t generation,
                             std::vector<std::pair<std::string, std::vector<uint8_t>>> assignments = {}) {
        answer<sync_result> a;
        sync_params p;
        p.member_id = member;
        p.generation = generation;
        p.assignments = std::move(assignments);
        gc().sync_group(group, std::move(p), a.callback());
        return a;
    }

    group_config cfg;
    fake_loop loop;
    memory_internal_log log;  // __consumer_offsets
    fake_topics topics;
    int64_t wall_base = 1'700'000'000'000;
    std::unique_ptr<group_coordinator> coordinator;
};

// A KIP-848 member as a client keeps it: its id, its member epoch and the partitions it owns.
struct kip848_member {
    std::string id;
    int32_t epoch = 0;
    topic_partitions owned;
};

// Joins `group` (epoch 0) subscribed to `topics`; the member with what it was given.
inline kip848_member join_848(group_fixture& f, const std::string& group, std::vector<std::string> topics = {"orders"}) {
    auto r = f.gc().consumer_heartbeat(group, join_params_for(std::move(topics)), 0);
    REQUIRE(r.error == protocol::error_code::none);
    REQUIRE(r.member_id.has_value());
    REQUIRE(r.assignment.has_value());
    return {*r.member_id, r.member_epoch, *r.assignment};
}

// One heartbeat reporting what the member owns; applies the answer as a client does (an
// assignment in the answer replaces what it owns).
inline consumer_heartbeat_result beat_848(group_fixture& f, const std::string& group, kip848_member& m) {
    consumer_heartbeat_params p;
    p.member_id = m.id;
    p.member_epoch = m.epoch;
    p.owned = m.owned;
    p.client_id = "client";  // as joined: an unchanged member writes nothing
    auto r = f.gc().consumer_heartbeat(group, p, 0);
    if (r.error == protocol::error_code::none) {
        m.epoch = r.member_epoch;
        if (r.assignment) m.owned = *r.assignment;
    }
    return r;
}

// The member leaves the group (epoch -1).
inline consumer_heartbeat_result leave_848(group_fixture& f, const std::string& group, const kip848_member& m) {
    consumer_heartbeat_params p;
    p.member_id = m.id;
    p.member_epoch = leave_group_member_epoch;
    return f.gc().consumer_heartbeat(group, p, 0);
}

// One offset of an OffsetCommit or TxnOffsetCommit, from raw integers as the wire carries them.
inline offset_commit_entry commit_entry(std::string topic, int32_t partition, int64_t offset, int32_t leader_epoch = -1,
                                        std::optional<std::string> metadata = "", int64_t commit_timestamp_ms = -1) {
    return {std::move(topic), protocol::partition_id(partition), protocol::offset(offset), protocol::leader_epoch(leader_epoch),
            std::move(metadata), commit_timestamp_ms};
}

} // namespace samsa::broker::test
