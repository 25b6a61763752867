#include "broker/response_queue.h"

#include "broker/logger.h"

namespace samsa::broker {

void response_slot::settle(state s, protocol::output_buffer f) {
    if (st != state::waiting) return;
    st = s;
    frame = std::move(f);
    on_cancel = nullptr;
    if (queue != nullptr && queue->on_settled_) queue->on_settled_();
}

std::shared_ptr<response_slot> response_queue::push() {
    auto slot = std::make_shared<response_slot>();
    slot->queue = this;
    slots_.push_back(slot);
    return slot;
}

response_queue::head_state response_queue::pop_ready(std::vector<protocol::output_buffer>& out, int32_t* throttle_ms) {
    while (!slots_.empty()) {
        auto& head = *slots_.front();
        if (throttle_ms != nullptr && head.st != response_slot::state::waiting && head.throttle_ms > *throttle_ms)
            *throttle_ms = head.throttle_ms;
        switch (head.st) {
            case response_slot::state::waiting: return head_state::waiting;
            case response_slot::state::failed: return head_state::failed;
            case response_slot::state::ready: out.push_back(std::move(head.frame)); break;
            case response_slot::state::no_response: break;
        }
        head.queue = nullptr;
        slots_.pop_front();
    }
    return head_state::empty;
}

void response_queue::cancel_all() noexcept {
    // Hooks may drop the last reference to other slots' owners; detach everything first.
    std::vector<std::function<void()>> hooks;
    for (auto& s : slots_) {
        s->queue = nullptr;
        if (s->st == response_slot::state::waiting && s->on_cancel) hooks.push_back(std::move(s->on_cancel));
        s->on_cancel = nullptr;
    }
    slots_.clear();
    for (auto& h : hooks) {
        try {
            h();
        } catch (const std::exception& e) {
            log_error("a cancel hook threw: ", e.what());
        } catch (...) {
            log_error("a cancel hook threw");
        }
    }
}

} // namespace samsa::broker
