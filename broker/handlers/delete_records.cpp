// DeleteRecords (key 21): moves partitions' log start offsets forward. Records below the new
// start are no longer readable (a fetch there gets OFFSET_OUT_OF_RANGE) and whole segments
// below it are deleted. An offset of -1 means the high watermark; an offset past the high
// watermark is OFFSET_OUT_OF_RANGE and changes nothing; a topic without cleanup.policy=delete
// refuses with POLICY_VIOLATION, as Kafka does. Each partition answers with its log start
// offset afterwards (the low watermark).
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "broker/request_context.h"
#include "protocol/messages/delete_records.h"

namespace samsa::broker {

namespace {

using protocol::delete_records_request;
using protocol::delete_records_response;
using protocol::error_code;

// DeleteRecordsRequest.HIGH_WATERMARK: delete everything readable.
constexpr protocol::offset to_high_watermark{-1};

delete_records_response::delete_records_partition_result delete_in(partition_manager& partitions, const std::string& topic,
                                                                   protocol::partition_id partition, protocol::offset offset) {
    delete_records_response::delete_records_partition_result r;
    r.partition_index = partition.value();
    r.low_watermark = -1;
    const partition_handle h = partitions.find(topic, partition);
    if (!h.ok()) {
        r.error_code = to_int(h.error);
        return r;
    }
    if (!h.log->config().cleanup_delete) {
        r.error_code = to_int(error_code::policy_violation);
        return r;
    }
    const protocol::offset target = offset == to_high_watermark ? h.log->high_watermark() : offset;
    if (target < protocol::offset(0) || target > h.log->high_watermark()) {
        r.error_code = to_int(error_code::offset_out_of_range);
        return r;
    }
    const auto result = h.log->delete_records_before(target);
    r.error_code = to_int(result.error);
    r.low_watermark = result.error == error_code::none ? result.low_watermark.value() : -1;
    return r;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    delete_records_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    delete_records_response resp;
    resp.topics.reserve(req.topics.size());
    for (const auto& t : req.topics) {
        delete_records_response::delete_records_topic_result tr;
        tr.name = t.name;
        for (const auto& p : t.partitions)
            tr.partitions.push_back(delete_in(ctx.partitions(), t.name, protocol::partition_id(p.partition_index),
                                              protocol::offset(p.offset)));
        resp.topics.push_back(std::move(tr));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry delete_records_handler() {
    return handler_entry{protocol::api_key::delete_records, delete_records_request::min_version,
                         delete_records_request::max_version, handle};
}

} // namespace samsa::broker
