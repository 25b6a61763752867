// What DescribeLogDirs reports: for each data directory (log.dirs) its absolute path, the
// partitions stored in it with their size on disk, and the file system's total and usable
// bytes. Reads the log_manager's logs and statvfs(2); loop thread (a statvfs per directory,
// which does not block on a healthy local disk).
#pragma once

#include "protocol/kafka_ids.h"
#include "storage/log_manager.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace samsa::broker {

struct log_dir_partition {
    std::string topic;
    protocol::partition_id partition{0};
    int64_t size_bytes = 0;
};

struct log_dir_report {
    std::string path;  // absolute
    bool offline = false;  // a log in it failed an I/O operation (KAFKA_STORAGE_ERROR)
    std::vector<log_dir_partition> partitions;  // by topic, then partition
    int64_t total_bytes = -1;
    int64_t usable_bytes = -1;
};

// Partitions asked for, by topic; null: every partition.
using log_dir_filter = std::optional<std::map<std::string, std::set<protocol::partition_id>>>;

[[nodiscard]] std::vector<log_dir_report> describe_log_dirs(const storage::log_manager& logs,
                                                            const std::vector<std::string>& data_dirs,
                                                            const log_dir_filter& filter);

} // namespace samsa::broker
