// CreatePartitions (key 37): grows topics. Each topic is checked by Kafka's rules
// (admin/partition_growth.h: INVALID_PARTITIONS for no increase, INVALID_REPLICA_ASSIGNMENT,
// UNKNOWN_TOPIC_OR_PARTITION; INVALID_REQUEST for a topic named twice), then the metadata
// service creates the new partition logs and persists the count. Producers and consumers see
// the new partitions on their next metadata refresh. validate_only changes nothing. As in
// Kafka's controller, the topics share a budget of max_partitions_per_request new partitions:
// the topic that would overrun it fails with UNKNOWN_SERVER_ERROR and so does every later one
// (Kafka's record list is full by then), validate_only or not. Kafka sends that error without a
// message; Samsa says why, in the words of Kafka's CreateTopics bound.
#include "broker/admin/partition_growth.h"
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/create_partitions.h"

#include <map>

namespace samsa::broker {

namespace {

using protocol::create_partitions_request;
using protocol::create_partitions_response;
using protocol::error_code;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    create_partitions_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    std::map<std::string, int> named;
    for (const auto& t : req.topics) ++named[t.name];

    create_partitions_response resp;
    resp.results.reserve(req.topics.size());
    int64_t budget = max_partitions_per_request;
    for (const auto& t : req.topics) {
        growth_check check;
        if (named[t.name] > 1) {
            check = {error_code::invalid_request, "Duplicate topic name."};
        } else {
            std::optional<std::vector<std::vector<protocol::node_id>>> assignments;
            if (t.assignments) {
                assignments.emplace();
                for (const auto& a : *t.assignments) assignments->emplace_back(a.broker_ids.begin(), a.broker_ids.end());
            }
            const topic_info* topic = ctx.metadata().topics().find(t.name);
            check = check_partition_growth(topic, t.count, assignments, ctx.metadata().node_id());
            if (check.error == error_code::none) {
                const int64_t adding = t.count - topic->partitions;
                if (adding > budget) {
                    check = {error_code::unknown_server_error, std::string(too_many_partitions_message)};
                    budget = 0;
                } else {
                    budget -= adding;
                }
            }
            if (check.error == error_code::none && !req.validate_only)
                if (auto err = ctx.metadata().add_partitions(t.name, t.count)) check = {error_code::unknown_server_error, *err};
        }
        create_partitions_response::create_partitions_topic_result r;
        r.name = t.name;
        r.error_code = to_int(check.error);
        r.error_message = check.message;
        resp.results.push_back(std::move(r));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry create_partitions_handler() {
    return handler_entry{protocol::api_key::create_partitions, create_partitions_request::min_version,
                         create_partitions_request::max_version, handle};
}

} // namespace samsa::broker
