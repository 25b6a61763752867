// Golden bytes: request frames captured from real clients (librdkafka 2.0.2 through kcat, and
// kafkajs 2.2.4; tests/protocol/golden/README.md says how) go through the same path as a
// broker's input -- next_frame, parse_request_header, the generated decoder -- and must come out
// with the values those clients were asked to send. The first requests of a session
// (ApiVersions, Metadata, Produce, Fetch) are also re-encoded and must match byte for byte.
#include "protocol/frame_decoder.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

using namespace samsa::protocol;
namespace fs = std::filesystem;

namespace {

constexpr int32_t max_frame = 100 * 1024 * 1024;
const fs::path golden_dir = SAMSA_GOLDEN_DIR;
const std::string librdkafka = "librdkafka-2.0.2";
const std::string kafkajs = "kafkajs-2.2.4";

// Reads a golden file: '#' lines are comments, the rest is hex (whitespace ignored).
std::vector<uint8_t> load_hex(const fs::path& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot open " << path.string());
    std::vector<uint8_t> out;
    std::string line;
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] == '#') continue;
        std::string hex;
        for (char c : line)
            if (std::isxdigit(static_cast<unsigned char>(c)) != 0) hex.push_back(c);
        REQUIRE(hex.size() % 2 == 0);
        for (size_t i = 0; i < hex.size(); i += 2)
            out.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    }
    return out;
}

// A captured frame and its parsed header; `request.body` points into `bytes`.
struct golden_frame {
    std::vector<uint8_t> bytes;
    parsed_request request;
};

golden_frame load_frame(const std::string& client, const std::string& file) {
    golden_frame g;
    g.bytes = load_hex(golden_dir / client / file);
    const auto fr = next_frame(g.bytes, max_frame);
    REQUIRE(fr.status == frame_status::complete);
    REQUIRE(fr.consumed == g.bytes.size());
    g.request = parse_request_header(fr.frame);
    REQUIRE(g.request.status == decode_status::ok);
    return g;
}

// Decodes the body as `Message` and requires that it used every byte.
template <typename Message>
Message decode_whole(const golden_frame& g) {
    REQUIRE(g.request.header.api_key == Message::api_key);
    reader r(g.request.body);
    Message m;
    m.decode(r, g.request.header.api_version);
    INFO("decode status: " << to_string(r.status()));
    REQUIRE(r.ok());
    CHECK(r.remaining() == 0);
    return m;
}

// Encoding the decoded value again gives the client's bytes back.
template <typename Message>
void check_re_encodes(const golden_frame& g, const Message& m) {
    output_buffer out;
    writer w(out);
    m.encode(w, g.request.header.api_version);
    CHECK(out.splices.empty());
    const auto body = g.request.body;
    CHECK(out.bytes.size() == body.size());
    CHECK(std::equal(out.bytes.begin(), out.bytes.end(), body.begin(), body.end()));
}

