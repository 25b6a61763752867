// storage/sequential_reader: a file range comes back whole and in order in chunks, with or
// without the read-ahead thread, stops at the end of the file, and can be abandoned midway.
#include "storage/sequential_reader.h"

#include "storage/file_handle.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <fcntl.h>

using namespace samsa::storage;
using namespace samsa::storage::test;

namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> out(n);
    for (auto& b : out) b = static_cast<uint8_t>(rng());
    return out;
}

// Everything the reader returns, checking that each chunk starts where the previous one ended.
std::vector<uint8_t> read_through(sequential_reader& r, uint64_t from, size_t* chunks = nullptr) {
    std::vector<uint8_t> out;
    size_t n = 0;
    for (auto c = r.next(); !c.empty(); c = r.next()) {
        CHECK(r.chunk_position() == from + out.size());
        out.insert(out.end(), c.begin(), c.end());
        ++n;
    }
    if (chunks) *chunks = n;
    return out;
}

} // namespace

TEST_CASE("sequential_reader: a range comes back whole and in order, with and without the helper thread") {
    temp_dir dir;
    const auto bytes = random_bytes((size_t{5} << 20) + 123, 7);
    write_file(dir / "f", bytes);
    int err = 0;
    auto f = samsa::storage::file_handle::open(dir / "f", O_RDONLY, 0, &err);
    REQUIRE(f);
    for (bool helper : {true, false}) {
        CAPTURE(helper);
        for (uint64_t from : {uint64_t{0}, uint64_t{4097}}) {
            sequential_reader r(*f, from, bytes.size(), {.chunk_bytes = 1 << 20, .buffers = 3, .helper_thread = helper});
            size_t chunks = 0;
            auto got = read_through(r, from, &chunks);
            CHECK(r.error() == 0);
            CHECK(chunks == (bytes.size() - from + (1 << 20) - 1) / (1 << 20));
            CHECK(got == std::vector<uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(from), bytes.end()));
        }
    }
}

TEST_CASE("sequential_reader: a range past the end of the file stops at the file's end") {
    temp_dir dir;
    const auto bytes = random_bytes(300000, 3);
    write_file(dir / "f", bytes);
    int err = 0;
    auto f = samsa::storage::file_handle::open(dir / "f", O_RDONLY, 0, &err);
    REQUIRE(f);
    for (bool helper : {true, false}) {
        sequential_reader r(*f, 0, 1 << 20, {.chunk_bytes = 65536, .buffers = 2, .helper_thread = helper});
        CHECK(read_through(r, 0) == bytes);
        CHECK(r.error() == 0);
        CHECK(r.next().empty());
    }
}

TEST_CASE("sequential_reader: a reader dropped before the end stops its helper") {
    temp_dir dir;
    write_file(dir / "f", random_bytes(size_t{2} << 20, 5));
    int err = 0;
    auto f = samsa::storage::file_handle::open(dir / "f", O_RDONLY, 0, &err);
    REQUIRE(f);
    for (int i = 0; i < 20; ++i) {
        sequential_reader r(*f, 0, size_t{2} << 20, {.chunk_bytes = 4096, .buffers = 3});
        CHECK(r.next().size() == 4096);
        // Destroyed here, with the helper blocked on full buffers or still reading.
    }
}

TEST_CASE("sequential_reader: a read error ends the chunks and is reported") {
    temp_dir dir;
    write_file(dir / "f", random_bytes(100000, 9));
    int err = 0;
    // A descriptor opened for writing only: pread fails with EBADF.
    auto f = samsa::storage::file_handle::open(dir / "f", O_WRONLY, 0, &err);
    REQUIRE(f);
    for (bool helper : {true, false}) {
        sequential_reader r(*f, 0, 100000, {.chunk_bytes = 4096, .buffers = 3, .helper_thread = helper});
        CHECK(r.next().empty());
        CHECK(r.error() == EBADF);
    }
}
