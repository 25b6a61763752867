// libFuzzer target: response bodies, as a client (or a tool reading a broker's answers) decodes
// them. The first byte picks an API from the table, the second a version in its range, the
// rest is the body given to that API's generated response decoder. The responses a client of
// this broker reads most must also survive encode -> decode unchanged (tests/fuzz/round_trip.h).
// Seeds: responses encoded by make_corpus.cpp, in the same layout.
#include "protocol/messages/api_table.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "tests/fuzz/round_trip.h"

#include <cstddef>
#include <cstdint>

using namespace samsa::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const auto apis = all_apis();
    const api_info& api = apis[data[0] % apis.size()];
    const int range = api.max_version - api.min_version + 1;
    const auto version = static_cast<int16_t>(api.min_version + data[1] % range);
    const bytes_view body(data + 2, size - 2);

    (void)api.check_response(body, version);
    switch (static_cast<api_key>(api.key)) {
    case api_key::produce: fuzz::round_trip<produce_response>(body, version); break;
    case api_key::fetch: fuzz::round_trip<fetch_response>(body, version); break;
    case api_key::list_offsets: fuzz::round_trip<list_offsets_response>(body, version); break;
    case api_key::metadata: fuzz::round_trip<metadata_response>(body, version); break;
    case api_key::api_versions: fuzz::round_trip<api_versions_response>(body, version); break;
    default: break;
    }
    return 0;
}
