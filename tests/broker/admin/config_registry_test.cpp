// Tests broker/admin/config_registry.cpp and dynamic_config_store.cpp: Kafka's validation
// errors (each failed change leaves everything as it was), persistence across restarts, and
// changes applied live to the broker configuration and the partition logs.
#include "broker/admin/config_registry.h"
#include "broker/metadata_store.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using samsa::protocol::error_code;

namespace {

constexpr int8_t topic = 2, broker = 4, logger = 8;

// Remembers which topics' settings were handed to their logs.
class recording_storage final : public partition_storage {
public:
    std::optional<std::string> create_partitions(const topic_info&) override { return std::nullopt; }
    std::optional<std::string> delete_partitions(const topic_info&, int32_t) override { return std::nullopt; }
    std::optional<std::string> close() override { return std::nullopt; }
    std::optional<std::string> apply_config(const topic_info& t) override {
        applied.push_back(t);
        return std::nullopt;
    }
    std::vector<topic_info> applied;
};

struct fixture {
    test::temp_dir dir;
    broker_config cfg = test::test_config(dir.path(), {{"num.partitions", "2"}});
    metadata_store store{dir.path()};
    recording_storage storage;
    metadata_service metadata{cfg, store, storage, metadata_service::open_image(cfg, store)};
    config_registry registry{cfg, metadata, storage, dir.path()};

    fixture() {
        registry.load();
        const new_topic t{"orders", 1, 1, {}, {{"retention.ms", std::string("3600000")}}};
        REQUIRE(metadata.create_topics(std::span(&t, 1), false)[0].error == error_code::none);
    }
    const topic_configs& orders() { return metadata.topics().find("orders")->configs; }
    config_result set(int8_t type, const std::string& name, std::string key, std::optional<std::string> value,
                      bool validate_only = false) {
        const config_change c{std::move(key), static_cast<int8_t>(config_op::set), std::move(value)};
        return registry.incremental_alter(type, name, std::span(&c, 1), validate_only);
    }
};

} // namespace

TEST_CASE("config_registry: unknown keys and out-of-range values are INVALID_CONFIG and change nothing") {
    fixture f;
    auto r = f.set(topic, "orders", "retention.msec", "5");
    CHECK(r.error == error_code::invalid_config);
    CHECK(r.message == "Unknown topic config name: retention.msec");
    r = f.set(topic, "orders", "retention.ms", "-5");
    CHECK(r.error == error_code::invalid_config);
    r = f.set(topic, "orders", "segment.bytes", "10");
    CHECK(r.error == error_code::invalid_config);
    CHECK(f.orders() == topic_configs{{"retention.ms", "3600000"}});
    CHECK(f.storage.applied.empty());
    CHECK(f.set(topic, "nope", "retention.ms", "5").error == error_code::unknown_topic_or_partition);
}

TEST_CASE("config_registry: a topic change is persisted and handed to the topic's logs") {
    fixture f;
    REQUIRE(f.set(topic, "orders", "retention.ms", "1000").error == error_code::none);
    CHECK(f.orders().at("retention.ms") == "1000");
    REQUIRE(f.storage.applied.size() == 1);
    CHECK(f.storage.applied[0].configs.at("retention.ms") == "1000");
    metadata_service reloaded(f.cfg, f.store, f.storage, metadata_service::open_image(f.cfg, f.store));
    CHECK(reloaded.topics().find("orders")->configs.at("retention.ms") == "1000");
}

TEST_CASE("config_registry: validate_only checks without changing") {
    fixture f;
    CHECK(f.set(topic, "orders", "retention.ms", "1000", true).error == error_code::none);
    CHECK(f.orders().at("retention.ms") == "3600000");
}

TEST_CASE("config_registry: legacy AlterConfigs replaces every override of the topic") {
    fixture f;
    const std::vector<std::pair<std::string, std::optional<std::string>>> configs{{"cleanup.policy", "compact"}};
    REQUIRE(f.registry.alter(topic, "orders", configs, false).error == error_code::none);
    CHECK(f.orders() == topic_configs{{"cleanup.policy", "compact"}});
    const std::vector<std::pair<std::string, std::optional<std::string>>> null_value{{"cleanup.policy", std::nullopt}};
    CHECK(f.registry.alter(topic, "orders", null_value, false).error == error_code::invalid_request);
    CHECK(f.registry.alter(logger, "1", configs, false).error == error_code::invalid_request);
}

