#include "broker/connection.h"

#include "protocol/frame_decoder.h"

#include <algorithm>
#include <cstdint>

namespace samsa::broker {

connection::connection(transport_context& ctx, connection_info info)
    : ctx_(ctx), info_(std::move(info)),
      writer_(ctx.loop, &tcp_,
              socket_writer::callbacks{
                  [this](size_t, size_t bytes) {
                      ctx_.budget.release(bytes);
                      last_activity_ms_ = uv_now(ctx_.loop);
                      // Inside flush() more responses may be on their way to the writer.
                      if (state_ == state::draining && !flushing_ && queue_.size() == 0 && writer_.idle()) {
                          close("drained", log_level::debug);
                          return;
                      }
                      update_reading();
                      // Frames may be waiting in the buffer because too many were in flight.
                      if (state_ == state::open && in_.size() > 0) process_input();
                  },
                  [this](const std::string& why) { close(why, log_level::info); },
                  [this] { ++ctx_.stats.write_waits; }}),
      queue_([this] {
          if (processing_) settled_meanwhile_ = true;
          else flush();
      }) {}

bool connection::accept_from(uv_stream_t* listener) noexcept {
    if (const int rc = uv_tcp_init(ctx_.loop, &tcp_); rc != 0) {
        log_error("uv_tcp_init: ", uv_strerror(rc));
        // Nothing was initialised: there is no handle to close.
        state_ = state::closed;
        ctx_.on_closed(this);
        return false;
    }
    tcp_.data = this;
    ++ctx_.stats.accepted;
    if (const int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_)); rc != 0) {
        close(std::string("accept failed: ") + uv_strerror(rc), log_level::warn);
        return false;
    }
    sockaddr_storage addr{};
    int len = sizeof addr;
    if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        char host[64] = {};
        int port = 0;
        if (addr.ss_family == AF_INET6) {
            const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
            (void)uv_ip6_name(a6, host, sizeof host);
            port = ntohs(a6->sin6_port);
        } else {
            const auto* a4 = reinterpret_cast<const sockaddr_in*>(&addr);
            (void)uv_ip4_name(a4, host, sizeof host);
            port = ntohs(a4->sin_port);
        }
        info_.peer = std::string(host) + ":" + std::to_string(port);
    }
    last_activity_ms_ = uv_now(ctx_.loop);
    return true;
}

void connection::start() noexcept {
    if (state_ != state::open) return;
    if (const int rc = uv_tcp_nodelay(&tcp_, 1); rc != 0) log_warn("connection ", info_.id, ": TCP_NODELAY: ", uv_strerror(rc));
    auto* h = reinterpret_cast<uv_handle_t*>(&tcp_);
    if (int v = ctx_.config.socket_send_buffer_bytes; v > 0)
        if (const int rc = uv_send_buffer_size(h, &v); rc != 0) log_warn("connection ", info_.id, ": SO_SNDBUF: ", uv_strerror(rc));
    if (int v = ctx_.config.socket_receive_buffer_bytes; v > 0)
        if (const int rc = uv_recv_buffer_size(h, &v); rc != 0) log_warn("connection ", info_.id, ": SO_RCVBUF: ", uv_strerror(rc));
    last_activity_ms_ = uv_now(ctx_.loop);
    log_debug("connection ", info_.id, " from ", info_.peer, " on ", info_.listener);
    update_reading();
}

void connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) noexcept {
    auto* self = static_cast<connection*>(h->data);
    // Inside an admitted frame, read up to its end only; otherwise a chunk past what is there.
    auto& in = self->in_;
    const size_t want = self->expected_frame_ > in.size() ? self->expected_frame_ : in.size() + read_chunk;
    if (in.capacity() < want && !self->grow_input(want)) {
        *buf = uv_buf_init(nullptr, 0);  // closed: libuv reports UV_ENOBUFS to a closing stream
        return;
    }
    const auto space = in.free_space();
    if (space.empty()) {
        *buf = uv_buf_init(nullptr, 0);  // libuv reports UV_ENOBUFS, and the read is retried later
        return;
    }
    *buf = uv_buf_init(reinterpret_cast<char*>(space.data()), static_cast<unsigned>(std::min<size_t>(space.size(), UINT32_MAX)));
}

