// golden_capture: a one-broker, one-partition-per-topic stand-in for Kafka that records the
// request frames real clients send, so they can be kept as golden bytes (see README.md here).
// It listens on a loopback port, writes the first frame of every (API, version) it receives to
// `<out>/<api>_v<version>.hex`, and answers just enough of the protocol for a producer and a
// consumer (plain or in a group) to run: ApiVersions, Metadata, Produce, Fetch, ListOffsets,
// OffsetForLeaderEpoch, FindCoordinator, JoinGroup, SyncGroup, Heartbeat, OffsetFetch,
// OffsetCommit, LeaveGroup, InitProducerId. Produced batches are kept in memory and served back
// to consumers, so a capture session is: start this, produce, consume, stop it with SIGINT.
// Single-threaded, poll()-based; a test tool, not a broker: no limits beyond the frame cap.
#include "protocol/frame_decoder.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/offset_for_leader_epoch.h"
#include "protocol/messages/produce.h"
#include "protocol/messages/sync_group.h"
#include "protocol/record_batch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace samsa::protocol;
using steady = std::chrono::steady_clock;

namespace {

constexpr int32_t node_id = 1;
constexpr int32_t max_frame_bytes = 100 * 1024 * 1024;
constexpr auto longest_fetch_wait = std::chrono::milliseconds(500);
constexpr int16_t err_none = 0;
constexpr int16_t err_unknown_topic_or_partition = 3;
constexpr int16_t err_corrupt_message = 2;
constexpr int16_t err_unsupported_version = 35;

volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_signal(int) { stop_requested = 1; }

struct partition_log {
    std::vector<std::vector<uint8_t>> batches;  // base offsets already assigned
    int64_t end_offset = 0;
};

struct capture_state {
    std::string host = "127.0.0.1";
    int32_t port = 0;
    std::filesystem::path out_dir;
    std::set<std::pair<int16_t, int16_t>> written;  // (api key, version) already on disk
    std::map<std::string, partition_log> logs;      // topic -> its only partition
    std::map<std::string, int64_t> committed;       // "group/topic" -> offset
    int next_member = 1;
};

// A topic's id is derived from its name so that a restarted capture answers the same.
uuid topic_id_of(const std::string& name) {
    uuid id;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < id.bytes.size(); ++i) {
        for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ULL;
        h = (h ^ i) * 1099511628211ULL;
        id.bytes[i] = static_cast<uint8_t>(h >> 24);
    }
    return id;
}

const std::string* topic_by_id(const capture_state& st, const uuid& id) {
    for (const auto& [name, log] : st.logs)
        if (topic_id_of(name) == id) return &name;
    return nullptr;
}

std::string snake_name(std::string_view camel) {
    std::string out;
    for (char c : camel) {
        if (c >= 'A' && c <= 'Z') {
            if (!out.empty()) out.push_back('_');
            out.push_back(static_cast<char>(c - 'A' + 'a'));
        } else {
            out.push_back(c);
        }
    }
    return out;
}

void record_frame(capture_state& st, const parsed_request& req, bytes_view whole_frame) {
    const auto& h = req.header;
    if (!st.written.insert({h.api_key, h.api_version}).second) return;
    const std::string api = h.api ? std::string(h.api->name) : "Unknown" + std::to_string(h.api_key);
    const auto path = st.out_dir / (snake_name(api) + "_v" + std::to_string(h.api_version) + ".hex");
    std::ofstream f(path);
    f << "# " << api << " v" << h.api_version << " request frame (size prefix included), client id \""
      << (h.client_id ? std::string(*h.client_id) : std::string("<null>")) << "\"\n";
    static constexpr char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < whole_frame.size(); ++i) {
        f << digits[whole_frame[i] >> 4] << digits[whole_frame[i] & 15];
        if (i % 32 == 31 || i + 1 == whole_frame.size()) f << '\n';
    }
    std::fprintf(stderr, "captured %s\n", path.c_str());
}

template <typename Response>
std::vector<uint8_t> frame_of(const request_header_view& h, const Response& body, int16_t version) {
    output_buffer out;
    encode_response_frame(out, version, h.correlation_id, body);
    return std::move(out.bytes);
}

std::vector<uint8_t> answer_api_versions(const request_header_view& h) {
    api_versions_response resp;
    for (const auto& api : all_apis()) {
        if ((api.listeners & listener_broker) == 0) continue;
        const int16_t max = api.latest_version_unstable ? static_cast<int16_t>(api.max_version - 1) : api.max_version;
        resp.api_keys.push_back({api.key, api.min_version, max});
    }
    // A version above our range is answered at v0 with the error and our range, as Kafka does.
    if (!h.version_supported) {
        resp.error_code = err_unsupported_version;
        return frame_of(h, resp, 0);
    }
    return frame_of(h, resp, h.api_version);
}

