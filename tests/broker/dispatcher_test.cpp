// Tests broker/dispatcher.cpp and the handlers in broker/handlers/ without sockets: request
// frames go through the dispatcher and the response frames are decoded again.
#include "broker/dispatcher.h"
#include "broker/handlers/handlers.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_topics.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/metadata.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace samsa::broker;
using namespace samsa::protocol;

namespace {

class no_loop final : public loop_services {
public:
    std::unique_ptr<loop_timer> start_timer(uint64_t, std::function<void()>) override {
        throw std::logic_error("these handlers use no timer");
    }
    bool post(std::function<void()> fn) override {
        fn();
        return true;
    }
    uint64_t now_ms() const noexcept override { return 0; }
};

struct dispatch_fixture {
    explicit dispatch_fixture(std::vector<std::pair<std::string, std::string>> extra = {})
        : cfg(test::test_config(dir.path(), std::move(extra))), store(dir.path()),
          md(cfg, store, no_logs, metadata_service::open_image(cfg, store)),
          logs(samsa::storage::log_manager_config{{(dir.path() / "logs").string()}, {}, {}}, {}), d(default_handlers()),
          services{md, logs, loop, cfg} {
        conn.id = 1;
        conn.listener = "PLAINTEXT";
        conn.advertised_host = "broker.example";
        conn.advertised_port = 9999;
    }

    // Runs one frame (with its size prefix) through the dispatcher. The response frame without
    // its prefix, or nullopt when the dispatcher closes the connection (`why` says why).
    std::optional<std::vector<uint8_t>> run(const std::vector<uint8_t>& frame, std::string* why = nullptr) {
        response_queue q([] {});
        auto slot = q.push();
        const auto res = d.dispatch(bytes_view(frame).subspan(4), services, conn, slot);
        if (res.close) {
            CHECK(slot->st == response_slot::state::failed);
            if (why) *why = res.reason;
            return std::nullopt;
        }
        std::vector<output_buffer> out;
        CHECK(q.pop_ready(out) == response_queue::head_state::empty);
        REQUIRE(out.size() == 1);
        REQUIRE(out[0].splices.empty());
        auto& b = out[0].bytes;
        REQUIRE(b.size() >= 8);
        reader r(b);
        CHECK(static_cast<size_t>(r.read_int32()) == b.size() - 4);
        return std::vector<uint8_t>(b.begin() + 4, b.end());
    }

    template <typename Request>
    typename Request::response_type call(const Request& req, int16_t version, int32_t corr = 42) {
        auto frame = run(test::encode_request(req, version, corr));
        REQUIRE(frame.has_value());
        return test::decode_response<typename Request::response_type>(*frame, version, corr);
    }

    create_topics_response create(const std::string& name, int32_t partitions, int16_t version = 7) {
        create_topics_request req;
        req.topics.push_back({name, partitions, 1, {}, {}});
        return call(req, version);
    }

    test::temp_dir dir;
    broker_config cfg;
    metadata_store store;
    metadata_only_storage no_logs;
    metadata_service md;
    samsa::storage::log_manager logs;
    no_loop loop;
    dispatcher d;
    broker_services services;
    connection_info conn;
};

metadata_request all_topics_request(int16_t version) {
    metadata_request req;
    if (version == 0) req.topics = std::vector<metadata_request::metadata_request_topic>{};
    else req.topics = std::nullopt;
    return req;
}

metadata_request named_request(std::vector<std::string> names, bool allow_auto_create = true) {
    metadata_request req;
    req.topics = std::vector<metadata_request::metadata_request_topic>{};
    for (auto& n : names) req.topics->push_back({{}, std::move(n)});
    req.allow_auto_topic_creation = allow_auto_create;
    return req;
}

} // namespace

