// Tests broker/config.cpp, broker/properties_reader.cpp and broker/command_line.cpp.
#include "broker/command_line.h"
#include "broker/config.h"
#include "broker/properties_reader.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <fstream>
#include <set>

using namespace samsa::broker;

namespace {

broker_config build(std::vector<std::pair<std::string, std::string>> s, std::vector<std::string>* unknown = nullptr) {
    return build_config(s, [unknown](std::string_view k) {
        if (unknown) unknown->emplace_back(k);
    });
}

std::string error_of(std::vector<std::pair<std::string, std::string>> s) {
    try {
        (void)build(std::move(s));
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("properties_reader: separators, comments, continuations and escapes") {
    const auto props = parse_properties("# comment\n"
                                        "! also a comment\n"
                                        "a=1\n"
                                        "  b : two words  \n"
                                        "c value\n"
                                        "d=first,\\\n"
                                        "    second\n"
                                        "e=tab\\there\\u0041\n"
                                        "f\\=g=h\n"
                                        "empty=\n"
                                        "\n");
    REQUIRE(props.size() == 7);
    CHECK(props[0].key == "a");
    CHECK(props[0].value == "1");
    CHECK(props[0].line == 3);
    CHECK(props[1].key == "b");
    CHECK(props[1].value == "two words  ");
    CHECK(props[2].key == "c");
    CHECK(props[2].value == "value");
    CHECK(props[3].key == "d");
    CHECK(props[3].value == "first,second");
    CHECK(props[4].value == "tab\there" "A");
    CHECK(props[5].key == "f=g");
    CHECK(props[5].value == "h");
    CHECK(props[6].key == "empty");
    CHECK(props[6].value.empty());
}

TEST_CASE("config: defaults listen on localhost:9092 with ./samsa-data") {
    const auto c = build({});
    REQUIRE(c.listeners.size() == 1);
    CHECK(c.listeners[0] == listener_endpoint{"PLAINTEXT", "localhost", 9092});
    CHECK(c.data_dirs() == std::vector<std::string>{"./samsa-data"});
    CHECK(c.socket_request_max_bytes == 104857600);
    CHECK(c.connections_max_idle_ms == 600000);
    CHECK(c.log_retention_ms() == 168LL * 3600 * 1000);
    CHECK(c.node_id == samsa::protocol::node_id(1));
}

TEST_CASE("config: every key's documented default is the built-in default") {
    const auto defaults = build({});
    for (const auto& k : config_keys()) {
        if (k.default_text.empty() || !k.has_effect) continue;
        CAPTURE(k.name);
        auto c = build({{std::string(k.name), std::string(k.default_text)}});
        c.node_id_setting.reset();
        c.broker_id_setting.reset();
        CHECK(c == defaults);
    }
}

TEST_CASE("config: every key has a type, a doc string and a unique name") {
    std::set<std::string_view> names;
    for (const auto& k : config_keys()) {
        CAPTURE(k.name);
        CHECK(!k.doc.empty());
        CHECK(static_cast<bool>(k.apply));
        CHECK(names.insert(k.name).second);
    }
}

TEST_CASE("config: a valid file and overrides apply in order") {
    test::temp_dir dir;
    const auto file = dir.path() / "server.properties";
    {
        std::ofstream out(file);
        out << "node.id=7\n"
               "listeners=PLAINTEXT://:9192,CONTROLLER://:9193\n"
               "controller.listener.names=CONTROLLER\n"
               "advertised.listeners=PLAINTEXT://broker.example:9192\n"
               "log.dirs=/var/a,/var/b\n"
               "num.partitions=3\n"
               "log.retention.hours=1\n"
               "log.retention.minutes=5\n"
               "auto.create.topics.enable=false\n"
               "process.roles=broker,controller\n";
    }
    std::vector<std::string> unknown;
    const auto c = load_config(file.string(), {"num.partitions=5", "log.retention.ms=1000"},
                               [&](std::string_view k) { unknown.emplace_back(k); });
    CHECK(unknown.empty());
    CHECK(c.node_id == samsa::protocol::node_id(7));
    CHECK(c.num_partitions == 5);
    CHECK(c.log_retention_ms() == 1000);
    CHECK(c.data_dirs() == std::vector<std::string>{"/var/a", "/var/b"});
    CHECK_FALSE(c.auto_create_topics_enable);
    const auto served = c.served_listeners();
    REQUIRE(served.size() == 1);
    CHECK(served[0] == listener_endpoint{"PLAINTEXT", "", 9192});
    CHECK(c.advertised_for("PLAINTEXT")->host == "broker.example");
}

TEST_CASE("config: retention and roll follow Kafka's precedence") {
    CHECK(build({{"log.retention.hours", "2"}}).log_retention_ms() == 2 * 3600000LL);
    CHECK(build({{"log.retention.minutes", "3"}, {"log.retention.hours", "2"}}).log_retention_ms() == 180000);
    CHECK(build({{"log.retention.ms", "-1"}, {"log.retention.minutes", "3"}}).log_retention_ms() == -1);
    CHECK(build({{"log.roll.hours", "2"}}).log_roll_ms() == 2 * 3600000LL);
    CHECK(build({{"log.roll.ms", "99"}, {"log.roll.hours", "2"}}).log_roll_ms() == 99);
    CHECK(build({}).log_roll_jitter_ms() == 0);
    CHECK(build({{"log.roll.jitter.hours", "3"}}).log_roll_jitter_ms() == 3 * 3600000LL);
    CHECK(build({{"log.roll.jitter.ms", "250"}, {"log.roll.jitter.hours", "3"}}).log_roll_jitter_ms() == 250);
}

TEST_CASE("config: an unknown key is reported once, however often it appears") {
    std::vector<std::string> unknown;
    (void)build({{"no.such.key", "1"}, {"no.such.key", "2"}, {"another.key", "x"}}, &unknown);
    CHECK(unknown == std::vector<std::string>{"no.such.key", "another.key"});
}

TEST_CASE("config: an invalid value names the key and the value") {
    auto err = error_of({{"num.partitions", "zero"}});
    CHECK(err.find("'num.partitions'") != std::string::npos);
    CHECK(err.find("'zero'") != std::string::npos);
    CHECK(error_of({{"num.partitions", "0"}}).find("at least 1") != std::string::npos);
    CHECK(error_of({{"socket.request.max.bytes", "99999999999"}}).find("socket.request.max.bytes") != std::string::npos);
    CHECK(error_of({{"auto.create.topics.enable", "yes"}}).find("auto.create.topics.enable") != std::string::npos);
    CHECK(error_of({{"listeners", "localhost:9092"}}).find("'listeners'") != std::string::npos);
    CHECK(error_of({{"listeners", "PLAINTEXT://localhost:99999"}}).find("'listeners'") != std::string::npos);
    CHECK(error_of({{"compression.type", "brotli"}}).find("compression.type") != std::string::npos);
    CHECK(error_of({{"node.id", "1"}, {"broker.id", "2"}}).find("broker.id") != std::string::npos);
    CHECK(error_of({{"listeners", "SSL://:9093"}}).find("SSL") != std::string::npos);
    CHECK(error_of({{"listener.security.protocol.map", "PLAINTEXT:SSL"}}).find("only PLAINTEXT") != std::string::npos);
    CHECK(error_of({{"advertised.listeners", "OTHER://h:1"}}).find("advertised.listeners") != std::string::npos);
    CHECK(error_of({{"listeners", "A://:1,A://:2"}, {"listener.security.protocol.map", "A:PLAINTEXT"}}).find("twice") !=
          std::string::npos);
}

TEST_CASE("config: a missing file is an error naming it") {
    CHECK_THROWS_WITH_AS((void)load_config(std::string("/nonexistent/server.properties"), {}, {}),
                         doctest::Contains("/nonexistent/server.properties"), config_error);
    CHECK_THROWS_AS((void)load_config(std::nullopt, {"novalue"}, {}), config_error);
}

TEST_CASE("config: listeners accept empty hosts, IPv6 brackets and port 0") {
    const auto l = parse_listeners("listeners", "PLAINTEXT://:0, INTERNAL://[::1]:9094");
    REQUIRE(l.size() == 2);
    CHECK(l[0] == listener_endpoint{"PLAINTEXT", "", 0});
    CHECK(l[1] == listener_endpoint{"INTERNAL", "::1", 9094});
}

TEST_CASE("command_line: options, overrides, help and errors") {
    auto c = parse_command_line({"--config", "a.properties", "--override", "x=1", "-o", "y=2", "--override=z=3"});
    CHECK(c.config_file == "a.properties");
    CHECK(c.overrides == std::vector<std::string>{"x=1", "y=2", "z=3"});
    CHECK(parse_command_line({"--help"}).help);
    CHECK(parse_command_line({"--version"}).version);
    CHECK(parse_command_line({}).overrides.empty());
    CHECK_THROWS_AS((void)parse_command_line({"--config"}), usage_error);
    CHECK_THROWS_AS((void)parse_command_line({"--bogus"}), usage_error);
    CHECK_THROWS_AS((void)parse_command_line({"-c", "a", "-c", "b"}), usage_error);
}

TEST_CASE("config: connection limits take Kafka's keys and its check between them") {
    const auto c = build({{"max.connections", "100"},
                          {"max.connections.per.ip", "0"},
                          {"max.connections.per.ip.overrides", "127.0.0.1:5, ::1:7,broker-host:2"},
                          {"max.connection.creation.rate", "20"}});
    CHECK(c.max_connections == 100);
    CHECK(c.max_connections_per_ip == 0);
    CHECK(c.max_connection_creation_rate == 20);
    using overrides = std::vector<std::pair<std::string, int32_t>>;
    CHECK(c.max_connections_per_ip_overrides == overrides{{"127.0.0.1", 5}, {"::1", 7}, {"broker-host", 2}});
    CHECK(error_of({{"max.connections.per.ip", "0"}}).find("can be set to zero only if max.connections.per.ip.overrides") !=
          std::string::npos);
    CHECK(error_of({{"max.connections.per.ip.overrides", "127.0.0.1"}}).find("host:limit") != std::string::npos);
    CHECK(error_of({{"max.connections.per.ip.overrides", "bad/host:1"}}).find("invalid addresses") != std::string::npos);
    CHECK(error_of({{"max.connections", "-1"}}).find("max.connections") != std::string::npos);
}

TEST_CASE("config: group.consumer.migration.policy is read into the policy, case-insensitively, or refused") {
    CHECK(build({}).group_consumer_migration_policy == migration_policy::bidirectional);
    CHECK(build({{"group.consumer.migration.policy", "disabled"}}).group_consumer_migration_policy == migration_policy::disabled);
    CHECK(build({{"group.consumer.migration.policy", "Upgrade"}}).group_consumer_migration_policy == migration_policy::upgrade);
    CHECK(build({{"group.consumer.migration.policy", "DOWNGRADE"}}).group_consumer_migration_policy == migration_policy::downgrade);
    CHECK(error_of({{"group.consumer.migration.policy", "sideways"}}).find("group.consumer.migration.policy") != std::string::npos);
}
