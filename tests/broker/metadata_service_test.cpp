// Tests broker/metadata_service.cpp, broker/metadata_store.cpp and broker/topic_table.cpp:
// persistence across restarts, atomic replacement, corruption and rollback.
#include "broker/metadata_service.h"
#include "broker/metadata_store.h"
#include "broker/topic_name.h"
#include "tests/broker/broker_test_util.h"

#include <doctest/doctest.h>

#include <fstream>
#include <type_traits>
#include <utility>

using namespace samsa::broker;
using samsa::protocol::error_code;
using samsa::protocol::node_id;
using samsa::protocol::partition_id;

// The node's id and a topic's leader epoch are kept as their own types, not as plain integers.
static_assert(std::is_same_v<decltype(std::declval<const metadata_service&>().node_id()), node_id>);
static_assert(std::is_same_v<decltype(metadata_image::node_id), node_id>);
static_assert(std::is_same_v<decltype(topic_info::leader_epoch), samsa::protocol::leader_epoch>);

namespace {

// A log store that refuses to create logs, to exercise the failure path.
class failing_storage final : public partition_storage {
public:
    std::optional<std::string> create_partitions(const topic_info&) override { return "disk full"; }
    std::optional<std::string> delete_partitions(const topic_info&) override { return std::nullopt; }
    std::optional<std::string> close() override { return std::nullopt; }
};

} // namespace

TEST_CASE("metadata_store: a new directory gets a cluster id that survives restarts") {
    test::temp_dir dir;
    const auto cfg = test::test_config(dir.path());
    metadata_store store(dir.path());
    CHECK_FALSE(store.load().has_value());
    const auto first = metadata_service::open_image(cfg, store);
    CHECK(first.cluster_id.size() == 22);
    CHECK(first.node_id == node_id(1));
    CHECK_FALSE(first.persisted);
    CHECK_FALSE(store.load().has_value());  // written with the first change or at shutdown
    metadata_only_storage logs;
    metadata_service md(cfg, store, logs, first);
    REQUIRE_FALSE(md.ensure_persisted().has_value());
    const auto again = metadata_service::open_image(cfg, store);
    CHECK(again.persisted);
    CHECK(again == first);
}

TEST_CASE("metadata_service: topics, ids and configs persist and reload") {
    test::temp_dir dir;
    const auto cfg = test::test_config(dir.path());
    metadata_store store(dir.path());
    metadata_only_storage logs;
    samsa::protocol::uuid id;
    {
        metadata_service md(cfg, store, logs, metadata_service::open_image(cfg, store));
        const new_topic t{"persisted", 3, 1, {}, {{"cleanup.policy", std::string("compact")}}};
        const auto out = md.create_topics(std::span(&t, 1), false);
        REQUIRE(out[0].error == error_code::none);
        id = out[0].topic.id;
        CHECK_FALSE(id.is_zero());
        CHECK(md.epoch() == 1);
    }
    metadata_service reloaded(cfg, store, logs, metadata_service::open_image(cfg, store));
    const auto* t = reloaded.topics().find("persisted");
    REQUIRE(t != nullptr);
    CHECK(t->id == id);
    CHECK(t->partitions == 3);
    CHECK(t->configs.at("cleanup.policy") == "compact");
    CHECK(reloaded.topics().find(id) == t);
    CHECK(reloaded.epoch() == 1);

    const delete_target target{std::nullopt, id};
    CHECK(reloaded.delete_topics(std::span(&target, 1))[0].error == error_code::none);
    metadata_service after_delete(cfg, store, logs, metadata_service::open_image(cfg, store));
    CHECK(after_delete.topics().size() == 0);
    CHECK(after_delete.epoch() == 2);
}

TEST_CASE("metadata_store: a leftover temp file is ignored and replaced") {
    test::temp_dir dir;
    metadata_store store(dir.path());
    metadata_image image{"cluster", node_id(1), 5, {}};
    REQUIRE_FALSE(store.save(image).has_value());
    {
        std::ofstream junk(dir.path() / (std::string(metadata_file_name) + ".tmp"));
        junk << "{ half written";
    }
    CHECK(store.load() == image);
    image.epoch = 6;
    REQUIRE_FALSE(store.save(image).has_value());
    CHECK(store.load() == image);
}

TEST_CASE("metadata_store: a corrupt file stops start-up instead of forgetting topics") {
    test::temp_dir dir;
    {
        std::ofstream bad(dir.path() / metadata_file_name);
        bad << "{\"format\": 1, \"cluster_id\": ";
    }
    metadata_store store(dir.path());
    CHECK_THROWS_WITH_AS((void)store.load(), doctest::Contains("corrupt"), std::runtime_error);
}

