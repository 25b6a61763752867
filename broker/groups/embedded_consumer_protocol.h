// The consumer protocol embedded in classic JoinGroup/SyncGroup bytes (protocol type
// "consumer"): reading a member's ConsumerProtocolSubscription and ConsumerProtocolAssignment
// and writing an assignment, with topic names turned into topic ids and back through the
// topic_source. Used where classic members meet consumer (KIP-848) groups: classic members
// of a consumer group and the conversions between the two group types. Pure functions; any
// thread that may read the topic_source.
#pragma once

#include "broker/groups/consumer_group.h"
#include "broker/groups/topic_source.h"
#include "protocol/messages/consumer_protocol.h"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace samsa::broker {

struct embedded_subscription {
    int16_t version = 0;
    protocol::consumer_protocol_subscription value;
};

// null when the bytes are not a ConsumerProtocolSubscription.
[[nodiscard]] std::optional<embedded_subscription> decode_embedded_subscription(std::span<const uint8_t> bytes);
// null when the bytes are not a ConsumerProtocolAssignment; empty bytes are an empty assignment.
[[nodiscard]] std::optional<protocol::consumer_protocol_assignment> decode_embedded_assignment(std::span<const uint8_t> bytes);

// Partitions named by topic turned into partitions by topic id; unknown topics are left out.
template <typename List>
[[nodiscard]] topic_partitions by_topic_id(const List& named, const topic_source& topics) {
    topic_partitions out;
    for (const auto& tp : named)
        if (const auto t = topics.by_name(tp.topic)) insert_partitions(out[t->id], tp.partitions);
    return out;
}

// ConsumerProtocolAssignment bytes (at `version`, 0-3) for partitions by topic id; topics
// that no longer exist are left out.
[[nodiscard]] std::vector<uint8_t> encode_embedded_assignment(const topic_partitions& partitions, const topic_source& topics,
                                                              int16_t version);

} // namespace samsa::broker
