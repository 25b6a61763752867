// Runs the real `samsa` binary for the compatibility tests and the benchmark: a child process on
// a free loopback port (listeners=...:0; the port is read back from its log) with a data
// directory the caller owns, stopped with SIGTERM (a clean stop) or SIGKILL (a crash). Also reads
// the child's CPU time and resident memory from /proc. Header-only; one thread; the binary path
// comes from meson (SAMSA_BINARY).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace samsa::compat {

class scratch_dir {
public:
    explicit scratch_dir(const std::string& prefix = "samsa-compat",
                         const std::filesystem::path& parent = std::filesystem::temp_directory_path()) {
        std::random_device rd;
        path_ = parent / (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

class broker_process {
public:
    // Starts samsa with its data in `data_dir` and the given `key=value` overrides; waits until it
    // listens (throws std::runtime_error after `timeout`).
    broker_process(std::string binary, std::filesystem::path data_dir, std::vector<std::string> overrides = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(20))
        : binary_(std::move(binary)), data_dir_(std::move(data_dir)), overrides_(std::move(overrides)) {
        start(timeout);
    }
    ~broker_process() {
        if (pid_ > 0) (void)kill_now();
    }
    broker_process(const broker_process&) = delete;
    broker_process& operator=(const broker_process&) = delete;

    [[nodiscard]] uint16_t port() const noexcept { return port_; }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] const std::filesystem::path& log_path() const noexcept { return log_path_; }
    // Microseconds between fork and the listening line being readable (start-up measurement).
    [[nodiscard]] int64_t startup_us() const noexcept { return startup_us_; }

    // SIGTERM and wait: the exit status (0 for a clean stop), or -1 if it had to be killed.
    int stop(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        if (pid_ <= 0) return -1;
        (void)::kill(pid_, SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        (void)kill_now();
        return -1;
    }

    // SIGKILL: a crash, nothing flushed that was not already.
    int kill_now() {
        if (pid_ <= 0) return -1;
        (void)::kill(pid_, SIGKILL);
        int status = 0;
        (void)::waitpid(pid_, &status, 0);
        pid_ = -1;
        return 0;
    }

    // Starts the binary again on the same data directory (a new port).
    void restart(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        if (pid_ > 0) throw std::runtime_error("restart of a running broker");
        start(timeout);
    }

    // utime + stime of the process in seconds, from /proc/<pid>/stat.
    [[nodiscard]] double cpu_seconds() const { return proc_cpu_seconds(pid_); }
    // Resident set size in bytes, from /proc/<pid>/status (VmRSS).
    [[nodiscard]] uint64_t rss_bytes() const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
        return 0;
    }

    static double proc_cpu_seconds(pid_t pid) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string all;
        std::getline(in, all);  // one line
        // The command name may contain spaces: fields are counted after its closing parenthesis.
        const auto close = all.rfind(')');
        if (close == std::string::npos) return 0;
        std::istringstream rest(all.substr(close + 2));
        std::string field;
        unsigned long long utime = 0, stime = 0;
        for (int i = 3; rest >> field; ++i) {
            if (i == 14) utime = std::stoull(field);
            if (i == 15) {
                stime = std::stoull(field);
                break;
            }
        }
        return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }

private:
    void start(std::chrono::milliseconds timeout) {
        log_path_ = data_dir_.parent_path() / (data_dir_.filename().string() + "-" + std::to_string(++starts_) + ".log");
        std::vector<std::string> args{binary_, "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
                                      "log.dir=" + data_dir_.string()};
        for (const auto& o : overrides_) {
            args.push_back("--override");
            args.push_back(o);
        }
        const auto t0 = std::chrono::steady_clock::now();
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                (void)::dup2(fd, 1);
                (void)::dup2(fd, 2);
            }
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(binary_.c_str(), argv.data());
            ::_exit(127);
        }
        const auto deadline = t0 + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (auto p = find_port()) {
                port_ = *p;
                startup_us_ = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
                return;
            }
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("samsa exited during start-up; see " + log_path_.string());
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        (void)kill_now();
        throw std::runtime_error("samsa did not start listening in time; see " + log_path_.string());
    }

    // "listening on PLAINTEXT://127.0.0.1:<port> (advertised as ...)"
    [[nodiscard]] std::optional<uint16_t> find_port() const {
        std::ifstream in(log_path_);
        std::string line;
        const std::string marker = "listening on PLAINTEXT://127.0.0.1:";
        while (std::getline(in, line)) {
            const auto at = line.find(marker);
            if (at == std::string::npos) continue;
            const auto num = line.substr(at + marker.size());
            const auto port = std::stoi(num);
            if (port > 0) return static_cast<uint16_t>(port);
        }
        return std::nullopt;
    }

    std::string binary_;
    std::filesystem::path data_dir_;
    std::vector<std::string> overrides_;
    std::filesystem::path log_path_;
    pid_t pid_ = -1;
    uint16_t port_ = 0;
    int starts_ = 0;
    int64_t startup_us_ = 0;
};

} // namespace samsa::compat
