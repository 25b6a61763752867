// Routes one request frame to its handler through a table built from one handler list, the
// same list ApiVersions advertises (so an API cannot be served without being advertised, or
// the reverse). Parses the header, applies the version rules, runs the handler and settles
// the request's response slot. Pure with respect to sockets: the connection gives it a frame
// and a slot, and the tests call it directly. Built at start-up; dispatch() runs on the loop
// thread and never throws.
#pragma once

#include "broker/handler.h"
#include "broker/request_context.h"
#include "broker/response_queue.h"
#include "protocol/wire.h"

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace samsa::broker {

struct dispatch_result {
    bool close = false;  // the frame was malformed or unanswerable: close the connection
    std::string reason;  // why, for the log
    int16_t api_key = -1;
    int16_t api_version = -1;
};

class dispatcher {
public:
    // Checks the list (unique keys the codec knows, ranges inside the schema's, a reason for
    // every narrower range); throws std::logic_error at start-up when it is wrong.
    explicit dispatcher(std::vector<handler_entry> handlers);

    [[nodiscard]] std::span<const handler_entry> handlers() const noexcept { return handlers_; }
    [[nodiscard]] const handler_entry* find(int16_t api_key) const noexcept;

    // Handles one frame (the bytes after the size prefix, borrowed for this call). Settles
    // `slot` unless the handler deferred it; when the result says close, the slot is failed.
    [[nodiscard]] dispatch_result dispatch(protocol::bytes_view frame, const broker_services& services,
                                           const connection_info& connection,
                                           const std::shared_ptr<response_slot>& slot) const noexcept;

private:
    std::vector<handler_entry> handlers_;
    std::array<int16_t, 128> index_{};  // api key -> position in handlers_, -1 when none
};

} // namespace samsa::broker
