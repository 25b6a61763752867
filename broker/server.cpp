#include "broker/server.h"

#include "broker/admin/config_registry.h"
#include "broker/admin/connection_quotas.h"
#include "broker/connection.h"
#include "broker/dispatcher.h"
#include "broker/logger.h"
#include "broker/memory_budget.h"
#include "broker/uv_loop_services.h"

#include <uv.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace samsa::broker {

namespace {

template <typename Handle>
void close_and_delete(Handle*& h) noexcept {
    if (h == nullptr) return;
    uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* x) { delete reinterpret_cast<Handle*>(x); });
    h = nullptr;
}

std::string uv_error(const char* what, int rc) { return std::string(what) + ": " + uv_strerror(rc); }

} // namespace

struct server::impl {
    struct listener {
        listener_endpoint endpoint;
        uv_tcp_t* tcp = nullptr;
        uint16_t bound_port = 0;
        std::string advertised_host;
        int32_t advertised_port = 0;
        impl* owner = nullptr;
        // A connection waits on this listener for the connection limits (connection_quotas):
        // libuv polls the listener again only once it is taken with uv_accept.
        bool waiting = false;
        std::unique_ptr<loop_timer> wait_timer;  // the creation-rate throttle
    };

    explicit impl(const broker_config& c) : cfg(c), budget(c.queued_max_request_bytes) {}

    const broker_config& cfg;
    uv_loop_t loop{};
    bool loop_open = false;
    bool ran = false;
    std::unique_ptr<uv_loop_services> services;
    memory_budget budget;
    server_stats stats;
    std::unique_ptr<transport_context> transport;
    std::vector<std::unique_ptr<listener>> listeners;
    std::unordered_map<connection*, std::unique_ptr<connection>> connections;
    std::unique_ptr<connection_quotas> limits;
    std::unordered_map<connection*, std::string> counted;  // connection -> IP it is counted for
    std::unordered_map<connection*, std::unique_ptr<loop_timer>> held;  // IP-throttled, closed when due
    uint64_t next_connection_id = 1;
    uv_signal_t* sigint = nullptr;
    uv_signal_t* sigterm = nullptr;
    uv_timer_t* sweep = nullptr;
    uv_timer_t* grace = nullptr;
    bool shutting_down = false;
    bool shutdown_done = false;
    std::function<void()> hook;

    void bind(listener& l);
    void accept(listener& l) noexcept;
    void take(listener& l);
    void retry_waiting() noexcept;
    void closed(connection* c) noexcept;
    void start_sweep();
    void sweep_idle() noexcept;
    void begin_shutdown() noexcept;
    void maybe_finish_shutdown() noexcept;
};

