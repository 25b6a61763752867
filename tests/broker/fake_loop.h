// A loop_services for coordinator tests that runs nothing by itself: timers fire when the test
// moves the clock (advance), posted work runs when the test says so (run_one, run_posted). Owned
// by the test's fixture, which outlives what it serves; the test's thread only.
#pragma once

#include "broker/loop_services.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace samsa::broker::test {

class fake_loop final : public loop_services {
public:
    struct entry {
        uint64_t at;
        uint64_t seq;
        std::function<void()> fn;
        bool cancelled = false;
    };
    class timer final : public loop_timer {
    public:
        explicit timer(std::shared_ptr<entry> e) : e_(std::move(e)) {}
        ~timer() override { cancel(); }
        void cancel() noexcept override {
            if (e_) e_->cancelled = true;
        }

    private:
        std::shared_ptr<entry> e_;
    };

    [[nodiscard]] std::unique_ptr<loop_timer> start_timer(uint64_t delay_ms, std::function<void()> fn) override {
        auto e = std::make_shared<entry>(entry{now_ + delay_ms, seq_++, std::move(fn)});
        timers_.push_back(e);
        ++started_;
        return std::make_unique<timer>(e);
    }
    bool post(std::function<void()> fn) override {
        posted_.push_back(std::move(fn));
        ++posts_;
        return true;
    }
    [[nodiscard]] uint64_t now_ms() const noexcept override { return now_; }

    // Moves the clock forward, firing every loop timer that falls due, in order.
    void advance(uint64_t ms) {
        const uint64_t until = now_ + ms;
        for (;;) {
            std::shared_ptr<entry> next;
            for (const auto& e : timers_)
                if (!e->cancelled && e->at <= until && (!next || e->at < next->at || (e->at == next->at && e->seq < next->seq)))
                    next = e;
            if (!next) break;
            now_ = std::max(now_, next->at);
            next->cancelled = true;
            ++fired_;
            next->fn();
            std::erase_if(timers_, [](const auto& e) { return e->cancelled; });
        }
        now_ = until;
    }
    // Runs the oldest posted task, if any; returns whether there was one.
    bool run_one() {
        if (posted_.empty()) return false;
        auto fn = std::move(posted_.front());
        posted_.erase(posted_.begin());
        fn();
        return true;
    }
    // Runs posted work (and work that work posts) until none is left. Returns how much ran.
    size_t run_posted() {
        size_t n = 0;
        while (run_one()) ++n;
        return n;
    }
    // Tasks posted and not run yet; tasks posted since the loop was made.
    [[nodiscard]] size_t waiting() const noexcept { return posted_.size(); }
    [[nodiscard]] size_t posts() const noexcept { return posts_; }
    [[nodiscard]] size_t live_timers() const {
        return static_cast<size_t>(std::count_if(timers_.begin(), timers_.end(), [](const auto& e) { return !e->cancelled; }));
    }
    [[nodiscard]] size_t started() const noexcept { return started_; }
    [[nodiscard]] size_t fired() const noexcept { return fired_; }

private:
    uint64_t now_ = 1'000'000;
    uint64_t seq_ = 0;
    size_t started_ = 0;
    size_t fired_ = 0;
    size_t posts_ = 0;
    std::vector<std::shared_ptr<entry>> timers_;
    std::vector<std::function<void()>> posted_;
};

} // namespace samsa::broker::test