TEST_CASE("config_registry: a dynamic broker default changes the live config and survives a restart") {
    fixture f;
    REQUIRE(f.set(broker, "", "log.retention.bytes", "123456").error == error_code::none);
    CHECK(f.cfg.log_retention_bytes == 123456);
    CHECK(f.storage.applied.size() == 1);  // every topic gets its new defaults
    const auto described = f.registry.describe(topic, "orders", std::vector<std::string>{"retention.bytes"});
    REQUIRE(described.entries.size() == 1);
    CHECK(described.entries[0].value == "123456");
    CHECK(described.entries[0].source == config_source::dynamic_default_broker);

    broker_config restarted = test::test_config(f.dir.path(), {{"num.partitions", "2"}});
    config_registry again(restarted, f.metadata, f.storage, f.dir.path());
    again.load();
    CHECK(restarted.log_retention_bytes == 123456);
    CHECK(again.layers().cluster_dynamic.at("log.retention.bytes") == "123456");
}

TEST_CASE("config_registry: broker changes follow Kafka's rules") {
    fixture f;
    auto r = f.set(broker, "1", "num.partitions", "5");
    CHECK(r.error == error_code::invalid_request);
    CHECK(r.message == "Cannot update these configs dynamically: Set(num.partitions)");
    CHECK(f.cfg.num_partitions == 2);
    r = f.set(broker, "7", "log.retention.bytes", "5");
    CHECK(r.error == error_code::invalid_request);
    CHECK(r.message == "Unexpected broker id, expected 1 or empty string, but received 7");
    CHECK(f.set(broker, "x", "log.retention.bytes", "5").error == error_code::invalid_request);
    CHECK(f.set(broker, "1", "log.retention.bytes", "-7").error == error_code::invalid_config);
    CHECK(f.set(broker, "1", "no.such.key", "1").error == error_code::invalid_config);
    CHECK(f.cfg.log_retention_bytes == -1);
    REQUIRE(f.set(broker, "1", "log.retention.bytes", "77").error == error_code::none);
    CHECK(f.cfg.log_retention_bytes == 77);
    const auto node = f.registry.describe(broker, "1", std::vector<std::string>{"log.retention.bytes"});
    REQUIRE(node.entries.size() == 1);
    CHECK(node.entries[0].source == config_source::dynamic_broker);
}

TEST_CASE("config_registry: the root logger's level can be set, not removed") {
    fixture f;
    CHECK(f.set(logger, "1", "root", "DEBUG").error == error_code::none);
    CHECK(f.registry.describe(logger, "1", std::nullopt).entries.at(0).value == "DEBUG");
    CHECK(f.set(logger, "1", "root", "LOUD").error == error_code::invalid_config);
    CHECK(f.set(logger, "1", "kafka.server", "INFO").error == error_code::invalid_config);
    const config_change del{"root", static_cast<int8_t>(config_op::remove), std::nullopt};
    CHECK(f.registry.incremental_alter(logger, "1", std::span(&del, 1), false).error == error_code::invalid_request);
    CHECK(f.registry.describe(logger, "", std::nullopt).error == error_code::invalid_request);
    CHECK(f.set(logger, "1", "root", "INFO").error == error_code::none);
}

TEST_CASE("config_registry: client quotas persist, invalid entries are refused one by one") {
    fixture f;
    quota_alteration good;
    good.entity = {{"client-id", std::string("slow")}};
    good.entity_as_sent = {{"client-id", std::string("slow")}};
    good.ops = {{"producer_byte_rate", 1048576, false}};
    quota_alteration bad = good;
    bad.ops = {{"producer_byte_rate", 1.5, false}};
    const auto out = f.registry.alter_quotas(std::vector<quota_alteration>{good, bad}, false);
    CHECK(out[0].error == error_code::none);
    CHECK(out[1].error == error_code::invalid_request);
    CHECK(f.registry.quotas().resolve("producer_byte_rate", "ANONYMOUS", "slow")->bound == 1048576);

    broker_config restarted = test::test_config(f.dir.path());
    config_registry again(restarted, f.metadata, f.storage, f.dir.path());
    again.load();
    CHECK(again.quotas().all().size() == 1);
}
