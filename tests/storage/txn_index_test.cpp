// storage/txn_index: the aborted-transaction index of a segment.
#include "storage/txn_index.h"

#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

using namespace samsa::storage;
using namespace samsa::storage::test;

TEST_CASE("txn_index: entries are 34 bytes in Kafka's layout and survive a reopen") {
    temp_dir dir;
    const std::string path = dir / "00000000000000000000.txnindex";
    int err = 0;
    {
        auto idx = txn_index::open(path, &err);
        REQUIRE(idx);
        REQUIRE(idx->append({7, 10, 20, 15}) == 0);
        REQUIRE(idx->append({8, 12, 25, 26}) == 0);
    }
    auto bytes = read_file(path);
    REQUIRE(bytes.size() == 2 * txn_index_entry_size);
    CHECK(bytes[0] == 0);
    CHECK(bytes[1] == 0);  // version 0
    CHECK(samsa::protocol::batch::load_be64(bytes.data() + 2) == 7);
    CHECK(samsa::protocol::batch::load_be64(bytes.data() + 10) == 10);
    CHECK(samsa::protocol::batch::load_be64(bytes.data() + 18) == 20);
    CHECK(samsa::protocol::batch::load_be64(bytes.data() + 26) == 15);
    auto idx = txn_index::open(path, &err);
    REQUIRE(idx);
    CHECK(idx->entries() == std::vector<aborted_txn>{{7, 10, 20, 15}, {8, 12, 25, 26}});
}

TEST_CASE("txn_index: a torn trailing entry is cut off when the file is opened") {
    temp_dir dir;
    const std::string path = dir / "00000000000000000000.txnindex";
    int err = 0;
    {
        auto idx = txn_index::open(path, &err);
        REQUIRE(idx);
        REQUIRE(idx->append({7, 10, 20, 21}) == 0);
    }
    append_garbage(path, 20, 3);
    auto idx = txn_index::open(path, &err);
    REQUIRE(idx);
    CHECK(idx->entries().size() == 1);
    CHECK(file_size(path) == static_cast<int64_t>(txn_index_entry_size));
}

TEST_CASE("txn_index: collect returns the transactions overlapping the fetched range") {
    temp_dir dir;
    int err = 0;
    auto idx = txn_index::open(dir / "00000000000000000000.txnindex", &err);
    REQUIRE(idx);
    REQUIRE(idx->append({1, 0, 5, 6}) == 0);
    REQUIRE(idx->append({2, 3, 12, 8}) == 0);
    REQUIRE(idx->append({3, 20, 30, 31}) == 0);
    std::vector<aborted_txn> out;
    // [6, 20): the first ended before it, the third starts at its end (and its last stable
    // offset passes the bound, so later segments need not be searched).
    CHECK(idx->collect(6, 20, out));
    REQUIRE(out.size() == 1);
    CHECK(out[0].producer_id == 2);
    out.clear();
    // The first entry's last stable offset reaches the upper bound: the search is complete.
    CHECK(idx->collect(0, 6, out));
    CHECK(out.size() == 1);
}

TEST_CASE("txn_index: truncate_from drops the transactions whose marker is at or after the offset") {
    temp_dir dir;
    const std::string path = dir / "00000000000000000000.txnindex";
    int err = 0;
    auto idx = txn_index::open(path, &err);
    REQUIRE(idx);
    REQUIRE(idx->append({1, 0, 5, 6}) == 0);
    REQUIRE(idx->append({2, 3, 12, 13}) == 0);
    REQUIRE(idx->truncate_from(12) == 0);
    CHECK(idx->entries().size() == 1);
    CHECK(file_size(path) == static_cast<int64_t>(txn_index_entry_size));
    REQUIRE(idx->append({3, 7, 9, 10}) == 0);
    auto again = txn_index::open(path, &err);
    REQUIRE(again);
    CHECK(again->entries().back().producer_id == 3);
}
