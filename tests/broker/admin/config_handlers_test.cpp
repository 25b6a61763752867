// Tests broker/handlers/alter_configs.cpp, incremental_alter_configs.cpp (through their shared
// config_alteration.h) and describe_configs.cpp, driven through the dispatcher: a resource named
// more than once in one alteration request is refused at every place, as Kafka refuses it; the
// topic changes of one request are saved together; DescribeConfigs answers every copy, as Kafka does.
#include "protocol/messages/alter_configs.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "tests/broker/data_path_fixture.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using namespace samsa::protocol;
using samsa::broker::test::data_path_fixture;

namespace {

constexpr int8_t topic_type = 2, broker_type = 4;
constexpr std::string_view repeated_message = "Each resource must appear at most once.";

incremental_alter_configs_request::alter_configs_resource set_one(int8_t type, std::string name, std::string key,
                                                                  std::string value) {
    incremental_alter_configs_request::alter_configs_resource r;
    r.resource_type = type;
    r.resource_name = std::move(name);
    auto& c = r.configs.emplace_back();
    c.name = std::move(key);
    c.config_operation = 0;  // SET
    c.value = std::move(value);
    return r;
}

alter_configs_request::alter_configs_resource replace_with(int8_t type, std::string name, std::string key,
                                                           std::string value) {
    alter_configs_request::alter_configs_resource r;
    r.resource_type = type;
    r.resource_name = std::move(name);
    auto& c = r.configs.emplace_back();
    c.name = std::move(key);
    c.value = std::move(value);
    return r;
}

std::optional<std::string> topic_override(data_path_fixture& f, const std::string& topic, const std::string& key) {
    for (const auto& [k, v] : f.topic(topic).configs)
        if (k == key) return v;
    return std::nullopt;
}

} // namespace

TEST_CASE("incremental_alter_configs: a resource named twice is INVALID_REQUEST at each place and is not changed") {
    data_path_fixture f;
    f.create_topic("orders", 1);
    f.create_topic("audit", 1);
    config_registry& registry = f.enable_configs();

    incremental_alter_configs_request req;
    req.resources.push_back(set_one(broker_type, "", "log.retention.bytes", "1000"));
    req.resources.push_back(set_one(topic_type, "orders", "retention.ms", "60000"));
    req.resources.push_back(set_one(broker_type, "", "log.retention.bytes", "2000"));
    req.resources.push_back(set_one(topic_type, "audit", "retention.ms", "1"));
    req.resources.push_back(set_one(topic_type, "audit", "retention.ms", "2"));
    req.resources.push_back(set_one(broker_type, "1", "log.retention.bytes", "3000"));  // same type, other name
    for (int16_t v : {0, 1}) {
        CAPTURE(v);
        const auto resp = f.call(req, v);
        REQUIRE(resp.responses.size() == 6);
        for (size_t i : {0u, 2u, 3u, 4u}) {
            CAPTURE(i);
            CHECK(resp.responses[i].error_code == to_int(error_code::invalid_request));
            CHECK(resp.responses[i].error_message == std::optional<std::string>(repeated_message));
            CHECK(resp.responses[i].resource_type == req.resources[i].resource_type);
            CHECK(resp.responses[i].resource_name == req.resources[i].resource_name);
        }
        CHECK(resp.responses[1].error_code == 0);
        CHECK(resp.responses[5].error_code == 0);
    }
    // Neither copy of the cluster default nor of audit's override took effect; the others did.
    CHECK_FALSE(registry.layers().cluster_dynamic.contains("log.retention.bytes"));
    CHECK(registry.layers().node_dynamic.at("log.retention.bytes") == "3000");
    CHECK(topic_override(f, "orders", "retention.ms") == "60000");
    CHECK_FALSE(topic_override(f, "audit", "retention.ms").has_value());
}

