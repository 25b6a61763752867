#include "broker/produce/produce_records.h"

#include "protocol/legacy_message_set.h"
#include "protocol/record_batch.h"

namespace samsa::broker {

using protocol::error_code;
namespace batch = protocol::batch;

namespace {

produce_records fail(error_code e, std::string why) {
    produce_records r;
    r.error = e;
    r.message = std::move(why);
    return r;
}

// Both layouts keep the magic byte at offset 16: after offset, size and CRC in a legacy entry,
// after base offset, length and leader epoch in a v2 batch.
constexpr size_t magic_at = 16;
static_assert(batch::magic_at == magic_at);
static_assert(protocol::legacy::log_overhead + protocol::legacy::magic_at == magic_at);

} // namespace

produce_records prepare_produce_records(int16_t version, const protocol::records& records) {
    const protocol::bytes_view in = records.bytes();
    if (records.is_null() || in.empty()) {
        if (version >= 3)
            return fail(error_code::invalid_record,
                        "Produce requests with version " + std::to_string(version) +
                            " must have at least one record batch per partition");
        return {};
    }
    if (in.size() <= magic_at) return fail(error_code::corrupt_message, "the record set is shorter than a batch header");
    const auto magic = static_cast<int8_t>(in[magic_at]);

    if (magic == 2) {
        protocol::decode_status why = protocol::decode_status::ok;
        const auto h = batch::header_view::parse(in, &why);
        if (!h) return fail(error_code::corrupt_message, "malformed record batch (" + std::string(protocol::to_string(why)) + ")");
        if (version >= 3 && h->total_size() != in.size())
            return fail(error_code::invalid_record, "Produce requests with version " + std::to_string(version) +
                                                        " are only allowed to contain exactly one record batch per partition");
        if (version >= 3 && version < 7 && h->codec() == batch::compression::zstd)
            return fail(error_code::unsupported_compression_type,
                        "Produce requests with version " + std::to_string(version) + " are not allowed to use ZStandard compression");
        produce_records out;
        // The frame is the connection's input buffer, lent for this call: the log patches the
        // batch's base offset and leader epoch in place instead of copying it.
        out.borrowed = std::span<uint8_t>(const_cast<uint8_t*>(in.data()), in.size());
        return out;
    }
    if (version >= 3)
        return fail(error_code::invalid_record, "Produce requests with version " + std::to_string(version) +
                                                    " are only allowed to contain record batches with magic version 2");
    if (magic != 0 && magic != 1) return fail(error_code::corrupt_message, "unknown message format magic " + std::to_string(magic));

    protocol::conversion_result c = protocol::legacy_to_v2(in, std::nullopt);
    if (c.codec == protocol::codec_status::too_large || c.status == protocol::decode_status::frame_too_large)
        return fail(error_code::message_too_large, "the decompressed message set is too large");
    if (c.codec == protocol::codec_status::unsupported_codec)
        return fail(error_code::unsupported_compression_type, "the message set uses a codec its format cannot carry");
    if (!c.ok())
        return fail(error_code::corrupt_message,
                    "malformed message set (" + std::string(c.status != protocol::decode_status::ok ? protocol::to_string(c.status)
                                                                                              : protocol::to_string(c.codec)) +
                        ")");
    produce_records out;
    out.converted = std::move(c.bytes);
    return out;
}

} // namespace samsa::broker
