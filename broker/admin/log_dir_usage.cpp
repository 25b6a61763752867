#include "broker/admin/log_dir_usage.h"

#include <sys/statvfs.h>

#include <filesystem>

namespace samsa::broker {

namespace {

std::string absolute_dir(const std::string& dir) {
    std::error_code ec;
    auto p = std::filesystem::absolute(dir, ec);
    if (ec) return dir;
    auto text = p.lexically_normal().string();
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    return text;
}

} // namespace

std::vector<log_dir_report> describe_log_dirs(const storage::log_manager& logs, const std::vector<std::string>& data_dirs,
                                              const log_dir_filter& filter) {
    std::vector<log_dir_report> out;
    for (const auto& d : data_dirs) {
        log_dir_report r;
        r.path = absolute_dir(d);
        struct statvfs fs {};
        if (::statvfs(r.path.c_str(), &fs) == 0) {
            r.total_bytes = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
            r.usable_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
        } else {
            r.offline = true;
        }
        out.push_back(std::move(r));
    }
    for (const auto& tp : logs.partitions()) {
        if (filter) {
            auto it = filter->find(tp.topic);
            if (it == filter->end() || !it->second.contains(tp.partition)) continue;
        }
        const auto log = logs.get(tp);
        if (!log) continue;
        const std::string parent = absolute_dir(std::filesystem::path(log->dir()).parent_path().string());
        for (auto& r : out) {
            if (r.path != parent) continue;
            r.partitions.push_back({tp.topic, tp.partition, static_cast<int64_t>(log->size_bytes())});
            if (log->offline()) r.offline = true;
        }
    }
    return out;
}

} // namespace samsa::broker