bool connection::grow_input(size_t total) noexcept {
    if (!in_.reserve(total)) {
        close("out of memory for a request of " + std::to_string(total) + " bytes", log_level::error);
        return false;
    }
    charge_input();
    return true;
}

void connection::charge_input() noexcept {
    // The resting read buffer is connection overhead; what a large frame adds is request memory.
    const size_t charge = in_.capacity() > read_chunk ? in_.capacity() - read_chunk : 0;
    if (charge > charged_input_) ctx_.budget.force_acquire(charge - charged_input_);
    else ctx_.budget.release(charged_input_ - charge);
    charged_input_ = charge;
}

void connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) noexcept {
    auto* self = static_cast<connection*>(s->data);
    if (self->state_ != state::open) return;
    if (nread > 0) {
        self->in_.commit(static_cast<size_t>(nread));
        self->last_activity_ms_ = uv_now(self->ctx_.loop);
        self->process_input();
        return;
    }
    if (nread == UV_EOF) {
        if (self->in_.size() > 0)
            self->close("the client disconnected in the middle of a request (" + std::to_string(self->in_.size()) + " bytes unread)",
                        log_level::info);
        else
            self->close("the client disconnected", log_level::debug);
        return;
    }
    if (nread == UV_ENOBUFS) return;
    if (nread < 0) self->close(std::string("read: ") + uv_strerror(static_cast<int>(nread)), log_level::info);
}

void connection::process_input() noexcept {
    if (state_ != state::open || processing_) return;
    processing_ = true;
    const auto max_frame = ctx_.config.socket_request_max_bytes;
    const auto max_in_flight = static_cast<size_t>(ctx_.config.queued_max_requests);
    size_t off = 0;
    while (state_ == state::open) {
        if (in_flight() >= max_in_flight || unmute_timer_) break;
        const auto fr = protocol::next_frame(protocol::bytes_view(in_.data() + off, in_.size() - off), max_frame);
        if (fr.status == protocol::frame_status::too_large || fr.status == protocol::frame_status::negative_size) {
            ++ctx_.stats.rejected_frames;
            processing_ = false;
            close("frame size " + std::to_string(fr.frame_size) +
                      (fr.status == protocol::frame_status::too_large
                           ? " is over socket.request.max.bytes (" + std::to_string(max_frame) + ")"
                           : " is negative"),
                  log_level::warn);
            return;
        }
        if (fr.status == protocol::frame_status::need_more) {
            expected_frame_ = in_.size() - off >= 4 ? 4 + static_cast<size_t>(fr.frame_size) : 0;
            break;
        }
        expected_frame_ = 0;
        ++ctx_.stats.requests;
        auto slot = queue_.push();
        const auto res = ctx_.dispatch.dispatch(fr.frame, ctx_.services, info_, slot);
        off += fr.consumed;
        if (res.close) {
            ++ctx_.stats.rejected_frames;
            processing_ = false;
            close(res.reason, log_level::warn);
            return;
        }
    }
    processing_ = false;
    if (state_ == state::closing || state_ == state::closed) return;

    // Keep the unread tail at the front of the buffer.
    in_.consume(off);
    // Admit the next frame before buffering it: take its bytes from the budget or wait.
    waiting_budget_ = false;
    if (expected_frame_ > in_.capacity()) {
        const size_t capacity = in_.capacity_for(expected_frame_);
        const size_t charge = capacity > read_chunk ? capacity - read_chunk : 0;
        if (charge <= charged_input_ || ctx_.budget.try_acquire(charge - charged_input_)) {
            if (charge > charged_input_) charged_input_ = charge;
            if (!grow_input(expected_frame_)) return;
        } else {
            waiting_budget_ = true;
        }
    } else if (in_.release_idle(max_idle_input)) {
        charge_input();  // gives back what a large frame took
    }
    flush();
}