TEST_CASE("dispatcher: ApiVersions lists exactly the handler table, at every version") {
    dispatch_fixture f;
    for (int16_t v = api_versions_request::min_version; v <= api_versions_request::max_version; ++v) {
        CAPTURE(v);
        api_versions_request req;
        req.client_software_name = "samsa-test";
        req.client_software_version = "1.0";
        const auto resp = f.call(req, v);
        CHECK(resp.error_code == 0);
        REQUIRE(resp.api_keys.size() == f.d.handlers().size());
        for (size_t i = 0; i < resp.api_keys.size(); ++i) {
            const auto& h = f.d.handlers()[i];
            CHECK(resp.api_keys[i].api_key == static_cast<int16_t>(h.key));
            CHECK(resp.api_keys[i].min_version == h.min_version);
            CHECK(resp.api_keys[i].max_version == h.max_version);
            CHECK(f.d.find(static_cast<int16_t>(h.key)) == &h);
        }
        if (v >= 3) {
            // v3 leaves out transaction.version, whose supported minimum is 0 (KAFKA-17011).
            REQUIRE(resp.supported_features.size() == (v >= 4 ? 2u : 1u));
            CHECK(resp.supported_features[0].name == "metadata.version");
            REQUIRE(resp.finalized_features.size() == 2);
            CHECK(resp.finalized_features[0].max_version_level == resp.supported_features[0].max_version);
            CHECK(resp.finalized_features[1].name == "transaction.version");
            CHECK(resp.finalized_features_epoch == f.md.epoch());
        } else {
            CHECK(resp.supported_features.empty());
        }
    }
}

TEST_CASE("dispatcher: the served APIs and their full schema ranges") {
    dispatch_fixture f;
    for (const auto key : {api_key::metadata, api_key::api_versions, api_key::create_topics, api_key::delete_topics}) {
        const auto* h = f.d.find(static_cast<int16_t>(key));
        REQUIRE(h != nullptr);
        const auto* api = find_api(static_cast<int16_t>(key));
        CHECK(h->min_version == api->min_version);
        CHECK(h->max_version == api->max_version);
    }
}

TEST_CASE("dispatcher: ApiVersions at an unsupported version answers v0 with UNSUPPORTED_VERSION and its range") {
    dispatch_fixture f;
    for (const int16_t v : {int16_t{5}, int16_t{127}}) {
        CAPTURE(v);
        auto frame = f.run(test::encode_request(api_versions_request{}, v, 7));
        REQUIRE(frame.has_value());
        const auto resp = test::decode_response<api_versions_response>(*frame, 0, 7);
        CHECK(resp.error_code == to_int(error_code::unsupported_version));
        REQUIRE(resp.api_keys.size() == 1);
        CHECK(resp.api_keys[0].api_key == 18);
        CHECK(resp.api_keys[0].min_version == 0);
        CHECK(resp.api_keys[0].max_version == 4);
    }
}

TEST_CASE("dispatcher: ApiVersions v3 with an invalid client software name gets INVALID_REQUEST") {
    dispatch_fixture f;
    api_versions_request req;
    req.client_software_name = "-bad name";
    req.client_software_version = "1";
    CHECK(f.call(req, 3).error_code == to_int(error_code::invalid_request));
}

TEST_CASE("dispatcher: requests it cannot answer close the connection with a reason") {
    dispatch_fixture f;
    std::string why;
    CHECK_FALSE(f.run(test::header_only_frame(999, 0, 1), &why));
    CHECK(why.find("does not serve") != std::string::npos);

    // Envelope is a controller-only API that a broker never serves.
    CHECK_FALSE(f.run(test::header_only_frame(58, 0, 2, {0}), &why));
    CHECK(why.find("Envelope") != std::string::npos);

    CHECK_FALSE(f.run({0, 0, 0, 3, 0, 3, 0}, &why));
    CHECK(why.find("malformed request header") != std::string::npos);

    // Metadata v1 announcing 1000 topics and carrying none.
    CHECK_FALSE(f.run(test::header_only_frame(3, 1, 4, {0, 0, 3, 0xe8}), &why));
    CHECK(why.find("malformed Metadata v1 request body") != std::string::npos);
}

