// storage/leader_epoch_cache: Kafka's assignment, end-offset and truncation rules.
#include "storage/leader_epoch_cache.h"

#include <doctest/doctest.h>

using namespace samsa::storage;
using entries = std::vector<checkpoint::epoch_entry>;

TEST_CASE("leader_epoch_cache: epochs and start offsets only grow; conflicts are removed") {
    leader_epoch_cache c;
    CHECK(c.assign(1, 0));
    CHECK_FALSE(c.assign(1, 5));   // same epoch, later offset: nothing new
    CHECK(c.assign(2, 10));
    CHECK(c.assign(4, 20));
    CHECK(c.entries() == entries{{1, 0}, {2, 10}, {4, 20}});
    // An epoch 3 starting at 15 removes everything at or after it.
    CHECK(c.assign(3, 15));
    CHECK(c.entries() == entries{{1, 0}, {2, 10}, {3, 15}});
    CHECK_FALSE(c.assign(-1, 30));
}

TEST_CASE("leader_epoch_cache: end offsets for OffsetForLeaderEpoch") {
    leader_epoch_cache c(entries{{1, 0}, {3, 10}, {6, 25}});
    CHECK(c.end_offset_for(6, 40).end_offset == 40);
    CHECK(c.end_offset_for(6, 40).epoch == 6);
    CHECK(c.end_offset_for(3, 40).end_offset == 25);
    CHECK(c.end_offset_for(4, 40).epoch == 3);
    CHECK(c.end_offset_for(4, 40).end_offset == 25);
    CHECK(c.end_offset_for(0, 40).epoch == 0);
    CHECK(c.end_offset_for(0, 40).end_offset == 0);
    CHECK(c.end_offset_for(9, 40).epoch == -1);
    CHECK(c.end_offset_for(-1, 40).end_offset == -1);
    CHECK(c.epoch_for(9) == 1);
    CHECK(c.epoch_for(10) == 3);
    CHECK(leader_epoch_cache().end_offset_for(1, 5).epoch == -1);
}

TEST_CASE("leader_epoch_cache: truncation at either end") {
    leader_epoch_cache c(entries{{1, 0}, {3, 10}, {6, 25}});
    CHECK(c.truncate_from_end(25));
    CHECK(c.entries() == entries{{1, 0}, {3, 10}});
    CHECK(c.truncate_from_start(12));
    CHECK(c.entries() == entries{{3, 12}});
    CHECK_FALSE(c.truncate_from_start(5));
    CHECK_FALSE(c.truncate_from_end(50));
}
