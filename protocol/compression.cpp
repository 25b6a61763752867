#include "protocol/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <span>

namespace samsa::protocol {

std::string_view to_string(codec_status s) noexcept {
    switch (s) {
    case codec_status::ok: return "ok";
    case codec_status::corrupt: return "corrupt compressed data";
    case codec_status::too_large: return "decompressed data exceeds the limit";
    case codec_status::unsupported_codec: return "unsupported compression codec";
    }
    return "unknown";
}

std::optional<compression> codec_from_attributes(uint16_t attributes) noexcept {
    auto c = attributes & batch::compression_mask;
    if (c > static_cast<int>(compression::zstd)) return std::nullopt;
    return static_cast<compression>(c);
}

namespace {

// The decompressed bytes of one call, appended to the caller's vector and held to `limit`.
// space() offers room for one byte past the limit so that a stream which does not end there
// is caught: produced() > limit means the output was too large.
class bounded_output {
public:
    bounded_output(std::vector<uint8_t>& out, size_t limit) : out_(out), start_(out.size()), limit_(limit) {}
    bounded_output(const bounded_output&) = delete;
    bounded_output& operator=(const bounded_output&) = delete;

    // Writable room after the produced bytes: grows geometrically, never past limit + 1.
    std::span<uint8_t> space() {
        size_t allowed = limit_ - produced_ + 1;  // produced_ <= limit_ whenever this is called
        size_t have = out_.size() - start_ - produced_;
        if (have == 0) {
            have = std::min(allowed, std::max<size_t>(produced_, 16 * 1024));
            out_.resize(out_.size() + have);
        }
        return {out_.data() + start_ + produced_, std::min(have, allowed)};
    }
    // Exactly n writable bytes, or an empty span when n would pass the limit.
    std::span<uint8_t> exact(size_t n) {
        if (n > limit_ - produced_) return {};
        if (out_.size() < start_ + produced_ + n) out_.resize(start_ + produced_ + n);
        return {out_.data() + start_ + produced_, n};
    }
    void commit(size_t n) noexcept { produced_ += n; }
    [[nodiscard]] bool over() const noexcept { return produced_ > limit_; }
    [[nodiscard]] codec_status finish(codec_status s) {
        out_.resize(s == codec_status::ok ? start_ + produced_ : start_);
        return s;
    }

private:
    std::vector<uint8_t>& out_;
    size_t start_;
    size_t limit_;
    size_t produced_ = 0;
};

uint32_t load_le32(const uint8_t* p) noexcept {
    return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Every codec here handles one batch (at most 2 GiB by its int32 length); larger inputs are
// refused before they reach the libraries' 32-bit counters.
constexpr size_t max_input = static_cast<size_t>(std::numeric_limits<int32_t>::max());

// ---- gzip -----------------------------------------------------------------------------------

constexpr int gzip_window_bits = 15 + 16;  // 32 KiB window, gzip wrapper

codec_status gzip_compress(bytes_view in, std::vector<uint8_t>& out, int level) {
    z_stream zs{};
    if (deflateInit2(&zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, gzip_window_bits, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return codec_status::corrupt;
    size_t start = out.size();
    out.resize(start + deflateBound(&zs, static_cast<uLong>(in.size())));
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = out.data() + start;
    zs.avail_out = static_cast<uInt>(out.size() - start);
    int rc = deflate(&zs, Z_FINISH);
    size_t written = out.size() - start - zs.avail_out;
    deflateEnd(&zs);
    out.resize(rc == Z_STREAM_END ? start + written : start);
    return rc == Z_STREAM_END ? codec_status::ok : codec_status::corrupt;
}

codec_status gzip_decompress(bytes_view in, bounded_output& out) {
    z_stream zs{};
    if (inflateInit2(&zs, gzip_window_bits) != Z_OK) return codec_status::corrupt;
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    for (;;) {
        auto room = out.space();
        zs.next_out = room.data();
        zs.avail_out = static_cast<uInt>(room.size());
        int rc = inflate(&zs, Z_NO_FLUSH);
        out.commit(room.size() - zs.avail_out);
        if (out.over()) return codec_status::too_large;
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0) return codec_status::ok;
            // GZIPInputStream reads concatenated members; so do we. Anything else is corrupt.
            if (inflateReset(&zs) != Z_OK) return codec_status::corrupt;
            continue;
        }
        if (rc != Z_OK) return codec_status::corrupt;  // data error, or no progress (truncated)
        if (zs.avail_in == 0 && zs.avail_out != 0) return codec_status::corrupt;  // truncated
    }
}

// ---- snappy ---------------------------------------------------------------------------------

codec_status snappy_compress(bytes_view in, std::vector<uint8_t>& out) {
    out.insert(out.end(), std::begin(xerial::magic), std::end(xerial::magic));
    for (int32_t v : {xerial::version, xerial::min_compatible_version}) {
        out.resize(out.size() + 4);
        batch::store_be32(out.data() + out.size() - 4, static_cast<uint32_t>(v));
    }
    for (size_t at = 0; at < in.size(); at += xerial::block_size) {
        size_t n = std::min(xerial::block_size, in.size() - at);
        size_t prefix = out.size();
        out.resize(prefix + 4 + snappy::MaxCompressedLength(n));
        size_t written = 0;
        snappy::RawCompress(reinterpret_cast<const char*>(in.data() + at), n,
                            reinterpret_cast<char*>(out.data() + prefix + 4), &written);
        batch::store_be32(out.data() + prefix, static_cast<uint32_t>(written));
        out.resize(prefix + 4 + written);
    }
    return codec_status::ok;
}

codec_status snappy_block(bytes_view block, bounded_output& out) {
    const auto* p = reinterpret_cast<const char*>(block.data());
    size_t n = 0;
    if (block.empty() || !snappy::GetUncompressedLength(p, block.size(), &n)) return codec_status::corrupt;
    auto room = out.exact(n);
    if (room.size() != n) return codec_status::too_large;
    if (!snappy::RawUncompress(p, block.size(), reinterpret_cast<char*>(room.data()))) return codec_status::corrupt;
    out.commit(n);
    return codec_status::ok;
}

codec_status snappy_decompress(bytes_view in, bounded_output& out) {
    // snappy-java decides by the first 16 bytes: its magic means framed, anything else raw.
    if (in.size() < xerial::header_size || std::memcmp(in.data(), xerial::magic, sizeof xerial::magic) != 0)
        return snappy_block(in, out);
    auto version = static_cast<int32_t>(batch::load_be32(in.data() + 8));
    if (version < xerial::min_compatible_version) return codec_status::corrupt;
    size_t at = xerial::header_size;
    while (at < in.size()) {
        if (in.size() - at < 4) return codec_status::corrupt;
        auto len = static_cast<int32_t>(batch::load_be32(in.data() + at));
        at += 4;
        if (len <= 0 || static_cast<size_t>(len) > in.size() - at) return codec_status::corrupt;
        if (auto s = snappy_block(in.subspan(at, static_cast<size_t>(len)), out); s != codec_status::ok) return s;
        at += static_cast<size_t>(len);
    }
    return codec_status::ok;
}

// ---- lz4 ------------------------------------------------------------------------------------

codec_status lz4_compress(bytes_view in, std::vector<uint8_t>& out, int level, bool legacy_checksum) {
    LZ4F_preferences_t prefs;
    std::memset(&prefs, 0, sizeof prefs);
    // What KafkaLZ4BlockOutputStream writes: 64 KiB independent blocks, no checksums, no size.
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.compressionLevel = level;
    size_t start = out.size();
    out.resize(start + LZ4F_compressFrameBound(in.size(), &prefs));
    size_t n = LZ4F_compressFrame(out.data() + start, out.size() - start, in.data(), in.size(), &prefs);
    if (LZ4F_isError(n) || n < 7) {
        out.resize(start);
        return codec_status::corrupt;
    }
    out.resize(start + n);
    if (legacy_checksum) {
        // Header is magic(4) FLG BD HC: no content size was requested.
        uint8_t* h = out.data() + start;
        h[6] = static_cast<uint8_t>(XXH32(h, 6, 0) >> 8);
    }
    return codec_status::ok;
}

codec_status lz4_decompress(bytes_view in, bounded_output& out, bool ignore_header_checksum) {
    if (in.size() < 7 || load_le32(in.data()) != lz4::frame_magic) return codec_status::corrupt;
    uint8_t flg = in[4];
    uint8_t bd = in[5];
    // Kafka's reader accepts only version 01, no dictionary id, independent blocks, and a
    // block maximum of 64 KiB..4 MiB with reserved bits clear; it refuses everything else.
    if ((flg & 0xC0) != lz4::flg_version || (flg & 0x03) != 0 || (flg & lz4::flg_block_independence) == 0)
        return codec_status::corrupt;
    if ((bd & 0x8F) != 0 || ((bd >> 4) & 0x07) < 4) return codec_status::corrupt;
    size_t header_len = 7 + ((flg & lz4::flg_content_size) ? 8 : 0);
    if (in.size() < header_len) return codec_status::corrupt;

    // The header goes through a copy so that an old client's checksum can be repaired without
    // touching the caller's bytes.
    uint8_t header[15];
    std::memcpy(header, in.data(), header_len);
    if (ignore_header_checksum)
        header[header_len - 1] = static_cast<uint8_t>(XXH32(header + 4, header_len - 5, 0) >> 8);

    LZ4F_dctx* dctx = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return codec_status::corrupt;
    std::unique_ptr<LZ4F_dctx, size_t (*)(LZ4F_dctx*)> guard(dctx, LZ4F_freeDecompressionContext);

    bytes_view pieces[2] = {{header, header_len}, in.subspan(header_len)};
    size_t piece = 0;
    for (;;) {
        while (piece < 2 && pieces[piece].empty()) ++piece;
        const uint8_t* src = piece < 2 ? pieces[piece].data() : nullptr;
        size_t src_size = piece < 2 ? pieces[piece].size() : 0;
        auto room = out.space();
        size_t dst_size = room.size();
        size_t hint = LZ4F_decompress(dctx, room.data(), &dst_size, src, &src_size, nullptr);
        if (LZ4F_isError(hint)) return codec_status::corrupt;
        out.commit(dst_size);
        if (out.over()) return codec_status::too_large;
        if (piece < 2) pieces[piece] = pieces[piece].subspan(src_size);
        if (hint == 0) {
            // One frame, as Kafka writes and reads it; bytes after it are not ours to guess at.
            bool rest = !pieces[0].empty() || !pieces[1].empty();
            return rest ? codec_status::corrupt : codec_status::ok;
        }
        if (src_size == 0 && dst_size == 0) return codec_status::corrupt;  // truncated frame
    }
}

// ---- zstd -----------------------------------------------------------------------------------

codec_status zstd_compress(bytes_view in, std::vector<uint8_t>& out, int level) {
    size_t start = out.size();
    out.resize(start + ZSTD_compressBound(in.size()));
    size_t n = ZSTD_compress(out.data() + start, out.size() - start, in.data(), in.size(),
                             level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
    if (ZSTD_isError(n)) {
        out.resize(start);
        return codec_status::corrupt;
    }
    out.resize(start + n);
    return codec_status::ok;
}

codec_status zstd_decompress(bytes_view in, bounded_output& out) {
    if (in.empty()) return codec_status::corrupt;
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!dctx) return codec_status::corrupt;
    ZSTD_inBuffer src{in.data(), in.size(), 0};
    for (;;) {
        auto room = out.space();
        ZSTD_outBuffer dst{room.data(), room.size(), 0};
        size_t before = src.pos;
        size_t hint = ZSTD_decompressStream(dctx.get(), &dst, &src);
        if (ZSTD_isError(hint)) return codec_status::corrupt;
        out.commit(dst.pos);
        if (out.over()) return codec_status::too_large;
        if (hint == 0 && src.pos == src.size) return codec_status::ok;  // last frame complete
        if (src.pos == src.size && dst.pos < dst.size) return codec_status::corrupt;  // truncated
        if (src.pos == before && dst.pos == 0) return codec_status::corrupt;
    }
}

} // namespace

codec_status compress(compression codec, bytes_view in, std::vector<uint8_t>& out, const compress_options& options) {
    if (in.size() > max_input) return codec_status::corrupt;
    switch (codec) {
    case compression::gzip: return gzip_compress(in, out, options.level);
    case compression::snappy: return snappy_compress(in, out);
    case compression::lz4: return lz4_compress(in, out, options.level, options.lz4_legacy_header_checksum);
    case compression::zstd: return zstd_compress(in, out, options.level);
    case compression::none: break;
    }
    return codec_status::unsupported_codec;
}

codec_status decompress(compression codec, bytes_view in, size_t max_output, std::vector<uint8_t>& out,
                        const decompress_options& options) {
    if (in.size() > max_input) return codec_status::corrupt;
    if (max_output == std::numeric_limits<size_t>::max()) --max_output;  // keeps limit + 1 finite
    bounded_output bounded(out, max_output);
    switch (codec) {
    case compression::gzip: return bounded.finish(gzip_decompress(in, bounded));
    case compression::snappy: return bounded.finish(snappy_decompress(in, bounded));
    case compression::lz4: return bounded.finish(lz4_decompress(in, bounded, options.lz4_ignore_header_checksum));
    case compression::zstd: return bounded.finish(zstd_decompress(in, bounded));
    case compression::none: break;
    }
    return codec_status::unsupported_codec;
}

} // namespace samsa::protocol
