#include "broker/groups/embedded_consumer_protocol.h"

#include <algorithm>

namespace samsa::broker {

std::optional<embedded_subscription> decode_embedded_subscription(std::span<const uint8_t> bytes) {
    if (bytes.size() < 2) return std::nullopt;
    protocol::reader r(protocol::bytes_view(bytes.data(), bytes.size()));
    embedded_subscription out;
    out.version = r.read_int16();
    if (!r.ok() || out.version < 0) return std::nullopt;
    // Later versions only add fields at the end: read what this broker knows.
    out.value.decode(r, std::min<int16_t>(out.version, protocol::consumer_protocol_subscription::max_version));
    if (!r.ok()) return std::nullopt;
    return out;
}

std::optional<protocol::consumer_protocol_assignment> decode_embedded_assignment(std::span<const uint8_t> bytes) {
    protocol::consumer_protocol_assignment out;
    if (bytes.empty()) return out;
    protocol::reader r(protocol::bytes_view(bytes.data(), bytes.size()));
    const int16_t version = r.read_int16();
    if (!r.ok() || version < 0) return std::nullopt;
    out.decode(r, std::min<int16_t>(version, protocol::consumer_protocol_assignment::max_version));
    if (!r.ok()) return std::nullopt;
    return out;
}

std::vector<uint8_t> encode_embedded_assignment(const topic_partitions& partitions, const topic_source& topics,
                                                int16_t version) {
    version = std::clamp<int16_t>(version, 0, protocol::consumer_protocol_assignment::max_version);
    protocol::consumer_protocol_assignment a;
    for (const auto& [id, parts] : partitions) {
        const auto t = topics.by_id(id);
        if (!t || parts.empty()) continue;
        protocol::consumer_protocol_assignment::topic_partition tp;
        tp.topic = t->name;
        tp.partitions = raw_partitions(parts);
        a.assigned_partitions.push_back(std::move(tp));
    }
    return protocol::version_prefixed_bytes(a, version);
}

} // namespace samsa::broker
