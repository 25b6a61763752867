// One loop timer for every group deadline: order, cancellation, re-arming, and a real libuv
// loop that closes cleanly afterwards.
#include "broker/groups/group_timers.h"
#include "broker/uv_loop_services.h"
#include "group_test_support.h"

#include <doctest/doctest.h>
#include <uv.h>

namespace samsa::broker::test {

TEST_CASE("group_timers: deadlines fire in order through one loop timer") {
    fake_loop loop;
    group_timers timers(loop);
    std::vector<int> fired;
    (void)timers.schedule_in(300, [&] { fired.push_back(3); });
    (void)timers.schedule_in(100, [&] { fired.push_back(1); });
    const auto cancelled = timers.schedule_in(200, [&] { fired.push_back(2); });
    (void)timers.schedule_in(100, [&] { fired.push_back(11); });
    timers.cancel(cancelled);
    CHECK(loop.live_timers() == 1);
    CHECK(timers.pending() == 3);
    loop.advance(150);
    CHECK(fired == std::vector<int>{1, 11});
    loop.advance(1000);
    CHECK(fired == std::vector<int>{1, 11, 3});
    CHECK(timers.pending() == 0);
    CHECK(loop.live_timers() == 0);
}

TEST_CASE("group_timers: a callback may schedule the next deadline") {
    fake_loop loop;
    group_timers timers(loop);
    int runs = 0;
    std::function<void()> again = [&] {
        if (++runs < 5) (void)timers.schedule_in(10, again);
    };
    (void)timers.schedule_in(10, again);
    loop.advance(100);
    CHECK(runs == 5);
    CHECK(timers.pending() == 0);
}

TEST_CASE("group_timers: thousands of deadlines cost one loop timer, armed once per distinct due time") {
    fake_loop loop;
    group_timers timers(loop);
    int fired = 0;
    for (int i = 0; i < 3000; ++i) (void)timers.schedule_in(static_cast<uint64_t>(1000 + i % 30), [&] { ++fired; });
    CHECK(loop.live_timers() == 1);
    loop.advance(1010);
    CHECK(fired == 1100);
    CHECK(loop.live_timers() == 1);
    loop.advance(5000);
    CHECK(fired == 3000);
    CHECK(loop.started() == 30);
    CHECK(loop.live_timers() == 0);
}

TEST_CASE("group_timers: on a libuv loop the timers fire and the loop closes cleanly") {
    uv_loop_t uv;
    REQUIRE(uv_loop_init(&uv) == 0);
    int fired = 0;
    {
        uv_loop_services services(&uv);
        group_timers timers(services);
        (void)timers.schedule_in(5, [&] { ++fired; });
        (void)timers.schedule_in(1, [&] { ++fired; });
        const auto never = timers.schedule_in(2, [&] { fired += 100; });
        timers.cancel(never);
        (void)timers.schedule_in(10, [&] {
            ++fired;
            timers.close();
            services.close();
        });
        CHECK(uv_run(&uv, UV_RUN_DEFAULT) == 0);
    }
    CHECK(fired == 3);
    CHECK(uv_run(&uv, UV_RUN_DEFAULT) == 0);
    CHECK(uv_loop_close(&uv) == 0);
}

} // namespace samsa::broker::test
