// protocol_bench: decode and encode rates of the generated codecs on the two messages that
// dominate a broker's protocol work, printed as the median of several timed runs:
//   - a Produce request (newest version) carrying 1 MiB of records in one v2 batch, decoded the
//     way the broker's input path does it (next_frame -> parse_request_header -> decode_body),
//     and encoded as a whole frame;
//   - a Metadata response (newest version) for 1,000 partitions, encoded and decoded.
// It also shows that decoding borrows the record bytes: the decoded `records` view points into
// the frame buffer, and the bytes allocated while decoding are counted (a replacement of the
// global operator new) and printed next to the size of the records.
// Then the CRC-32C rate of every engine the CPU supports, over 1 KiB, 16 KiB and 1 MiB buffers
// (the batch sizes storage_bench appends), so old and new engines are compared in one run.
// A program, not a test: it prints figures and checks only that decoding succeeded.
// Usage: protocol_bench [runs]   (default 7)
#include "protocol/crc32c.h"
#include "protocol/frame_decoder.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

using namespace samsa::protocol;

namespace {

std::atomic<uint64_t> allocated_bytes{0};

} // namespace

void* operator new(std::size_t n) {
    allocated_bytes.fetch_add(n, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
// GCC pairs the inlined operator new with this free() and warns; both sides are ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {

constexpr auto run_length = std::chrono::milliseconds(300);
constexpr int32_t max_frame_bytes = 100 * 1024 * 1024;

// Defeats dead-code elimination of results the benchmark does not otherwise use.
volatile uint64_t sink = 0;

// The CPU time of this thread: on a shared machine, time spent descheduled is not ours.
double thread_cpu_seconds() {
    timespec ts{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct rate {
    double mb_per_s;
    double msgs_per_s;
};

// Runs `op` repeatedly for about run_length of CPU time, `runs` times; the median rate.
template <typename Op>
rate measure(int runs, size_t bytes_per_op, Op op) {
    const double length = std::chrono::duration<double>(run_length).count();
    std::vector<double> per_second;
    for (int r = 0; r < runs; ++r) {
        uint64_t n = 0;
        const double start = thread_cpu_seconds();
        double now = start;
        do {
            for (int i = 0; i < 8; ++i) op();
            n += 8;
            now = thread_cpu_seconds();
        } while (now - start < length);
        per_second.push_back(static_cast<double>(n) / (now - start));
    }
    std::sort(per_second.begin(), per_second.end());
    const double median = per_second[per_second.size() / 2];
    return {median * static_cast<double>(bytes_per_op) / 1e6, median};
}

void print_rate(const char* what, size_t bytes, const rate& r) {
    std::printf("  %-34s %9zu bytes  %10.1f MB/s  %12.0f msgs/s\n", what, bytes, r.mb_per_s, r.msgs_per_s);
}

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "protocol_bench: %s\n", what);
    std::exit(1);
}

// One uncompressed v2 batch of 1 KiB values whose records total 1 MiB (1,048,576 bytes) or a
// little over; the batch adds its 61-byte header.
std::vector<uint8_t> one_mib_batch() {
    record_batch_builder builder;
    const std::vector<uint8_t> value(1000, 'x');
    std::string key;
    while (builder.records_size() < (size_t{1} << 20)) {
        key = "key-" + std::to_string(builder.record_count());
        record_input r;
        r.key = bytes_view(reinterpret_cast<const uint8_t*>(key.data()), key.size());
        r.value = bytes_view(value);
        r.timestamp = 1'700'000'000'000 + builder.record_count();
        builder.append(r);
    }
    auto built = builder.build();
    if (built.status != codec_status::ok) fail("could not build the batch");
    return std::move(built.bytes);
}

// Writes a whole request frame: size prefix, request header (client id "bench"), body.
void write_produce_frame(output_buffer& out, const produce_request& req, int16_t version) {
    writer w(out);
    const size_t start = w.position();
    w.write_int32(0);
    w.write_int16(produce_request::api_key);
    w.write_int16(version);
    w.write_int32(42);  // correlation id
    w.write_string("bench", false);
    if (request_header_version(produce_request::api_key, version) >= 2) w.write_uvarint(0);
    req.encode(w, version);
    w.patch_int32(start, static_cast<int32_t>(out.bytes.size() - start - 4));
}

void bench_produce(int runs) {
    const int16_t version = produce_request::max_version;
    const auto batch = one_mib_batch();
    const auto header = batch::header_view::parse(batch);
    if (!header || !header->crc_ok()) fail("built batch does not parse");

    produce_request req;
    req.acks = -1;
    req.timeout_ms = 30000;
    req.topic_data.push_back({"bench", {{0, records::from_bytes(batch)}}});
    output_buffer frame_buffer;
    write_produce_frame(frame_buffer, req, version);
    const std::vector<uint8_t>& frame = frame_buffer.bytes;

    auto decode = [&frame] {
        const auto fr = next_frame(frame, max_frame_bytes);
        const auto parsed = parse_request_header(fr.frame);
        produce_request m;
        if (decode_body(parsed.body, parsed.header.api_version, m) != decode_status::ok) fail("decode failed");
        return m;
    };

    // One decode, watched: where the records view points and what was allocated meanwhile.
    const uint64_t before = allocated_bytes.load();
    const auto decoded = decode();
    const uint64_t during = allocated_bytes.load() - before;
    const auto view = decoded.topic_data.at(0).partition_data.at(0).records.bytes();
    const bool borrowed = view.data() >= frame.data() && view.data() + view.size() <= frame.data() + frame.size();
    const size_t record_bytes = header->records_bytes().size();

    std::printf("Produce request v%d: 1 topic, 1 partition, one batch of %d records\n", version,
                header->record_count());
    std::printf("  records %zu bytes (batch %zu, frame %zu)\n", record_bytes, batch.size(), frame.size());
    std::printf("  decoded records view points into the frame buffer: %s\n", borrowed ? "yes" : "no");
    std::printf("  record bytes copied by decode: %zu\n", borrowed ? size_t{0} : view.size());
    std::printf("  bytes allocated by one decode (all of it, against %zu of records): %llu\n", record_bytes,
                static_cast<unsigned long long>(during));

    // Decoding borrows the records, so its cost does not grow with them: MB/s here is the frame
    // size over the time to frame, parse and decode the request around the records.
    print_rate("decode (frame -> produce_request)", frame.size(), measure(runs, frame.size(), [&] {
        const auto m = decode();
        sink = sink + m.topic_data.size();
    }));
    print_rate("decode + batch header + CRC-32C", frame.size(), measure(runs, frame.size(), [&] {
        const auto m = decode();
        const auto b = batch::header_view::parse(m.topic_data[0].partition_data[0].records.bytes());
        if (!b || !b->crc_ok()) fail("CRC check failed");
        sink = sink + static_cast<uint64_t>(b->record_count());
    }));
    print_rate("encode (produce_request -> frame)", frame.size(), measure(runs, frame.size(), [&] {
        output_buffer out;
        out.bytes.reserve(64 + req.size(version));  // size() is part of the cost
        write_produce_frame(out, req, version);
        sink = sink + out.bytes.size();
    }));
}

metadata_response metadata_of(int topics, int partitions_per_topic) {
    metadata_response m;
    for (int32_t b = 1; b <= 3; ++b) m.brokers.push_back({b, "broker-" + std::to_string(b) + ".example", 9092, "rack-a"});
    m.cluster_id = "bench-cluster";
    m.controller_id = 1;
    for (int t = 0; t < topics; ++t) {
        metadata_response::metadata_response_topic topic;
        topic.name = "topic-" + std::to_string(t);
        topic.topic_id.bytes[0] = static_cast<uint8_t>(t + 1);
        for (int32_t p = 0; p < partitions_per_topic; ++p) {
            metadata_response::metadata_response_partition part;
            part.partition_index = p;
            part.leader_id = 1 + p % 3;
            part.leader_epoch = 5;
            part.replica_nodes = {1, 2, 3};
            part.isr_nodes = {1, 2, 3};
            topic.partitions.push_back(std::move(part));
        }
        m.topics.push_back(std::move(topic));
    }
    return m;
}

void bench_metadata(int runs) {
    const int16_t version = metadata_response::max_version;
    const auto m = metadata_of(10, 100);
    output_buffer encoded;
    writer ew(encoded);
    m.encode(ew, version);
    const auto& body = encoded.bytes;
    {
        metadata_response check;
        if (decode_body(body, version, check) != decode_status::ok || !(check == m)) fail("metadata round trip failed");
    }
    std::printf("Metadata response v%d: 3 brokers, 10 topics x 100 partitions (1,000), replication 3\n", version);
    print_rate("encode (metadata_response -> bytes)", body.size(), measure(runs, body.size(), [&] {
        output_buffer out;
        writer w(out);
        m.encode(w, version);
        sink = sink + out.bytes.size();
    }));
    print_rate("decode (bytes -> metadata_response)", body.size(), measure(runs, body.size(), [&] {
        metadata_response d;
        if (decode_body(body, version, d) != decode_status::ok) fail("decode failed");
        sink = sink + d.topics.size();
    }));
}

void bench_crc32c(int runs) {
    std::printf("CRC-32C, GB/s (10^9 bytes per second) by engine and buffer size:\n");
    std::printf("  %-42s %10s %10s %10s\n", "engine", "1 KiB", "16 KiB", "1 MiB");
    std::vector<uint8_t> data(1 << 20);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
    for (auto engine : {crc32c_engine::table, crc32c_engine::crc32_instruction, crc32c_engine::three_way_interleaved,
                        crc32c_engine::vpclmul_avx512}) {
        if (!crc32c_engine_supported(engine)) {
            std::printf("  %-42s not supported by this CPU\n", crc32c_engine_name(engine));
            continue;
        }
        std::printf("  %-42s", crc32c_engine_name(engine));
        for (size_t size : {size_t{1024}, size_t{16 * 1024}, size_t{1024 * 1024}}) {
            // What a batch of `size` bytes checks: its CRC covers the bytes from offset 21 on.
            const std::span<const uint8_t> slice(data.data() + 21, size - 21);
            // Enough calls per op that reading the thread's CPU clock (a system call) is noise.
            const size_t calls = std::max<size_t>(1, (size_t{64} * 1024) / size);
            const rate r = measure(runs, calls * slice.size(), [&] {
                for (size_t c = 0; c < calls; ++c) sink = sink + crc32c_extend_with(engine, 0, slice);
            });
            std::printf(" %10.2f", r.mb_per_s / 1000);
        }
        std::printf("\n");
    }
}

} // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
    std::printf("protocol_bench: median of %d runs of %lld ms of thread CPU time each; "
                "MB = 10^6 bytes of encoded message\n\n",
                runs,
                static_cast<long long>(run_length.count()));
    bench_produce(runs);
    std::printf("\n");
    bench_metadata(runs);
    std::printf("\n");
    bench_crc32c(runs);
    return 0;
}
