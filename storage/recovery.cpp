#include "storage/recovery.h"

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "storage/file_handle.h"
#include "storage/leader_epoch_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <vector>

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

scan_result scan_log_file(const file_handle& file, uint64_t file_size, uint32_t from, int64_t base_offset,
                          int64_t min_offset, const std::function<void(const batch_location&)>& visit) {
    scan_result r;
    r.valid_bytes = from;
    if (file_size <= from) return r;
    // A large range is mapped once, so every batch is a pointer checked in place; a small one
    // (the tail checked after a clean stop) is cheaper to read into memory.
    static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    constexpr uint64_t read_limit = 256 * 1024;
    uint64_t map_start = from / page * page;
    size_t map_len = static_cast<size_t>(file_size - map_start);
    void* m = nullptr;
    std::vector<uint8_t> copy;
    const uint8_t* data = nullptr;  // the byte at position `origin`
    uint64_t origin = 0;
    if (file_size - from <= read_limit) {
        copy.resize(static_cast<size_t>(file_size - from));
        int64_t n = file.pread_some(copy, from);
        if (n < 0) {
            r.stop = scan_stop::io_error;
            r.error = static_cast<int>(-n);
            return r;
        }
        copy.resize(static_cast<size_t>(n));
        file_size = from + static_cast<uint64_t>(n);
        data = copy.data();
        origin = from;
    } else {
        m = ::mmap(nullptr, map_len, PROT_READ, MAP_SHARED, file.fd(), static_cast<off_t>(map_start));
        if (m == MAP_FAILED) {
            r.stop = scan_stop::io_error;
            r.error = errno;
            return r;
        }
        ::madvise(m, map_len, MADV_SEQUENTIAL);
        data = static_cast<const uint8_t*>(m);
        origin = map_start;
    }
    int64_t expected = min_offset;
    uint64_t pos = from;
    while (pos < file_size) {
        uint64_t remaining = file_size - pos;
        const uint8_t* p = data + (pos - origin);
        if (remaining < batch::log_overhead) {
            r.stop = scan_stop::torn;
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
        uint32_t crc = protocol::crc32c({p + batch::attributes_at, total - batch::attributes_at});
        if (crc != batch::load_be32(p + batch::crc_at)) {
            r.stop = scan_stop::bad_crc;
            break;
        }
        batch_location b;
        b.position = static_cast<uint32_t>(pos);
        b.size = static_cast<uint32_t>(total);
        b.base_offset = static_cast<int64_t>(batch::load_be64(p + batch::base_offset_at));
        auto delta = static_cast<int32_t>(batch::load_be32(p + batch::last_offset_delta_at));
        b.last_offset = b.base_offset + delta;
        b.max_timestamp = static_cast<int64_t>(batch::load_be64(p + batch::max_timestamp_at));
        b.leader_epoch = static_cast<int32_t>(batch::load_be32(p + batch::leader_epoch_at));
        if (delta < 0 || b.base_offset < expected || b.base_offset < base_offset ||
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
    if (m) ::munmap(m, map_len);
    return r;
}

segment_recovery recover_segment(segment& seg, leader_epoch_cache* epochs, int64_t min_offset) {
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
                                 if (epochs && b.leader_epoch >= 0 && b.leader_epoch > epochs->latest_epoch())
                                     epochs->assign(b.leader_epoch, b.base_offset);
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