TEST_CASE("dispatcher: a version above an API's range is answered UNSUPPORTED_VERSION at the newest layout") {
    dispatch_fixture f;
    // Above its range a header is read as flexible (Kafka does the same): a tag count follows.
    const auto frame = f.run(test::header_only_frame(12, 9, 31, {0}));
    REQUIRE(frame.has_value());
    // A flexible response header (correlation id, empty tag section), then Heartbeat v4's body.
    const auto resp = test::decode_response<heartbeat_response>(*frame, 4, 31);
    CHECK(resp.error_code == to_int(error_code::unsupported_version));
    CHECK(resp.throttle_time_ms == 0);
}

TEST_CASE("dispatcher: an unsupported version of an API without a top-level error answers empty lists") {
    dispatch_fixture f;
    (void)f.create("kept", 1);
    const auto frame = f.run(test::header_only_frame(3, 13, 3, {0}));
    REQUIRE(frame.has_value());
    const auto resp = test::decode_response<metadata_response>(*frame, 12, 3);
    CHECK(resp.brokers.empty());
    CHECK(resp.topics.empty());
}

TEST_CASE("dispatcher: a version below an API's range gets a non-flexible header and the oldest layout") {
    dispatch_fixture f;
    const auto frame = f.run(test::header_only_frame(12, -1, 32));
    REQUIRE(frame.has_value());
    REQUIRE(frame->size() == 4 + 2);  // correlation id, then Heartbeat v0: error_code only
    const auto resp = test::decode_response<heartbeat_response>(*frame, 0, 32);
    CHECK(resp.error_code == to_int(error_code::unsupported_version));
}

TEST_CASE("dispatcher: a version the codec knows but the handler narrows away is answered at that version") {
    auto narrowed = metadata_handler();
    narrowed.max_version = 11;
    narrowed.narrower_because = "a test narrows it";
    dispatch_fixture f;
    (void)f.create("kept", 1);
    f.d = dispatcher({narrowed});
    const auto frame = f.run(test::encode_request(metadata_request{}, 12, 33));
    REQUIRE(frame.has_value());
    CHECK(test::decode_response<metadata_response>(*frame, 12, 33).topics.empty());
    // In range, the handler runs as usual.
    metadata_request all;
    all.topics.reset();
    const auto in_range = f.call(all, 11, 34);
    REQUIRE(in_range.topics.size() == 1);
    CHECK(in_range.topics[0].name == "kept");
}

TEST_CASE("dispatcher: the handler table refuses mistakes at start-up") {
    auto narrowed = metadata_handler();
    narrowed.max_version = 11;
    CHECK_THROWS_AS(dispatcher({narrowed}), std::logic_error);
    narrowed.narrower_because = "a test narrows it";
    CHECK_NOTHROW(dispatcher({narrowed}));
    CHECK_THROWS_AS(dispatcher({metadata_handler(), metadata_handler()}), std::logic_error);
    auto beyond = metadata_handler();
    beyond.max_version = 13;
    CHECK_THROWS_AS(dispatcher({beyond}), std::logic_error);
}

TEST_CASE("dispatcher: a handler that defers answers later through its slot") {
    const handler_entry deferring{api_key::metadata, 0, 12, [](request_context& ctx, bytes_view) {
                                      static deferred_response kept;
                                      kept = ctx.defer();
                                      return handler_result::deferred();
                                  }};
    dispatch_fixture f;
    dispatcher d({deferring});
    response_queue q([] {});
    auto slot = q.push();
    const auto frame = test::encode_request(metadata_request{}, 1, 5);
    const auto res = d.dispatch(bytes_view(frame).subspan(4), f.services, f.conn, slot);
    CHECK_FALSE(res.close);
    CHECK(slot->st == response_slot::state::waiting);
    CHECK(slot->correlation_id == 5);
}

