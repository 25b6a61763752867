// storage/checkpoint_file: Kafka's text formats round-trip, malformed files are refused whole.
#include "storage/checkpoint_file.h"

#include "storage/file_handle.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

using namespace samsa::storage;
using namespace samsa::storage::test;
using samsa::protocol::leader_epoch;
using samsa::protocol::offset;
using samsa::protocol::partition_id;

TEST_CASE("checkpoint_file: offsets round trip in Kafka's format") {
    checkpoint::offset_map m{{{"orders", partition_id(0)}, offset(1042)},
                             {{"orders", partition_id(1)}, offset(977)},
                             {{"a.b-c", partition_id(12)}, offset(0)}};
    std::string text = checkpoint::format_offsets(m);
    CHECK(text == "0\n3\na.b-c 12 0\norders 0 1042\norders 1 977\n");
    CHECK(checkpoint::parse_offsets(text) == m);
    CHECK(checkpoint::parse_offsets("0\n0\n") == checkpoint::offset_map{});
}

TEST_CASE("checkpoint_file: malformed offset files are refused") {
    for (const char* bad : {"", "1\n0\n", "0\n2\nt 0 1\n", "0\n1\nt 0\n", "0\n1\nt x 1\n", "0\n1\nt 0 1 2\n",
                            "0\n1\nt  0 1\n", "0\n-1\n", "zero\n0\n", "0\n1\n\n"}) {
        CAPTURE(bad);
        CHECK_FALSE(checkpoint::parse_offsets(bad));
    }
}

TEST_CASE("checkpoint_file: leader epochs round trip and must grow") {
    std::vector<checkpoint::epoch_entry> e{{leader_epoch(3), offset(0)}, {leader_epoch(5), offset(1200)}};
    std::string text = checkpoint::format_epochs(e);
    CHECK(text == "0\n2\n3 0\n5 1200\n");
    CHECK(checkpoint::parse_epochs(text) == e);
    CHECK_FALSE(checkpoint::parse_epochs("0\n2\n5 0\n3 10\n"));
    CHECK_FALSE(checkpoint::parse_epochs("0\n2\n3 10\n5 0\n"));
    CHECK_FALSE(checkpoint::parse_epochs("0\n1\n-1 0\n"));
}

TEST_CASE("checkpoint_file: partition.metadata holds the topic id") {
    samsa::protocol::uuid id;
    for (size_t i = 0; i < 16; ++i) id.bytes[i] = static_cast<uint8_t>(i * 11 + 1);
    std::string text = checkpoint::format_partition_metadata(id);
    CHECK(text.starts_with("version: 0\ntopic_id: "));
    CHECK(checkpoint::parse_partition_metadata(text) == id);
    CHECK_FALSE(checkpoint::parse_partition_metadata("version: 1\ntopic_id: " + id.to_base64()));
    CHECK_FALSE(checkpoint::parse_partition_metadata("version: 0\ntopic_id: nope"));
}

TEST_CASE("checkpoint_file: files are written atomically and read back; missing and corrupt differ") {
    temp_dir dir;
    std::string path = dir / "recovery-point-offset-checkpoint";
    checkpoint::offset_map m;
    CHECK(checkpoint::read_offsets(path, &m) == checkpoint::read_status::missing);
    checkpoint::offset_map want{{{"t", partition_id(0)}, offset(5)}};
    REQUIRE(write_file_atomically(path, checkpoint::format_offsets(want)) == 0);
    CHECK_FALSE(file_exists(path + ".tmp"));
    CHECK(checkpoint::read_offsets(path, &m) == checkpoint::read_status::ok);
    CHECK(m == want);
    // A torn file (cut mid-line) is corrupt, and the caller's map is left alone.
    cut_file(path, 6);
    checkpoint::offset_map untouched{{{"x", partition_id(1)}, offset(1)}};
    CHECK(checkpoint::read_offsets(path, &untouched) == checkpoint::read_status::corrupt);
    CHECK(untouched.size() == 1);
}