void server::impl::bind(listener& l) {
    const std::string host = l.endpoint.host.empty() ? "0.0.0.0" : l.endpoint.host;
    const std::string port = std::to_string(l.endpoint.port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    uv_getaddrinfo_t req{};
    // Without a callback uv_getaddrinfo resolves synchronously, which is what start-up wants.
    if (const int rc = uv_getaddrinfo(&loop, &req, nullptr, host.c_str(), port.c_str(), &hints); rc != 0)
        throw std::runtime_error("listener " + l.endpoint.name + ": cannot resolve " + host + ": " + uv_strerror(rc));
    std::string last_error = "no address";
    l.tcp = new uv_tcp_t;
    if (const int rc = uv_tcp_init(&loop, l.tcp); rc != 0) {
        delete l.tcp;
        l.tcp = nullptr;
        uv_freeaddrinfo(req.addrinfo);
        throw std::runtime_error(uv_error("uv_tcp_init", rc));
    }
    l.tcp->data = &l;
    bool bound = false;
    for (addrinfo* ai = req.addrinfo; ai != nullptr && !bound; ai = ai->ai_next) {
        const int rc = uv_tcp_bind(l.tcp, ai->ai_addr, 0);
        if (rc == 0) bound = true;
        else last_error = uv_strerror(rc);
    }
    uv_freeaddrinfo(req.addrinfo);
    int rc = bound ? uv_listen(reinterpret_cast<uv_stream_t*>(l.tcp), 1024,
                               [](uv_stream_t* s, int status) noexcept {
                                   auto* li = static_cast<listener*>(s->data);
                                   if (status < 0) {
                                       log_warn("accept on ", li->endpoint.name, ": ", uv_strerror(status));
                                       return;
                                   }
                                   li->owner->accept(*li);
                               })
                   : -1;
    if (bound && rc != 0) last_error = uv_strerror(rc);
    if (!bound || rc != 0) {
        close_and_delete(l.tcp);
        throw std::runtime_error("listener " + l.endpoint.name + ": cannot listen on " + host + ":" + port + ": " + last_error);
    }
    sockaddr_storage addr{};
    int len = sizeof addr;
    if (const int grc = uv_tcp_getsockname(l.tcp, reinterpret_cast<sockaddr*>(&addr), &len); grc != 0)
        throw std::runtime_error(uv_error("uv_tcp_getsockname", grc));
    l.bound_port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                    : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);

    const auto advertised = cfg.advertised_for(l.endpoint.name).value_or(l.endpoint);
    l.advertised_host = advertised.host;
    if (l.advertised_host.empty()) {
        char name[256];
        size_t size = sizeof name;
        if (const int hrc = uv_os_gethostname(name, &size); hrc != 0)
            throw std::runtime_error(uv_error("uv_os_gethostname", hrc));
        l.advertised_host = name;
    }
    l.advertised_port = advertised.port == 0 ? l.bound_port : advertised.port;
    log_info("listening on ", l.endpoint.name, "://", host, ":", l.bound_port, " (advertised as ", l.advertised_host, ":",
             l.advertised_port, ")");
}

void server::impl::accept(listener& l) noexcept {
    if (shutting_down || l.waiting) return;
    try {
        // As Kafka's acceptor: over the broker's creation rate or at max.connections, the
        // connection waits (and those behind it stay in the listen queue).
        const int64_t wait = limits->record_creation(static_cast<int64_t>(uv_now(&loop)));
        if (wait > 0 || !limits->slot_available()) {
            l.waiting = true;
            if (wait > 0)
                l.wait_timer = services->start_timer(static_cast<uint64_t>(wait), [this, &l] {
                    l.wait_timer.reset();
                    retry_waiting();
                });
            return;
        }
        take(l);
    } catch (const std::exception& e) {
        log_error("cannot accept a connection: ", e.what());
    }
}

void server::impl::take(listener& l) {
    l.waiting = false;
    connection_info info;
    info.id = next_connection_id++;
    info.listener = l.endpoint.name;
    info.advertised_host = l.advertised_host;
    info.advertised_port = l.advertised_port;
    auto c = std::make_unique<connection>(*transport, std::move(info));
    auto* raw = c.get();
    connections.emplace(raw, std::move(c));
    if (!raw->accept_from(reinterpret_cast<uv_stream_t*>(l.tcp))) return;
    const std::string& peer = raw->info().peer;
    const std::string ip = peer.substr(0, peer.rfind(':'));
    const auto verdict = limits->admit(ip, static_cast<int64_t>(uv_now(&loop)));
    switch (verdict.what) {
        case connection_quotas::verdict::accept:
            counted.emplace(raw, ip);
            raw->start();
            return;
        case connection_quotas::verdict::too_many:
            counted.emplace(raw, ip);
            raw->close("rejected: " + ip + " already has the configured maximum of " + std::to_string(verdict.limit) +
                           " connections (max.connections.per.ip)",
                       log_level::info);
            return;
        case connection_quotas::verdict::throttled:
            // Kafka holds a connection over its IP's creation rate unread and closes it when the
            // throttle time is over, so the client does not reconnect at once.
            log_debug("connection ", raw->info().id, " from ", ip, " is over its connection_creation_rate: closing it in ",
                      verdict.throttle_ms, " ms");
            held[raw] = services->start_timer(static_cast<uint64_t>(verdict.throttle_ms), [raw] {
                raw->close("over its IP's connection_creation_rate quota", log_level::debug);
            });
            return;
    }
}