TEST_CASE("dispatcher: Metadata describes this node and every topic, at every version") {
    dispatch_fixture f;
    REQUIRE(f.create("orders", 3).topics[0].error_code == 0);
    const auto* orders = f.md.topics().find("orders");
    REQUIRE(orders != nullptr);
    for (int16_t v = 0; v <= metadata_request::max_version; ++v) {
        CAPTURE(v);
        const auto resp = f.call(all_topics_request(v), v);
        REQUIRE(resp.brokers.size() == 1);
        CHECK(resp.brokers[0].node_id == 1);
        CHECK(resp.brokers[0].host == "broker.example");
        CHECK(resp.brokers[0].port == 9999);
        if (v >= 1) CHECK(resp.controller_id == 1);
        if (v >= 2) CHECK(resp.cluster_id == f.md.cluster_id());
        REQUIRE(resp.topics.size() == 1);
        const auto& t = resp.topics[0];
        CHECK(t.error_code == 0);
        CHECK(t.name == "orders");
        if (v >= 10) CHECK(t.topic_id == orders->id);
        REQUIRE(t.partitions.size() == 3);
        for (int32_t p = 0; p < 3; ++p) {
            const auto& part = t.partitions[static_cast<size_t>(p)];
            CHECK(part.partition_index == p);
            CHECK(part.leader_id == 1);
            CHECK(part.replica_nodes == std::vector<int32_t>{1});
            CHECK(part.isr_nodes == std::vector<int32_t>{1});
            CHECK(part.offline_replicas.empty());
            if (v >= 7) CHECK(part.leader_epoch == 0);
        }
        if (v >= 8) CHECK(t.topic_authorized_operations == INT32_MIN);
    }
}

TEST_CASE("dispatcher: Metadata marks the consumer offsets topic internal and user topics not") {
    dispatch_fixture f;
    REQUIRE(f.create("__consumer_offsets", 1).topics[0].error_code == 0);
    REQUIRE(f.create("orders", 1).topics[0].error_code == 0);
    for (int16_t v = 1; v <= metadata_request::max_version; ++v) {
        CAPTURE(v);
        const auto resp = f.call(all_topics_request(v), v);
        REQUIRE(resp.topics.size() == 2);
        for (const auto& t : resp.topics) CHECK(t.is_internal == (t.name == "__consumer_offsets"));
    }
}

TEST_CASE("dispatcher: Metadata auto-creates only when the broker and the request allow it") {
    SUBCASE("allowed") {
        dispatch_fixture f(test::config_settings{{"num.partitions", "2"}});
        const auto resp = f.call(named_request({"fresh"}), 9);
        REQUIRE(resp.topics.size() == 1);
        CHECK(resp.topics[0].error_code == 0);
        CHECK(resp.topics[0].partitions.size() == 2);
        CHECK(f.md.topics().find("fresh") != nullptr);
    }
    SUBCASE("the request forbids it") {
        dispatch_fixture f;
        const auto resp = f.call(named_request({"fresh"}, false), 9);
        CHECK(resp.topics[0].error_code == to_int(error_code::unknown_topic_or_partition));
        CHECK(f.md.topics().find("fresh") == nullptr);
    }
    SUBCASE("the broker forbids it") {
        dispatch_fixture f(test::config_settings{{"auto.create.topics.enable", "false"}});
        const auto resp = f.call(named_request({"fresh"}), 9);
        CHECK(resp.topics[0].error_code == to_int(error_code::unknown_topic_or_partition));
        CHECK(f.md.topics().find("fresh") == nullptr);
    }
    SUBCASE("an invalid name is INVALID_TOPIC_EXCEPTION either way") {
        dispatch_fixture f;
        const auto resp = f.call(named_request({"bad/name", "."}), 9);
        REQUIRE(resp.topics.size() == 2);
        CHECK(resp.topics[0].error_code == to_int(error_code::invalid_topic_exception));
        CHECK(resp.topics[1].error_code == to_int(error_code::invalid_topic_exception));
        CHECK(f.md.topics().size() == 0);
    }
    SUBCASE("a default replication factor a single node cannot host fails creation") {
        dispatch_fixture f(test::config_settings{{"default.replication.factor", "3"}});
        const auto resp = f.call(named_request({"fresh"}), 9);
        CHECK(resp.topics[0].error_code == to_int(error_code::invalid_replication_factor));
    }
}

