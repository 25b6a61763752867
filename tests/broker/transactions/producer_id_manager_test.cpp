// broker/transactions/producer_id_manager: ids are unique across restarts, reserved in blocks.
#include "broker/transactions/producer_id_manager.h"

#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <fstream>
#include <set>

using samsa::broker::producer_id_manager;
using samsa::broker::test::temp_dir;
using samsa::protocol::node_id;

TEST_CASE("producer_id_manager: ids never repeat across restarts, even mid-block") {
    temp_dir dir;
    const std::string path = (dir.path() / "producer-id-block").string();
    std::set<int64_t> seen;
    std::string why;
    {
        producer_id_manager ids(path, node_id(1));
        for (int i = 0; i < 5; ++i) {
            auto id = ids.next(&why);
            REQUIRE(id);
            CHECK(seen.insert(id->value()).second);
        }
        CHECK(*seen.begin() == 0);
    }
    // A restart skips what was left of the reserved block.
    producer_id_manager again(path, node_id(1));
    CHECK(again.next_block_start() == producer_id_manager::block_size);
    for (int64_t i = 0; i < producer_id_manager::block_size + 3; ++i) {
        auto id = again.next(&why);
        REQUIRE(id);
        CHECK(seen.insert(id->value()).second);
        CHECK(id->value() >= producer_id_manager::block_size);
    }
    CHECK(again.next_block_start() == 3 * producer_id_manager::block_size);
}

TEST_CASE("producer_id_manager: a malformed block file stops start-up instead of reusing ids") {
    temp_dir dir;
    const std::string path = (dir.path() / "producer-id-block").string();
    std::ofstream(path) << "{\"version\":1,\"block_start\":";
    CHECK_THROWS_AS(producer_id_manager(path, node_id(1)), std::runtime_error);
    std::ofstream(path, std::ios::trunc) << "{\"version\":9,\"broker\":1,\"block_start\":0,\"block_end\":999}";
    CHECK_THROWS_AS(producer_id_manager(path, node_id(1)), std::runtime_error);
}

TEST_CASE("producer_id_manager: a block that cannot be written hands out nothing") {
    temp_dir dir;
    producer_id_manager ids((dir.path() / "missing-dir" / "producer-id-block").string(), node_id(1));
    std::string why;
    CHECK_FALSE(ids.next(&why));
    CHECK_FALSE(why.empty());
}
