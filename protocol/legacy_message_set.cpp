#include "protocol/legacy_message_set.h"

#include <zlib.h>

#include <algorithm>

namespace samsa::protocol {
namespace {

uint32_t crc32_of(bytes_view b) noexcept {
    return static_cast<uint32_t>(::crc32(0L, b.data(), static_cast<uInt>(b.size())));
}

// One entry (offset, size, message) at the front of `rest`, which advances past it. `codec` is
// the message's codec, or nullopt for a number legacy messages cannot carry (zstd and up).
decode_status parse_entry(bytes_view& rest, bool verify_crc, legacy_message& out,
                          std::optional<compression>& codec) noexcept {
    if (rest.size() < legacy::log_overhead) return decode_status::truncated;
    auto size = static_cast<int32_t>(batch::load_be32(rest.data() + legacy::size_at));
    if (size < static_cast<int32_t>(legacy::record_overhead_v0)) return decode_status::corrupt;
    if (static_cast<size_t>(size) > rest.size() - legacy::log_overhead) return decode_status::truncated;
    bytes_view m = rest.subspan(legacy::log_overhead, static_cast<size_t>(size));

    auto magic = static_cast<int8_t>(m[legacy::magic_at]);
    if (magic != 0 && magic != 1) return decode_status::bad_value;
    if (magic == 1 && m.size() < legacy::record_overhead_v1) return decode_status::corrupt;
    if (verify_crc && crc32_of(m.subspan(legacy::magic_at)) != batch::load_be32(m.data() + legacy::crc_at))
        return decode_status::corrupt;

    out.offset = static_cast<int64_t>(batch::load_be64(rest.data() + legacy::offset_at));
    out.magic = magic;
    out.attributes = static_cast<int8_t>(m[legacy::attributes_at]);
    out.timestamp = magic == 1 ? static_cast<int64_t>(batch::load_be64(m.data() + legacy::timestamp_at)) : -1;
    out.log_append_time = magic == 1 && (out.attributes & legacy::timestamp_type_mask) != 0;
    out.wrapper_codec = compression::none;
    reader r(m.subspan(magic == 0 ? legacy::key_length_at_v0 : legacy::key_length_at_v1));
    // Legacy keys and values carry an int32 length.
    if (!r.read_nullable_view(r.read_int32(), out.key) || !r.read_nullable_view(r.read_int32(), out.value)) {
        return r.status();
    }
    if (r.remaining() != 0) return decode_status::trailing_bytes;

    codec = codec_from_attributes(static_cast<uint8_t>(out.attributes));
    if (codec == compression::zstd) codec.reset();
    rest = rest.subspan(legacy::log_overhead + static_cast<size_t>(size));
    return decode_status::ok;
}

void write_nullable_bytes32(writer& w, const std::optional<bytes_view>& b) {
    if (!b) {
        w.write_int32(-1);
        return;
    }
    w.write_int32(static_cast<int32_t>(b->size()));
    w.write_raw(*b);
}

void write_message(output_buffer& out, int64_t offset, int8_t magic, uint8_t attributes, int64_t timestamp,
                   const std::optional<bytes_view>& key, const std::optional<bytes_view>& value) {
    writer w(out);
    w.write_int64(offset);
    size_t size_at = w.position();
    w.write_int32(0);
    size_t crc_at = w.position();
    w.write_int32(0);
    w.write_int8(magic);
    w.write_int8(static_cast<int8_t>(attributes));
    if (magic == 1) w.write_int64(timestamp);
    write_nullable_bytes32(w, key);
    write_nullable_bytes32(w, value);
    size_t end = w.position();
    w.patch_int32(size_at, static_cast<int32_t>(end - crc_at));
    uint32_t crc = crc32_of({out.bytes.data() + crc_at + 4, end - crc_at - 4});
    w.patch_int32(crc_at, static_cast<int32_t>(crc));
}

} // namespace

// ---- reader ---------------------------------------------------------------------------------

legacy_message_reader::legacy_message_reader(bytes_view message_set, const legacy_reader_options& options)
    : rest_(message_set), options_(options) {}

void legacy_message_reader::fail(decode_status s) noexcept {
    if (status_ == decode_status::ok) status_ = s;
    rest_ = {};
    inner_.clear();
    inner_at_ = 0;
}

bool legacy_message_reader::next(legacy_message& out) {
    for (;;) {
        if (!ok()) return false;
        if (inner_at_ < inner_.size()) {
            out = inner_[inner_at_++];
            return true;
        }
        if (rest_.empty()) return false;
        std::optional<compression> codec;
        legacy_message m;
        if (auto s = parse_entry(rest_, options_.verify_crc, m, codec); s != decode_status::ok) {
            fail(s);
            return false;
        }
        if (!codec) {
            codec_ = codec_status::unsupported_codec;
            fail(decode_status::bad_value);
            return false;
        }
        if (*codec == compression::none) {
            out = m;
            return true;
        }
        m.wrapper_codec = *codec;
        if (!enter_wrapper(m)) return false;
    }
}

bool legacy_message_reader::enter_wrapper(const legacy_message& wrapper) {
    if (!wrapper.value) {
        fail(decode_status::corrupt);  // Kafka: "compressed record set with null value"
        return false;
    }
    auto& buf = buffers_.emplace_back();
    decompress_options dopts;
    // Kafka before 0.10 wrote the LZ4 header checksum over the wrong bytes; magic 0 readers
    // ignore it (KIP-57).
    dopts.lz4_ignore_header_checksum = wrapper.magic == 0;
    codec_ = decompress(wrapper.wrapper_codec, *wrapper.value, options_.max_decompressed_bytes - decompressed_total_,
                        buf, dopts);
    if (codec_ != codec_status::ok) {
        fail(codec_ == codec_status::too_large ? decode_status::frame_too_large : decode_status::corrupt);
        return false;
    }
    decompressed_total_ += buf.size();

    inner_.clear();
    inner_at_ = 0;
    bytes_view in = buf;
    while (!in.empty()) {
        std::optional<compression> codec;
        legacy_message m;
        if (auto s = parse_entry(in, options_.verify_crc, m, codec); s != decode_status::ok) {
            fail(s);
            return false;
        }
        // Kafka: "Inner messages must not be compressed", and their magic must be the wrapper's.
        if (codec != compression::none || m.magic != wrapper.magic) {
            fail(decode_status::corrupt);
            return false;
        }
        m.wrapper_codec = wrapper.wrapper_codec;
        inner_.push_back(m);
    }
    if (inner_.empty()) {
        fail(decode_status::corrupt);
        return false;
    }
    if (wrapper.magic == 1) {
        int64_t last_inner = inner_.back().offset;
        int64_t base = 0;
        if (wrapper.offset != 0) {
            if (wrapper.offset < last_inner) {
                fail(decode_status::corrupt);
                return false;
            }
            base = wrapper.offset - last_inner;
        }
        for (auto& m : inner_) {
            m.offset = wrapping_add(base, m.offset);
            m.log_append_time = wrapper.log_append_time;
            if (wrapper.log_append_time) m.timestamp = wrapper.timestamp;
        }
    }
    return true;
}

// ---- builder --------------------------------------------------------------------------------

legacy_message_set_builder::legacy_message_set_builder(int8_t magic, compression codec, bool log_append_time)
    : magic_(magic), codec_(codec), log_append_time_(log_append_time) {}

void legacy_message_set_builder::append(const legacy_message_input& m) { messages_.push_back(m); }

built_batch legacy_message_set_builder::build() const {
    built_batch out;
    if (messages_.empty()) return out;
    if ((magic_ != 0 && magic_ != 1) || codec_ == compression::zstd) {
        out.status = codec_status::unsupported_codec;
        return out;
    }
    auto ts_bit = static_cast<uint8_t>(magic_ == 1 && log_append_time_ ? legacy::timestamp_type_mask : 0);
    output_buffer set;
    if (codec_ == compression::none) {
        for (const auto& m : messages_) write_message(set, m.offset, magic_, ts_bit, m.timestamp, m.key, m.value);
        out.bytes = std::move(set.bytes);
        return out;
    }

    output_buffer inner;
    int64_t first = messages_.front().offset;
    int64_t max_timestamp = -1;
    for (const auto& m : messages_) {
        int64_t inner_offset = magic_ == 1 ? m.offset - first : m.offset;
        write_message(inner, inner_offset, magic_, ts_bit, m.timestamp, m.key, m.value);
        max_timestamp = std::max(max_timestamp, m.timestamp);
    }
    compress_options copts;
    copts.lz4_legacy_header_checksum = magic_ == 0;
    std::vector<uint8_t> compressed;
    out.status = compress(codec_, inner.bytes, compressed, copts);
    if (out.status != codec_status::ok) return out;
    auto attributes = static_cast<uint8_t>(static_cast<uint8_t>(codec_) | ts_bit);
    write_message(set, messages_.back().offset, magic_, attributes, max_timestamp, std::nullopt,
                  bytes_view{compressed});
    out.bytes = std::move(set.bytes);
    return out;
}

// ---- conversions ----------------------------------------------------------------------------

conversion_result legacy_to_v2(bytes_view message_set, std::optional<compression> codec,
                               const legacy_reader_options& options) {
    conversion_result result;
    legacy_message_reader in(message_set, options);
    std::optional<record_batch_builder> builder;
    legacy_message m;
    while (in.next(m)) {
        if (!builder) {
            batch_options bopts;
            bopts.codec = codec.value_or(m.wrapper_codec);
            builder.emplace(bopts);
        }
        builder->append({.key = m.key, .value = m.value, .headers = {}, .timestamp = m.magic == 0 ? -1 : m.timestamp});
    }
    if (!in.ok()) {
        result.status = in.status();
        result.codec = in.codec_error();
        return result;
    }
    if (!builder) return result;
    auto built = builder->build();
    result.codec = built.status;
    result.bytes = std::move(built.bytes);
    result.records = builder->record_count();
    return result;
}

conversion_result v2_to_legacy(bytes_view batches, int8_t magic, const record_reader_options& options) {
    conversion_result result;
    auto refuse = [&result](decode_status s, codec_status c) {
        result.status = s;
        result.codec = c;
        result.bytes.clear();
        result.records = 0;
        return std::move(result);
    };
    bytes_view rest = batches;
    while (!rest.empty()) {
        decode_status why = decode_status::ok;
        auto header = batch::header_view::parse(rest, &why);
        if (!header) return refuse(why, codec_status::ok);
        bytes_view one = header->bytes();
        rest = rest.subspan(one.size());

        record_reader records(one, options);
        if (!records.ok()) return refuse(records.status(), records.codec_error());
        if (header->is_control()) continue;  // transaction markers mean nothing to old clients
        if (header->codec() == compression::zstd) return refuse(decode_status::ok, codec_status::unsupported_codec);

        legacy_message_set_builder out(magic, header->codec(), header->log_append_time());
        record rec;
        while (records.next(rec))
            out.append({.offset = rec.offset, .timestamp = rec.timestamp, .key = rec.key, .value = rec.value});
        if (!records.ok()) return refuse(records.status(), codec_status::ok);
        auto built = out.build();
        if (built.status != codec_status::ok) return refuse(decode_status::ok, built.status);
        result.bytes.insert(result.bytes.end(), built.bytes.begin(), built.bytes.end());
        result.records += static_cast<int32_t>(out.count());
    }
    return result;
}

} // namespace samsa::protocol
