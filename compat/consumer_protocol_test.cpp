// The KIP-848 consumer group protocol on the wire against the real `samsa` binary. No client
// available here speaks it (librdkafka 2.0, kafkajs 2.2, confluent-kafka-python 1.7 and
// kafka-python 2.0 predate group.protocol=consumer), so this test is the client: it sends
// ConsumerGroupHeartbeat, ConsumerGroupDescribe, OffsetCommit v9 and OffsetFetch v9 frames with
// the generated codecs, exactly as Kafka's clients lay them out, and checks the answers,
// across broker restarts too (the group's records in __consumer_offsets).
#include "compat/broker_process.h"
#include "compat/rdkafka_client.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/consumer_group_describe.h"
#include "protocol/messages/consumer_group_heartbeat.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_fetch.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using namespace samsa;
using namespace samsa::compat;
using broker::test::wire_client;

namespace {

const std::string samsa_binary = SAMSA_BINARY;
const std::string client_id = "kip848-wire";

// After a restart the coordinator loads __consumer_offsets in the background and answers
// COORDINATOR_LOAD_IN_PROGRESS until the group's partition is loaded; clients retry, so does this.
template <typename Request, typename Error>
typename Request::response_type call_when_loaded(wire_client& c, const Request& req, int16_t version, Error error_of) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
        auto resp = c.call(req, version);
        if (error_of(resp) != static_cast<int16_t>(protocol::error_code::coordinator_load_in_progress) ||
            std::chrono::steady_clock::now() > deadline)
            return resp;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

int16_t first_group_error(const auto& resp) { return resp.groups.empty() ? int16_t{0} : resp.groups[0].error_code; }

protocol::consumer_group_heartbeat_response heartbeat(wire_client& c, const std::string& member, int32_t epoch,
                                                      std::optional<std::vector<protocol::consumer_group_heartbeat_request::topic_partitions_data>> owned) {
    protocol::consumer_group_heartbeat_request r;
    r.group_id = "kip848";
    r.member_id = member;
    r.member_epoch = epoch;
    if (epoch == 0) {
        r.rebalance_timeout_ms = 30000;
        r.subscribed_topic_names = std::vector<std::string>{"modern"};
        r.server_assignor = std::string("uniform");
    }
    r.topic_partitions = std::move(owned);
    return c.call(r, 0);
}

size_t count(const protocol::consumer_group_heartbeat_response& r) {
    size_t n = 0;
    if (r.assignment)
        for (const auto& t : r.assignment->topic_partitions) n += t.partitions.size();
    return n;
}

std::vector<protocol::consumer_group_heartbeat_request::topic_partitions_data> owned_of(
    const protocol::consumer_group_heartbeat_response& r) {
    std::vector<protocol::consumer_group_heartbeat_request::topic_partitions_data> out;
    if (r.assignment)
        for (const auto& t : r.assignment->topic_partitions) out.push_back({t.topic_id, t.partitions});
    return out;
}

} // namespace

