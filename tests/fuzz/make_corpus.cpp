// fuzz_corpus: writes the seed corpora of the fuzz targets into OUT/request, OUT/response and
// OUT/record_batch. Request seeds are the golden client frames (tests/protocol/golden/), as
// binary; record batch seeds are the batches those clients produced plus built batches of every
// codec and a transaction marker; response seeds are typical responses encoded by the
// generated codecs, in response_fuzz.cpp's layout (API index, version offset, body).
// Usage: fuzz_corpus OUT
#include "protocol/frame_decoder.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch_builder.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace samsa::protocol;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> load_hex(const fs::path& path) {
    std::ifstream in(path);
    std::vector<uint8_t> out;
    std::string line;
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] == '#') continue;
        int high = -1;
        for (char c : line) {
            if (std::isxdigit(static_cast<unsigned char>(c)) == 0) continue;
            if (high < 0) {
                high = nibble(c);
            } else {
                out.push_back(static_cast<uint8_t>(high << 4 | nibble(c)));
                high = -1;
            }
        }
    }
    return out;
}

void write_seed(const fs::path& path, bytes_view bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// response_fuzz.cpp reads byte 0 as an index into all_apis() and byte 1 as the version's
// offset from the API's minimum.
template <typename Response>
void write_response_seed(const fs::path& dir, const Response& m, int16_t version) {
    const auto apis = all_apis();
    size_t index = 0;
    while (index < apis.size() && apis[index].key != Response::api_key) ++index;
    output_buffer out;
    out.bytes.push_back(static_cast<uint8_t>(index));
    out.bytes.push_back(static_cast<uint8_t>(version - apis[index].min_version));
    writer w(out);
    m.encode(w, version);
    write_seed(dir / (std::string(apis[index].name) + "_v" + std::to_string(version)), out.bytes);
}

std::vector<std::vector<uint8_t>> built_batches() {
    std::vector<std::vector<uint8_t>> out;
    const std::string key = "key";
    const std::string value(200, 'v');
    const record_header header{"h", bytes_view(reinterpret_cast<const uint8_t*>(value.data()), 3)};
    for (auto codec : {compression::none, compression::gzip, compression::snappy, compression::lz4,
                       compression::zstd}) {
        batch_options options;
        options.codec = codec;
        record_batch_builder builder(options);
        for (int i = 0; i < 3; ++i) {
            record_input r;
            r.key = bytes_view(reinterpret_cast<const uint8_t*>(key.data()), key.size());
            r.value = bytes_view(reinterpret_cast<const uint8_t*>(value.data()), value.size());
            r.headers = std::span(&header, 1);
            r.timestamp = 1'700'000'000'000 + i;
            builder.append(r);
        }
        auto built = builder.build();
        if (built.status == codec_status::ok) out.push_back(std::move(built.bytes));
    }
    batch_options txn;
    txn.producer_id = 7;
    txn.producer_epoch = 0;
    auto marker = build_control_batch(txn, {control_type::commit, 3}, 1'700'000'000'000);
    if (marker.status == codec_status::ok) out.push_back(std::move(marker.bytes));
    return out;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_corpus OUT\n");
        return 2;
    }
    const fs::path out = argv[1];
    for (const char* sub : {"request", "response", "record_batch"}) fs::create_directories(out / sub);

    std::vector<std::vector<uint8_t>> batches = built_batches();
    size_t frames = 0;
    for (const auto& client : fs::directory_iterator(SAMSA_GOLDEN_DIR)) {
        if (!client.is_directory()) continue;
        for (const auto& file : fs::directory_iterator(client.path())) {
            if (file.path().extension() != ".hex") continue;
            const auto frame = load_hex(file.path());
            const auto name = client.path().filename().string() + "_" + file.path().stem().string();
            write_seed(out / "request" / name, frame);
            ++frames;
            // Keep the batches a client produced as record batch seeds.
            const auto fr = next_frame(frame, static_cast<int32_t>(frame.size()));
            const auto req = parse_request_header(fr.frame);
            produce_request produce;
            if (req.status != decode_status::ok || req.header.api_key != produce_request::api_key ||
                decode_body(req.body, req.header.api_version, produce) != decode_status::ok)
                continue;
            for (const auto& t : produce.topic_data)
                for (const auto& p : t.partition_data)
                    batches.emplace_back(p.records.bytes().begin(), p.records.bytes().end());
        }
    }
    for (size_t i = 0; i < batches.size(); ++i)
        write_seed(out / "record_batch" / ("batch_" + std::to_string(i)), batches[i]);

    api_versions_response versions;
    for (const auto& api : all_apis()) versions.api_keys.push_back({api.key, api.min_version, api.max_version});
    for (int16_t v : {0, 3}) write_response_seed(out / "response", versions, v);

    metadata_response metadata;
    metadata.brokers.push_back({1, "localhost", 9092, std::nullopt});
    metadata.cluster_id = "cluster";
    metadata.controller_id = 1;
    metadata_response::metadata_response_topic topic;
    topic.name = "golden";
    topic.partitions.push_back({0, 0, 1, 0, {1}, {1}, {}});
    metadata.topics.push_back(topic);
    for (int16_t v : {4, 6, 9, 12}) write_response_seed(out / "response", metadata, v);

    produce_response produced;
    produced.responses.push_back({"golden", {{0, 0, 42, -1, 0, {}, std::nullopt, {}}}});
    for (int16_t v : {7, 9}) write_response_seed(out / "response", produced, v);

    fetch_response fetched;
    fetch_response::partition_data partition;
    partition.high_watermark = 3;
    partition.last_stable_offset = 3;
    partition.log_start_offset = 0;
    partition.records = records::from_bytes(batches.front());
    fetched.responses.push_back({"golden", {}, {partition}});
    for (int16_t v : {4, 11, 12}) write_response_seed(out / "response", fetched, v);

    std::printf("%zu request frames, %zu record batches, 11 responses written to %s\n", frames, batches.size(),
                out.string().c_str());
    return frames > 0 ? 0 : 1;
}
