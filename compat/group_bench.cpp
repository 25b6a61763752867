// Scale benchmark (a program, not a test): 1,000 classic consumer groups of 3 members each are
// joined, synced and then kept Stable by heartbeats against the real `samsa` binary, and the
// broker's resident memory and CPU are printed per group. Members speak the wire protocol
// themselves (JoinGroup v5 with KIP-394's two rounds, SyncGroup v3, Heartbeat v3), pipelined
// over 30 connections, so the client costs little next to the broker.
//
//   build-dir/compat/group_bench [--groups N] [--seconds S] [--binary PATH]
#include "compat/broker_process.h"
#include "compat/rdkafka_client.h"
#include "protocol/frame_decoder.h"
#include "protocol/record_batch.h"
#include "protocol/messages/consumer_protocol.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/sync_group.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <iostream>
#include <map>

using namespace samsa;
using namespace samsa::compat;

namespace {

constexpr int members_per_group = 3;
constexpr int connections_per_member_slot = 10;

template <typename Request>
void encode_request(std::vector<uint8_t>& out, const Request& body, int16_t version, int32_t correlation_id) {
    protocol::output_buffer buf;
    buf.bytes.reserve(256);
    protocol::writer w(buf);
    w.write_int32(0);
    w.write_int16(Request::api_key);
    w.write_int16(version);
    w.write_int32(correlation_id);
    const int16_t hv = protocol::request_header_version(Request::api_key, version);
    if (hv >= 1) w.write_nullable_string(std::string("group-bench"), false);
    if (hv >= 2) w.write_uvarint(0);
    body.encode(w, version);
    w.patch_int32(0, static_cast<int32_t>(buf.bytes.size() - 4));
    out.insert(out.end(), buf.bytes.begin(), buf.bytes.end());
}

template <typename Response>
Response decode_response(protocol::bytes_view frame, int16_t version) {
    protocol::reader r(frame);
    (void)r.read_int32();
    if (protocol::response_header_version(Response::api_key, version) >= 1) {
        const uint32_t tags = r.read_uvarint();
        for (uint32_t i = 0; i < tags; ++i) {
            (void)r.read_uvarint();
            r.skip(r.read_uvarint());
        }
    }
    Response out;
    out.decode(r, version);
    if (!r.ok()) throw std::runtime_error("undecodable response");
    return out;
}

// One pipelined connection: requests go out in order, and each answer is handed, in order, to
// the callback registered with its request.
class connection {
public:
    explicit connection(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
        int one = 1;
        (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~connection() { ::close(fd_); }

    template <typename Request>
    void send(const Request& req, int16_t version, std::function<void(protocol::bytes_view)> on_answer) {
        encode_request(out_, req, version, ++correlation_);
        waiting_.push_back(std::move(on_answer));
    }
    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] bool wants_write() const noexcept { return sent_ < out_.size(); }
    [[nodiscard]] size_t waiting() const noexcept { return waiting_.size(); }

    void on_writable() {
        const ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) sent_ += static_cast<size_t>(n);
        if (sent_ == out_.size()) {
            out_.clear();
            sent_ = 0;
        }
    }
    void on_readable() {
        uint8_t buf[65536];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) throw std::runtime_error("the broker closed a connection");
        if (n < 0) return;
        in_.insert(in_.end(), buf, buf + n);
        size_t at = 0;
        while (in_.size() - at >= 4) {
            const uint32_t size = protocol::batch::load_be32(in_.data() + at);
            if (in_.size() - at - 4 < size) break;
            auto cb = std::move(waiting_.front());
            waiting_.pop_front();
            cb(protocol::bytes_view(in_.data() + at + 4, size));
            at += 4 + size;
        }
        in_.erase(in_.begin(), in_.begin() + static_cast<long>(at));
    }

private:
    int fd_ = -1;
    int32_t correlation_ = 0;
    std::vector<uint8_t> out_;
    size_t sent_ = 0;
    std::vector<uint8_t> in_;
    std::deque<std::function<void(protocol::bytes_view)>> waiting_;
};

