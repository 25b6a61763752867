#include "broker/socket_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <climits>
#include <cstddef>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

namespace samsa::broker {

namespace {
// Frames batched into one uv_write; libuv splits a longer iovec list itself, this only bounds
// the array built here.
constexpr size_t max_batch = 256;
} // namespace

socket_writer::~socket_writer() {
    // The connection closes the writer before freeing it; a dup without a poll handle would
    // leak otherwise.
    if (poll_ == nullptr && dup_fd_ >= 0) (void)::close(dup_fd_);
}

void socket_writer::write(protocol::output_buffer buf) {
    if (closed_) return;
    queued_bytes_ += buf.bytes.size();
    frames_.push_back(frame{std::move(buf)});
    pump();
}

void socket_writer::finish_done_frames() noexcept {
    size_t n = 0;
    size_t bytes = 0;
    while (!frames_.empty() && frames_.front().done()) {
        bytes += frames_.front().buf.bytes.size();
        frames_.pop_front();
        ++n;
    }
    if (n == 0) return;
    queued_bytes_ -= bytes;
    if (cb_.on_written) cb_.on_written(n, bytes);
}

void socket_writer::pump() noexcept {
    while (!writing_ && !polling_ && !closed_) {
        finish_done_frames();
        if (writing_ || polling_ || closed_ || frames_.empty()) return;
        frame& head = frames_.front();
        if (head.pos == head.run_end() && head.splice < head.buf.splices.size()) {
            if (!send_range(head)) return;
            continue;
        }
        // One uv_write for the byte runs of as many frames as possible, up to a file range.
        std::vector<uv_buf_t> bufs;
        size_t planned = 0;
        for (auto& f : frames_) {
            if (planned == max_batch) break;
            const size_t end = f.run_end();
            if (end > f.pos)
                bufs.push_back(uv_buf_init(reinterpret_cast<char*>(f.buf.bytes.data() + f.pos), static_cast<unsigned>(end - f.pos)));
            f.planned = end;
            ++planned;
            if (f.splice < f.buf.splices.size()) break;
        }
        if (bufs.empty()) {
            for (size_t i = 0; i < planned; ++i) frames_[i].pos = frames_[i].planned;
            continue;
        }
        // Write now what the socket takes: a uv_write callback runs only on the loop's next turn,
        // after every other read of this turn was handled, and would hold back the responses of
        // pipelined requests (a producer's in-flight window) for that long.
        const ssize_t wrote = write_now(bufs);
        if (wrote < 0) {
            fail(std::string("write: ") + std::strerror(static_cast<int>(-wrote)));
            return;
        }
        size_t written = static_cast<size_t>(wrote);
        bool all = true;
        for (size_t i = 0; i < planned; ++i) {
            auto& f = frames_[i];
            const size_t take = std::min(written, f.planned - f.pos);
            f.pos += take;
            written -= take;
            all = all && f.pos == f.planned;
        }
        if (all) continue;
        // The socket is full: uv_write sends the rest when it becomes writable.
        bufs.clear();
        for (size_t i = 0; i < planned; ++i) {
            auto& f = frames_[i];
            if (f.planned > f.pos)
                bufs.push_back(uv_buf_init(reinterpret_cast<char*>(f.buf.bytes.data() + f.pos), static_cast<unsigned>(f.planned - f.pos)));
        }
        planned_frames_ = planned;
        req_.data = this;
        const int rc = uv_write(&req_, reinterpret_cast<uv_stream_t*>(socket_), bufs.data(),
                                static_cast<unsigned>(bufs.size()), &socket_writer::on_write);
        if (rc != 0) {
            fail(std::string("uv_write: ") + uv_strerror(rc));
            return;
        }
        writing_ = true;
    }
}

void socket_writer::on_write(uv_write_t* req, int status) noexcept {
    auto* self = static_cast<socket_writer*>(req->data);
    self->writing_ = false;
    if (self->closed_) return;
    if (status < 0) {
        self->fail(std::string("write: ") + uv_strerror(status));
        return;
    }
    for (size_t i = 0; i < self->planned_frames_ && i < self->frames_.size(); ++i) self->frames_[i].pos = self->frames_[i].planned;
    self->planned_frames_ = 0;
    self->pump();
}

ssize_t socket_writer::write_now(const std::vector<uv_buf_t>& bufs) noexcept {
    // writev(2) on the socket rather than uv_try_write: libuv 1.44 implements that through
    // uv_write and then stops watching for POLLOUT, which re-queues the socket's epoll
    // registration and costs an epoll_ctl on every response. Only called with no uv_write in
    // flight, so libuv's own write queue is empty and the bytes stay in order.
    static_assert(sizeof(uv_buf_t) == sizeof(iovec) && offsetof(uv_buf_t, base) == offsetof(iovec, iov_base) &&
                  offsetof(uv_buf_t, len) == offsetof(iovec, iov_len));
    uv_os_fd_t sock = -1;
    if (const int rc = uv_fileno(reinterpret_cast<const uv_handle_t*>(socket_), &sock); rc != 0) return -EBADF;
    const int count = static_cast<int>(std::min<size_t>(bufs.size(), IOV_MAX));
    for (;;) {
        const ssize_t n = ::writev(sock, reinterpret_cast<const iovec*>(bufs.data()), count);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -errno;
    }
}

bool socket_writer::send_range(frame& f) noexcept {
    const auto& r = f.buf.splices[f.splice].range;
    uv_os_fd_t sock = -1;
    if (const int rc = uv_fileno(reinterpret_cast<uv_handle_t*>(socket_), &sock); rc != 0) {
        fail(std::string("uv_fileno: ") + uv_strerror(rc));
        return false;
    }
    while (f.range_sent < r.length) {
        off_t off = static_cast<off_t>(r.offset + f.range_sent);
        const ssize_t n = ::sendfile(sock, r.fd, &off, static_cast<size_t>(r.length - f.range_sent));
        if (n > 0) {
            f.range_sent += n;
            continue;
        }
        if (n == 0) {
            // The file is shorter than the range promised in the response header: the frame
            // cannot be completed, and the stream is now out of step with the client.
            fail("sendfile: the file ended inside a range (truncated segment?)");
            return false;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            (void)wait_writable();
            return false;
        }
        fail(std::string("sendfile: ") + std::strerror(errno));
        return false;
    }
    ++f.splice;
    f.range_sent = 0;
    return true;
}

bool socket_writer::wait_writable() noexcept {
    if (poll_ == nullptr) {
        uv_os_fd_t sock = -1;
        if (const int rc = uv_fileno(reinterpret_cast<uv_handle_t*>(socket_), &sock); rc != 0) {
            fail(std::string("uv_fileno: ") + uv_strerror(rc));
            return false;
        }
        dup_fd_ = ::fcntl(sock, F_DUPFD_CLOEXEC, 0);
        if (dup_fd_ < 0) {
            fail(std::string("dup: ") + std::strerror(errno));
            return false;
        }
        poll_ = new uv_poll_t;
        if (const int rc = uv_poll_init(loop_, poll_, dup_fd_); rc != 0) {
            delete poll_;
            poll_ = nullptr;
            fail(std::string("uv_poll_init: ") + uv_strerror(rc));
            return false;
        }
        poll_->data = this;
    }
    if (const int rc = uv_poll_start(poll_, UV_WRITABLE, &socket_writer::on_poll); rc != 0) {
        fail(std::string("uv_poll_start: ") + uv_strerror(rc));
        return false;
    }
    polling_ = true;
    if (cb_.on_wait) cb_.on_wait();
    return true;
}

void socket_writer::on_poll(uv_poll_t* h, int status, int) noexcept {
    auto* self = static_cast<socket_writer*>(h->data);
    if (self == nullptr || self->closed_) return;
    (void)uv_poll_stop(h);  // only fails for a closing handle, which this is not
    self->polling_ = false;
    if (status < 0) {
        self->fail(std::string("poll: ") + uv_strerror(status));
        return;
    }
    self->pump();
}

void socket_writer::fail(const std::string& why) noexcept {
    if (closed_ || failed_) return;
    failed_ = true;
    if (cb_.on_error) cb_.on_error(why);
}

void socket_writer::close(std::function<void()> on_closed) {
    closed_ = true;
    if (poll_ == nullptr) {
        if (dup_fd_ >= 0) (void)::close(dup_fd_);
        dup_fd_ = -1;
        if (on_closed) on_closed();
        return;
    }
    on_closed_ = std::move(on_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) {
        auto* self = static_cast<socket_writer*>(h->data);
        delete reinterpret_cast<uv_poll_t*>(h);
        self->poll_ = nullptr;
        if (self->dup_fd_ >= 0) (void)::close(self->dup_fd_);
        self->dup_fd_ = -1;
        if (self->on_closed_) {
            auto fn = std::move(self->on_closed_);
            fn();
        }
    });
}

} // namespace samsa::broker