void server::impl::retry_waiting() noexcept {
    for (auto& l : listeners) {
        if (shutting_down || !l->waiting || l->wait_timer || l->tcp == nullptr || !limits->slot_available()) continue;
        try {
            take(*l);
        } catch (const std::exception& e) {
            log_error("cannot accept a connection: ", e.what());
        }
    }
}

void server::impl::closed(connection* c) noexcept {
    if (const auto it = counted.find(c); it != counted.end()) {
        limits->release(it->second);
        counted.erase(it);
    }
    held.erase(c);
    connections.erase(c);
    retry_waiting();
    maybe_finish_shutdown();
}

void server::impl::start_sweep() {
    if (cfg.connections_max_idle_ms <= 0) return;
    const auto period = static_cast<uint64_t>(std::clamp<int64_t>(cfg.connections_max_idle_ms / 4, 10, 1000));
    sweep = new uv_timer_t;
    if (const int rc = uv_timer_init(&loop, sweep); rc != 0) {
        delete sweep;
        sweep = nullptr;
        throw std::runtime_error(uv_error("uv_timer_init", rc));
    }
    sweep->data = this;
    if (const int rc = uv_timer_start(
            sweep, [](uv_timer_t* t) noexcept { static_cast<impl*>(t->data)->sweep_idle(); }, period, period);
        rc != 0)
        throw std::runtime_error(uv_error("uv_timer_start", rc));
}

void server::impl::sweep_idle() noexcept {
    const uint64_t now = uv_now(&loop);
    const auto idle = static_cast<uint64_t>(cfg.connections_max_idle_ms);
    std::vector<connection*> expired;
    for (const auto& [raw, c] : connections)
        if (c->idle_since(now, idle)) expired.push_back(raw);
    for (auto* c : expired) {
        ++stats.idle_closed;
        c->close("idle for longer than connections.max.idle.ms", log_level::debug);
    }
}

void server::impl::begin_shutdown() noexcept {
    if (shutting_down) return;
    shutting_down = true;
    log_info("shutting down: ", connections.size(), " connection(s) to finish");
    for (auto& l : listeners) {
        l->wait_timer.reset();
        close_and_delete(l->tcp);  // also closes a connection waiting to be taken
    }
    close_and_delete(sigint);
    close_and_delete(sigterm);
    close_and_delete(sweep);
    std::vector<connection*> open;
    for (const auto& [raw, c] : connections) open.push_back(raw);
    for (auto* c : open) c->drain();
    if (!connections.empty()) {
        grace = new uv_timer_t;
        if (uv_timer_init(&loop, grace) != 0) {
            delete grace;
            grace = nullptr;
        } else {
            grace->data = this;
            const int rc = uv_timer_start(
                grace,
                [](uv_timer_t* t) noexcept {
                    auto* self = static_cast<impl*>(t->data);
                    std::vector<connection*> left;
                    for (const auto& [raw, c] : self->connections) left.push_back(raw);
                    for (auto* c : left) c->close("requests still in flight at the shutdown timeout", log_level::warn);
                },
                static_cast<uint64_t>(cfg.shutdown_timeout_ms), 0);
            if (rc != 0) log_error(uv_error("uv_timer_start", rc));
        }
    }
    maybe_finish_shutdown();
}

void server::impl::maybe_finish_shutdown() noexcept {
    if (!shutting_down || shutdown_done || !connections.empty()) return;
    shutdown_done = true;
    close_and_delete(grace);
    if (hook) {
        try {
            hook();
        } catch (const std::exception& e) {
            log_error("shutdown: ", e.what());
        } catch (...) {
            log_error("shutdown: unknown failure");
        }
    }
    if (services) services->close();
}