std::vector<uint8_t> answer_metadata(capture_state& st, const request_header_view& h, const metadata_request& req) {
    metadata_response resp;
    resp.brokers.push_back({node_id, st.host, st.port, std::nullopt});
    resp.cluster_id = "golden-capture";
    resp.controller_id = node_id;
    std::vector<std::string> names;
    if (req.topics) {
        for (const auto& t : *req.topics) {
            if (t.name) names.push_back(*t.name);
            else if (const auto* n = topic_by_id(st, t.topic_id)) names.push_back(*n);
        }
    } else {
        for (const auto& [name, log] : st.logs) names.push_back(name);
    }
    for (const auto& name : names) {
        st.logs.try_emplace(name);  // every topic asked for exists (auto-creation)
        metadata_response::metadata_response_topic t;
        t.name = name;
        t.topic_id = topic_id_of(name);
        metadata_response::metadata_response_partition p;
        p.partition_index = 0;
        p.leader_id = node_id;
        p.leader_epoch = 0;
        p.replica_nodes = {node_id};
        p.isr_nodes = {node_id};
        t.partitions.push_back(std::move(p));
        resp.topics.push_back(std::move(t));
    }
    return frame_of(h, resp, h.api_version);
}

// Appends every batch in `records` after checking its header and CRC; returns the base offset.
int16_t append_batches(partition_log& log, bytes_view records, int64_t& base_offset) {
    base_offset = log.end_offset;
    while (!records.empty()) {
        auto view = batch::header_view::parse(records);
        if (!view || !view->crc_ok()) return err_corrupt_message;
        std::vector<uint8_t> copy(view->bytes().begin(), view->bytes().end());
        // Never true after parse(); it tells the compiler the copy is not empty.
        if (copy.size() < batch::header_size) return err_corrupt_message;
        batch::set_base_offset(copy, log.end_offset);
        log.end_offset += view->last_offset_delta() + 1;
        log.batches.push_back(std::move(copy));
        records = records.subspan(view->total_size());
    }
    return err_none;
}

std::optional<std::vector<uint8_t>> answer_produce(capture_state& st, const request_header_view& h,
                                                   const produce_request& req) {
    produce_response resp;
    for (const auto& t : req.topic_data) {
        produce_response::topic_produce_response tr;
        tr.name = t.name;
        for (const auto& p : t.partition_data) {
            produce_response::partition_produce_response pr;
            pr.index = p.index;
            auto it = st.logs.find(t.name);
            if (it == st.logs.end() || p.index != 0) {
                pr.error_code = err_unknown_topic_or_partition;
            } else {
                pr.error_code = append_batches(it->second, p.records.bytes(), pr.base_offset);
                pr.log_start_offset = 0;
            }
            tr.partition_responses.push_back(std::move(pr));
        }
        resp.responses.push_back(std::move(tr));
    }
    if (req.acks == 0) return std::nullopt;  // acks=0 producers expect no response at all
    return frame_of(h, resp, h.api_version);
}

std::vector<uint8_t> answer_fetch(capture_state& st, const request_header_view& h, const fetch_request& req,
                                  bool& had_data) {
    fetch_response resp;
    std::deque<std::vector<uint8_t>> chunks;  // owns the record bytes until the frame is encoded
    had_data = false;
    for (const auto& t : req.topics) {
        const std::string* name = h.api_version >= 13 ? topic_by_id(st, t.topic_id) : &t.topic;
        fetch_response::fetchable_topic_response tr;
        tr.topic = t.topic;
        tr.topic_id = t.topic_id;
        for (const auto& p : t.partitions) {
            fetch_response::partition_data pd;
            pd.partition_index = p.partition;
            auto it = name ? st.logs.find(*name) : st.logs.end();
            if (it == st.logs.end() || p.partition != 0) {
                pd.error_code = err_unknown_topic_or_partition;
                tr.partitions.push_back(std::move(pd));
                continue;
            }
            const auto& log = it->second;
            pd.high_watermark = log.end_offset;
            pd.last_stable_offset = log.end_offset;
            pd.log_start_offset = 0;
            auto& chunk = chunks.emplace_back();
            for (const auto& b : log.batches) {
                auto v = batch::header_view::parse(b);
                if (v->last_offset() < p.fetch_offset) continue;
                if (!chunk.empty() && chunk.size() + b.size() > static_cast<size_t>(p.partition_max_bytes)) break;
                chunk.insert(chunk.end(), b.begin(), b.end());
            }
            had_data = had_data || !chunk.empty();
            pd.records = records::from_bytes(chunk);
            tr.partitions.push_back(std::move(pd));
        }
        resp.responses.push_back(std::move(tr));
    }
    return frame_of(h, resp, h.api_version);
}

