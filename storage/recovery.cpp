#include "storage/recovery.h"

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "storage/file_handle.h"
#include "storage/leader_epoch_cache.h"
#include "storage/sequential_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace samsa::storage {

namespace batch = protocol::batch;

std::string_view to_string(scan_stop s) noexcept {
    switch (s) {
    case scan_stop::end_of_file: return "end of file";
    case scan_stop::torn: return "the file ends inside a batch";
    case scan_stop::bad_length: return "invalid batch length";
    case scan_stop::bad_magic: return "invalid magic";
    case scan_stop::bad_crc: return "CRC mismatch";
    case scan_stop::bad_offsets: return "offsets out of order";
    case scan_stop::io_error: return "I/O error";
    }
    return "unknown";
}

namespace {

// The bytes of [from, end) of a file, taken front to back: a batch is checked in place when it
// lies within one chunk of the reader, and in pieces (its header copied out) when it straddles two.
class batch_stream {
public:
    batch_stream(const file_handle& file, uint64_t from, uint64_t end) : reader_(file, from, end), chunk_at_(from) {}

    // The `n` bytes at `pos`, in place when they lie in one chunk, else copied to `copy`; null
    // when the file ended first or could not be read. `pos` never goes back.
    const uint8_t* view(uint64_t pos, size_t n, uint8_t* copy) {
        if (!reach(pos)) return nullptr;
        if (pos + n <= chunk_end()) return chunk_.data() + (pos - chunk_at_);
        size_t done = 0;
        bool ok = take(pos, n, [&](const uint8_t* p, size_t len) {
            std::memcpy(copy + done, p, len);
            done += len;
        });
        return ok ? copy : nullptr;
    }
    // Whether [pos, pos + n) lies in the current chunk (`pos` reached).
    [[nodiscard]] bool in_chunk(uint64_t pos, uint64_t n) const noexcept {
        return pos >= chunk_at_ && pos + n <= chunk_end();
    }
    // Feeds [pos, pos + n) to `piece` chunk by chunk; false when the file ended first.
    template <class F>
    bool take(uint64_t pos, uint64_t n, F&& piece) {
        while (n > 0) {
            if (!reach(pos)) return false;
            const size_t len = static_cast<size_t>(std::min<uint64_t>(n, chunk_end() - pos));
            piece(chunk_.data() + (pos - chunk_at_), len);
            pos += len;
            n -= len;
        }
        return true;
    }
    [[nodiscard]] int error() const noexcept { return reader_.error(); }

private:
    [[nodiscard]] uint64_t chunk_end() const noexcept { return chunk_at_ + chunk_.size(); }
    bool reach(uint64_t pos) {
        while (pos >= chunk_end()) {
            chunk_ = reader_.next();
            chunk_at_ = reader_.chunk_position();
            if (chunk_.empty()) return false;
        }
        return true;
    }

    sequential_reader reader_;
    std::span<const uint8_t> chunk_;
    uint64_t chunk_at_;
};

} // namespace

scan_result scan_log_file(const file_handle& file, uint64_t file_size, uint32_t from, protocol::offset base_offset,
                          protocol::offset min_offset, const std::function<void(const batch_location&)>& visit) {
    scan_result r;
    r.valid_bytes = from;
    if (file_size <= from) return r;
    // Large reads into reused buffers, the next ones read by a helper thread while this one
    // checks: a cold segment comes in at the disk's sequential pace (faulting a mapping in page
    // by page was several times slower here, docs/storage.md).
    batch_stream in(file, from, file_size);
    // A file shorter than `file_size` (or unreadable) ends the scan like a torn write (or an
    // I/O error).
    auto cut_short = [&] {
        r.stop = in.error() != 0 ? scan_stop::io_error : scan_stop::torn;
        r.error = in.error();
    };
    uint8_t header[batch::header_size];
    protocol::offset expected = min_offset;
    uint64_t pos = from;
    while (pos < file_size) {
        uint64_t remaining = file_size - pos;
        if (remaining < batch::log_overhead) {
            r.stop = scan_stop::torn;
            break;
        }
        const uint8_t* p = in.view(pos, static_cast<size_t>(std::min<uint64_t>(remaining, batch::header_size)), header);
        if (!p) {
            cut_short();
            break;
        }
        auto length = static_cast<int32_t>(batch::load_be32(p + batch::length_at));
        if (length < static_cast<int32_t>(batch::header_size - batch::log_overhead)) {
            r.stop = scan_stop::bad_length;
            break;
        }
        uint64_t total = batch::log_overhead + static_cast<uint64_t>(length);
        if (total > remaining) {
            r.stop = scan_stop::torn;
            break;
        }
        if (p[batch::magic_at] != 2) {
            r.stop = scan_stop::bad_magic;
            break;
        }
        uint32_t crc = 0;
        if (in.in_chunk(pos, total)) {
            crc = protocol::crc32c({p + batch::attributes_at, total - batch::attributes_at});
        } else {
            // The batch straddles chunks: its header is kept aside, the rest checked piece by piece.
            if (p != header) std::memcpy(header, p, batch::header_size);
            p = header;
            crc = protocol::crc32c({header + batch::attributes_at, batch::header_size - batch::attributes_at});
            if (!in.take(pos + batch::header_size, total - batch::header_size,
                         [&](const uint8_t* piece, size_t len) { crc = protocol::crc32c_extend(crc, {piece, len}); })) {
                cut_short();
                break;
            }
        }
        if (crc != batch::load_be32(p + batch::crc_at)) {
            r.stop = scan_stop::bad_crc;
            break;
        }
        const batch_location b = location_of(p, static_cast<uint32_t>(pos), static_cast<uint32_t>(total));
        if (b.last_offset < b.base_offset || b.base_offset < expected || b.base_offset < base_offset ||
            b.last_offset - base_offset > std::numeric_limits<int32_t>::max()) {
            r.stop = scan_stop::bad_offsets;
            break;
        }
        visit(b);
        expected = b.last_offset + 1;
        r.next_offset = expected;
        ++r.batches;
        pos += total;
        r.valid_bytes = static_cast<uint32_t>(pos);
    }
    return r;
}

segment_recovery recover_segment(segment& seg, leader_epoch_cache* epochs, protocol::offset min_offset) {
    segment_recovery out;
    int64_t size = seg.file()->size();
    if (size < 0) {
        out.error = static_cast<int>(-size);
        out.scan.stop = scan_stop::io_error;
        return out;
    }
    seg.reset_indexes();
    out.scan = scan_log_file(*seg.file(), static_cast<uint64_t>(size), 0, seg.base_offset(), min_offset,
                             [&](const batch_location& b) {
                                 seg.index_batch(b);
                                 if (epochs) epochs->assign_if_newer(b.leader_epoch, b.base_offset);
                             });
    if (out.scan.stop == scan_stop::io_error) {
        out.error = out.scan.error;
        return out;
    }
    out.truncated_bytes = static_cast<uint64_t>(size) - out.scan.valid_bytes;
    out.error = seg.cut_file(out.scan.valid_bytes);
    return out;
}

} // namespace samsa::storage