bool points_into(bytes_view inner, const std::vector<uint8_t>& outer) {
    return !inner.empty() && inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

std::string text(bytes_view b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

struct plain_record {
    int32_t offset_delta = -1;
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Reads the uncompressed records after a batch header, independently of the project's record
// reader, so that this test checks the clients' bytes rather than agreeing with itself.
std::vector<plain_record> read_plain_records(bytes_view records_bytes, int32_t count) {
    std::vector<plain_record> out;
    reader r(records_bytes);
    auto read_text = [&r] {
        const int32_t len = r.read_varint();
        REQUIRE(len >= 0);
        return text(r.read_raw(static_cast<size_t>(len)));
    };
    for (int32_t i = 0; i < count; ++i) {
        const int32_t length = r.read_varint();
        const size_t start = r.position();
        plain_record rec;
        (void)r.read_int8();     // attributes
        (void)r.read_varlong();  // timestamp delta
        rec.offset_delta = r.read_varint();
        rec.key = read_text();
        rec.value = read_text();
        const int32_t headers = r.read_varint();
        for (int32_t h = 0; h < headers; ++h) {
            auto k = read_text();
            rec.headers.emplace_back(std::move(k), read_text());
        }
        REQUIRE(r.ok());
        CHECK(r.position() - start == static_cast<size_t>(length));
        out.push_back(std::move(rec));
    }
    CHECK(r.remaining() == 0);
    return out;
}

// The one batch of a captured Produce: the three keyed messages each session sends.
// `header_values` are the values of each record's one header, "h".
void check_produced_batch(const golden_frame& g, const records& recs, const std::vector<std::string>& header_values) {
    REQUIRE_FALSE(recs.is_null());
    CHECK(points_into(recs.bytes(), g.bytes));  // a view into the frame, not a copy
    decode_status why = decode_status::ok;
    auto batch = batch::header_view::parse(recs.bytes(), &why);
    REQUIRE_MESSAGE(batch.has_value(), to_string(why));
    CHECK(batch->total_size() == recs.bytes().size());
    CHECK(batch->magic() == 2);
    CHECK(batch->crc_ok());
    CHECK(batch->codec() == batch::compression::none);
    CHECK(batch->base_offset() == 0);
    CHECK(batch->record_count() == 3);
    CHECK(batch->last_offset_delta() == 2);
    CHECK(batch->producer_id() == -1);  // neither client was idempotent
    CHECK_FALSE(batch->is_transactional());
    CHECK(batch->max_timestamp() >= batch->base_timestamp());
    CHECK(batch->base_timestamp() > 1'600'000'000'000);  // a wall-clock time in milliseconds

    const auto recs_read = read_plain_records(batch->records_bytes(), batch->record_count());
    REQUIRE(recs_read.size() == 3);
    for (int32_t i = 0; i < 3; ++i) {
        const auto& rec = recs_read[static_cast<size_t>(i)];
        const std::string n = std::to_string(i + 1);
        CHECK(rec.offset_delta == i);
        CHECK(rec.key == "k" + n);
        CHECK(rec.value == "golden-" + n);
        REQUIRE(rec.headers.size() == 1);
        CHECK(rec.headers[0].first == "h");
        CHECK(rec.headers[0].second == header_values[static_cast<size_t>(i)]);
    }

    // Corrupting one record byte must be caught by the CRC the client wrote.
    auto copy = std::vector<uint8_t>(recs.bytes().begin(), recs.bytes().end());
    copy.back() ^= 0x01;
    auto corrupted = batch::header_view::parse(copy);
    REQUIRE(corrupted.has_value());
    CHECK_FALSE(corrupted->crc_ok());
}

std::string snake_name(std::string_view camel) {
    std::string out;
    for (char c : camel) {
        if (c >= 'A' && c <= 'Z') {
            if (!out.empty()) out.push_back('_');
            out.push_back(static_cast<char>(c - 'A' + 'a'));
        } else {
            out.push_back(c);
        }
    }
    return out;
}

} // namespace

TEST_CASE("golden: every captured frame is one whole frame that its API's decoder accepts") {
    size_t frames = 0;
    for (const auto& client : {librdkafka, kafkajs}) {
        for (const auto& entry : fs::directory_iterator(golden_dir / client)) {
            if (entry.path().extension() != ".hex") continue;
            INFO(client << "/" << entry.path().filename().string());
            const auto g = load_frame(client, entry.path().filename().string());
            const auto& h = g.request.header;
            REQUIRE(h.api != nullptr);
            CHECK(entry.path().stem().string() == snake_name(h.api->name) + "_v" + std::to_string(h.api_version));
            CHECK(h.client_id == (client == librdkafka ? "golden-kcat" : "golden-kafkajs"));
            CHECK(h.header_version == (h.api->is_flexible(h.api_version) ? 2 : 1));
            CHECK(h.api->check_request(g.request.body, h.api_version) == decode_status::ok);
            ++frames;
        }
    }
    // Five librdkafka requests (ApiVersions, Metadata, Produce, ListOffsets, Fetch) and eleven
    // from kafkajs, whose group consumer adds FindCoordinator, JoinGroup, SyncGroup, OffsetFetch,
    // OffsetCommit and LeaveGroup.
    CHECK(frames == 16);
}

TEST_CASE("golden: librdkafka 2.0.2 opens with a flexible ApiVersions v3 naming its software") {
    const auto g = load_frame(librdkafka, "api_versions_v3.hex");
    CHECK(g.request.header.header_version == 2);
    CHECK(g.request.header.correlation_id == 1);
    const auto m = decode_whole<api_versions_request>(g);
    CHECK(m.client_software_name == "librdkafka");
    CHECK(m.client_software_version == "2.0.2");
    check_re_encodes(g, m);
}

TEST_CASE("golden: librdkafka 2.0.2 asks Metadata v4 for the one topic it was given") {
    const auto g = load_frame(librdkafka, "metadata_v4.hex");
    const auto m = decode_whole<metadata_request>(g);
    REQUIRE(m.topics.has_value());
    REQUIRE(m.topics->size() == 1);
    CHECK(m.topics->front().name == "golden");
    CHECK(m.allow_auto_topic_creation);
    check_re_encodes(g, m);
}

TEST_CASE("golden: librdkafka 2.0.2 Produce v7 carries its records as a CRC-valid batch, borrowed from the frame") {
    const auto g = load_frame(librdkafka, "produce_v7.hex");
    const auto m = decode_whole<produce_request>(g);
    CHECK_FALSE(m.transactional_id.has_value());
    CHECK(m.acks == -1);             // librdkafka's default acks=all
    CHECK(m.timeout_ms == 30000);    // its default request.timeout.ms
    REQUIRE(m.topic_data.size() == 1);
    CHECK(m.topic_data[0].name == "golden");
    REQUIRE(m.topic_data[0].partition_data.size() == 1);
    CHECK(m.topic_data[0].partition_data[0].index == 0);
    check_produced_batch(g, m.topic_data[0].partition_data[0].records, {"v", "v", "v"});  // kcat -H h=v
    check_re_encodes(g, m);
}

TEST_CASE("golden: librdkafka 2.0.2 Fetch v11 reads partition 0 from offset 1 with its default limits") {
    const auto g = load_frame(librdkafka, "fetch_v11.hex");
    const auto m = decode_whole<fetch_request>(g);
    CHECK(m.replica_id == -1);
    CHECK(m.max_wait_ms == 500);         // fetch.wait.max.ms
    CHECK(m.min_bytes == 1);             // fetch.min.bytes
    CHECK(m.max_bytes == 52428800);      // fetch.max.bytes
    CHECK(m.isolation_level == 1);       // read_committed
    CHECK(m.session_id == 0);
    CHECK(m.session_epoch == -1);        // no incremental fetch session
    REQUIRE(m.topics.size() == 1);
    CHECK(m.topics[0].topic == "golden");
    REQUIRE(m.topics[0].partitions.size() == 1);
    const auto& p = m.topics[0].partitions[0];
    CHECK(p.partition == 0);
    CHECK(p.fetch_offset == 1);          // kcat -o -2 on three messages
    CHECK(p.partition_max_bytes == 1048576);  // max.partition.fetch.bytes
    CHECK(m.forgotten_topics_data.empty());
    CHECK(m.rack_id.empty());
    check_re_encodes(g, m);
}

TEST_CASE("golden: kafkajs 2.2.4 opens with a classic ApiVersions v2 and an empty body") {
    const auto g = load_frame(kafkajs, "api_versions_v2.hex");
    CHECK(g.request.header.header_version == 1);
    CHECK(g.request.header.correlation_id == 0);
    CHECK(g.request.body.empty());
    const auto m = decode_whole<api_versions_request>(g);
    check_re_encodes(g, m);
}

TEST_CASE("golden: kafkajs 2.2.4 asks Metadata v6 for its topic, allowing auto-creation") {
    const auto g = load_frame(kafkajs, "metadata_v6.hex");
    const auto m = decode_whole<metadata_request>(g);
    REQUIRE(m.topics.has_value());
    REQUIRE(m.topics->size() == 1);
    CHECK(m.topics->front().name == "golden");
    CHECK(m.allow_auto_topic_creation);
    check_re_encodes(g, m);
}

TEST_CASE("golden: kafkajs 2.2.4 Produce v7 carries its records as a CRC-valid batch, borrowed from the frame") {
    const auto g = load_frame(kafkajs, "produce_v7.hex");
    const auto m = decode_whole<produce_request>(g);
    CHECK_FALSE(m.transactional_id.has_value());
    CHECK(m.acks == -1);
    CHECK(m.timeout_ms == 30000);    // kafkajs's default send timeout
    REQUIRE(m.topic_data.size() == 1);
    CHECK(m.topic_data[0].name == "golden");
    REQUIRE(m.topic_data[0].partition_data.size() == 1);
    CHECK(m.topic_data[0].partition_data[0].index == 0);
    check_produced_batch(g, m.topic_data[0].partition_data[0].records, {"v1", "v2", "v3"});
    check_re_encodes(g, m);
}

TEST_CASE("golden: kafkajs 2.2.4 Fetch v11 from a new group starts at the earliest offset") {
    const auto g = load_frame(kafkajs, "fetch_v11.hex");
    const auto m = decode_whole<fetch_request>(g);
    CHECK(m.replica_id == -1);
    CHECK(m.max_wait_ms == 200);         // maxWaitTimeInMs given to the consumer
    CHECK(m.min_bytes == 1);
    CHECK(m.max_bytes == 10485760);      // kafkajs's default maxBytes
    CHECK(m.isolation_level == 1);       // read_committed
    CHECK(m.session_id == 0);
    CHECK(m.session_epoch == -1);
    REQUIRE(m.topics.size() == 1);
    CHECK(m.topics[0].topic == "golden");
    REQUIRE(m.topics[0].partitions.size() == 1);
    const auto& p = m.topics[0].partitions[0];
    CHECK(p.partition == 0);
    CHECK(p.fetch_offset == 0);          // no committed offset, fromBeginning
    CHECK(p.partition_max_bytes == 1048576);
    check_re_encodes(g, m);
}
