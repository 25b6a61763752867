// storage/flusher: completions on the polling thread, one fsync per file per pass (group commit).
#include "storage/flusher.h"

#include "storage/completion_queue.h"
#include "storage/file_handle.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace samsa::storage;
using namespace samsa::storage::test;

TEST_CASE("flusher: completions run on the thread that polls, after the work") {
    temp_dir dir;
    std::atomic<int> woken{0};
    completion_queue q([&] { ++woken; });
    flusher f(q);
    int err = 0;
    auto file = samsa::storage::file_handle::open(dir / "f", O_RDWR | O_CREAT, 0644, &err);
    REQUIRE(file);
    auto me = std::this_thread::get_id();
    bool ran = false;
    f.sync({file}, [&](int e) {
        CHECK(e == 0);
        CHECK(std::this_thread::get_id() == me);
        ran = true;
    });
    while (!ran) q.wait_and_run(50);
    // The wake-up is signalled after the completion is queued, so the completion may run first.
    for (int i = 0; i < 5000 && woken == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(woken >= 1);
}

TEST_CASE("flusher: syncs queued while one runs share one fsync per file") {
    temp_dir dir;
    completion_queue q;
    flusher f(q);
    int err = 0;
    auto a = samsa::storage::file_handle::open(dir / "a", O_RDWR | O_CREAT, 0644, &err);
    auto b = samsa::storage::file_handle::open(dir / "b", O_RDWR | O_CREAT, 0644, &err);
    std::mutex gate;
    gate.lock();
    std::atomic<bool> blocking{false};
    f.run([&gate, &blocking] {
        blocking = true;
        std::lock_guard hold(gate);
        return 0;
    }, {});
    // Queue the syncs only once the flusher thread is inside the blocking job, so that all of
    // them wait for the same next pass.
    while (!blocking) std::this_thread::yield();
    int done = 0;
    for (int i = 0; i < 100; ++i) f.sync({a, i % 2 ? b : a}, [&](int e) {
        CHECK(e == 0);
        ++done;
    });
    uint64_t before = f.sync_count();
    gate.unlock();
    while (done < 100) q.wait_and_run(50);
    CHECK(f.sync_count() - before == 2);
}

TEST_CASE("flusher: a failing job reports its errno") {
    completion_queue q;
    flusher f(q);
    int got = 0;
    bool ran = false;
    f.run([] { return EIO; }, [&](int e) {
        got = e;
        ran = true;
    });
    while (!ran) q.wait_and_run(50);
    CHECK(got == EIO);
}
