// DeleteTopics (key 20): deletes topics by name (v0-5) or by name or topic id (v6+) through
// the metadata service. With delete.topic.enable=false every topic fails with
// TOPIC_DELETION_DISABLED (INVALID_REQUEST before v3, which lacks that code), as Kafka does.
#include "broker/handlers/handlers.h"
#include "broker/request_context.h"
#include "protocol/messages/delete_topics.h"

namespace samsa::broker {

namespace {

using protocol::delete_topics_request;
using protocol::delete_topics_response;
using protocol::error_code;

handler_result handle(request_context& ctx, protocol::bytes_view body) {
    const int16_t v = ctx.api_version();
    delete_topics_request req;
    if (auto st = protocol::decode_body(body, v, req); st != protocol::decode_status::ok) return handler_result::malformed(st);

    std::vector<delete_target> targets;
    if (v >= 6) {
        for (auto& t : req.topics) targets.push_back({std::move(t.name), t.topic_id});
    } else {
        for (auto& n : req.topic_names) targets.push_back({std::move(n), {}});
    }

    std::vector<delete_outcome> outcomes;
    if (!ctx.config().delete_topic_enable) {
        const auto e = v < 3 ? error_code::invalid_request : error_code::topic_deletion_disabled;
        for (const auto& t : targets) outcomes.push_back({e, "Topic deletion is disabled.", t.name, t.id});
    } else {
        outcomes = ctx.metadata().delete_topics(targets);
    }

    delete_topics_response resp;
    resp.responses.reserve(outcomes.size());
    for (auto& o : outcomes) {
        delete_topics_response::deletable_topic_result r;
        r.name = v >= 6 ? std::move(o.name) : std::optional<std::string>(o.name.value_or(""));
        r.topic_id = o.id;
        r.error_code = to_int(o.error);
        r.error_message = std::move(o.message);
        resp.responses.push_back(std::move(r));
    }
    return ctx.respond(resp);
}

} // namespace

handler_entry delete_topics_handler() {
    return handler_entry{protocol::api_key::delete_topics, delete_topics_request::min_version,
                         delete_topics_request::max_version, handle};
}

} // namespace samsa::broker
