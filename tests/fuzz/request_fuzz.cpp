// libFuzzer target: bytes as a client connection would deliver them. Every complete frame goes
// through next_frame -> parse_request_header -> the API's generated decoder, exactly as the
// broker's input path does. For the requests a broker serves most, a frame that decodes must
// also survive encode -> decode unchanged, with size() predicting the encoded length: a
// mismatch aborts, so the fuzzer reports it as a crash. Seeds: golden client frames
// (make_corpus.cpp). Built only with -Dfuzz=true and clang; tests/fuzz/README.md runs it.
#include "protocol/frame_decoder.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/produce.h"
#include "protocol/messages/sync_group.h"
#include "tests/fuzz/round_trip.h"

#include <cstddef>
#include <cstdint>

using namespace samsa::protocol;

namespace {

// Small enough that a size prefix the fuzzer invents is usually refused or incomplete, as the
// broker refuses frames over socket.request.max.bytes.
constexpr int32_t max_frame_bytes = 1 << 20;

void check_round_trip(const parsed_request& req) {
    const auto& h = req.header;
    switch (static_cast<api_key>(h.api_key)) {
    case api_key::produce: fuzz::round_trip<produce_request>(req.body, h.api_version); break;
    case api_key::fetch: fuzz::round_trip<fetch_request>(req.body, h.api_version); break;
    case api_key::list_offsets: fuzz::round_trip<list_offsets_request>(req.body, h.api_version); break;
    case api_key::metadata: fuzz::round_trip<metadata_request>(req.body, h.api_version); break;
    case api_key::offset_commit: fuzz::round_trip<offset_commit_request>(req.body, h.api_version); break;
    case api_key::offset_fetch: fuzz::round_trip<offset_fetch_request>(req.body, h.api_version); break;
    case api_key::find_coordinator: fuzz::round_trip<find_coordinator_request>(req.body, h.api_version); break;
    case api_key::join_group: fuzz::round_trip<join_group_request>(req.body, h.api_version); break;
    case api_key::heartbeat: fuzz::round_trip<heartbeat_request>(req.body, h.api_version); break;
    case api_key::leave_group: fuzz::round_trip<leave_group_request>(req.body, h.api_version); break;
    case api_key::sync_group: fuzz::round_trip<sync_group_request>(req.body, h.api_version); break;
    case api_key::api_versions: fuzz::round_trip<api_versions_request>(req.body, h.api_version); break;
    case api_key::init_producer_id: fuzz::round_trip<init_producer_id_request>(req.body, h.api_version); break;
    default: break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    bytes_view stream(data, size);
    for (;;) {
        const auto fr = next_frame(stream, max_frame_bytes);
        if (fr.status != frame_status::complete) break;
        const auto req = parse_request_header(fr.frame);
        if (req.status == decode_status::ok) {
            (void)req.header.api->check_request(req.body, req.header.api_version);
            check_round_trip(req);
        }
        stream = stream.subspan(fr.consumed);
    }
    return 0;
}