// Runs the connections until nothing is waiting for an answer.
void pump(std::vector<std::unique_ptr<connection>>& conns) {
    for (;;) {
        std::vector<pollfd> fds;
        size_t waiting = 0;
        for (auto& c : conns) {
            waiting += c->waiting();
            fds.push_back({c->fd(), static_cast<short>(POLLIN | (c->wants_write() ? POLLOUT : 0)), 0});
        }
        if (waiting == 0) return;
        if (::poll(fds.data(), fds.size(), 30000) <= 0) throw std::runtime_error("the broker stopped answering");
        for (size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].revents & POLLOUT) conns[i]->on_writable();
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) conns[i]->on_readable();
        }
    }
}

struct member_state {
    std::string id;
    int32_t generation = -1;
    bool leader = false;
};

std::vector<uint8_t> subscription_bytes() {
    protocol::consumer_protocol_subscription s;
    s.topics = {"bench"};
    protocol::output_buffer out;
    out.bytes.reserve(64);
    protocol::writer w(out);
    w.write_int16(0);
    s.encode(w, 0);
    return std::move(out.bytes);
}

std::vector<uint8_t> assignment_bytes(int32_t a, int32_t b) {
    protocol::consumer_protocol_assignment s;
    s.assigned_partitions.push_back({"bench", {a, b}});
    protocol::output_buffer out;
    out.bytes.reserve(64);
    protocol::writer w(out);
    w.write_int16(0);
    s.encode(w, 0);
    return std::move(out.bytes);
}

} // namespace

