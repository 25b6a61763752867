// ListOffsets (key 2): offsets by time. -1 is the latest offset (the high watermark, or the last
// stable offset for read_committed), -2 the log start offset, -3 (v7+) the record with the largest
// timestamp, -4 (v8+) the earliest local offset (the log start: no tiered storage), -5 (v9+) the
// latest tiered offset (none: -1); any other value is the first record whose timestamp is at least
// that (offset -1 when none is). v0 answers in its old form: up to max_num_offsets offsets, newest
// first, from the segment boundaries. At v1+ a partition named more than once in one request is
// answered INVALID_REQUEST at every place it appears, without being looked up, as Kafka does; v0
// answers each copy.
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "broker/request_context.h"
#include "protocol/kafka_ids.h"
#include "protocol/messages/list_offsets.h"

#include <set>
#include <string_view>
#include <utility>

namespace samsa::broker {

namespace {

using protocol::error_code;
using protocol::list_offsets_request;
using protocol::list_offsets_response;

constexpr int64_t latest = -1;
constexpr int64_t earliest = -2;
constexpr int64_t max_timestamp = -3;
constexpr int64_t earliest_local = -4;
constexpr int64_t latest_tiered = -5;

list_offsets_response::list_offsets_partition_response answer(partition_manager& partitions, std::string_view topic,
                                                              const list_offsets_request::list_offsets_partition& p,
                                                              int16_t v, int8_t isolation_level) {
    list_offsets_response::list_offsets_partition_response out;
    out.partition_index = p.partition_index;
    const partition_handle h = partitions.find(topic, protocol::partition_id(p.partition_index));
    if (!h.ok()) {
        out.error_code = to_int(h.error);
        return out;
    }
    if (v >= 4) {
        const protocol::leader_epoch current(p.current_leader_epoch);
        if (auto e = partition_manager::check_leader_epoch(*h.topic, current); e != error_code::none) {
            out.error_code = to_int(e);
            return out;
        }
    }
    const storage::log& log = *h.log;
    if (v == 0) {
        for (const protocol::offset o : log.legacy_offsets_before(p.timestamp, p.max_num_offsets, partition_manager::wall_clock_ms()))
            out.old_style_offsets.push_back(o.value());
        return out;
    }
    // read_committed (v2+) sees nothing from the first open transaction on.
    const protocol::offset visible_end = isolation_level == 1 ? log.last_stable_offset() : log.high_watermark();
    switch (p.timestamp) {
        case latest:
            out.offset = visible_end.value();
            out.leader_epoch = log.latest_epoch().value();
            break;
        case earliest:
        case earliest_local: {
            const protocol::offset start = log.log_start_offset();
            out.offset = start.value();
            out.leader_epoch = log.epoch_for_offset(start).value();
            break;
        }
        case latest_tiered:
            break;
        case max_timestamp: {
            const storage::timestamp_offset m = log.max_timestamp();
            if (m.offset >= protocol::offset(0) && m.offset < visible_end) {
                out.timestamp = m.timestamp;
                out.offset = m.offset.value();
                out.leader_epoch = m.leader_epoch.value();
            }
            break;
        }
        default:
            if (auto f = log.offset_for_timestamp(p.timestamp); f && f->offset < visible_end) {
                out.timestamp = f->timestamp;
                out.offset = f->offset.value();
                out.leader_epoch = f->leader_epoch.value();
            }
            break;
    }
    return out;
}

using partition_key = std::pair<std::string_view, int32_t>;

// The (topic, partition) pairs the request names more than once; they borrow the request's names.
std::set<partition_key> duplicated_partitions(const list_offsets_request& req) {
    std::set<partition_key> seen, twice;
    for (const auto& t : req.topics)
        for (const auto& p : t.partitions)
            if (partition_key k{t.name, p.partition_index}; !seen.insert(k).second) twice.insert(k);
    return twice;
}

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    list_offsets_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    // Each copy of a repeated partition would otherwise redo the search (a max-timestamp or time
    // lookup may read and decompress a batch), so they are refused before any work is done.
    const std::set<partition_key> duplicated = v >= 1 ? duplicated_partitions(req) : std::set<partition_key>{};
    list_offsets_response resp;
    resp.topics.reserve(req.topics.size());
    for (const auto& t : req.topics) {
        list_offsets_response::list_offsets_topic_response tr;
        tr.name = t.name;
        tr.partitions.reserve(t.partitions.size());
        for (const auto& p : t.partitions) {
            if (duplicated.contains(partition_key{t.name, p.partition_index})) {
                auto& refused = tr.partitions.emplace_back();
                refused.partition_index = p.partition_index;
                refused.error_code = to_int(error_code::invalid_request);
                continue;
            }
            tr.partitions.push_back(answer(ctx.partitions(), t.name, p, v, req.isolation_level));
        }
        resp.topics.push_back(std::move(tr));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry list_offsets_handler() {
    return handler_entry{protocol::api_key::list_offsets, list_offsets_request::min_version,
                         list_offsets_request::max_version, handle};
}

} // namespace samsa::broker
