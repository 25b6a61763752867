#include "broker/groups/group_records.h"

#include <algorithm>

namespace samsa::broker {

std::vector<uint8_t> encode_offset_commit_key(const std::string& group, const std::string& topic, protocol::partition_id partition) {
    protocol::offset_commit_key k;
    k.group = group;
    k.topic = topic;
    k.partition = partition.value();
    return protocol::version_prefixed_bytes(k, offset_commit_key_version);
}

std::vector<uint8_t> encode_offset_commit_value(const committed_offset& value) {
    protocol::offset_commit_value v;
    v.offset = value.offset.value();
    v.leader_epoch = value.leader_epoch.value();
    v.metadata = value.metadata;
    v.commit_timestamp = value.commit_timestamp_ms;
    if (value.expire_timestamp_ms) {
        v.expire_timestamp = *value.expire_timestamp_ms;
        return protocol::version_prefixed_bytes(v, offset_commit_value_version_expiring);
    }
    return protocol::version_prefixed_bytes(v, offset_commit_value_version);
}

std::vector<uint8_t> encode_group_metadata_key(const std::string& group) {
    protocol::group_metadata_key k;
    k.group = group;
    return protocol::version_prefixed_bytes(k, group_metadata_key_version);
}

std::vector<uint8_t> encode_group_metadata_value(const classic_group& group, int64_t now_ms) {
    protocol::group_metadata_value v;
    v.protocol_type = group.protocol_type().value_or("");
    v.generation = group.generation();
    v.protocol = group.protocol_name();
    v.leader = group.leader();
    v.current_state_timestamp = now_ms;
    for (const auto& [id, m] : group.members()) {
        protocol::group_metadata_value::member_metadata mm;
        mm.member_id = id;
        mm.group_instance_id = m.group_instance_id;
        mm.client_id = m.client_id;
        mm.client_host = m.client_host;
        mm.rebalance_timeout = m.rebalance_timeout_ms;
        mm.session_timeout = m.session_timeout_ms;
        if (group.protocol_name())
            if (const auto* md = m.metadata_for(*group.protocol_name())) mm.subscription = *md;
        mm.assignment = m.assignment;
        v.members.push_back(std::move(mm));
    }
    return protocol::version_prefixed_bytes(v, group_metadata_value_version);
}

group_record_key decode_group_record_key(protocol::bytes_view key) {
    group_record_key out;
    protocol::reader r(key);
    const int16_t version = r.read_int16();
    if (!r.ok()) return out;
    out.version = version;
    if (version == 0 || version == 1) {
        protocol::offset_commit_key k;
        k.decode(r, version);
        if (!r.ok()) return out;
        out.what = group_record_key::kind::offset_commit;
        out.group = std::move(k.group);
        out.topic = std::move(k.topic);
        out.partition = protocol::partition_id(k.partition);
    } else if (version == 2) {
        protocol::group_metadata_key k;
        k.decode(r, version);
        if (!r.ok()) return out;
        out.what = group_record_key::kind::group_metadata;
        out.group = std::move(k.group);
    } else if (version == consumer_group_metadata_key_version || version == consumer_group_partition_metadata_key_version ||
               version == consumer_group_target_metadata_key_version) {
        // These three keys have the same layout: the group id alone.
        protocol::consumer_group_metadata_key k;
        k.decode(r, consumer_group_metadata_key_version);
        if (!r.ok()) return out;
        out.what = group_record_key::kind::consumer_group;
        out.group = std::move(k.group_id);
    } else if (version == consumer_group_member_metadata_key_version || version == consumer_group_target_member_key_version ||
               version == consumer_group_current_assignment_key_version) {
        // And these three: the group id and the member id.
        protocol::consumer_group_member_metadata_key k;
        k.decode(r, consumer_group_member_metadata_key_version);
        if (!r.ok()) return out;
        out.what = group_record_key::kind::consumer_group;
        out.group = std::move(k.group_id);
        out.member = std::move(k.member_id);
    } else if (version > 2) {
        out.what = group_record_key::kind::other;
    }
    return out;
}

std::optional<committed_offset> decode_offset_commit_value(protocol::bytes_view value) {
    protocol::reader r(value);
    const int16_t version = r.read_int16();
    if (!r.ok() || version < 0) return std::nullopt;
    protocol::offset_commit_value v;
    // Newer versions only add tagged or trailing fields; read them at the newest we know.
    v.decode(r, std::min(version, protocol::offset_commit_value::max_version));
    if (!r.ok()) return std::nullopt;
    committed_offset out;
    out.offset = protocol::offset(v.offset);
    out.leader_epoch = protocol::leader_epoch(v.leader_epoch);
    out.metadata = std::move(v.metadata);
    out.commit_timestamp_ms = v.commit_timestamp;
    if (version == 1 && v.expire_timestamp >= 0) out.expire_timestamp_ms = v.expire_timestamp;
    return out;
}

std::optional<protocol::group_metadata_value> decode_group_metadata_value(protocol::bytes_view value) {
    protocol::reader r(value);
    const int16_t version = r.read_int16();
    if (!r.ok() || version < 0) return std::nullopt;
    protocol::group_metadata_value v;
    v.decode(r, std::min(version, protocol::group_metadata_value::max_version));
    if (!r.ok()) return std::nullopt;
    return v;
}

} // namespace samsa::broker