int main(int argc, char** argv) {
    int groups = 1000;
    int seconds = 60;
    std::string binary = SAMSA_BINARY;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--groups") groups = std::stoi(argv[i + 1]);
        else if (k == "--seconds") seconds = std::stoi(argv[i + 1]);
        else if (k == "--binary") binary = argv[i + 1];
    }
    try {
        scratch_dir dir("samsa-group-bench");
        broker_process broker(binary, dir.path() / "data",
                              {"num.partitions=6", "group.initial.rebalance.delay.ms=3000"});
        {
            producer p({{"bootstrap.servers", broker.bootstrap()}});
            p.produce("bench", 0, std::string("k"), "v");
            if (!p.flush()) throw std::runtime_error("cannot create the topic");
        }
        std::vector<std::unique_ptr<connection>> conns;
        for (int i = 0; i < members_per_group * connections_per_member_slot; ++i)
            conns.push_back(std::make_unique<connection>(broker.port()));
        auto conn_of = [&](int g, int m) -> connection& { return *conns[static_cast<size_t>(m * connections_per_member_slot + g % connections_per_member_slot)]; };
        auto group_name = [](int g) { return "bench-group-" + std::to_string(g); };
        // A heartbeat-free moment to take the baseline: the topic exists, no group does.
        std::this_thread::sleep_for(std::chrono::seconds(1));
        const uint64_t rss0 = broker.rss_bytes();
        const auto sub = subscription_bytes();

        std::vector<member_state> members(static_cast<size_t>(groups * members_per_group));
        auto join = [&](int g, int m) {
            protocol::join_group_request j;
            j.group_id = group_name(g);
            j.session_timeout_ms = 30000;
            j.rebalance_timeout_ms = 60000;
            j.member_id = members[static_cast<size_t>(g * members_per_group + m)].id;
            j.protocol_type = "consumer";
            j.protocols.push_back({"range", sub});
            conn_of(g, m).send(j, 5, [&, g, m](protocol::bytes_view f) {
                const auto r = decode_response<protocol::join_group_response>(f, 5);
                auto& st = members[static_cast<size_t>(g * members_per_group + m)];
                st.id = r.member_id;
                if (r.error_code == 0) {
                    st.generation = r.generation_id;
                    st.leader = r.leader == r.member_id;
                } else if (r.error_code != static_cast<int16_t>(protocol::error_code::member_id_required)) {
                    throw std::runtime_error("JoinGroup error " + std::to_string(r.error_code));
                }
            });
        };
        const auto t0 = std::chrono::steady_clock::now();
        for (int round = 0; round < 2; ++round) {  // MEMBER_ID_REQUIRED, then the real join
            for (int g = 0; g < groups; ++g)
                for (int m = 0; m < members_per_group; ++m) join(g, m);
            pump(conns);
        }
        int synced = 0;
        for (int g = 0; g < groups; ++g) {
            for (int m = 0; m < members_per_group; ++m) {
                const auto& st = members[static_cast<size_t>(g * members_per_group + m)];
                protocol::sync_group_request s;
                s.group_id = group_name(g);
                s.generation_id = st.generation;
                s.member_id = st.id;
                if (st.leader)
                    for (int k = 0; k < members_per_group; ++k)
                        s.assignments.push_back({members[static_cast<size_t>(g * members_per_group + k)].id, assignment_bytes(2 * k, 2 * k + 1)});
                conn_of(g, m).send(s, 3, [&](protocol::bytes_view f) {
                    const auto r = decode_response<protocol::sync_group_response>(f, 3);
                    if (r.error_code != 0) throw std::runtime_error("SyncGroup error " + std::to_string(r.error_code));
                    ++synced;
                });
            }
        }
        pump(conns);
        const double join_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        // Steady state: every member heartbeats every 3 s (librdkafka's default interval).
        const double cpu0 = broker.cpu_seconds();
        const auto t1 = std::chrono::steady_clock::now();
        int heartbeats = 0;
        while (std::chrono::steady_clock::now() - t1 < std::chrono::seconds(seconds)) {
            const auto round_start = std::chrono::steady_clock::now();
            for (int g = 0; g < groups; ++g)
                for (int m = 0; m < members_per_group; ++m) {
                    const auto& st = members[static_cast<size_t>(g * members_per_group + m)];
                    protocol::heartbeat_request h;
                    h.group_id = group_name(g);
                    h.generation_id = st.generation;
                    h.member_id = st.id;
                    conn_of(g, m).send(h, 3, [&](protocol::bytes_view f) {
                        const auto r = decode_response<protocol::heartbeat_response>(f, 3);
                        if (r.error_code != 0) throw std::runtime_error("Heartbeat error " + std::to_string(r.error_code));
                        ++heartbeats;
                    });
                }
            pump(conns);
            std::this_thread::sleep_until(round_start + std::chrono::seconds(3));
        }
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        const double cpu = broker.cpu_seconds() - cpu0;
        const uint64_t rss = broker.rss_bytes();

        int stable = 0;
        conns[0]->send(protocol::list_groups_request{}, 4, [&](protocol::bytes_view f) {
            for (const auto& lg : decode_response<protocol::list_groups_response>(f, 4).groups)
                if (lg.group_state == "Stable") ++stable;
        });
        pump(conns);

        std::printf("groups                      %d of %d members each, %d Stable at the end\n", groups, members_per_group, stable);
        std::printf("join + sync                 %.2f s for %d members (%d synced)\n", join_s, groups * members_per_group, synced);
        std::printf("heartbeats                  %d in %.1f s (%.0f/s)\n", heartbeats, elapsed, heartbeats / elapsed);
        std::printf("broker RSS                  %.1f MiB before the groups, %.1f MiB after\n", rss0 / 1048576.0, rss / 1048576.0);
        std::printf("memory per group            %.1f KiB (RSS growth / groups)\n", (static_cast<double>(rss) - static_cast<double>(rss0)) / 1024.0 / groups);
        std::printf("broker CPU (steady state)   %.3f s over %.1f s = %.2f%% of one core\n", cpu, elapsed, 100.0 * cpu / elapsed);
        std::printf("CPU per group               %.2f us per second of wall time\n", 1e6 * cpu / elapsed / groups);
        std::printf("CPU per heartbeat           %.1f us\n", heartbeats > 0 ? 1e6 * cpu / heartbeats : 0.0);
        conns.clear();
        (void)broker.stop();
        return stable == groups ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "group_bench: %s\n", e.what());
        return 1;
    }
}