TEST_CASE("metadata_store: a file that cannot be read stops start-up and names the file") {
    test::temp_dir dir;
    std::filesystem::create_directory(dir.path() / metadata_file_name);
    metadata_store store(dir.path());
    const std::string expected = "cannot read " + (dir.path() / metadata_file_name).string();
    CHECK_THROWS_WITH_AS((void)store.load(), doctest::Contains(expected.c_str()), std::runtime_error);
}

TEST_CASE("metadata_store: JSON of the wrong shape is corrupt, not an empty image") {
    test::temp_dir dir;
    {
        std::ofstream bad(dir.path() / metadata_file_name);
        bad << "{\"format\": 1, \"cluster_id\": 7}";
    }
    metadata_store store(dir.path());
    CHECK_THROWS_WITH_AS((void)store.load(), doctest::Contains("corrupt metadata file"), std::runtime_error);
}

TEST_CASE("metadata_service: a manual assignment is checked in Kafka's order and words") {
    test::temp_dir dir;
    metadata_store store(dir.path());
    const auto cfg = test::test_config(dir.path());
    metadata_only_storage logs;
    metadata_service md(cfg, store, logs, metadata_service::open_image(cfg, store));
    const std::vector<new_topic> topics{
        {"twice", -1, -1, {{partition_id(0), {node_id(1)}}, {partition_id(0), {node_id(1)}}}, {}},
        {"uneven", -1, -1, {{partition_id(0), {node_id(1)}}, {partition_id(1), {node_id(1), node_id(1)}}}, {}},
        {"gap", -1, -1, {{partition_id(0), {node_id(1)}}, {partition_id(2), {node_id(1)}}}, {}},
        {"shuffled", -1, -1, {{partition_id(1), {node_id(1)}}, {partition_id(0), {node_id(1)}}}, {}},
    };
    const auto out = md.create_topics(topics, true);
    REQUIRE(out.size() == 4);
    CHECK(out[0].message == "Found multiple manual partition assignments for partition 0");
    // The list is checked before its count: the repeated broker is what Kafka reports.
    CHECK(out[1].message == "The manual partition assignment includes the broker 1 more than once.");
    CHECK(out[2].message == "partitions should be a consecutive 0-based integer sequence");
    CHECK(out[3].error == error_code::none);
    CHECK(out[3].topic.partitions == 2);
}

TEST_CASE("metadata_service: a data directory of another node is refused") {
    test::temp_dir dir;
    metadata_store store(dir.path());
    const auto cfg = test::test_config(dir.path());
    metadata_only_storage logs;
    metadata_service md(cfg, store, logs, metadata_service::open_image(cfg, store));
    REQUIRE_FALSE(md.ensure_persisted().has_value());
    CHECK_THROWS_WITH_AS((void)metadata_service::open_image(test::test_config(dir.path(), {{"node.id", "2"}}), store),
                         doctest::Contains("belongs to node 1"), std::runtime_error);
}

TEST_CASE("metadata_service: a failed persist rolls the change back") {
    test::temp_dir dir;
    const auto cfg = test::test_config(dir.path());
    metadata_store good(dir.path());
    metadata_store broken(dir.path() / "missing" / "dir");
    metadata_only_storage logs;
    metadata_service md(cfg, broken, logs, metadata_service::open_image(cfg, good));
    const new_topic t{"lost", 1, 1, {}, {}};
    const auto out = md.create_topics(std::span(&t, 1), false);
    CHECK(out[0].error == error_code::unknown_server_error);
    CHECK(md.topics().find("lost") == nullptr);
    CHECK(md.epoch() == 0);
}

TEST_CASE("metadata_service: a storage failure fails that topic only") {
    test::temp_dir dir;
    const auto cfg = test::test_config(dir.path());
    metadata_store store(dir.path());
    failing_storage logs;
    metadata_service md(cfg, store, logs, metadata_service::open_image(cfg, store));
    const new_topic t{"no-disk", 1, 1, {}, {}};
    const auto out = md.create_topics(std::span(&t, 1), false);
    CHECK(out[0].error == error_code::unknown_server_error);
    CHECK(out[0].message->find("disk full") != std::string::npos);
    CHECK(md.topics().size() == 0);
}

TEST_CASE("topic_name: Kafka's rules") {
    CHECK_FALSE(topic_name_problem("orders.v2_eu-1").has_value());
    CHECK(topic_name_problem("").has_value());
    CHECK(topic_name_problem(".").has_value());
    CHECK(topic_name_problem("..").has_value());
    CHECK(topic_name_problem("a b").has_value());
    CHECK(topic_name_problem(std::string(249, 'x')) == std::nullopt);
    CHECK(topic_name_problem(std::string(250, 'x')).has_value());
}
