// Writes response frames to one TCP socket in order (transport): byte runs with writev(2) at once
// and uv_write for what a full socket did not take (consecutive frames batched into one call),
// file ranges with sendfile(2) straight from the page cache. sendfile runs on the loop thread on
// the non-blocking socket; when the socket is full it waits for writability with a uv_poll_t on
// a dup() of the socket, because libuv does not allow a second handle on the same descriptor.
// Owned by its connection; the frames it holds (and the file owners inside them) live until
// written. Loop thread only.
#pragma once

#include "protocol/wire.h"

#include <uv.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace samsa::broker {

class socket_writer {
public:
    struct callbacks {
        // Frames fully written, and the in-memory bytes they held (for the memory budget).
        std::function<void(size_t frames, size_t bytes)> on_written;
        // A write failed; the connection should close. `why` is for the log.
        std::function<void(const std::string& why)> on_error;
        // The socket was full during a sendfile; writing resumes when it drains (optional).
        std::function<void()> on_wait;
    };

    socket_writer(uv_loop_t* loop, uv_tcp_t* socket, callbacks cb) : loop_(loop), socket_(socket), cb_(std::move(cb)) {}
    socket_writer(const socket_writer&) = delete;
    socket_writer& operator=(const socket_writer&) = delete;
    ~socket_writer();

    // Queues a frame and starts writing if idle.
    void write(protocol::output_buffer frame);

    [[nodiscard]] size_t queued_frames() const noexcept { return frames_.size(); }
    [[nodiscard]] size_t queued_bytes() const noexcept { return queued_bytes_; }
    [[nodiscard]] bool idle() const noexcept { return frames_.empty(); }

    // Stops writing and closes the poll handle, if any. `on_closed` runs once every handle of
    // the writer is closed (at once when there is none). The uv_write in flight, if any, is
    // cancelled by closing the socket, which the connection does.
    void close(std::function<void()> on_closed);

private:
    struct frame {
        protocol::output_buffer buf;
        size_t pos = 0;          // bytes of buf.bytes written
        size_t splice = 0;       // next splice to send
        int64_t range_sent = 0;  // bytes of that splice's range already sent
        size_t planned = 0;      // end of the byte run in the current uv_write
        [[nodiscard]] bool done() const noexcept { return pos == buf.bytes.size() && splice == buf.splices.size(); }
        [[nodiscard]] size_t run_end() const noexcept {
            return splice < buf.splices.size() ? buf.splices[splice].at : buf.bytes.size();
        }
    };

    void pump() noexcept;
    // Writes what the socket takes of `bufs` now: bytes written (0 when full), or -errno.
    [[nodiscard]] ssize_t write_now(const std::vector<uv_buf_t>& bufs) noexcept;
    // Sends the current file range of the head frame. False when it must wait or failed.
    bool send_range(frame& f) noexcept;
    bool wait_writable() noexcept;
    void finish_done_frames() noexcept;
    void fail(const std::string& why) noexcept;
    static void on_write(uv_write_t* req, int status) noexcept;
    static void on_poll(uv_poll_t* h, int status, int events) noexcept;

    uv_loop_t* loop_;
    uv_tcp_t* socket_;
    callbacks cb_;
    std::deque<frame> frames_;
    size_t queued_bytes_ = 0;
    uv_write_t req_{};
    bool writing_ = false;   // a uv_write is in flight
    bool polling_ = false;   // waiting for writability
    bool closed_ = false;
    bool failed_ = false;
    size_t planned_frames_ = 0;  // frames whose byte runs the uv_write in flight carries
    int dup_fd_ = -1;
    uv_poll_t* poll_ = nullptr;  // heap: freed in its close callback
    std::function<void()> on_closed_;
};

} // namespace samsa::broker
