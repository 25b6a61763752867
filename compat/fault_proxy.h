// A loopback TCP proxy between Kafka clients and the broker that misbehaves on purpose, for the
// idempotence tests: it splits both directions into Kafka frames (4-byte size prefix) and, for
// Produce requests chosen at random (seeded), it
//
//   drop      forwards the request, then closes the client's connection before the answer
//             arrives (the broker has appended; the client must retry: a duplicate);
//   replay    sends the request to the broker twice and passes on only the first answer (the
//             broker sees the same sequences again on one connection);
//   reorder   holds the request back and sends the next Produce request first (or after 50
//             milliseconds when none comes), so sequences arrive out of order.
//
// The broker must advertise the proxy's port (advertised.listeners), or clients would leave it
// after their first Metadata request. Test-only, header-only: one background thread runs every
// connection with poll(); the counters are read after stop().
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace samsa::compat {

struct fault_rates {
    double drop = 0;     // per Produce request
    double replay = 0;
    double reorder = 0;
};

struct fault_counts {
    uint64_t produce_requests = 0;
    uint64_t drops = 0;
    uint64_t replays = 0;
    uint64_t reorders = 0;
};

class fault_proxy {
public:
    fault_proxy(fault_rates rates, uint32_t seed) : rates_(rates), rng_(seed) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener_ < 0) throw std::runtime_error("socket failed");
        int one = 1;
        (void)::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a = loopback(0);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(listener_, 64) < 0)
            throw std::runtime_error("cannot listen");
        socklen_t len = sizeof a;
        (void)::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
    }
    ~fault_proxy() {
        stop();
        ::close(listener_);
        delete pending_rates_.exchange(nullptr);
    }
    fault_proxy(const fault_proxy&) = delete;
    fault_proxy& operator=(const fault_proxy&) = delete;

    [[nodiscard]] uint16_t port() const noexcept { return port_; }

    // Starts forwarding to the broker on `upstream_port` (it may change after a restart).
    void start(uint16_t upstream_port) {
        stop();
        upstream_ = upstream_port;
        running_ = true;
        thread_ = std::thread([this] { run(); });
    }
    void stop() {
        running_ = false;
        if (thread_.joinable()) thread_.join();
        links_.clear();
    }
    // Faults can be switched off to let the last retries through.
    void set_rates(fault_rates r) { pending_rates_.store(new fault_rates(r)); }
    [[nodiscard]] fault_counts counts() const noexcept { return counts_; }