TEST_CASE("dispatcher: Metadata v12 looks topics up by id") {
    dispatch_fixture f;
    REQUIRE(f.create("by-id", 1).topics[0].error_code == 0);
    const auto id = f.md.topics().find("by-id")->id;
    metadata_request req;
    req.topics = std::vector<metadata_request::metadata_request_topic>{{id, std::nullopt}, {uuid{{9, 9, 9}}, std::nullopt}};
    const auto resp = f.call(req, 12);
    REQUIRE(resp.topics.size() == 2);
    CHECK(resp.topics[0].name == "by-id");
    CHECK(resp.topics[0].error_code == 0);
    CHECK(resp.topics[1].error_code == to_int(error_code::unknown_topic_id));
    CHECK_FALSE(resp.topics[1].name.has_value());
}

TEST_CASE("dispatcher: Metadata reports authorized operations as Kafka does without an authorizer") {
    dispatch_fixture f;
    REQUIRE(f.create("ops", 1).topics[0].error_code == 0);
    auto req = named_request({"ops"});
    req.include_topic_authorized_operations = true;
    req.include_cluster_authorized_operations = true;
    const auto v8 = f.call(req, 8);
    CHECK(v8.topics[0].topic_authorized_operations == 3576);
    CHECK(v8.cluster_authorized_operations == 8096);
    const auto v11 = f.call(req, 11);
    CHECK(v11.topics[0].topic_authorized_operations == 3576);
}

TEST_CASE("dispatcher: CreateTopics creates at every version and reports the topic") {
    dispatch_fixture f(test::config_settings{{"num.partitions", "4"}});
    for (int16_t v = 0; v <= create_topics_request::max_version; ++v) {
        CAPTURE(v);
        const std::string name = "created-v" + std::to_string(v);
        create_topics_request req;
        // -1 defaults exist from v4 (KIP-464); older clients always send both.
        req.topics.push_back({name, v >= 4 ? -1 : 4, static_cast<int16_t>(v >= 4 ? -1 : 1), {}, {{"retention.ms", "1000"}}});
        const auto resp = f.call(req, v);
        REQUIRE(resp.topics.size() == 1);
        const auto& r = resp.topics[0];
        CHECK(r.name == name);
        CHECK(r.error_code == 0);
        if (v >= 1) CHECK_FALSE(r.error_message.has_value());
        const auto* t = f.md.topics().find(name);
        REQUIRE(t != nullptr);
        CHECK(t->partitions == 4);
        CHECK(t->configs.at("retention.ms") == "1000");
        if (v >= 5) {
            CHECK(r.num_partitions == 4);
            CHECK(r.replication_factor == 1);
            REQUIRE(r.configs.has_value());
            bool found = false;
            for (const auto& c : *r.configs)
                if (c.name == "retention.ms") {
                    found = true;
                    CHECK(c.value == "1000");
                    CHECK(c.config_source == static_cast<int8_t>(config_source::dynamic_topic));
                }
            CHECK(found);
        }
        if (v >= 7) CHECK(r.topic_id == t->id);
    }
}

TEST_CASE("dispatcher: CreateTopics reports Kafka's errors per topic") {
    dispatch_fixture f;
    REQUIRE(f.create("exists", 1).topics[0].error_code == 0);
    create_topics_request req;
    req.topics = {
        {"exists", 1, 1, {}, {}},
        {"bad name!", 1, 1, {}, {}},
        {"zero-partitions", 0, 1, {}, {}},
        {"three-replicas", 1, 3, {}, {}},
        {"zero-replicas", 1, 0, {}, {}},
        {"unknown-config", 1, 1, {}, {{"no.such.config", "1"}}},
        {"bad-config", 1, 1, {}, {{"retention.ms", "soon"}}},
        {"twice", 1, 1, {}, {}},
        {"twice", 1, 1, {}, {}},
        {"foreign-broker", -1, -1, {{0, {2}}}, {}},
        {"assignment-and-count", 2, -1, {{0, {1}}}, {}},
        {"gap", -1, -1, {{0, {1}}, {2, {1}}}, {}},
        {"assigned", -1, -1, {{0, {1}}, {1, {1}}}, {}},
    };
    const auto resp = f.call(req, 7);
    REQUIRE(resp.topics.size() == req.topics.size());
    const error_code expected[] = {
        error_code::topic_already_exists,       error_code::invalid_topic_exception,   error_code::invalid_partitions,
        error_code::invalid_replication_factor, error_code::invalid_replication_factor, error_code::invalid_config,
        error_code::invalid_config,             error_code::invalid_request,            error_code::invalid_request,
        error_code::invalid_replica_assignment, error_code::invalid_request,            error_code::invalid_replica_assignment,
        error_code::none,
    };
    for (size_t i = 0; i < resp.topics.size(); ++i) {
        CAPTURE(resp.topics[i].name);
        CHECK(resp.topics[i].error_code == to_int(expected[i]));
        CHECK(resp.topics[i].error_message.has_value() == (expected[i] != error_code::none));
        if (expected[i] != error_code::none) CHECK(resp.topics[i].num_partitions == -1);
    }
    CHECK(f.md.topics().find("assigned")->partitions == 2);
    CHECK(f.md.topics().find("twice") == nullptr);
    CHECK(f.md.topics().size() == 2);
}