TEST_CASE("compat kip-848: two members share a topic through ConsumerGroupHeartbeat, the group survives a restart") {
    scratch_dir dir;
    broker_process broker(samsa_binary, dir.path() / "data", {"num.partitions=4"});
    {
        producer p({{"bootstrap.servers", broker.bootstrap()}});
        for (int i = 0; i < 8; ++i) p.produce("modern", RD_KAFKA_PARTITION_UA, "k" + std::to_string(i), "v");
        REQUIRE(p.flush());
    }
    wire_client c(broker.port(), client_id);

    // ApiVersions advertises the protocol.
    const auto versions = c.call(protocol::api_versions_request{}, 0);
    bool heartbeat_listed = false;
    for (const auto& k : versions.api_keys)
        if (k.api_key == 68) heartbeat_listed = k.min_version == 0 && k.max_version >= 0;
    CHECK(heartbeat_listed);

    // The first member joins and gets every partition; the second waits for revocation.
    auto a = heartbeat(c, "", 0, std::vector<protocol::consumer_group_heartbeat_request::topic_partitions_data>{});
    REQUIRE(a.error_code == 0);
    REQUIRE(a.member_id.has_value());
    CHECK(a.member_epoch == 1);
    CHECK(count(a) == 4);
    auto b = heartbeat(c, "", 0, std::vector<protocol::consumer_group_heartbeat_request::topic_partitions_data>{});
    REQUIRE(b.error_code == 0);
    CHECK(count(b) == 0);
    auto a2 = heartbeat(c, *a.member_id, a.member_epoch, owned_of(a));
    CHECK(a2.member_epoch == 1);  // revoke first, at the old epoch
    CHECK(count(a2) == 2);
    auto a3 = heartbeat(c, *a.member_id, a2.member_epoch, owned_of(a2));
    CHECK(a3.member_epoch == 2);
    auto b2 = heartbeat(c, *b.member_id, b.member_epoch, std::vector<protocol::consumer_group_heartbeat_request::topic_partitions_data>{});
    CHECK(count(b2) == 2);
    CHECK(b2.heartbeat_interval_ms == 5000);
    auto fenced = heartbeat(c, *b.member_id, 99, std::nullopt);
    CHECK(fenced.error_code == static_cast<int16_t>(protocol::error_code::fenced_member_epoch));

    protocol::consumer_group_describe_request d;
    d.group_ids = {"kip848"};
    const auto described = c.call(d, 0);
    REQUIRE(described.groups.size() == 1);
    CHECK(described.groups[0].error_code == 0);
    CHECK(described.groups[0].group_state == "Stable");
    CHECK(described.groups[0].members.size() == 2);
    CHECK(described.groups[0].members[0].assignment.topic_partitions.at(0).topic_name == "modern");

    protocol::list_groups_request lg;
    lg.types_filter = {"consumer"};
    const auto listed = c.call(lg, 5);
    REQUIRE(listed.groups.size() == 1);
    CHECK(listed.groups[0].group_type == "consumer");

    // OffsetCommit v9 with the member epoch; OffsetFetch v9 checks it too.
    protocol::offset_commit_request oc;
    oc.group_id = "kip848";
    oc.member_id = *b.member_id;
    oc.generation_id_or_member_epoch = b2.member_epoch;
    oc.topics.push_back({"modern", {{0, 3, -1, -1, std::string("meta")}}});
    CHECK(c.call(oc, 9).topics.at(0).partitions.at(0).error_code == 0);
    oc.generation_id_or_member_epoch = b2.member_epoch - 1;
    CHECK(c.call(oc, 9).topics.at(0).partitions.at(0).error_code ==
          static_cast<int16_t>(protocol::error_code::stale_member_epoch));

    // SIGKILL: what comes back was in __consumer_offsets, not written at shutdown.
    c.close();
    (void)broker.kill_now();
    broker.restart();
    wire_client again(broker.port(), client_id);
    protocol::offset_fetch_request of;
    protocol::offset_fetch_request::offset_fetch_request_group g;
    g.group_id = "kip848";
    g.topics = std::vector<protocol::offset_fetch_request::offset_fetch_request_topics>{{"modern", {0}}};
    of.groups.push_back(g);
    const auto fetched = call_when_loaded(again, of, 9, [](const auto& r) { return first_group_error(r); });
    REQUIRE(fetched.groups.size() == 1);
    CHECK(fetched.groups[0].error_code == 0);
    CHECK(fetched.groups[0].topics.at(0).partitions.at(0).committed_offset == 3);
    CHECK(fetched.groups[0].topics.at(0).partitions.at(0).metadata == "meta");
    // The group's records brought its epochs and assignments back: both members go on with
    // their epochs and keep their partitions, without a rebalance.
    const auto described_again = again.call(d, 0);
    REQUIRE(described_again.groups.size() == 1);
    CHECK(described_again.groups[0].group_epoch == 2);
    CHECK(described_again.groups[0].assignment_epoch == 2);
    CHECK(described_again.groups[0].members.size() == 2);
    const auto b3 = heartbeat(again, *b.member_id, b2.member_epoch, owned_of(b2));
    CHECK(b3.error_code == 0);
    CHECK(b3.member_epoch == 2);
    CHECK(count(b3) == 2);
    const auto a4 = heartbeat(again, *a.member_id, a3.member_epoch, owned_of(a2));
    CHECK(a4.error_code == 0);
    CHECK(a4.member_epoch == 2);
    CHECK(count(a4) == 2);
    // Leaving is durable too: after another restart only b is left, at a new group epoch.
    CHECK(heartbeat(again, *a.member_id, -1, std::nullopt).error_code == 0);
    again.close();
    REQUIRE(broker.stop() == 0);
    broker.restart();
    wire_client third(broker.port(), client_id);
    const auto after_leave = call_when_loaded(third, d, 0, [](const auto& r) { return first_group_error(r); });
    CHECK(after_leave.groups.at(0).error_code == 0);
    REQUIRE(after_leave.groups.size() == 1);
    CHECK(after_leave.groups[0].group_epoch == 3);
    REQUIRE(after_leave.groups[0].members.size() == 1);
    CHECK(after_leave.groups[0].members[0].member_id == *b.member_id);
    third.close();
    CHECK(broker.stop() == 0);
}
