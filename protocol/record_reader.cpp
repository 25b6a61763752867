#include "protocol/record_reader.h"

namespace samsa::protocol {
namespace {

// attributes(1) timestamp_delta(1) offset_delta(1) key_length(1) value_length(1) header_count(1)
constexpr size_t min_record_body = 6;
// key_length(1) value_length(1)
constexpr size_t min_header_size = 2;

} // namespace

record_reader::record_reader(bytes_view batch, const record_reader_options& options) {
    decode_status why = decode_status::ok;
    header_ = batch::header_view::parse(batch, &why);
    if (!header_) {
        fail(why);
        return;
    }
    if (options.verify_crc && !header_->crc_ok()) {
        fail(decode_status::corrupt);
        return;
    }
    if (header_->record_count() < 0) {
        fail(decode_status::negative_length);
        return;
    }
    left_ = header_->record_count();
    rest_ = header_->records_bytes();

    auto codec = codec_from_attributes(header_->attributes());
    if (!codec) {
        codec_ = codec_status::unsupported_codec;
        fail(decode_status::bad_value);
        return;
    }
    if (*codec == compression::none) return;
    codec_ = decompress(*codec, rest_, options.max_decompressed_bytes, decompressed_);
    if (codec_ != codec_status::ok) {
        fail(codec_ == codec_status::too_large ? decode_status::frame_too_large : decode_status::corrupt);
        return;
    }
    rest_ = decompressed_;
}

void record_reader::fail(decode_status s) noexcept {
    if (status_ == decode_status::ok) status_ = s;
    rest_ = {};
    left_ = 0;
}

bool record_reader::next(record& out) noexcept {
    if (!ok()) return false;
    if (left_ == 0) {
        if (!rest_.empty()) fail(decode_status::trailing_bytes);
        return false;
    }
    reader in(rest_);
    int32_t len = in.read_varint();
    if (!in.ok()) {
        fail(in.status());
        return false;
    }
    if (len < 0) {
        fail(decode_status::negative_length);
        return false;
    }
    if (static_cast<size_t>(len) > in.remaining()) {
        fail(decode_status::truncated);
        return false;
    }
    if (static_cast<size_t>(len) < min_record_body) {
        fail(decode_status::truncated);
        return false;
    }
    bytes_view body = in.read_raw(static_cast<size_t>(len));

    reader r(body);
    out.attributes = r.read_int8();
    out.timestamp_delta = r.read_varlong();
    out.offset_delta = r.read_varint();
    if (!r.read_nullable_view(r.read_varint(), out.key) || !r.read_nullable_view(r.read_varint(), out.value)) {
        fail(r.status());
        return false;
    }
    int32_t header_count = r.read_varint();
    if (!r.ok()) {
        fail(r.status());
        return false;
    }
    if (header_count < 0) {
        fail(decode_status::negative_length);
        return false;
    }
    if (static_cast<size_t>(header_count) > r.remaining() / min_header_size) {
        fail(decode_status::length_too_large);
        return false;
    }
    bytes_view headers_start = r.rest();
    record_header h;
    for (int32_t i = 0; i < header_count; ++i) {
        if (!read_record_header(r, h)) {
            fail(r.status());
            return false;
        }
    }
    if (r.remaining() != 0) {
        // Kafka: "Invalid record size: expected to read N bytes in record payload, but instead read M".
        fail(decode_status::trailing_bytes);
        return false;
    }
    out.headers = header_list(headers_start.first(headers_start.size() - r.remaining()), header_count);

    const auto& h0 = *header_;
    out.offset = wrapping_add(h0.base_offset(), out.offset_delta);
    out.timestamp = h0.log_append_time() ? h0.max_timestamp() : wrapping_add(h0.base_timestamp(), out.timestamp_delta);
    rest_ = in.rest();
    --left_;
    ++read_;
    return true;
}

} // namespace samsa::protocol
