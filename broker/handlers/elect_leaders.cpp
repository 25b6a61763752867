// ElectLeaders (key 43, KIP-183/KIP-460): on a single node every partition's only replica is
// its leader and its preferred leader, so no election is ever needed: each named partition
// answers ELECTION_NOT_NEEDED (UNKNOWN_TOPIC_OR_PARTITION when it does not exist), and a request
// for all partitions (null) answers with none, as Kafka leaves out the partitions it did not
// elect. An election type other than preferred (0) or unclean (1) is INVALID_REQUEST.
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/elect_leaders.h"

namespace samsa::broker {

namespace {

using protocol::elect_leaders_request;
using protocol::elect_leaders_response;
using protocol::error_code;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    elect_leaders_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    const bool known_type = req.election_type == 0 || req.election_type == 1;
    elect_leaders_response resp;
    for (const auto& t : req.topic_partitions.value_or(std::vector<elect_leaders_request::topic_partitions_data>{})) {
        elect_leaders_response::replica_election_result r;
        r.topic = t.topic;
        const topic_info* topic = ctx.metadata().topics().find(t.topic);
        for (const int32_t p : t.partitions) {
            elect_leaders_response::partition_result_data d;
            d.partition_id = p;
            if (!known_type) {
                d.error_code = to_int(error_code::invalid_request);
                d.error_message = "Unknown election type " + std::to_string(req.election_type);
            } else if (topic == nullptr || p < 0 || p >= topic->partitions) {
                d.error_code = to_int(error_code::unknown_topic_or_partition);
                d.error_message = "The partition does not exist.";
            } else {
                d.error_code = to_int(error_code::election_not_needed);
                d.error_message = "Leader election not needed for topic partition.";
            }
            r.partition_result.push_back(std::move(d));
        }
        resp.replica_election_results.push_back(std::move(r));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry elect_leaders_handler() {
    return handler_entry{protocol::api_key::elect_leaders, elect_leaders_request::min_version,
                         elect_leaders_request::max_version, handle};
}

} // namespace samsa::broker
