// The records of the internal __consumer_offsets topic, in Kafka's own format so that Kafka's
// tools (and Samsa's loader) read them: every key and value is an int16 schema version followed
// by the struct of protocol/schema/offsets_topic.json at that version. docs/groups.md has the
// layout. Pure functions over bytes; any thread.
//
//   key version 0, 1  OffsetCommitKey   (group, topic, partition)   value OffsetCommitValue
//   key version 2     GroupMetadataKey  (group)                     value GroupMetadataValue
//   key version 3-8   KIP-848 consumer group records (consumer_group_records.h)
//   key version 9+    records of other group types Kafka writes     (skipped when loading)
//   a null value is a tombstone: the offset, or the whole group, is gone.
#pragma once

#include "broker/groups/classic_group.h"
#include "broker/groups/offset_table.h"
#include "protocol/messages/offsets_topic.h"
#include "protocol/wire.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

inline constexpr std::string_view offsets_topic_name = "__consumer_offsets";

// The versions Samsa writes: Kafka 3.x's choices.
inline constexpr int16_t offset_commit_key_version = 1;
inline constexpr int16_t group_metadata_key_version = 2;
inline constexpr int16_t offset_commit_value_version = 3;          // leader epoch, no expire timestamp
inline constexpr int16_t offset_commit_value_version_expiring = 1; // carries an expire timestamp
inline constexpr int16_t group_metadata_value_version = 3;         // static members
// The KIP-848 consumer group records: one key version per record type, every value version 0.
inline constexpr int16_t consumer_group_metadata_key_version = 3;             // group epoch
inline constexpr int16_t consumer_group_partition_metadata_key_version = 4;   // subscribed topics
inline constexpr int16_t consumer_group_member_metadata_key_version = 5;      // a member's subscription
inline constexpr int16_t consumer_group_target_metadata_key_version = 6;      // assignment epoch
inline constexpr int16_t consumer_group_target_member_key_version = 7;        // a member's target
inline constexpr int16_t consumer_group_current_assignment_key_version = 8;   // a member's epoch and partitions
inline constexpr int16_t consumer_group_value_version = 0;

[[nodiscard]] std::vector<uint8_t> encode_offset_commit_key(const std::string& group, const std::string& topic,
                                                            protocol::partition_id partition);
[[nodiscard]] std::vector<uint8_t> encode_offset_commit_value(const committed_offset& value);
[[nodiscard]] std::vector<uint8_t> encode_group_metadata_key(const std::string& group);
// The group's generation, protocol, leader and members with their subscription (metadata of
// the selected protocol) and assignment bytes.
[[nodiscard]] std::vector<uint8_t> encode_group_metadata_value(const classic_group& group, int64_t now_ms);

// A decoded key.
struct group_record_key {
    enum class kind : uint8_t { offset_commit, group_metadata, consumer_group, other, malformed };
    kind what = kind::malformed;
    int16_t version = -1;
    std::string group;
    std::string topic;       // offset_commit only
    protocol::partition_id partition{-1};  // offset_commit only
    std::string member;      // consumer_group keys 5, 7 and 8 only
};

// A record as it goes into the log: a null value is a tombstone.
struct group_record {
    std::vector<uint8_t> key;
    std::optional<std::vector<uint8_t>> value;
};

[[nodiscard]] group_record_key decode_group_record_key(protocol::bytes_view key);
[[nodiscard]] std::optional<committed_offset> decode_offset_commit_value(protocol::bytes_view value);
[[nodiscard]] std::optional<protocol::group_metadata_value> decode_group_metadata_value(protocol::bytes_view value);

} // namespace samsa::broker
