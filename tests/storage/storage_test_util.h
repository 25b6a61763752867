// Helpers shared by the storage tests: a temporary directory removed afterwards, v2 record
// batches built from (key, value, timestamp) records, byte-level corruption of files (flip a
// byte, cut a file, append zeros or garbage), an open-file limit lowered for a while (EMFILE
// on purpose), and a fixture holding the background services a log needs. Single-threaded test
// code; everything is owned by the test that creates it.
#pragma once

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "protocol/wire.h"
#include "storage/completion_queue.h"
#include "storage/file_deleter.h"
#include "storage/flusher.h"
#include "storage/log.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace samsa::storage::test {

class temp_dir {
public:
    temp_dir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/samsa-storage-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
        path_ = buf.data();
    }
    ~temp_dir() { (void)remove_tree(path_); }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

struct test_record {
    std::optional<std::string> key;
    std::optional<std::string> value;
    int64_t timestamp = 0;
};

struct batch_options {
    int64_t base_offset = 0;
    int16_t attributes = 0;        // compression bits must stay 0: records are written plain
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    int32_t leader_epoch = -1;
    int32_t offset_step = 1;       // > 1 leaves gaps, as a compacted batch has
};

namespace detail {
inline void put_uvarint(std::vector<uint8_t>& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
}
inline void put_varlong(std::vector<uint8_t>& out, int64_t v) { put_uvarint(out, protocol::zigzag64(v)); }
inline void put_field(std::vector<uint8_t>& out, const std::optional<std::string>& f) {
    if (!f) {
        put_varlong(out, -1);
        return;
    }
    put_varlong(out, static_cast<int64_t>(f->size()));
    out.insert(out.end(), f->begin(), f->end());
}
} // namespace detail

// An uncompressed v2 batch holding `records`, with a correct CRC.
inline std::vector<uint8_t> make_batch(const std::vector<test_record>& records, const batch_options& o = {}) {
    namespace b = protocol::batch;
    int64_t base_ts = records.empty() ? -1 : records.front().timestamp;
    int64_t max_ts = -1;
    for (const auto& r : records) max_ts = std::max(max_ts, r.timestamp);
    std::vector<uint8_t> out(b::header_size, 0);
    int32_t delta = 0;
    std::vector<uint8_t> rec;
    for (const auto& r : records) {
        rec.clear();
        rec.push_back(0);  // record attributes
        detail::put_varlong(rec, r.timestamp - base_ts);
        detail::put_varlong(rec, delta);
        detail::put_field(rec, r.key);
        detail::put_field(rec, r.value);
        detail::put_varlong(rec, 0);  // no headers
        detail::put_varlong(out, static_cast<int64_t>(rec.size()));
        out.insert(out.end(), rec.begin(), rec.end());
        delta += o.offset_step;
    }
    int32_t last_delta = records.empty() ? 0 : delta - o.offset_step;
    uint8_t* p = out.data();
    b::store_be64(p + b::base_offset_at, static_cast<uint64_t>(o.base_offset));
    b::store_be32(p + b::length_at, static_cast<uint32_t>(out.size() - b::log_overhead));
    b::store_be32(p + b::leader_epoch_at, static_cast<uint32_t>(o.leader_epoch));
    p[b::magic_at] = 2;
    p[b::attributes_at] = static_cast<uint8_t>(o.attributes >> 8);
    p[b::attributes_at + 1] = static_cast<uint8_t>(o.attributes);
    b::store_be32(p + b::last_offset_delta_at, static_cast<uint32_t>(last_delta));
    b::store_be64(p + b::base_timestamp_at, static_cast<uint64_t>(base_ts));
    b::store_be64(p + b::max_timestamp_at, static_cast<uint64_t>(max_ts));
    b::store_be64(p + b::producer_id_at, static_cast<uint64_t>(o.producer_id));
    p[b::producer_epoch_at] = static_cast<uint8_t>(static_cast<uint16_t>(o.producer_epoch) >> 8);
    p[b::producer_epoch_at + 1] = static_cast<uint8_t>(o.producer_epoch);
    b::store_be32(p + b::base_sequence_at, static_cast<uint32_t>(o.base_sequence));
    b::store_be32(p + b::record_count_at, static_cast<uint32_t>(records.size()));
    b::recompute_crc(out);
    return out;
}

// `count` records with values of `value_size` bytes and timestamps ts, ts+1, ...
inline std::vector<uint8_t> make_simple_batch(int count, size_t value_size, int64_t ts, uint32_t seed = 1) {
    std::vector<test_record> recs;
    std::mt19937 rng(seed);
    for (int i = 0; i < count; ++i) {
        std::string v(value_size, '\0');
        for (auto& c : v) c = static_cast<char>('a' + rng() % 26);
        recs.push_back({std::nullopt, std::move(v), ts + i});
    }
    return make_batch(recs);
}

// ---- byte-level file helpers --------------------------------------------------------------