std::vector<uint8_t> answer_list_offsets(capture_state& st, const request_header_view& h,
                                         const list_offsets_request& req) {
    list_offsets_response resp;
    for (const auto& t : req.topics) {
        list_offsets_response::list_offsets_topic_response tr;
        tr.name = t.name;
        for (const auto& p : t.partitions) {
            list_offsets_response::list_offsets_partition_response pr;
            pr.partition_index = p.partition_index;
            auto it = st.logs.find(t.name);
            if (it == st.logs.end() || p.partition_index != 0) {
                pr.error_code = err_unknown_topic_or_partition;
            } else {
                // -2 asks for the earliest offset; anything else is answered with the end.
                pr.offset = p.timestamp == -2 ? 0 : it->second.end_offset;
                pr.old_style_offsets = {pr.offset};
                pr.leader_epoch = 0;
            }
            tr.partitions.push_back(std::move(pr));
        }
        resp.topics.push_back(std::move(tr));
    }
    return frame_of(h, resp, h.api_version);
}

std::vector<uint8_t> answer_offset_for_leader_epoch(capture_state& st, const request_header_view& h,
                                                    const offset_for_leader_epoch_request& req) {
    offset_for_leader_epoch_response resp;
    for (const auto& t : req.topics) {
        offset_for_leader_epoch_response::offset_for_leader_topic_result tr;
        tr.topic = t.topic;
        for (const auto& p : t.partitions) {
            offset_for_leader_epoch_response::epoch_end_offset e;
            e.partition = p.partition;
            auto it = st.logs.find(t.topic);
            if (it == st.logs.end() || p.partition != 0) {
                e.error_code = err_unknown_topic_or_partition;
            } else {
                e.leader_epoch = 0;
                e.end_offset = it->second.end_offset;
            }
            tr.partitions.push_back(e);
        }
        resp.topics.push_back(std::move(tr));
    }
    return frame_of(h, resp, h.api_version);
}

std::vector<uint8_t> answer_find_coordinator(capture_state& st, const request_header_view& h,
                                             const find_coordinator_request& req) {
    find_coordinator_response resp;
    resp.node_id = node_id;
    resp.host = st.host;
    resp.port = st.port;
    resp.error_message = std::nullopt;
    for (const auto& key : req.coordinator_keys)
        resp.coordinators.push_back({key, node_id, st.host, st.port, err_none, std::nullopt});
    return frame_of(h, resp, h.api_version);
}

// Every join completes at once with the joining member as the only member and the leader.
std::vector<uint8_t> answer_join_group(capture_state& st, const request_header_view& h,
                                       const join_group_request& req) {
    join_group_response resp;
    resp.member_id = req.member_id.empty() ? "member-" + std::to_string(st.next_member++) : req.member_id;
    resp.generation_id = 1;
    resp.protocol_type = req.protocol_type;
    resp.protocol_name = req.protocols.empty() ? std::string() : req.protocols.front().name;
    resp.leader = resp.member_id;
    if (!req.protocols.empty())
        resp.members.push_back({resp.member_id, req.group_instance_id, req.protocols.front().metadata});
    return frame_of(h, resp, h.api_version);
}

std::vector<uint8_t> answer_sync_group(const request_header_view& h, const sync_group_request& req) {
    sync_group_response resp;
    resp.protocol_type = req.protocol_type;
    resp.protocol_name = req.protocol_name;
    for (const auto& a : req.assignments)
        if (a.member_id == req.member_id) resp.assignment = a.assignment;
    return frame_of(h, resp, h.api_version);
}

std::vector<uint8_t> answer_offset_fetch(capture_state& st, const request_header_view& h,
                                         const offset_fetch_request& req) {
    auto committed = [&](const std::string& group, const std::string& topic) -> int64_t {
        auto it = st.committed.find(group + "/" + topic);
        return it == st.committed.end() ? -1 : it->second;
    };
    offset_fetch_response resp;
    if (req.topics) {
        for (const auto& t : *req.topics) {
            offset_fetch_response::offset_fetch_response_topic tr;
            tr.name = t.name;
            for (int32_t p : t.partition_indexes)
                tr.partitions.push_back({p, committed(req.group_id, t.name), -1, std::string(), err_none});
            resp.topics.push_back(std::move(tr));
        }
    }
    for (const auto& g : req.groups) {
        offset_fetch_response::offset_fetch_response_group gr;
        gr.group_id = g.group_id;
        if (g.topics) {
            for (const auto& t : *g.topics) {
                offset_fetch_response::offset_fetch_response_topics tr;
                tr.name = t.name;
                for (int32_t p : t.partition_indexes)
                    tr.partitions.push_back({p, committed(g.group_id, t.name), -1, std::string(), err_none});
                gr.topics.push_back(std::move(tr));
            }
        }
        resp.groups.push_back(std::move(gr));
    }
    return frame_of(h, resp, h.api_version);
}

