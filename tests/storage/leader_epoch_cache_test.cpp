// storage/leader_epoch_cache: Kafka's assignment, end-offset and truncation rules.
#include "storage/leader_epoch_cache.h"

#include <doctest/doctest.h>

using namespace samsa::storage;
using samsa::protocol::leader_epoch;
using entries = std::vector<checkpoint::epoch_entry>;

namespace {
constexpr samsa::protocol::offset off(int64_t v) { return samsa::protocol::offset(v); }
checkpoint::epoch_entry entry(int32_t epoch, int64_t start) { return {leader_epoch(epoch), off(start)}; }

template <typename E, typename O>
concept assign_accepts = requires(leader_epoch_cache& c, E e, O o) { c.assign(e, o); };
template <typename E, typename O>
concept end_offset_for_accepts = requires(const leader_epoch_cache& c, E e, O o) { c.end_offset_for(e, o); };
} // namespace

// Epoch and offset arguments cannot be swapped or passed as raw integers.
static_assert(assign_accepts<leader_epoch, samsa::protocol::offset>);
static_assert(!assign_accepts<samsa::protocol::offset, leader_epoch>);
static_assert(!assign_accepts<int32_t, int64_t>);
static_assert(end_offset_for_accepts<leader_epoch, samsa::protocol::offset>);
static_assert(!end_offset_for_accepts<samsa::protocol::offset, leader_epoch>);
static_assert(!end_offset_for_accepts<int32_t, int64_t>);

TEST_CASE("leader_epoch_cache: epochs and start offsets only grow; conflicts are removed") {
    leader_epoch_cache c;
    CHECK(c.assign(leader_epoch(1), off(0)));
    CHECK_FALSE(c.assign(leader_epoch(1), off(5)));   // same epoch, later offset: nothing new
    CHECK(c.assign(leader_epoch(2), off(10)));
    CHECK(c.assign(leader_epoch(4), off(20)));
    CHECK(c.entries() == entries{entry(1, 0), entry(2, 10), entry(4, 20)});
    // An epoch 3 starting at 15 removes everything at or after it.
    CHECK(c.assign(leader_epoch(3), off(15)));
    CHECK(c.entries() == entries{entry(1, 0), entry(2, 10), entry(3, 15)});
    CHECK_FALSE(c.assign(leader_epoch(-1), off(30)));
}

TEST_CASE("leader_epoch_cache: end offsets for OffsetForLeaderEpoch") {
    leader_epoch_cache c(entries{entry(1, 0), entry(3, 10), entry(6, 25)});
    CHECK(c.end_offset_for(leader_epoch(6), off(40)).end_offset == off(40));
    CHECK(c.end_offset_for(leader_epoch(6), off(40)).epoch == leader_epoch(6));
    CHECK(c.end_offset_for(leader_epoch(3), off(40)).end_offset == off(25));
    CHECK(c.end_offset_for(leader_epoch(4), off(40)).epoch == leader_epoch(3));
    CHECK(c.end_offset_for(leader_epoch(4), off(40)).end_offset == off(25));
    CHECK(c.end_offset_for(leader_epoch(0), off(40)).epoch == leader_epoch(0));
    CHECK(c.end_offset_for(leader_epoch(0), off(40)).end_offset == off(0));
    CHECK(c.end_offset_for(leader_epoch(9), off(40)).epoch == leader_epoch(-1));
    CHECK(c.end_offset_for(leader_epoch(-1), off(40)).end_offset == off(-1));
    CHECK(c.epoch_for(off(9)) == leader_epoch(1));
    CHECK(c.epoch_for(off(10)) == leader_epoch(3));
    CHECK(leader_epoch_cache().end_offset_for(leader_epoch(1), off(5)).epoch == leader_epoch(-1));
}

TEST_CASE("leader_epoch_cache: truncation at either end") {
    leader_epoch_cache c(entries{entry(1, 0), entry(3, 10), entry(6, 25)});
    CHECK(c.truncate_from_end(off(25)));
    CHECK(c.entries() == entries{entry(1, 0), entry(3, 10)});
    CHECK(c.truncate_from_start(off(12)));
    CHECK(c.entries() == entries{entry(3, 12)});
    CHECK_FALSE(c.truncate_from_start(off(5)));
    CHECK_FALSE(c.truncate_from_end(off(50)));
}
