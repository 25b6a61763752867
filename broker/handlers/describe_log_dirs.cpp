// DescribeLogDirs (key 35): each data directory with the partitions it holds and their size on
// disk (the bytes of their segment files), and (v4) the file system's total and usable bytes.
// A null topic list asks for every partition; named partitions that do not exist are left out,
// as Kafka leaves them out. Nothing is ever being moved between directories here, so there are
// no future replicas and every offset lag is 0.
#include "broker/admin/log_dir_usage.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/describe_log_dirs.h"

namespace samsa::broker {

namespace {

using protocol::describe_log_dirs_request;
using protocol::describe_log_dirs_response;
using protocol::error_code;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    describe_log_dirs_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    log_dir_filter filter;
    if (req.topics) {
        filter.emplace();
        for (const auto& t : *req.topics)
            for (const int32_t p : t.partitions) (*filter)[t.topic].emplace(p);
    }
    describe_log_dirs_response resp;
    for (auto& dir : describe_log_dirs(ctx.logs(), ctx.config().data_dirs(), filter)) {
        describe_log_dirs_response::describe_log_dirs_result r;
        r.error_code = to_int(dir.offline ? error_code::kafka_storage_error : error_code::none);
        r.log_dir = dir.path;
        r.total_bytes = dir.total_bytes;
        r.usable_bytes = dir.usable_bytes;
        for (auto& p : dir.partitions) {
            if (r.topics.empty() || r.topics.back().name != p.topic) r.topics.push_back({p.topic, {}});
            r.topics.back().partitions.push_back({p.partition.value(), p.size_bytes, 0, false});
        }
        resp.results.push_back(std::move(r));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry describe_log_dirs_handler() {
    return handler_entry{protocol::api_key::describe_log_dirs, describe_log_dirs_request::min_version,
                         describe_log_dirs_request::max_version, handle};
}

} // namespace samsa::broker