std::vector<uint8_t> answer_offset_commit(capture_state& st, const request_header_view& h,
                                          const offset_commit_request& req) {
    offset_commit_response resp;
    for (const auto& t : req.topics) {
        offset_commit_response::offset_commit_response_topic tr;
        tr.name = t.name;
        for (const auto& p : t.partitions) {
            if (p.partition_index == 0) st.committed[req.group_id + "/" + t.name] = p.committed_offset;
            tr.partitions.push_back({p.partition_index, err_none});
        }
        resp.topics.push_back(std::move(tr));
    }
    return frame_of(h, resp, h.api_version);
}

std::vector<uint8_t> answer_leave_group(const request_header_view& h, const leave_group_request& req) {
    leave_group_response resp;
    for (const auto& m : req.members) resp.members.push_back({m.member_id, m.group_instance_id, err_none});
    return frame_of(h, resp, h.api_version);
}

struct reply {
    bool close = false;                       // a request this tool cannot answer
    std::optional<std::vector<uint8_t>> bytes;  // none: the request expects no response
    steady::duration delay{};                 // long-poll fetches wait before answering
};

template <typename Request>
bool decode_ok(const parsed_request& req, Request& out) {
    return decode_body(req.body, req.header.api_version, out) == decode_status::ok;
}

reply answer(capture_state& st, const parsed_request& req) {
    const auto& h = req.header;
    reply r;
    if (h.api_key == api_versions_request::api_key) {
        r.bytes = answer_api_versions(h);
        return r;
    }
    if (req.status != decode_status::ok) {
        r.close = true;
        return r;
    }
    switch (static_cast<api_key>(h.api_key)) {
    case api_key::metadata:
        if (metadata_request m; decode_ok(req, m)) r.bytes = answer_metadata(st, h, m);
        break;
    case api_key::produce:
        if (produce_request m; decode_ok(req, m)) {
            r.bytes = answer_produce(st, h, m);
            if (!r.bytes) return r;
        }
        break;
    case api_key::fetch:
        if (fetch_request m; decode_ok(req, m)) {
            bool had_data = false;
            r.bytes = answer_fetch(st, h, m, had_data);
            if (!had_data) r.delay = std::min<steady::duration>(std::chrono::milliseconds(m.max_wait_ms), longest_fetch_wait);
        }
        break;
    case api_key::list_offsets:
        if (list_offsets_request m; decode_ok(req, m)) r.bytes = answer_list_offsets(st, h, m);
        break;
    case api_key::offset_for_leader_epoch:
        if (offset_for_leader_epoch_request m; decode_ok(req, m)) r.bytes = answer_offset_for_leader_epoch(st, h, m);
        break;
    case api_key::find_coordinator:
        if (find_coordinator_request m; decode_ok(req, m)) r.bytes = answer_find_coordinator(st, h, m);
        break;
    case api_key::join_group:
        if (join_group_request m; decode_ok(req, m)) r.bytes = answer_join_group(st, h, m);
        break;
    case api_key::sync_group:
        if (sync_group_request m; decode_ok(req, m)) r.bytes = answer_sync_group(h, m);
        break;
    case api_key::heartbeat:
        r.bytes = frame_of(h, heartbeat_response{}, h.api_version);
        break;
    case api_key::offset_fetch:
        if (offset_fetch_request m; decode_ok(req, m)) r.bytes = answer_offset_fetch(st, h, m);
        break;
    case api_key::offset_commit:
        if (offset_commit_request m; decode_ok(req, m)) r.bytes = answer_offset_commit(st, h, m);
        break;
    case api_key::leave_group:
        if (leave_group_request m; decode_ok(req, m)) r.bytes = answer_leave_group(h, m);
        break;
    case api_key::init_producer_id: {
        init_producer_id_response resp;
        resp.producer_id = 1000;
        r.bytes = frame_of(h, resp, h.api_version);
        break;
    }
    default:
        break;
    }
    if (!r.bytes) r.close = true;
    return r;
}

