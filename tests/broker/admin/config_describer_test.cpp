// Tests broker/admin/config_describer.cpp and config_layers.cpp: sources, synonyms and
// read-only flags as DescribeConfigs reports them, and the precedence of the layers.
#include "broker/admin/config_describer.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

using namespace samsa::broker;

namespace {

const config_entry& named(const std::vector<config_entry>& entries, std::string_view name) {
    for (const auto& e : entries)
        if (e.name == name) return e;
    FAIL("no entry " << name);
    return entries.front();
}

config_layers layers_of(const broker_config& cfg) {
    config_layers l;
    for (const auto& [k, v] : cfg.given.values) l.static_values[k] = v;
    return l;
}

} // namespace

TEST_CASE("config_describer: a topic override is TOPIC_CONFIG, an untouched key DEFAULT_CONFIG") {
    const auto cfg = build_config({}, {});
    const auto entries = describe_topic_configs({{"retention.ms", "3600000"}}, cfg, layers_of(cfg));
    CHECK(entries.size() == topic_config_keys().size());
    const auto& retention = named(entries, "retention.ms");
    CHECK(retention.value == "3600000");
    CHECK(retention.source == config_source::dynamic_topic);
    CHECK(retention.type == config_value_type::int64);
    CHECK_FALSE(retention.read_only);
    REQUIRE(retention.synonyms.size() == 1);
    CHECK(retention.synonyms[0].source == config_source::dynamic_topic);
    const auto& segment = named(entries, "segment.bytes");
    CHECK(segment.value == "1073741824");
    CHECK(segment.source == config_source::default_config);
    REQUIRE(segment.synonyms.size() == 1);
    CHECK(segment.synonyms[0].name == "log.segment.bytes");
    CHECK(named(entries, "cleanup.policy").type == config_value_type::list);
    CHECK(named(entries, "min.cleanable.dirty.ratio").value == "0.5");
    CHECK(named(entries, "min.cleanable.dirty.ratio").type == config_value_type::float64);
}

TEST_CASE("config_describer: a static broker setting is the topic default and its source") {
    const auto cfg = build_config({{"log.segment.bytes", "4096"}, {"log.retention.ms", "5000"}}, {});
    const auto entries = describe_topic_configs({}, cfg, layers_of(cfg));
    const auto& segment = named(entries, "segment.bytes");
    CHECK(segment.value == "4096");
    CHECK(segment.source == config_source::static_broker);
    REQUIRE(segment.synonyms.size() == 2);
    CHECK(segment.synonyms[0].source == config_source::static_broker);
    CHECK(segment.synonyms[1].source == config_source::default_config);
    CHECK(named(entries, "retention.ms").value == "5000");
    CHECK(named(entries, "retention.ms").source == config_source::static_broker);
}

TEST_CASE("config_layers: a node setting wins over the cluster default, which wins over the static one") {
    const auto start = build_config({{"log.retention.bytes", "100"}}, {});
    auto layers = layers_of(start);
    layers.cluster_dynamic["log.retention.bytes"] = "200";
    CHECK(layers.build(start).log_retention_bytes == 200);
    layers.node_dynamic["log.retention.bytes"] = "300";
    CHECK(layers.build(start).log_retention_bytes == 300);
    const auto syn = layers.synonyms("log.retention.bytes");
    REQUIRE(syn.size() == 4);
    CHECK(syn[0].source == config_source::dynamic_broker);
    CHECK(syn[1].source == config_source::dynamic_default_broker);
    CHECK(syn[2].source == config_source::static_broker);
    CHECK(syn[3].source == config_source::default_config);
}

TEST_CASE("config_layers: Kafka's key precedence holds across layers") {
    // A dynamic log.retention.hours does not beat a static log.retention.ms.
    const auto start = build_config({{"log.retention.ms", "1000"}}, {});
    auto layers = layers_of(start);
    layers.node_dynamic["log.retention.hours"] = "2";
    CHECK(layers.build(start).log_retention_ms() == 1000);
    layers.node_dynamic["log.retention.ms"] = "7000";
    CHECK(layers.build(start).log_retention_ms() == 7000);
    CHECK(fallback_chain("log.retention.ms") ==
          std::vector<std::string_view>{"log.retention.ms", "log.retention.minutes", "log.retention.hours"});
}

TEST_CASE("config_layers: an invalid dynamic value names the key") {
    const auto start = build_config({}, {});
    auto layers = layers_of(start);
    layers.cluster_dynamic["log.retention.bytes"] = "lots";
    CHECK_THROWS_WITH_AS((void)layers.build(start), doctest::Contains("log.retention.bytes"), config_error);
}

TEST_CASE("config_describer: broker keys carry read-only flags, and the cluster view only what is set") {
    const auto cfg = build_config({{"num.partitions", "3"}}, {});
    auto layers = layers_of(cfg);
    layers.cluster_dynamic["log.retention.ms"] = "60000";
    const auto node = describe_broker_configs(layers, true);
    const auto& partitions = named(node, "num.partitions");
    CHECK(partitions.value == "3");
    CHECK(partitions.source == config_source::static_broker);
    CHECK(partitions.read_only);
    const auto& retention = named(node, "log.retention.ms");
    CHECK(retention.value == "60000");
    CHECK(retention.source == config_source::dynamic_default_broker);
    CHECK_FALSE(retention.read_only);
    CHECK(named(node, "log.roll.ms").value == std::nullopt);  // unset, no default: null as in Kafka
    const auto cluster = describe_broker_configs(layers, false);
    REQUIRE(cluster.size() == 1);
    CHECK(cluster[0].name == "log.retention.ms");
    CHECK(cluster[0].synonyms.size() == 1);
}

TEST_CASE("config_describer: only the requested keys are kept") {
    const auto cfg = build_config({}, {});
    auto entries = describe_topic_configs({}, cfg, layers_of(cfg));
    keep_requested(entries, std::vector<std::string>{"retention.ms", "no.such.key"});
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].name == "retention.ms");
}
