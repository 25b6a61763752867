#include "broker/admin/topic_compression.h"

#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::batch::compression;

std::optional<compression> codec_named(std::string_view name) {
    if (name == "uncompressed") return compression::none;
    if (name == "gzip") return compression::gzip;
    if (name == "snappy") return compression::snappy;
    if (name == "lz4") return compression::lz4;
    if (name == "zstd") return compression::zstd;
    return std::nullopt;  // producer
}

recompression corrupt(std::string why) { return {error_code::corrupt_message, std::move(why), std::nullopt}; }

} // namespace

std::string topic_compression_type(const topic_info& topic, const broker_config& cfg) {
    return topic_config_value(topic.configs, "compression.type", cfg);
}

recompression recompress_for_topic(std::span<const uint8_t> batches, std::string_view compression_type) {
    const auto target = codec_named(compression_type);
    if (!target) return {};
    bool needed = false;
    for (size_t at = 0; at < batches.size();) {
        const auto h = protocol::batch::header_view::parse(batches.subspan(at));
        if (!h) return corrupt("a record batch could not be parsed for recompression");
        needed = needed || h->codec() != *target;
        at += h->total_size();
    }
    if (!needed) return {};

    std::vector<uint8_t> out;
    out.reserve(batches.size());
    for (size_t at = 0; at < batches.size();) {
        const auto h = *protocol::batch::header_view::parse(batches.subspan(at));
        const auto bytes = h.bytes();
        at += bytes.size();
        if (h.codec() == *target) {
            out.insert(out.end(), bytes.begin(), bytes.end());
            continue;
        }
        protocol::batch_options o = protocol::batch_options_of(h);
        o.codec = *target;
        protocol::record_batch_builder builder(o);
        protocol::record_reader reader(protocol::bytes_view(bytes.data(), bytes.size()));
        protocol::record r;
        std::vector<protocol::record_header> headers;
        while (reader.next(r)) {
            headers.assign(r.headers.begin(), r.headers.end());
            if (!builder.append(r.offset_delta, {r.key, r.value, headers, r.timestamp}))
                return corrupt("record offsets in a batch are not increasing");
        }
        if (!reader.ok()) return corrupt("a record batch could not be read for recompression");
        auto built = builder.build();
        if (built.status != protocol::codec_status::ok) return {error_code::unknown_server_error, "recompression failed", std::nullopt};
        out.insert(out.end(), built.bytes.begin(), built.bytes.end());
    }
    return {error_code::none, {}, std::move(out)};
}

} // namespace samsa::broker
