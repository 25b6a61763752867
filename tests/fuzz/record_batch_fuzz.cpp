// libFuzzer target: one v2 record batch as it arrives in a Produce request or leaves storage.
// Parses the header view, checks the CRC, then reads every record and header with the record
// reader (CRC verification off, so that the fuzzer reaches the record layout and the
// decompressors instead of stopping at the checksum; decompression capped at 1 MiB).
// Seeds: golden client batches and built batches of every codec (make_corpus.cpp).
#include "protocol/record_batch.h"
#include "protocol/record_batch_builder.h"
#include "protocol/record_reader.h"

#include <cstddef>
#include <cstdint>

using namespace samsa::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const bytes_view in(data, size);
    if (auto view = batch::header_view::parse(in)) {
        (void)view->crc_ok();
        (void)view->records_bytes();
    }

    record_reader_options options;
    options.verify_crc = false;
    options.max_decompressed_bytes = size_t{1} << 20;
    record_reader reader(in, options);
    record rec;
    while (reader.next(rec)) {
        for (const auto& h : rec.headers) (void)h;  // headers are decoded while iterating
        if (reader.header() && reader.header()->is_control()) (void)parse_control_record(rec);
    }
    return 0;
}