TEST_CASE("dispatcher: CreateTopics validate_only creates nothing") {
    dispatch_fixture f;
    create_topics_request req;
    req.topics.push_back({"dry-run", 2, 1, {}, {}});
    req.validate_only = true;
    const auto resp = f.call(req, 7);
    CHECK(resp.topics[0].error_code == 0);
    CHECK(resp.topics[0].num_partitions == 2);
    CHECK(resp.topics[0].topic_id.is_zero());
    CHECK(f.md.topics().find("dry-run") == nullptr);
}

TEST_CASE("dispatcher: CreateTopics over 10 000 partitions in all creates none, as Kafka's controller refuses it") {
    dispatch_fixture f;
    create_topics_request req;
    req.topics = {{"foo", 5000, 1, {}, {}}, {"bar", 5000, 1, {}, {}}, {"baz", 1, 1, {}, {}}};
    for (const bool validate_only : {false, true}) {
        CAPTURE(validate_only);
        req.validate_only = validate_only;
        const auto resp = f.call(req, 7);
        REQUIRE(resp.topics.size() == 3);
        for (const auto& t : resp.topics) {
            CAPTURE(t.name);
            CHECK(t.error_code == to_int(error_code::policy_violation));
            CHECK(t.error_message == "Excessively large number of partitions per request.");
            CHECK(t.num_partitions == -1);
        }
    }
    // v0 has no message field; the code is the same.
    const auto v0 = f.call(req, 0);
    REQUIRE(v0.topics.size() == 3);
    CHECK(v0.topics[0].error_code == to_int(error_code::policy_violation));
    CHECK(f.md.topics().size() == 0);
    CHECK(f.md.epoch() == 0);

    // Exactly the bound is allowed.
    req.topics.pop_back();
    req.validate_only = false;
    const auto ok = f.call(req, 7);
    CHECK(ok.topics[0].error_code == 0);
    CHECK(ok.topics[1].error_code == 0);
    CHECK(f.md.topics().size() == 2);
}

TEST_CASE("dispatcher: Metadata auto-creation over 10 000 partitions creates none") {
    dispatch_fixture f(test::config_settings{{"num.partitions", "4000"}});
    const auto resp = f.call(named_request({"a", "b", "c"}), 9);
    REQUIRE(resp.topics.size() == 3);
    for (const auto& t : resp.topics) CHECK(t.error_code == to_int(error_code::policy_violation));
    CHECK(f.md.topics().size() == 0);
    // Two fit.
    const auto two = f.call(named_request({"a", "b"}), 9);
    CHECK(two.topics[0].error_code == 0);
    CHECK(two.topics[1].error_code == 0);
}