TEST_CASE("alter_configs: a resource named twice is INVALID_REQUEST at each place, even with validate_only") {
    data_path_fixture f;
    f.create_topic("orders", 1);
    f.create_topic("audit", 1);
    f.enable_configs();
    alter_configs_request req;
    req.resources.push_back(replace_with(topic_type, "orders", "retention.ms", "60000"));
    req.resources.push_back(replace_with(topic_type, "audit", "retention.ms", "1000"));
    req.resources.push_back(replace_with(topic_type, "orders", "retention.ms", "70000"));
    for (bool validate_only : {true, false}) {
        CAPTURE(validate_only);
        req.validate_only = validate_only;
        const auto resp = f.call(req, 1);
        REQUIRE(resp.responses.size() == 3);
        CHECK(resp.responses[0].error_code == to_int(error_code::invalid_request));
        CHECK(resp.responses[0].error_message == std::optional<std::string>(repeated_message));
        CHECK(resp.responses[1].error_code == 0);
        CHECK(resp.responses[2].error_code == to_int(error_code::invalid_request));
        CHECK(resp.responses[2].resource_name == "orders");
    }
    CHECK_FALSE(topic_override(f, "orders", "retention.ms").has_value());
    CHECK(topic_override(f, "audit", "retention.ms") == "1000");
}

TEST_CASE("incremental_alter_configs: the topic changes of one request are saved once, together") {
    data_path_fixture f;
    for (const char* name : {"a", "b", "c", "d"}) f.create_topic(name, 1);
    f.enable_configs();
    const int64_t epoch = f.metadata().epoch();
    incremental_alter_configs_request req;
    req.resources.push_back(set_one(topic_type, "a", "retention.ms", "1000"));
    req.resources.push_back(set_one(topic_type, "b", "retention.ms", "2000"));
    req.resources.push_back(set_one(topic_type, "c", "retention.ms", "-7"));  // invalid: not saved
    req.resources.push_back(set_one(topic_type, "d", "retention.ms", "4000"));
    req.resources.push_back(set_one(topic_type, "gone", "retention.ms", "5000"));
    const auto resp = f.call(req, 1);
    REQUIRE(resp.responses.size() == 5);
    CHECK(resp.responses[0].error_code == 0);
    CHECK(resp.responses[1].error_code == 0);
    CHECK(resp.responses[2].error_code == to_int(error_code::invalid_config));
    CHECK(resp.responses[3].error_code == 0);
    CHECK(resp.responses[4].error_code == to_int(error_code::unknown_topic_or_partition));
    CHECK(f.metadata().epoch() == epoch + 1);  // one metadata save for the three topics changed
    CHECK(topic_override(f, "a", "retention.ms") == "1000");
    CHECK(topic_override(f, "b", "retention.ms") == "2000");
    CHECK_FALSE(topic_override(f, "c", "retention.ms").has_value());
    CHECK(topic_override(f, "d", "retention.ms") == "4000");

    // A request whose topic changes are all refused saves nothing.
    req.resources.resize(3);
    req.resources[0] = set_one(topic_type, "a", "retention.ms", "x");
    req.resources[1] = set_one(topic_type, "a", "retention.ms", "1");
    req.resources[2] = set_one(topic_type, "gone", "retention.ms", "1");
    (void)f.call(req, 1);
    CHECK(f.metadata().epoch() == epoch + 1);
    CHECK(topic_override(f, "a", "retention.ms") == "1000");
}

TEST_CASE("describe_configs: a resource named twice is described at each place") {
    data_path_fixture f;
    f.create_topic("orders", 1, {{"retention.ms", std::string("60000")}});
    f.enable_configs();
    describe_configs_request req;
    for (int i = 0; i < 2; ++i) {
        auto& r = req.resources.emplace_back();
        r.resource_type = topic_type;
        r.resource_name = "orders";
        r.configuration_keys = std::vector<std::string>{"retention.ms"};
    }
    const auto resp = f.call(req, 4);
    REQUIRE(resp.results.size() == 2);
    for (const auto& r : resp.results) {
        CHECK(r.error_code == 0);
        REQUIRE(r.configs.size() == 1);
        CHECK(r.configs[0].value == "60000");
    }
}
