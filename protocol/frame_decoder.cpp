#include "protocol/frame_decoder.h"

namespace samsa::protocol {

namespace {
constexpr int16_t controlled_shutdown_key = 7;
constexpr int16_t api_versions_key = 18;
} // namespace

frame_result next_frame(bytes_view buffered, int32_t max_frame_bytes) noexcept {
    frame_result res;
    if (buffered.size() < 4) return res;
    reader r(buffered.first(4));
    const int32_t size = r.read_int32();
    res.frame_size = size;
    if (size < 0) {
        res.status = frame_status::negative_size;
        return res;
    }
    if (size > max_frame_bytes) {
        res.status = frame_status::too_large;
        return res;
    }
    if (buffered.size() - 4 < static_cast<size_t>(size)) return res;
    res.status = frame_status::complete;
    res.consumed = 4 + static_cast<size_t>(size);
    res.frame = buffered.subspan(4, static_cast<size_t>(size));
    return res;
}

int16_t request_header_version(int16_t api_key, int16_t api_version) noexcept {
    const api_info* api = find_api(api_key);
    if (api == nullptr) return 1;
    if (api_key == controlled_shutdown_key && api_version == 0) return 0;
    return api->is_flexible(api_version) ? 2 : 1;
}

int16_t response_header_version(int16_t api_key, int16_t api_version) noexcept {
    if (api_key == api_versions_key) return 0;
    const api_info* api = find_api(api_key);
    if (api == nullptr) return 0;
    return api->is_flexible(api_version) ? 1 : 0;
}

parsed_request parse_request_header(bytes_view frame) noexcept {
    parsed_request out;
    reader r(frame);
    auto& h = out.header;
    h.api_key = r.read_int16();
    h.api_version = r.read_int16();
    h.correlation_id = r.read_int32();
    if (!r.ok()) {
        out.status = r.status();
        return out;
    }
    h.api = find_api(h.api_key);
    h.version_supported = h.api != nullptr && h.api->supports(h.api_version);
    h.header_version = request_header_version(h.api_key, h.api_version);
    if (h.header_version >= 1) {
        // The client id is a classic (non-compact) nullable string even in header v2.
        const int16_t len = r.read_int16();
        if (len >= 0) {
            auto raw = r.read_raw(static_cast<size_t>(len));
            if (r.ok()) h.client_id = std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size());
        } else if (len < -1) {
            r.fail(decode_status::negative_length);
        }
    }
    if (h.header_version >= 2) {
        const uint32_t tags = r.read_uvarint();
        for (uint32_t i = 0; i < tags && r.ok(); ++i) {
            (void)r.read_uvarint();
            r.skip(r.read_uvarint());
        }
    }
    if (!r.ok()) {
        out.status = r.status();
        return out;
    }
    out.body = r.rest();
    if (h.api == nullptr) {
        out.status = decode_status::unknown_api;
    } else if (!h.version_supported) {
        out.status = decode_status::unsupported_version;
    }
    return out;
}

void write_response_header(writer& w, int16_t api_key, int16_t api_version, int32_t correlation_id) {
    w.write_int32(correlation_id);
    if (response_header_version(api_key, api_version) >= 1) w.write_uvarint(0);
}

void encode_error_response_frame(output_buffer& out, const api_info& api, int16_t request_version,
                                 int32_t correlation_id, int16_t error) {
    const int16_t body_version = request_version < api.min_version   ? api.min_version
                                 : request_version > api.max_version ? api.max_version
                                                                     : request_version;
    writer w(out);
    const size_t start = w.position();
    w.write_int32(0);
    write_response_header(w, api.key, request_version, correlation_id);
    api.encode_error_body(w, body_version, error);
    w.patch_int32(start, static_cast<int32_t>(out.size() - start - 4));
}

} // namespace samsa::protocol