void connection::flush() noexcept {
    if (state_ == state::closing || state_ == state::closed) return;
    // The writer may finish a frame inside write() and call back into the connection, which may
    // read and answer more requests and flush again: those responses must wait until the ones
    // taken here are queued, or they would overtake them.
    if (flushing_) {
        flush_again_ = true;
        return;
    }
    flushing_ = true;
    auto head = response_queue::head_state::empty;
    do {
        flush_again_ = false;
        settled_meanwhile_ = false;
        std::vector<protocol::output_buffer> ready;
        int32_t throttle_ms = 0;
        head = queue_.pop_ready(ready, &throttle_ms);
        if (throttle_ms > 0) mute_for(throttle_ms);
        for (auto& f : ready) {
            ctx_.budget.force_acquire(f.bytes.size());
            writer_.write(std::move(f));
            if (state_ != state::open && state_ != state::draining) {
                flushing_ = false;
                return;
            }
        }
    } while (flush_again_ && head != response_queue::head_state::failed);
    flushing_ = false;
    if (head == response_queue::head_state::failed) {
        close("a request could not be answered (see the log above)", log_level::warn);
        return;
    }
    if (state_ == state::draining && queue_.size() == 0 && writer_.idle()) {
        close("drained", log_level::debug);
        return;
    }
    update_reading();
}

void connection::mute_for(int32_t throttle_ms) noexcept {
    const uint64_t until = uv_now(ctx_.loop) + static_cast<uint64_t>(throttle_ms);
    if (until <= muted_until_ms_ && unmute_timer_) return;
    muted_until_ms_ = until;
    try {
        unmute_timer_ = ctx_.services.loop.start_timer(static_cast<uint64_t>(throttle_ms), [this] {
            unmute_timer_.reset();
            if (state_ != state::open) return;
            update_reading();
            if (in_.size() > 0) process_input();  // requests that arrived before the mute
        });
    } catch (const std::exception& e) {
        log_warn("connection ", info_.id, ": cannot mute for a quota throttle: ", e.what());
        unmute_timer_.reset();
    }
    update_reading();
}

void connection::update_reading() noexcept {
    if (state_ != state::open) return;
    const bool budget_ok = !waiting_budget_ && (!ctx_.budget.exhausted() || expected_frame_ > 0);
    const bool want = !unmute_timer_ && in_flight() < static_cast<size_t>(ctx_.config.queued_max_requests) &&
                      writer_.queued_bytes() < max_queued_response_bytes && budget_ok;
    auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
    if (want && !reading_) {
        if (const int rc = uv_read_start(stream, &connection::on_alloc, &connection::on_read); rc != 0) {
            close(std::string("uv_read_start: ") + uv_strerror(rc), log_level::warn);
            return;
        }
        reading_ = true;
    } else if (!want && reading_) {
        (void)uv_read_stop(stream);  // always succeeds on an open stream
        reading_ = false;
        ++ctx_.stats.read_pauses;
    }
    if (!budget_ok) {
        ctx_.budget.wait(info_.id, [this] {
            if (state_ != state::open) return;
            if (waiting_budget_) process_input();  // retries the admission
            update_reading();
        });
    }
}

void connection::drain() noexcept {
    if (state_ != state::open) return;
    state_ = state::draining;
    if (reading_) {
        (void)uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
        reading_ = false;
    }
    if (queue_.size() == 0 && writer_.idle()) close("shutting down", log_level::debug);
}

bool connection::idle_since(uint64_t now_ms, uint64_t idle_ms) const noexcept {
    return state_ == state::open && queue_.size() == 0 && writer_.idle() && now_ms - last_activity_ms_ >= idle_ms;
}

void connection::close(std::string_view reason, log_level level) noexcept {
    if (state_ == state::closing || state_ == state::closed) return;
    log(level, "connection ", info_.id, " (", info_.peer, ") closed: ", reason);
    state_ = state::closing;
    reading_ = false;  // uv_close stops reading
    unmute_timer_.reset();
    ctx_.budget.cancel_wait(info_.id);
    queue_.cancel_all();
    const size_t held = charged_input_ + writer_.queued_bytes();
    charged_input_ = 0;
    pending_closes_ = 2;
    writer_.close([this] { handle_closed(); });
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &connection::on_tcp_closed);
    ctx_.budget.release(held);
}

void connection::on_tcp_closed(uv_handle_t* h) noexcept { static_cast<connection*>(h->data)->handle_closed(); }

void connection::handle_closed() noexcept {
    if (--pending_closes_ > 0) return;
    state_ = state::closed;
    ++ctx_.stats.closed;
    ctx_.on_closed(this);  // frees this connection: nothing may follow
}

} // namespace samsa::broker
