// The server-side assignors of consumer (KIP-848) groups, named as clients ask for them
// (group.remote.assignor / ServerAssignor): "uniform" spreads every subscribed partition as
// evenly as the subscriptions allow and keeps partitions where they are when that is already
// balanced; "range" gives each member, topic by topic, a contiguous range of partitions (members
// sorted by id, the first ones one more when it does not divide). Pure functions; any thread.
#pragma once

#include "broker/groups/consumer_group.h"

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

struct assignor_member {
    std::string member_id;
    std::set<std::string> topics;      // resolved subscription (names that exist)
    const topic_partitions* previous;  // the member's current target (stickiness); may be null
};

struct assignor_topic {
    protocol::uuid id;
    int32_t partitions = 0;
};

using member_assignments = std::map<std::string, topic_partitions>;
using assignor_fn = member_assignments (*)(const std::vector<assignor_member>& members,
                                           const std::map<std::string, assignor_topic>& topics);

[[nodiscard]] member_assignments assign_uniform(const std::vector<assignor_member>& members,
                                                const std::map<std::string, assignor_topic>& topics);
[[nodiscard]] member_assignments assign_range(const std::vector<assignor_member>& members,
                                              const std::map<std::string, assignor_topic>& topics);

// The assignor called `name`, or null.
[[nodiscard]] assignor_fn find_assignor(std::string_view name) noexcept;

} // namespace samsa::broker
