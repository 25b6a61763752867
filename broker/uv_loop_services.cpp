#include "broker/uv_loop_services.h"

#include "broker/logger.h"

#include <stdexcept>

namespace samsa::broker {

struct uv_loop_services::timer_state {
    uv_loop_services* owner = nullptr;
    uv_timer_t* handle = nullptr;  // null once closed
    std::function<void()> fn;

    void close() noexcept {
        if (handle == nullptr) return;
        handle->data = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
        handle = nullptr;
        fn = nullptr;
    }
};

namespace {

class timer_handle final : public loop_timer {
public:
    timer_handle(std::shared_ptr<uv_loop_services::timer_state> s, std::unordered_map<uv_loop_services::timer_state*, std::shared_ptr<uv_loop_services::timer_state>>* set)
        : state_(std::move(s)), set_(set) {}
    ~timer_handle() override { cancel(); }
    void cancel() noexcept override {
        if (!state_) return;
        if (state_->handle != nullptr) {
            state_->close();
            set_->erase(state_.get());
        }
        state_.reset();
    }

private:
    std::shared_ptr<uv_loop_services::timer_state> state_;
    std::unordered_map<uv_loop_services::timer_state*, std::shared_ptr<uv_loop_services::timer_state>>* set_;
};

void run_guarded(std::function<void()>& fn, const char* what) noexcept {
    try {
        fn();
    } catch (const std::exception& e) {
        log_error(what, " threw: ", e.what());
    } catch (...) {
        log_error(what, " threw");
    }
}

} // namespace

uv_loop_services::uv_loop_services(uv_loop_t* loop) : loop_(loop) {
    async_ = new uv_async_t;
    if (const int rc = uv_async_init(loop_, async_, &uv_loop_services::on_async); rc != 0) {
        delete async_;
        async_ = nullptr;
        throw std::runtime_error(std::string("uv_async_init: ") + uv_strerror(rc));
    }
    async_->data = this;
}

uv_loop_services::~uv_loop_services() { close(); }

std::unique_ptr<loop_timer> uv_loop_services::start_timer(uint64_t delay_ms, std::function<void()> fn) {
    auto state = std::make_shared<timer_state>();
    state->owner = this;
    state->fn = std::move(fn);
    auto* h = new uv_timer_t;
    if (const int rc = uv_timer_init(loop_, h); rc != 0) {
        delete h;
        throw std::runtime_error(std::string("uv_timer_init: ") + uv_strerror(rc));
    }
    h->data = state.get();
    state->handle = h;
    const int rc = uv_timer_start(
        h,
        [](uv_timer_t* t) noexcept {
            auto* s = static_cast<timer_state*>(t->data);
            if (s == nullptr) return;
            auto callback = std::move(s->fn);
            auto* owner = s->owner;
            // Close first: the callback may destroy the loop_timer that refers to this state.
            std::shared_ptr<timer_state> keep;
            if (auto it = owner->timers_.find(s); it != owner->timers_.end()) {
                keep = std::move(it->second);
                owner->timers_.erase(it);
            }
            s->close();
            if (callback) run_guarded(callback, "a timer callback");
        },
        delay_ms, 0);
    if (rc != 0) {
        state->close();
        throw std::runtime_error(std::string("uv_timer_start: ") + uv_strerror(rc));
    }
    timers_.emplace(state.get(), state);
    return std::make_unique<timer_handle>(state, &timers_);
}

bool uv_loop_services::post(std::function<void()> fn) {
    {
        std::lock_guard lock(posted_mutex_);
        if (closed_) return false;
        posted_.push_back(std::move(fn));
    }
    // uv_async_send is the one libuv call that is safe from any thread.
    return uv_async_send(async_) == 0;
}

void uv_loop_services::on_async(uv_async_t* h) noexcept {
    if (h->data != nullptr) static_cast<uv_loop_services*>(h->data)->run_posted();
}

void uv_loop_services::run_posted() noexcept {
    std::vector<std::function<void()>> batch;
    {
        std::lock_guard lock(posted_mutex_);
        batch.swap(posted_);
    }
    for (auto& fn : batch) run_guarded(fn, "posted work");
}

void uv_loop_services::close() noexcept {
    {
        std::lock_guard lock(posted_mutex_);
        if (closed_) return;
        closed_ = true;
    }
    run_posted();
    for (const auto& [raw, t] : timers_) t->close();
    timers_.clear();
    if (async_ != nullptr) {
        async_->data = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(async_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
        async_ = nullptr;
    }
}

} // namespace samsa::broker
