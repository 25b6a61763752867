#include "storage/txn_index.h"

#include "protocol/record_batch.h"

#include <fcntl.h>

namespace samsa::storage {

namespace pb = protocol::batch;

void txn_index::encode(const aborted_txn& t, uint8_t* out) noexcept {
    out[0] = static_cast<uint8_t>(static_cast<uint16_t>(txn_index_version) >> 8);
    out[1] = static_cast<uint8_t>(txn_index_version);
    pb::store_be64(out + 2, static_cast<uint64_t>(t.producer_id));
    pb::store_be64(out + 10, static_cast<uint64_t>(t.first_offset));
    pb::store_be64(out + 18, static_cast<uint64_t>(t.last_offset));
    pb::store_be64(out + 26, static_cast<uint64_t>(t.last_stable_offset));
}

bool txn_index::decode(std::span<const uint8_t> in, aborted_txn* out) noexcept {
    if (in.size() < txn_index_entry_size) return false;
    if (static_cast<int16_t>(pb::load_be16(in.data())) != txn_index_version) return false;
    out->producer_id = static_cast<int64_t>(pb::load_be64(in.data() + 2));
    out->first_offset = static_cast<int64_t>(pb::load_be64(in.data() + 10));
    out->last_offset = static_cast<int64_t>(pb::load_be64(in.data() + 18));
    out->last_stable_offset = static_cast<int64_t>(pb::load_be64(in.data() + 26));
    return true;
}

std::unique_ptr<txn_index> txn_index::open(const std::string& path, int* err) {
    auto file = file_handle::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644, err);
    if (!file) return nullptr;
    std::unique_ptr<txn_index> idx(new txn_index(path, file));
    const int64_t size = file->size();
    if (size < 0) {
        *err = static_cast<int>(-size);
        return nullptr;
    }
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    if (file->pread_some(bytes, 0) != size) {
        *err = EIO;
        return nullptr;
    }
    size_t valid = 0;
    for (size_t at = 0; at + txn_index_entry_size <= bytes.size(); at += txn_index_entry_size) {
        aborted_txn t;
        if (!decode({bytes.data() + at, txn_index_entry_size}, &t)) break;
        idx->entries_.push_back(t);
        valid = at + txn_index_entry_size;
    }
    if (valid != bytes.size()) {
        if (int e = file->truncate(valid); e != 0) {
            *err = e;
            return nullptr;
        }
    }
    *err = 0;
    return idx;
}

int txn_index::append(const aborted_txn& t) {
    uint8_t buf[txn_index_entry_size];
    encode(t, buf);
    if (int e = file_->pwrite_all(buf, entries_.size() * txn_index_entry_size); e != 0) return e;
    entries_.push_back(t);
    return 0;
}

int txn_index::truncate_from(int64_t offset) {
    size_t keep = 0;
    while (keep < entries_.size() && entries_[keep].last_offset < offset) ++keep;
    if (keep == entries_.size()) return 0;
    if (int e = file_->truncate(keep * txn_index_entry_size); e != 0) return e;
    entries_.resize(keep);
    return 0;
}

bool txn_index::collect(int64_t fetch_offset, int64_t upper_bound, std::vector<aborted_txn>& out) const {
    for (const auto& t : entries_) {
        if (t.last_offset >= fetch_offset && t.first_offset < upper_bound) out.push_back(t);
        if (t.last_stable_offset >= upper_bound) return true;
    }
    return false;
}

} // namespace samsa::storage