server::server(const broker_config& cfg) : impl_(std::make_unique<impl>(cfg)) {
    if (const int rc = uv_loop_init(&impl_->loop); rc != 0) throw std::runtime_error(uv_error("uv_loop_init", rc));
    impl_->loop_open = true;
    impl_->services = std::make_unique<uv_loop_services>(&impl_->loop);
    // A write to a socket the peer has closed must fail with EPIPE, not kill the process.
    if (std::signal(SIGPIPE, SIG_IGN) == SIG_ERR) throw std::runtime_error("cannot ignore SIGPIPE");
}

server::~server() {
    if (!impl_->loop_open) return;
    shut_down_unrun();
    if (uv_loop_close(&impl_->loop) != 0) log_error("the event loop still had open handles at exit");
}

void server::shut_down_unrun() {
    auto& i = *impl_;
    if (!i.loop_open || i.ran) return;
    i.ran = true;
    i.begin_shutdown();
    (void)uv_run(&i.loop, UV_RUN_DEFAULT);
}

loop_services& server::loop() { return *impl_->services; }

void server::listen(const dispatcher& d, const broker_services& services) {
    auto& i = *impl_;
    i.transport = std::make_unique<transport_context>(
        transport_context{&i.loop, i.cfg, d, services, i.budget, i.stats, [&i](connection* c) { i.closed(c); }});
    i.limits = std::make_unique<connection_quotas>(i.cfg, services.configs != nullptr ? &services.configs->quotas() : nullptr);
    for (const auto& ep : i.cfg.served_listeners()) {
        auto l = std::make_unique<impl::listener>();
        l->endpoint = ep;
        l->owner = &i;
        i.listeners.push_back(std::move(l));
        i.bind(*i.listeners.back());
    }
    i.start_sweep();
}

uint16_t server::bound_port(std::string_view name) const {
    for (const auto& l : impl_->listeners)
        if (l->endpoint.name == name) return l->bound_port;
    return 0;
}

void server::handle_signals() {
    auto& i = *impl_;
    auto install = [&i](uv_signal_t*& h, int signum) {
        h = new uv_signal_t;
        if (const int rc = uv_signal_init(&i.loop, h); rc != 0) {
            delete h;
            h = nullptr;
            throw std::runtime_error(uv_error("uv_signal_init", rc));
        }
        h->data = &i;
        if (const int rc = uv_signal_start(
                h,
                [](uv_signal_t* s, int num) noexcept {
                    log_info("received ", num == SIGINT ? "SIGINT" : "SIGTERM");
                    static_cast<impl*>(s->data)->begin_shutdown();
                },
                signum);
            rc != 0)
            throw std::runtime_error(uv_error("uv_signal_start", rc));
    };
    install(i.sigint, SIGINT);
    install(i.sigterm, SIGTERM);
}

void server::on_shutdown(std::function<void()> hook) { impl_->hook = std::move(hook); }

bool server::run() {
    auto& i = *impl_;
    i.ran = true;
    (void)uv_run(&i.loop, UV_RUN_DEFAULT);  // returns when no active handle is left
    const int rc = uv_loop_close(&i.loop);
    if (rc == 0) {
        i.loop_open = false;
        return true;
    }
    uv_walk(
        &i.loop,
        [](uv_handle_t* h, void*) noexcept {
            log_error("leaked libuv handle: ", uv_handle_type_name(uv_handle_get_type(h)), (uv_is_closing(h) ? " (closing)" : ""));
        },
        nullptr);
    return false;
}

void server::request_shutdown() {
    auto* i = impl_.get();
    (void)i->services->post([i] { i->begin_shutdown(); });
}

const server_stats& server::stats() const noexcept { return impl_->stats; }

} // namespace samsa::broker
