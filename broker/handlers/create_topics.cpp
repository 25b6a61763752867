// CreateTopics (key 19): validates and creates topics through the metadata service, with
// Kafka's defaults (-1 partitions or replication factor), manual assignments, topic configs,
// validate_only, and (v5+) the created topic's partitions, replication factor and configs.
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "broker/topic_config.h"
#include "protocol/messages/create_topics.h"

namespace samsa::broker {

namespace {

using protocol::create_topics_request;
using protocol::create_topics_response;
using protocol::error_code;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    create_topics_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    std::vector<new_topic> wanted;
    wanted.reserve(req.topics.size());
    for (auto& t : req.topics) {
        new_topic n;
        n.name = std::move(t.name);
        n.num_partitions = t.num_partitions;
        n.replication_factor = t.replication_factor;
        for (const auto& a : t.assignments) {
            std::vector<protocol::node_id> brokers(a.broker_ids.begin(), a.broker_ids.end());
            n.assignments.emplace_back(protocol::partition_id(a.partition_index), std::move(brokers));
        }
        for (auto& c : t.configs) n.configs.emplace_back(std::move(c.name), std::move(c.value));
        wanted.push_back(std::move(n));
    }
    const auto outcomes = ctx.metadata().create_topics(wanted, req.validate_only);

    create_topics_response resp;
    resp.topics.reserve(outcomes.size());
    for (const auto& o : outcomes) {
        create_topics_response::creatable_topic_result r;
        r.name = o.topic.name;
        r.error_code = to_int(o.error);
        r.error_message = o.message;
        if (o.error == error_code::none) {
            r.topic_id = o.topic.id;  // zero for validate_only: nothing was created
            r.num_partitions = o.topic.partitions;
            r.replication_factor = o.topic.replication_factor;
            std::vector<create_topics_response::creatable_topic_configs> configs;
            for (auto& c : describe_topic_config(o.topic.configs, ctx.config()))
                configs.push_back({std::move(c.name), std::move(c.value), false, static_cast<int8_t>(c.source), false});
            r.configs = std::move(configs);
        }
        resp.topics.push_back(std::move(r));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry create_topics_handler() {
    return handler_entry{protocol::api_key::create_topics, create_topics_request::min_version,
                         create_topics_request::max_version, handle};
}

} // namespace samsa::broker