struct pending_write {
    steady::time_point ready_at;
    std::vector<uint8_t> bytes;
    size_t sent = 0;
};

struct connection {
    int fd = -1;
    std::vector<uint8_t> in;
    std::deque<pending_write> out;  // strictly in request order
    bool closing = false;
};

// Reads what is there and answers every complete frame. Returns false when the peer is gone.
bool on_readable(capture_state& st, connection& c) {
    uint8_t buf[64 * 1024];
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR);
    c.in.insert(c.in.end(), buf, buf + n);
    size_t used = 0;
    for (;;) {
        const auto fr = next_frame(bytes_view(c.in).subspan(used), max_frame_bytes);
        if (fr.status == frame_status::need_more) break;
        if (fr.status != frame_status::complete) return false;
        const auto req = parse_request_header(fr.frame);
        record_frame(st, req, bytes_view(c.in).subspan(used, fr.consumed));
        used += fr.consumed;
        auto r = answer(st, req);
        if (r.close) {
            std::fprintf(stderr, "cannot answer api %d v%d (%s); closing the connection\n", req.header.api_key,
                         req.header.api_version, std::string(to_string(req.status)).c_str());
            c.closing = true;
            break;
        }
        if (r.bytes) c.out.push_back({steady::now() + r.delay, std::move(*r.bytes), 0});
    }
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<ptrdiff_t>(used));
    return true;
}

// Writes every response at the head of the queue whose time has come. False on a write error.
bool flush(connection& c) {
    while (!c.out.empty() && c.out.front().ready_at <= steady::now()) {
        auto& w = c.out.front();
        const ssize_t n = ::send(c.fd, w.bytes.data() + w.sent, w.bytes.size() - w.sent, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN || errno == EINTR;
        w.sent += static_cast<size_t>(n);
        if (w.sent < w.bytes.size()) return true;
        c.out.pop_front();
    }
    return true;
}

int listen_on(const std::string& host, int32_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
    if (::listen(fd, 16) != 0) return -1;
    return fd;
}

int usage() {
    std::fprintf(stderr, "usage: golden_capture --out DIR [--port N] [--host 127.0.0.1]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    capture_state st;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--out") st.out_dir = argv[i + 1];
        else if (flag == "--port") st.port = std::stoi(argv[i + 1]);
        else if (flag == "--host") st.host = argv[i + 1];
        else return usage();
    }
    if (st.out_dir.empty() || argc % 2 == 0) return usage();
    std::filesystem::create_directories(st.out_dir);

    const int lfd = listen_on(st.host, st.port);
    if (lfd < 0) {
        std::fprintf(stderr, "cannot listen on %s:%d: %s\n", st.host.c_str(), st.port, std::strerror(errno));
        return 1;
    }
    if (st.port == 0) {
        sockaddr_in addr{};
        socklen_t len = sizeof addr;
        if (::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 1;
        st.port = ntohs(addr.sin_port);
    }
    std::printf("%d\n", st.port);  // a script starting this reads the port from the first line
    std::fflush(stdout);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::vector<connection> conns;
    while (stop_requested == 0) {
        std::vector<pollfd> fds{{lfd, POLLIN, 0}};
        int timeout_ms = 1000;
        for (const auto& c : conns) {
            short events = POLLIN;
            if (!c.out.empty()) {
                const auto wait = std::chrono::ceil<std::chrono::milliseconds>(c.out.front().ready_at - steady::now());
                if (wait.count() <= 0) events |= POLLOUT;
                else timeout_ms = std::min(timeout_ms, static_cast<int>(wait.count()));
            }
            fds.push_back({c.fd, events, 0});
        }
        if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
            std::perror("poll");
            return 1;
        }
        if ((fds[0].revents & POLLIN) != 0) {
            const int cfd = ::accept(lfd, nullptr, nullptr);
            if (cfd >= 0) conns.push_back({cfd, {}, {}, false});
        }
        for (size_t i = 0; i < conns.size(); ++i) {
            auto& c = conns[i];
            const short rev = i + 1 < fds.size() ? fds[i + 1].revents : 0;
            bool alive = true;
            if ((rev & (POLLIN | POLLHUP | POLLERR)) != 0) alive = on_readable(st, c);
            if (alive) alive = flush(c);
            if (!alive || (c.closing && c.out.empty())) {
                ::close(c.fd);
                c.fd = -1;
            }
        }
        std::erase_if(conns, [](const connection& c) { return c.fd < 0; });
    }
    for (auto& c : conns) ::close(c.fd);
    ::close(lfd);
    return 0;
}
