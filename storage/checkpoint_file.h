// Kafka's small text files, in Kafka's formats so an operator's tools read them:
//
//   offset checkpoints (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
//   cleaner-offset-checkpoint):          leader-epoch-checkpoint:     partition.metadata:
//     0                    <- version      0                            version: 0
//     2                    <- entries      2                            topic_id: <base64 uuid>
//     orders 0 1042        <- topic partition offset                     
//     orders 1 977                         3 0     <- epoch start_offset
//                                          5 1200
//
// Formatting and parsing are pure functions (any thread). Files are written only with
// write_file_atomically (temp file, fsync, rename, fsync dir), on the flusher thread or during
// start-up and shutdown. A file that does not parse is reported as corrupt, never half-used.
#pragma once

#include "protocol/kafka_ids.h"
#include "protocol/wire.h"
#include "storage/topic_partition.h"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::storage::checkpoint {

inline constexpr int current_version = 0;

using offset_map = std::map<topic_partition, protocol::offset>;

struct epoch_entry {
    protocol::leader_epoch epoch;
    protocol::offset start_offset;
    bool operator==(const epoch_entry&) const = default;
};

[[nodiscard]] std::string format_offsets(const offset_map& offsets);
[[nodiscard]] std::optional<offset_map> parse_offsets(std::string_view text);

[[nodiscard]] std::string format_epochs(std::span<const epoch_entry> entries);
[[nodiscard]] std::optional<std::vector<epoch_entry>> parse_epochs(std::string_view text);

[[nodiscard]] std::string format_partition_metadata(const protocol::uuid& topic_id);
[[nodiscard]] std::optional<protocol::uuid> parse_partition_metadata(std::string_view text);

enum class read_status : uint8_t { ok, missing, corrupt, io_error };

// Reads and parses a file of either kind; `out` is untouched unless the status is ok.
[[nodiscard]] read_status read_offsets(const std::string& path, offset_map* out);
[[nodiscard]] read_status read_epochs(const std::string& path, std::vector<epoch_entry>* out);
[[nodiscard]] read_status read_partition_metadata(const std::string& path, protocol::uuid* out);

} // namespace samsa::storage::checkpoint
