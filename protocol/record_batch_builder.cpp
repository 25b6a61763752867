#include "protocol/record_batch_builder.h"

#include <algorithm>
#include <cstring>

namespace samsa::protocol {
namespace {

int64_t wrapping_sub(int64_t a, int64_t b) noexcept {
    return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

size_t nullable_size(const std::optional<bytes_view>& b) noexcept {
    return b ? varint_size(static_cast<int32_t>(b->size())) + b->size() : varint_size(-1);
}

void write_nullable(writer& w, const std::optional<bytes_view>& b) {
    if (!b) {
        w.write_varint(-1);
        return;
    }
    w.write_varint(static_cast<int32_t>(b->size()));
    w.write_raw(*b);
}

} // namespace

record_batch_builder::record_batch_builder(const batch_options& options) : options_(options) {}

void record_batch_builder::append(const record_input& r) { (void)append(last_offset_delta_ + 1, r); }

bool record_batch_builder::append(int32_t offset_delta, const record_input& r) {
    if (offset_delta <= last_offset_delta_) return false;
    if (count_ == 0) {
        base_timestamp_ = options_.delete_horizon_ms.value_or(r.timestamp);
        max_timestamp_ = r.timestamp;
    }
    max_timestamp_ = std::max(max_timestamp_, r.timestamp);
    int64_t timestamp_delta = wrapping_sub(r.timestamp, base_timestamp_);

    size_t body = 1 + varlong_size(timestamp_delta) + varint_size(offset_delta) + nullable_size(r.key) +
                  nullable_size(r.value) + varint_size(static_cast<int32_t>(r.headers.size()));
    for (const auto& h : r.headers)
        body += varint_size(static_cast<int32_t>(h.key.size())) + h.key.size() + nullable_size(h.value);

    writer w(records_);
    w.write_varint(static_cast<int32_t>(body));
    w.write_int8(0);  // record attributes: none defined
    w.write_varlong(timestamp_delta);
    w.write_varint(offset_delta);
    write_nullable(w, r.key);
    write_nullable(w, r.value);
    w.write_varint(static_cast<int32_t>(r.headers.size()));
    for (const auto& h : r.headers) {
        w.write_varint(static_cast<int32_t>(h.key.size()));
        w.write_raw({reinterpret_cast<const uint8_t*>(h.key.data()), h.key.size()});
        write_nullable(w, h.value);
    }
    last_offset_delta_ = offset_delta;
    ++count_;
    return true;
}

built_batch record_batch_builder::build() const {
    built_batch out;
    if (count_ == 0) return out;

    auto& b = out.bytes;
    const auto& records = records_.bytes;
    if (options_.codec == compression::none) {
        b.resize(batch::header_size + records.size());
        std::memcpy(b.data() + batch::header_size, records.data(), records.size());
    } else {
        b.resize(batch::header_size);
        out.status = compress(options_.codec, records, b, options_.compression_options);
        if (out.status != codec_status::ok) {
            b.clear();
            return out;
        }
    }

    uint16_t attributes = static_cast<uint16_t>(options_.codec);
    if (options_.log_append_time) attributes |= batch::timestamp_type_mask;
    if (options_.transactional) attributes |= batch::transactional_flag;
    if (options_.control) attributes |= batch::control_flag;
    if (options_.delete_horizon_ms) attributes |= batch::delete_horizon_flag;

    uint8_t* p = b.data();
    batch::store_be64(p + batch::base_offset_at, static_cast<uint64_t>(options_.base_offset));
    batch::store_be32(p + batch::length_at, static_cast<uint32_t>(b.size() - batch::log_overhead));
    batch::store_be32(p + batch::leader_epoch_at, static_cast<uint32_t>(options_.partition_leader_epoch));
    p[batch::magic_at] = 2;
    p[batch::attributes_at] = static_cast<uint8_t>(attributes >> 8);
    p[batch::attributes_at + 1] = static_cast<uint8_t>(attributes);
    batch::store_be32(p + batch::last_offset_delta_at, static_cast<uint32_t>(last_offset_delta_));
    batch::store_be64(p + batch::base_timestamp_at, static_cast<uint64_t>(base_timestamp_));
    batch::store_be64(p + batch::max_timestamp_at, static_cast<uint64_t>(max_timestamp_));
    batch::store_be64(p + batch::producer_id_at, static_cast<uint64_t>(options_.producer_id));
    p[batch::producer_epoch_at] = static_cast<uint8_t>(static_cast<uint16_t>(options_.producer_epoch) >> 8);
    p[batch::producer_epoch_at + 1] = static_cast<uint8_t>(options_.producer_epoch);
    batch::store_be32(p + batch::base_sequence_at, static_cast<uint32_t>(options_.base_sequence));
    batch::store_be32(p + batch::record_count_at, static_cast<uint32_t>(count_));
    batch::recompute_crc(b);
    return out;
}

// ---- control records ------------------------------------------------------------------------

built_batch build_control_batch(batch_options options, control_marker marker, int64_t timestamp) {
    options.transactional = true;
    options.control = true;
    uint8_t key[control_key_size];
    uint8_t value[end_txn_marker_size];
    key[0] = static_cast<uint8_t>(static_cast<uint16_t>(control_key_version) >> 8);
    key[1] = static_cast<uint8_t>(control_key_version);
    key[2] = static_cast<uint8_t>(static_cast<uint16_t>(marker.type) >> 8);
    key[3] = static_cast<uint8_t>(marker.type);
    value[0] = static_cast<uint8_t>(static_cast<uint16_t>(end_txn_marker_version) >> 8);
    value[1] = static_cast<uint8_t>(end_txn_marker_version);
    batch::store_be32(value + 2, static_cast<uint32_t>(marker.coordinator_epoch));

    record_batch_builder builder(options);
    builder.append({.key = bytes_view{key}, .value = bytes_view{value}, .headers = {}, .timestamp = timestamp});
    return builder.build();
}

std::optional<control_marker> parse_control_record(const record& r) noexcept {
    // Kafka refuses a key shorter than 4 bytes or with a negative version, and reads the type
    // from a newer version's key all the same.
    if (!r.key || r.key->size() < control_key_size) return std::nullopt;
    auto key_version = static_cast<int16_t>(batch::load_be16(r.key->data()));
    if (key_version < 0) return std::nullopt;
    control_marker m;
    m.type = static_cast<control_type>(static_cast<int16_t>(batch::load_be16(r.key->data() + 2)));
    if (m.type != control_type::abort && m.type != control_type::commit) return m;
    if (!r.value || r.value->size() < end_txn_marker_size) return std::nullopt;
    auto value_version = static_cast<int16_t>(batch::load_be16(r.value->data()));
    if (value_version < 0) return std::nullopt;
    m.coordinator_epoch = static_cast<int32_t>(batch::load_be32(r.value->data() + 2));
    return m;
}

} // namespace samsa::protocol
