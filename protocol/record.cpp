#include "protocol/record.h"

namespace samsa::protocol {

bool read_record_header(reader& in, record_header& out) noexcept {
    int32_t key_len = in.read_varint();
    if (!in.ok()) return false;
    if (key_len < 0) {
        in.fail(decode_status::negative_length);  // Kafka: "Invalid negative header key size"
        return false;
    }
    if (static_cast<size_t>(key_len) > in.remaining()) {
        in.fail(decode_status::length_too_large);
        return false;
    }
    auto key = in.read_raw(static_cast<size_t>(key_len));
    out.key = {reinterpret_cast<const char*>(key.data()), key.size()};
    return in.read_nullable_view(in.read_varint(), out.value);
}

void header_list::iterator::load() noexcept {
    if (left_ <= 0) {
        left_ = 0;
        return;
    }
    reader in(rest_);
    if (!read_record_header(in, current_)) {
        left_ = 0;  // unreachable for validated bytes; ends the iteration rather than misread
        return;
    }
    rest_ = in.rest();
}

} // namespace samsa::protocol
