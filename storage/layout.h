// The names of everything storage keeps on disk, as constants; docs/storage.md is the prose.
// Pure functions, any thread.
//
//   <log dir>/
//     .lock                               held (flock) while a broker uses the dir
//     .kafka_cleanshutdown                present only after a clean stop
//     recovery-point-offset-checkpoint    per partition: offsets below were fsynced
//     log-start-offset-checkpoint         per partition: the log start offset (DeleteRecords)
//     cleaner-offset-checkpoint           per partition: where compaction stopped
//     <topic>-<partition>/
//       00000000000000000000.log          record batches; the name is the first offset, 20 digits
//       00000000000000000000.index        offset index
//       00000000000000000000.timeindex    time index
//       00000000000000000000.txnindex     aborted transactions whose markers are in the segment
//       00000000000000000000.snapshot     producer state when the log ended at that offset
//       leader-epoch-checkpoint
//       partition.metadata                the topic id
#pragma once

#include "protocol/kafka_ids.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace samsa::storage::layout {

inline constexpr std::string_view lock_file = ".lock";
inline constexpr std::string_view clean_shutdown_file = ".kafka_cleanshutdown";
inline constexpr std::string_view recovery_point_checkpoint = "recovery-point-offset-checkpoint";
inline constexpr std::string_view log_start_offset_checkpoint = "log-start-offset-checkpoint";
inline constexpr std::string_view cleaner_offset_checkpoint = "cleaner-offset-checkpoint";
inline constexpr std::string_view leader_epoch_checkpoint = "leader-epoch-checkpoint";
inline constexpr std::string_view partition_metadata = "partition.metadata";

inline constexpr std::string_view log_suffix = ".log";
inline constexpr std::string_view index_suffix = ".index";
inline constexpr std::string_view time_index_suffix = ".timeindex";
// Producer state as of an offset (storage/producer_snapshot.h) and a segment's aborted
// transactions (storage/txn_index.h).
inline constexpr std::string_view snapshot_suffix = ".snapshot";
inline constexpr std::string_view txn_index_suffix = ".txnindex";
// A segment file waiting for the deleter thread, a compacted segment being written, and a
// compacted segment complete and about to replace the originals.
inline constexpr std::string_view deleted_suffix = ".deleted";
inline constexpr std::string_view cleaned_suffix = ".cleaned";
inline constexpr std::string_view swap_suffix = ".swap";
// A checkpoint being written; renamed over the real name once complete and fsynced.
inline constexpr std::string_view temp_suffix = ".tmp";
// A partition directory being deleted: "<topic>-<partition>.<unique id>-delete".
inline constexpr std::string_view delete_dir_suffix = "-delete";

inline constexpr size_t offset_digits = 20;

// "<dir>/00000000000000000042.log" and so on (raw offsets: producer snapshots).
[[nodiscard]] std::string segment_path(const std::string& dir, int64_t base_offset, std::string_view suffix);
// The base offset in a segment file name "<20 digits><suffix>", or nullopt.
[[nodiscard]] std::optional<int64_t> parse_segment_name(std::string_view name, std::string_view suffix);
// The same for a segment's typed base offset: the file name is where it becomes digits and
// where digits become an offset again. offset_name: "00000000000000000042" for 42.
[[nodiscard]] std::string offset_name(protocol::offset offset);
[[nodiscard]] std::string segment_path(const std::string& dir, protocol::offset base_offset, std::string_view suffix);
// "<dir>/00000000000000000042.txnindex<suffix>": a segment's transaction index, or with a suffix
// (".cleaned", ".swap") the one the log cleaner writes for a compacted segment.
[[nodiscard]] std::string txn_index_path(const std::string& dir, protocol::offset base_offset, std::string_view suffix);
[[nodiscard]] std::optional<protocol::offset> parse_segment_base(std::string_view name, std::string_view suffix);
[[nodiscard]] std::string join(const std::string& dir, std::string_view name);

struct partition_dir_name {
    std::string topic;
    protocol::partition_id partition{0};
};
// "<topic>-<partition>" (the topic may itself contain '-'), or nullopt.
[[nodiscard]] std::optional<partition_dir_name> parse_partition_dir(std::string_view name);

} // namespace samsa::storage::layout