TEST_CASE("dispatcher: CreatePartitions fails the topic that would pass 10 000 new partitions and every later one") {
    auto grow = [](std::vector<std::pair<std::string, int32_t>> topics, bool validate_only) {
        create_partitions_request req;
        for (auto& [name, count] : topics) req.topics.push_back({name, count, std::nullopt});
        req.validate_only = validate_only;
        return req;
    };
    // a and b grow by 9 000 together; c would add 2 000 more; d, after it, adds one; absent
    // fails for its own reason and uses none of the budget.
    const auto req = [&](bool validate_only) {
        return grow({{"a", 5001}, {"absent", 2}, {"b", 4001}, {"c", 2001}, {"d", 2}}, validate_only);
    };
    for (const bool validate_only : {false, true}) {
        CAPTURE(validate_only);
        dispatch_fixture f;
        for (const char* name : {"a", "b", "c", "d"}) REQUIRE(f.create(name, 1).topics[0].error_code == 0);
        const auto resp = f.call(req(validate_only), 3);
        REQUIRE(resp.results.size() == 5);
        const error_code expected[] = {error_code::none, error_code::unknown_topic_or_partition, error_code::none,
                                       error_code::unknown_server_error, error_code::unknown_server_error};
        for (size_t i = 0; i < resp.results.size(); ++i) {
            CAPTURE(resp.results[i].name);
            CHECK(resp.results[i].error_code == to_int(expected[i]));
        }
        CHECK(resp.results[3].error_message == "Excessively large number of partitions per request.");
        CHECK(resp.results[4].error_message == "Excessively large number of partitions per request.");
        CHECK(f.md.topics().find("a")->partitions == (validate_only ? 1 : 5001));
        CHECK(f.md.topics().find("b")->partitions == (validate_only ? 1 : 4001));
        CHECK(f.md.topics().find("c")->partitions == 1);
        CHECK(f.md.topics().find("d")->partitions == 1);
        // A new request has its own budget.
        CHECK(f.call(grow({{"c", 2001}, {"d", 2}}, validate_only), 3).results[1].error_code == 0);
    }
}

TEST_CASE("dispatcher: DeleteTopics deletes by name at every version and by id from v6") {
    dispatch_fixture f;
    for (int16_t v = 0; v <= delete_topics_request::max_version; ++v) {
        CAPTURE(v);
        const std::string name = "doomed-v" + std::to_string(v);
        REQUIRE(f.create(name, 1).topics[0].error_code == 0);
        delete_topics_request req;
        if (v >= 6) req.topics.push_back({name, {}});
        else req.topic_names.push_back(name);
        req.timeout_ms = 1000;
        const auto resp = f.call(req, v);
        REQUIRE(resp.responses.size() == 1);
        CHECK(resp.responses[0].name == name);
        CHECK(resp.responses[0].error_code == 0);
        CHECK(f.md.topics().find(name) == nullptr);
    }

    REQUIRE(f.create("by-id", 1).topics[0].error_code == 0);
    const auto id = f.md.topics().find("by-id")->id;
    delete_topics_request req;
    req.topics = {{std::nullopt, id}, {std::nullopt, uuid{{1, 2, 3}}}, {std::string("missing"), {}}, {std::string("by-id"), id}};
    const auto resp = f.call(req, 6);
    REQUIRE(resp.responses.size() == 4);
    CHECK(resp.responses[0].error_code == 0);
    CHECK(resp.responses[0].name == "by-id");
    CHECK(resp.responses[1].error_code == to_int(error_code::unknown_topic_id));
    CHECK(resp.responses[2].error_code == to_int(error_code::unknown_topic_or_partition));
    CHECK(resp.responses[3].error_code == to_int(error_code::invalid_request));
    CHECK(f.md.topics().find("by-id") == nullptr);
}

TEST_CASE("dispatcher: DeleteTopics with delete.topic.enable=false refuses per version") {
    dispatch_fixture f(test::config_settings{{"delete.topic.enable", "false"}});
    REQUIRE(f.create("kept", 1).topics[0].error_code == 0);
    for (const int16_t v : {int16_t{2}, int16_t{3}, int16_t{5}}) {
        delete_topics_request req;
        req.topic_names.push_back("kept");
        const auto resp = f.call(req, v);
        CHECK(resp.responses[0].error_code ==
              to_int(v < 3 ? error_code::invalid_request : error_code::topic_deletion_disabled));
    }
    CHECK(f.md.topics().find("kept") != nullptr);
}
