#include "protocol/record_batch.h"

#include "protocol/crc32c.h"

namespace samsa::protocol::batch {

std::optional<header_view> header_view::parse(std::span<const uint8_t> in, decode_status* why) noexcept {
    auto refuse = [why](decode_status s) -> std::optional<header_view> {
        if (why) *why = s;
        return std::nullopt;
    };
    if (in.size() < header_size) return refuse(decode_status::truncated);
    header_view v(in.data());
    int32_t len = v.batch_length();
    if (len < static_cast<int32_t>(header_size - log_overhead)) return refuse(decode_status::corrupt);
    if (v.total_size() > in.size()) return refuse(decode_status::truncated);
    if (v.magic() != 2) return refuse(decode_status::corrupt);
    if (why) *why = decode_status::ok;
    return v;
}

bool header_view::crc_ok() const noexcept {
    return crc32c({p_ + attributes_at, total_size() - attributes_at}) == crc();
}

void recompute_crc(std::span<uint8_t> batch) noexcept {
    store_be32(batch.data() + crc_at, crc32c(batch.subspan(attributes_at)));
}

void set_max_timestamp_and_recrc(std::span<uint8_t> batch, int64_t max_timestamp, bool log_append_time) noexcept {
    store_be64(batch.data() + max_timestamp_at, static_cast<uint64_t>(max_timestamp));
    uint16_t attrs = load_be16(batch.data() + attributes_at);
    attrs = log_append_time ? static_cast<uint16_t>(attrs | timestamp_type_mask)
                            : static_cast<uint16_t>(attrs & ~timestamp_type_mask);
    batch[attributes_at] = static_cast<uint8_t>(attrs >> 8);
    batch[attributes_at + 1] = static_cast<uint8_t>(attrs);
    recompute_crc(batch);
}

} // namespace samsa::protocol::batch
