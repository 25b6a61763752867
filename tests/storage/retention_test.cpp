// storage/retention: which prefix of segments a retention pass deletes.
#include "storage/retention.h"

#include <doctest/doctest.h>

using namespace samsa::storage;
using samsa::protocol::offset;

namespace {
// Four segments of 100 bytes at offsets 0, 10, 20, 30 (log end 40), newest timestamps 1000..4000.
std::vector<segment_summary> four() {
    return {{offset(0), 100, 1000}, {offset(10), 100, 2000}, {offset(20), 100, 3000}, {offset(30), 100, 4000}};
}
} // namespace

TEST_CASE("retention: by time, whole segments older than retention.ms") {
    log_config c;
    c.retention_ms = 1500;
    auto d = plan_retention(four(), offset(40), offset(40), offset(0), c, 4000);
    CHECK(d.count == 2);
    CHECK(d.first_reason == retention_reason::time);
    c.retention_ms = -1;
    CHECK(plan_retention(four(), offset(40), offset(40), offset(0), c, 1 << 30).count == 0);
}

TEST_CASE("retention: by size, while what remains is at least retention.bytes") {
    log_config c;
    c.retention_ms = -1;
    c.retention_bytes = 150;
    auto d = plan_retention(four(), offset(40), offset(40), offset(0), c, 0);
    CHECK(d.count == 2);
    CHECK(d.first_reason == retention_reason::size);
    c.retention_bytes = 0;
    CHECK(plan_retention(four(), offset(40), offset(40), offset(0), c, 0).count == 4);
}

TEST_CASE("retention: segments wholly below the log start offset go under any policy") {
    log_config c;
    c.cleanup_delete = false;
    c.cleanup_compact = true;
    c.retention_ms = 0;
    CHECK(plan_retention(four(), offset(40), offset(40), offset(25), c, 1 << 30).count == 2);
    CHECK(plan_retention(four(), offset(40), offset(40), offset(19), c, 1 << 30).count == 1);
}

TEST_CASE("retention: nothing at or above the high watermark, and never an empty last segment") {
    log_config c;
    c.retention_ms = 0;
    CHECK(plan_retention(four(), offset(40), offset(25), offset(0), c, 1 << 30).count == 2);
    CHECK(plan_retention(four(), offset(40), offset(40), offset(0), c, 1 << 30).count == 4);
    std::vector<segment_summary> empty_last{{offset(0), 100, 1000}, {offset(10), 0, -1}};
    CHECK(plan_retention(empty_last, offset(10), offset(10), offset(0), c, 1 << 30).count == 1);
}
