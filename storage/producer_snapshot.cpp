#include "storage/producer_snapshot.h"

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "storage/layout.h"

#include <dirent.h>

#include <algorithm>
#include <limits>

namespace samsa::storage {

namespace {

using protocol::batch::load_be16;
using protocol::batch::load_be32;
using protocol::batch::load_be64;

void put16(std::string& out, uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v));
}
void put32(std::string& out, uint32_t v) {
    put16(out, static_cast<uint16_t>(v >> 16));
    put16(out, static_cast<uint16_t>(v));
}
void put64(std::string& out, uint64_t v) {
    put32(out, static_cast<uint32_t>(v >> 32));
    put32(out, static_cast<uint32_t>(v));
}

// The first sequence of a batch that ended at `last` after `delta` more records.
int32_t decrement_sequence(int32_t last, int32_t delta) noexcept {
    if (last < delta) return std::numeric_limits<int32_t>::max() - (delta - last) + 1;
    return last - delta;
}

} // namespace

std::string encode_producer_snapshot(const producer_state_table& table) {
    std::string out;
    out.reserve(producer_snapshot_header_size + table.producers().size() * producer_snapshot_entry_size);
    put16(out, static_cast<uint16_t>(producer_snapshot_version));
    put32(out, 0);  // the CRC, filled in below
    put32(out, static_cast<uint32_t>(table.producers().size()));
    for (const auto& [pid, e] : table.producers()) {
        const producer_batch* last = e.batches.empty() ? nullptr : &e.batches.back();
        put64(out, static_cast<uint64_t>(pid.value()));
        put16(out, static_cast<uint16_t>(e.epoch.value()));
        put32(out, static_cast<uint32_t>(last ? last->last_seq : no_sequence));
        put64(out, static_cast<uint64_t>(last ? last->last_offset : -1));
        put32(out, static_cast<uint32_t>(last ? last->last_offset - last->first_offset : 0));
        put64(out, static_cast<uint64_t>(e.last_timestamp));
        put32(out, static_cast<uint32_t>(e.coordinator_epoch));
        put64(out, static_cast<uint64_t>(e.current_txn_first_offset));
    }
    const auto* body = reinterpret_cast<const uint8_t*>(out.data()) + 6;
    const uint32_t crc = protocol::crc32c({body, out.size() - 6});
    for (int i = 0; i < 4; ++i) out[static_cast<size_t>(2 + i)] = static_cast<char>(crc >> (24 - 8 * i));
    return out;
}

std::optional<std::vector<producer_entry>> decode_producer_snapshot(std::span<const uint8_t> in, std::string* why) {
    if (in.size() < producer_snapshot_header_size) {
        *why = "shorter than its header";
        return std::nullopt;
    }
    const auto version = static_cast<int16_t>(load_be16(in.data()));
    if (version != producer_snapshot_version) {
        *why = "unknown version " + std::to_string(version);
        return std::nullopt;
    }
    if (load_be32(in.data() + 2) != protocol::crc32c(in.subspan(6))) {
        *why = "CRC mismatch";
        return std::nullopt;
    }
    const auto count = static_cast<int32_t>(load_be32(in.data() + 6));
    if (count < 0 || in.size() != producer_snapshot_header_size + static_cast<size_t>(count) * producer_snapshot_entry_size) {
        *why = "size does not match its entry count";
        return std::nullopt;
    }
    std::vector<producer_entry> out;
    out.reserve(static_cast<size_t>(count));
    const uint8_t* p = in.data() + producer_snapshot_header_size;
    for (int32_t i = 0; i < count; ++i, p += producer_snapshot_entry_size) {
        producer_entry e;
        e.producer_id = protocol::producer_id(static_cast<int64_t>(load_be64(p)));
        e.epoch = protocol::producer_epoch(static_cast<int16_t>(load_be16(p + 8)));
        const auto last_seq = static_cast<int32_t>(load_be32(p + 10));
        const auto last_offset = static_cast<int64_t>(load_be64(p + 14));
        const auto delta = static_cast<int32_t>(load_be32(p + 22));
        e.last_timestamp = static_cast<int64_t>(load_be64(p + 26));
        e.coordinator_epoch = static_cast<int32_t>(load_be32(p + 34));
        e.current_txn_first_offset = static_cast<int64_t>(load_be64(p + 38));
        if (last_offset >= 0 && last_seq >= 0 && delta >= 0)
            e.batches.push_back({decrement_sequence(last_seq, delta), last_seq, last_offset - delta, last_offset, e.last_timestamp});
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<int64_t> list_producer_snapshots(const std::string& dir) {
    std::vector<int64_t> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (auto o = layout::parse_segment_name(e->d_name, layout::snapshot_suffix)) out.push_back(*o);
        ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace samsa::storage
