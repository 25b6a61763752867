// Iterates the records of one v2 record batch (magic 2). The reader borrows the batch bytes,
// which must outlive it and every record it hands out. A compressed batch is decompressed once,
// when the reader is made, into a buffer the reader owns; its records point there and stay
// valid while the reader lives (moving the reader keeps them valid). Uncompressed records are
// never copied. One thread at a time.
//
//   record_reader r(batch_bytes, {.max_decompressed_bytes = limit});
//   record rec;
//   while (r.next(rec)) use(rec);
//   if (!r.ok()) refuse(r.status());   // codec_error() tells why decompression failed
//
// Every malformed input ends the iteration with an error status, never an exception:
//   truncated          the header, a record, or fewer records than record_count
//   corrupt            bad magic or batch length, CRC-32C mismatch, undecodable compressed bytes
//   frame_too_large    the decompressed records would exceed max_decompressed_bytes
//   bad_value          a codec number 5..7
//   negative_length    a record, key, value or header length below -1, a negative count
//   length_too_large   a length that passes the end of its record (or of the batch)
//   trailing_bytes     a record longer than its fields, or bytes after the last record
#pragma once

#include "protocol/compression.h"
#include "protocol/errors.h"
#include "protocol/record.h"
#include "protocol/record_batch.h"
#include "protocol/wire.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace samsa::protocol {

struct record_reader_options {
    size_t max_decompressed_bytes = size_t{64} << 20;
    bool verify_crc = true;
};

class record_reader {
public:
    explicit record_reader(bytes_view batch, const record_reader_options& options = {});

    [[nodiscard]] bool ok() const noexcept { return status_ == decode_status::ok; }
    [[nodiscard]] decode_status status() const noexcept { return status_; }
    // Why decompression failed (ok when it did not, or was not needed).
    [[nodiscard]] codec_status codec_error() const noexcept { return codec_; }
    // The parsed header; empty when the batch header itself was refused.
    [[nodiscard]] const std::optional<batch::header_view>& header() const noexcept { return header_; }

    // Reads the next record into `out`: true if there was one, false at the end of the batch
    // or on an error (status() tells which). After an error every call returns false.
    [[nodiscard]] bool next(record& out) noexcept;

    [[nodiscard]] int32_t records_read() const noexcept { return read_; }

private:
    void fail(decode_status s) noexcept;

    std::optional<batch::header_view> header_;
    std::vector<uint8_t> decompressed_;
    bytes_view rest_;      // the records not read yet
    int32_t left_ = 0;     // records still expected by record_count
    int32_t read_ = 0;
    decode_status status_ = decode_status::ok;
    codec_status codec_ = codec_status::ok;
};

} // namespace samsa::protocol
