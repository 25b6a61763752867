// The aborted-transaction index of one segment, `<base offset>.txnindex`: one entry per aborted
// transaction whose ABORT marker lies in the segment, in marker order, in Kafka's layout (34
// bytes each, big endian):
//
//   version int16 (0) | producer_id int64 | first_offset int64 | last_offset int64 |
//   last_stable_offset int64
//
// first_offset is the transaction's first batch, last_offset its marker; last_stable_offset
// the log's LSO once it ended, which lets a search stop early. A read_committed Fetch collects
// the entries that overlap what it returns (Fetch's aborted_transactions), and the consumer
// drops those producers' batches. Owned by the log (one per segment that has aborted
// transactions); loop thread only. The entries are also kept in memory (a few per segment).
#pragma once

#include "storage/file_handle.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace samsa::storage {

struct aborted_txn {
    int64_t producer_id = -1;
    int64_t first_offset = -1;
    int64_t last_offset = -1;
    int64_t last_stable_offset = -1;
    bool operator==(const aborted_txn&) const = default;
};

inline constexpr int16_t txn_index_version = 0;
inline constexpr size_t txn_index_entry_size = 34;

class txn_index {
public:
    // Opens (or creates) the file and reads its entries; a torn trailing entry is cut off.
    // Null with `*err` = errno on failure.
    [[nodiscard]] static std::unique_ptr<txn_index> open(const std::string& path, int* err);

    // Appends an entry (the file is written now and fsynced by the caller's flush). 0 or errno.
    [[nodiscard]] int append(const aborted_txn& t);
    // Drops the entries whose marker is at or after `offset` (truncation, replay). 0 or errno.
    [[nodiscard]] int truncate_from(int64_t offset);

    // Adds to `out` the transactions that overlap [fetch_offset, upper_bound): ended at or after
    // fetch_offset and started before upper_bound. True when an entry showed that no later
    // segment can hold more (its last stable offset reached upper_bound).
    bool collect(int64_t fetch_offset, int64_t upper_bound, std::vector<aborted_txn>& out) const;

    [[nodiscard]] const std::vector<aborted_txn>& entries() const noexcept { return entries_; }
    [[nodiscard]] const std::shared_ptr<file_handle>& file() const noexcept { return file_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    // The 34-byte form of an entry, and back (nullopt for an unknown version).
    static void encode(const aborted_txn& t, uint8_t* out) noexcept;
    [[nodiscard]] static bool decode(std::span<const uint8_t> in, aborted_txn* out) noexcept;

private:
    txn_index(std::string path, std::shared_ptr<file_handle> file) : path_(std::move(path)), file_(std::move(file)) {}

    std::string path_;
    std::shared_ptr<file_handle> file_;
    std::vector<aborted_txn> entries_;
};

} // namespace samsa::storage