inline std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
inline int64_t file_size(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}
inline bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }
inline void flip_byte(const std::string& path, size_t at) {
    auto bytes = read_file(path);
    bytes.at(at) ^= 0x5a;
    write_file(path, bytes);
}
inline void cut_file(const std::string& path, size_t size) {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) throw std::runtime_error("truncate failed");
}
inline void append_bytes(const std::string& path, const std::vector<uint8_t>& more) {
    auto bytes = read_file(path);
    bytes.insert(bytes.end(), more.begin(), more.end());
    write_file(path, bytes);
}
inline void append_zeros(const std::string& path, size_t n) { append_bytes(path, std::vector<uint8_t>(n, 0)); }
inline void append_garbage(const std::string& path, size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> g(n);
    for (auto& c : g) c = static_cast<uint8_t>(rng());
    append_bytes(path, g);
}

// ---- running out of file descriptors ---------------------------------------------------------

// The descriptor numbers this process has open.
inline std::vector<int> open_fds() {
    std::vector<int> out;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) throw std::runtime_error("cannot list /proc/self/fd");
    const int own = ::dirfd(dir);
    while (dirent* e = ::readdir(dir))
        if (e->d_name[0] != '.' && std::atoi(e->d_name) != own) out.push_back(std::atoi(e->d_name));
    ::closedir(dir);
    std::sort(out.begin(), out.end());
    return out;
}

// Lowers the process's open-file limit (RLIMIT_NOFILE) so that exactly `spare` more descriptors
// can be opened, and puts the old limit back when it goes: the next open after those fails with
// EMFILE, as on a broker that has used its limit up. Limits every thread of the process meanwhile.
class fd_limit {
public:
    explicit fd_limit(size_t spare) {
        if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) throw std::runtime_error("getrlimit failed");
        const auto used = open_fds();
        rlim_t limit = 0;
        for (size_t free_below = 0;; ++limit) {
            if (std::binary_search(used.begin(), used.end(), static_cast<int>(limit))) continue;
            if (free_below == spare) break;
            ++free_below;
        }
        rlimit lowered = saved_;
        lowered.rlim_cur = limit;
        if (::setrlimit(RLIMIT_NOFILE, &lowered) != 0) throw std::runtime_error("setrlimit failed");
    }
    ~fd_limit() { (void)::setrlimit(RLIMIT_NOFILE, &saved_); }
    fd_limit(const fd_limit&) = delete;
    fd_limit& operator=(const fd_limit&) = delete;

private:
    rlimit saved_{};
};

// ---- a log with its background services ----------------------------------------------------

struct log_fixture {
    completion_queue completions;
    flusher flush{completions};
    file_deleter deleter;

    [[nodiscard]] log_context context() { return log_context{flush, deleter, completions}; }

    std::shared_ptr<log> open(const std::string& dir, const log_config& cfg, const log_load_state& state) {
        std::string error;
        auto l = log::open(dir, topic_partition{"t", samsa::protocol::partition_id(0)}, cfg, context(), state, &error);
        if (!l) throw std::runtime_error("open failed: " + error);
        return l;
    }
    // Flushes and waits for the flush to complete on this thread.
    protocol::error_code flush_and_wait(log& l) {
        bool done = false;
        protocol::error_code result = protocol::error_code::unknown_server_error;
        l.flush([&](protocol::error_code e) {
            result = e;
            done = true;
        });
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!done && std::chrono::steady_clock::now() < until) completions.wait_and_run(50);
        return result;
    }
    // Lets queued background work (checkpoint writes) finish.
    void settle() {
        bool done = false;
        flush.run([] { return 0; }, [&](int) { done = true; });
        while (!done) completions.wait_and_run(50);
    }
};

// Appends bytes built on the fly (append patches its input in place, so it takes an lvalue).
inline append_result append_copy(log& l, std::vector<uint8_t> bytes, const append_options& o) {
    return l.append(bytes, o);
}

// Every batch from the log start offset to the log end, read one segment at a time.
inline std::vector<uint8_t> read_all(log& l) {
    std::vector<uint8_t> out;
    protocol::offset o = l.log_start_offset();
    while (o < l.log_end_offset()) {
        auto r = l.read_copy(o, 1 << 30, l.log_end_offset());
        if (r.error != protocol::error_code::none || r.bytes.empty()) break;
        size_t pos = 0;
        while (pos < r.bytes.size()) {
            auto h = protocol::batch::header_view::parse(std::span<const uint8_t>(r.bytes).subspan(pos));
            if (!h) throw std::runtime_error("read returned a malformed batch");
            o = protocol::offset(h->last_offset()) + 1;
            pos += h->total_size();
        }
        out.insert(out.end(), r.bytes.begin(), r.bytes.end());
    }
    return out;
}

inline log_load_state clean_state(int64_t now = 1000) {
    log_load_state s;
    s.clean_shutdown = true;
    s.now_ms = now;
    return s;
}
inline log_load_state unclean_state(std::optional<protocol::offset> recovery_point, int64_t now = 1000) {
    log_load_state s;
    s.clean_shutdown = false;
    s.recovery_point = recovery_point;
    s.now_ms = now;
    return s;
}
inline append_options at(int64_t now, append_origin origin = append_origin::client,
                         protocol::leader_epoch epoch = protocol::no_leader_epoch) {
    append_options o;
    o.now_ms = now;
    o.origin = origin;
    o.leader_epoch = epoch;
    return o;
}

} // namespace samsa::storage::test
