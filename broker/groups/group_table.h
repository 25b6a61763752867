// The in-memory table of every group this coordinator knows, classic or consumer (KIP-848),
// each with its committed offsets and the __consumer_offsets partition it lives in. A group id
// has one type at a time: a group_slot holds either a classic_group or a consumer_group. Owned
// by the group_coordinator; loop thread only. Slots are heap objects: pointers to them stay
// valid until the group is erased.
#pragma once

#include "broker/groups/classic_group.h"
#include "broker/groups/offset_table.h"
#include "protocol/kafka_ids.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

class consumer_group;
struct consumer_group_log_state;

enum class group_type : uint8_t { classic, consumer };

[[nodiscard]] std::string_view to_string(group_type t) noexcept;  // "classic", "consumer"

struct group_slot {
    group_slot(std::string group_id, protocol::partition_id partition, uint64_t now_ms);
    ~group_slot();
    group_slot(const group_slot&) = delete;
    group_slot& operator=(const group_slot&) = delete;

    [[nodiscard]] group_type type() const noexcept { return consumer ? group_type::consumer : group_type::classic; }
    // No members (and, for a classic group, no rebalance in progress).
    [[nodiscard]] bool has_no_members() const noexcept;
    // Turns an empty group into an empty group of the other type; offsets stay.
    void become(group_type t, uint64_t now_ms);

    std::string id;
    protocol::partition_id partition;
    std::unique_ptr<classic_group> classic;    // exactly one of these two is set
    std::unique_ptr<consumer_group> consumer;
    offset_table offsets;
    bool metadata_in_log = false;  // a GroupMetadata record stands in the log (deletion writes a tombstone)
    // What the log holds for a consumer group (KIP-848 records), null when nothing.
    std::unique_ptr<consumer_group_log_state> consumer_log;
};

class group_table {
public:
    [[nodiscard]] group_slot* find(std::string_view group_id) const noexcept;
    // A new empty classic group when `group_id` is unknown.
    group_slot& get_or_create(std::string_view group_id, protocol::partition_id partition, uint64_t now_ms);
    bool erase(std::string_view group_id);
    [[nodiscard]] size_t size() const noexcept { return groups_.size(); }
    // Every group, ordered by id.
    void for_each(const std::function<void(group_slot&)>& fn) const;
    [[nodiscard]] std::vector<group_slot*> in_partition(protocol::partition_id partition) const;

private:
    std::map<std::string, std::unique_ptr<group_slot>, std::less<>> groups_;
};

} // namespace samsa::broker
