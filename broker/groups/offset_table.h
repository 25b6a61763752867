// The committed offsets of one group, by topic and partition: what OffsetFetch answers and
// what the __consumer_offsets records of the group replay into. Plain in-memory state held by
// a group_slot; loop thread only.
#pragma once

#include "protocol/kafka_ids.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace samsa::broker {

struct committed_offset {
    protocol::offset offset = protocol::no_offset;
    protocol::leader_epoch leader_epoch = protocol::no_leader_epoch;
    std::string metadata;                       // round-tripped as the client sent it
    int64_t commit_timestamp_ms = 0;            // wall clock
    std::optional<int64_t> expire_timestamp_ms; // set only by OffsetCommit v2-v4 retention times
    // Where the commit's record sits in __consumer_offsets (no_offset: not known). A transaction's
    // pending offset replaces a committed one only if its record is later (Kafka's rule), both
    // live and when the log is replayed.
    protocol::offset record_offset = protocol::no_offset;
    bool operator==(const committed_offset&) const = default;

    // Whether this commit's record precedes `other`'s in the log; an unknown position counts as
    // older, so a known one wins.
    [[nodiscard]] bool older_than(const committed_offset& other) const noexcept {
        return record_offset < other.record_offset;
    }
};

class offset_table {
public:
    using key = std::pair<std::string, protocol::partition_id>;  // topic, partition

    [[nodiscard]] const committed_offset* find(std::string_view topic, protocol::partition_id partition) const;
    void put(std::string topic, protocol::partition_id partition, committed_offset value);
    bool erase(std::string_view topic, protocol::partition_id partition);
    void clear() noexcept { offsets_.clear(); }

    [[nodiscard]] const std::map<key, committed_offset>& all() const noexcept { return offsets_; }
    [[nodiscard]] size_t size() const noexcept { return offsets_.size(); }
    [[nodiscard]] bool empty() const noexcept { return offsets_.empty(); }
    [[nodiscard]] bool has_topic(std::string_view topic) const;
    [[nodiscard]] std::set<std::string> topics() const;

private:
    std::map<key, committed_offset> offsets_;
};

} // namespace samsa::broker