private:
    struct held_frame {
        std::vector<uint8_t> bytes;
        std::chrono::steady_clock::time_point since;
    };
    struct link {
        int client = -1;
        int broker = -1;
        std::vector<uint8_t> from_client;
        std::vector<uint8_t> from_broker;
        std::map<int32_t, int> replayed;  // correlation id -> answers still to swallow
        std::optional<held_frame> held;
        std::optional<std::chrono::steady_clock::time_point> dying;  // dropped: close at this time
        ~link() {
            if (client >= 0) ::close(client);
            if (broker >= 0) ::close(broker);
        }
    };

    static sockaddr_in loopback(uint16_t port) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return a;
    }

    static bool send_all(int fd, const uint8_t* p, size_t n) {
        while (n > 0) {
            const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
            if (w <= 0) return false;
            p += w;
            n -= static_cast<size_t>(w);
        }
        return true;
    }
    static bool send_all(int fd, const std::vector<uint8_t>& b) { return send_all(fd, b.data(), b.size()); }

    // Splits whole frames off the front of `buf`.
    static std::vector<std::vector<uint8_t>> frames(std::vector<uint8_t>& buf) {
        std::vector<std::vector<uint8_t>> out;
        size_t at = 0;
        while (buf.size() - at >= 4) {
            const uint32_t size = (uint32_t{buf[at]} << 24) | (uint32_t{buf[at + 1]} << 16) | (uint32_t{buf[at + 2]} << 8) | buf[at + 3];
            if (buf.size() - at - 4 < size) break;
            out.emplace_back(buf.begin() + static_cast<std::ptrdiff_t>(at), buf.begin() + static_cast<std::ptrdiff_t>(at + 4 + size));
            at += 4 + size;
        }
        buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(at));
        return out;
    }
    static int16_t api_key_of(const std::vector<uint8_t>& f) { return f.size() >= 6 ? static_cast<int16_t>((f[4] << 8) | f[5]) : -1; }
    static int32_t correlation_of(const std::vector<uint8_t>& f, size_t at) {
        if (f.size() < at + 4) return -1;
        return static_cast<int32_t>((uint32_t{f[at]} << 24) | (uint32_t{f[at + 1]} << 16) | (uint32_t{f[at + 2]} << 8) | f[at + 3]);
    }

    bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

    void accept_one() {
        const int c = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        auto l = std::make_unique<link>();
        l->client = c;
        l->broker = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a = loopback(upstream_);
        if (l->broker < 0 || ::connect(l->broker, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return;
        int one = 1;
        (void)::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        (void)::setsockopt(l->broker, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        links_.push_back(std::move(l));
    }

    // Client to broker; false when the link is done.
    bool on_client_frame(link& l, std::vector<uint8_t> f) {
        if (api_key_of(f) != 0) {
            if (l.held) {  // keep the order of everything but the Produce requests
                if (!send_all(l.broker, l.held->bytes)) return false;
                l.held.reset();
            }
            return send_all(l.broker, f);
        }
        ++counts_.produce_requests;
        if (l.held) {
            ++counts_.reorders;
            const bool ok = send_all(l.broker, f) && send_all(l.broker, l.held->bytes);
            l.held.reset();
            return ok;
        }
        if (chance(rates_.drop)) {
            ++counts_.drops;
            if (!send_all(l.broker, f)) return false;
            // The broker gets time to read and append it; its answer never reaches the client.
            l.dying = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
            ::shutdown(l.client, SHUT_RDWR);
            return true;
        }
        if (chance(rates_.replay)) {
            ++counts_.replays;
            ++l.replayed[correlation_of(f, 8)];
            return send_all(l.broker, f) && send_all(l.broker, f);
        }
        if (chance(rates_.reorder)) {
            l.held = held_frame{std::move(f), std::chrono::steady_clock::now()};
            return true;
        }
        return send_all(l.broker, f);
    }

    // Broker to client; false when the link is done.
    bool on_broker_frame(link& l, const std::vector<uint8_t>& f) {
        const int32_t corr = correlation_of(f, 4);
        if (auto it = l.replayed.find(corr); it != l.replayed.end()) {
            // The first answer goes on; the replay's answer (the second with this id) is dropped.
            if (it->second < 0) {
                l.replayed.erase(it);
                return true;
            }
            it->second = -1;
        }
        if (l.dying) return true;
        return send_all(l.client, f);
    }

    void run() {
        while (running_) {
            if (auto* r = pending_rates_.exchange(nullptr)) {
                rates_ = *r;
                delete r;
            }
            const auto now = std::chrono::steady_clock::now();
            std::erase_if(links_, [&](const auto& l) { return l->dying && now >= *l->dying; });
            for (auto& l : links_) {
                if (l->held && now - l->held->since > std::chrono::milliseconds(50)) {
                    (void)send_all(l->broker, l->held->bytes);
                    l->held.reset();
                }
            }
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            for (const auto& l : links_) {
                fds.push_back({l->client, static_cast<short>(l->dying ? 0 : POLLIN), 0});
                fds.push_back({l->broker, POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), 2) <= 0) continue;
            if (fds[0].revents & POLLIN) accept_one();
            std::vector<link*> done;
            for (size_t i = 0; i < links_.size() && 1 + 2 * i + 1 < fds.size(); ++i) {
                link& l = *links_[i];
                uint8_t buf[65536];
                bool ok = true;
                if (fds[1 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) {
                    const ssize_t n = ::recv(l.client, buf, sizeof buf, 0);
                    if (n <= 0) {
                        ok = false;
                    } else {
                        l.from_client.insert(l.from_client.end(), buf, buf + n);
                        for (auto& f : frames(l.from_client))
                            if (ok && !l.dying) ok = on_client_frame(l, std::move(f));
                    }
                }
                if (ok && (fds[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))) {
                    const ssize_t n = ::recv(l.broker, buf, sizeof buf, 0);
                    if (n <= 0) {
                        ok = false;
                    } else {
                        l.from_broker.insert(l.from_broker.end(), buf, buf + n);
                        for (const auto& f : frames(l.from_broker))
                            if (ok) ok = on_broker_frame(l, f);
                    }
                }
                if (!ok && !l.dying) done.push_back(&l);
            }
            std::erase_if(links_, [&](const auto& l) { return std::find(done.begin(), done.end(), l.get()) != done.end(); });
        }
    }

    fault_rates rates_;
    std::mt19937 rng_;
    std::atomic<fault_rates*> pending_rates_{nullptr};
    int listener_ = -1;
    uint16_t port_ = 0;
    uint16_t upstream_ = 0;
    std::atomic<bool> running_{false};
    std::thread thread_;
    std::vector<std::unique_ptr<link>> links_;
    fault_counts counts_;
};

} // namespace samsa::compat
