// Tests broker/metadata_service.cpp, broker/metadata_store.cpp and broker/topic_table.cpp:
// persistence across restarts, atomic replacement, corruption and rollback, Kafka's bound on the
// partitions of one request, and creations whose logs fail part way (with log_storage).
#include "broker/metadata_service.h"
#include "broker/metadata_store.h"
#include "broker/topic_name.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "tests/broker/broker_test_util.h"
#include "tests/broker/data_path_fixture.h"
#include "tests/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
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
    std::optional<std::string> delete_partitions(const topic_info&, int32_t) override { return std::nullopt; }
    std::optional<std::string> close() override { return std::nullopt; }
};

std::vector<error_code> errors_of(const std::vector<create_outcome>& out) {
    std::vector<error_code> e;
    for (const auto& o : out) e.push_back(o.error);
    return e;
}

// The entries of `dir` whose names start with `prefix` (partition directories, live or being deleted).
std::vector<std::string> entries_starting(const std::filesystem::path& dir, const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path().filename().string());
    return out;
}

// How many of this process's descriptors are open on partition `first`..`last` of `topic` in
// `dir`: their directories or the files in them, also once renamed "*-delete" or unlinked.
// Background threads open and close other descriptors at any time, so counting these is what
// tells a leak.
size_t fds_on(const std::filesystem::path& dir, const std::string& topic, int first, int last) {
    size_t n = 0;
    for (const int fd : samsa::storage::test::open_fds()) {
        std::error_code ec;
        const auto target = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
        if (ec) continue;
        for (int p = first; p <= last; ++p) {
            const std::string partition_dir = (dir / (topic + "-" + std::to_string(p))).string();
            const auto& t = target.string();
            if (t == partition_dir || t.starts_with(partition_dir + "/") || t.starts_with(partition_dir + ".")) ++n;
        }
    }
    return n;
}

// Waits up to two seconds for `done` (the deleter and flusher threads finish on their own), where
// there is no data_path_fixture to pump.
template <typename Pred>
bool eventually(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

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

TEST_CASE("metadata_service: more than 10 000 partitions in one request is refused whole, counted as Kafka counts") {
    test::temp_dir dir;
    const auto cfg = test::test_config(dir.path(), {{"num.partitions", "4000"}});
    metadata_store store(dir.path());
    metadata_only_storage logs;
    metadata_service md(cfg, store, logs, metadata_service::open_image(cfg, store));
    const auto refused = std::vector<error_code>(3, error_code::policy_violation);
    const std::vector<std::pair<partition_id, std::vector<node_id>>> two_assigned{{partition_id(0), {node_id(1)}},
                                                                                            {partition_id(1), {node_id(1)}}};

    // -1 counts num.partitions; an invalid name still counts (the bound comes first); an
    // assignment counts its length; validate_only is refused the same.
    const std::vector<new_topic> defaults{{"a", -1, 1, {}, {}}, {"b", -1, 1, {}, {}}, {"c", 2001, 1, {}, {}}};
    const std::vector<new_topic> bad_name{{"bad name!", 10000, 1, {}, {}}, {"d", 1, 1, {}, {}}, {"e", 0, 1, {}, {}}};
    const std::vector<new_topic> assigned{{"f", 9999, 1, {}, {}}, {"g", -1, -1, two_assigned, {}}, {"h", -5, 1, {}, {}}};
    for (const auto* req : {&defaults, &bad_name, &assigned}) {
        for (const bool validate_only : {false, true}) {
            const auto out = md.create_topics(*req, validate_only);
            CHECK(errors_of(out) == refused);
            for (size_t i = 0; i < out.size(); ++i) {
                CHECK(out[i].message == "Excessively large number of partitions per request.");
                CHECK(out[i].topic.name == (*req)[i].name);
            }
        }
    }
    CHECK(md.topics().size() == 0);
    CHECK(md.epoch() == 0);

    // A duplicated name is not counted (each copy fails on its own), so this fits: 4000 + 6000.
    const std::vector<new_topic> duplicated{{"dup", 9000, 1, {}, {}}, {"dup", 9000, 1, {}, {}}, {"i", -1, 1, {}, {}},
                                            {"j", 6000, 1, {}, {}}};
    CHECK(errors_of(md.create_topics(duplicated, false)) ==
          std::vector<error_code>{error_code::invalid_request, error_code::invalid_request, error_code::none, error_code::none});
    CHECK(md.topics().size() == 2);
}

TEST_CASE("metadata_service: a topic whose logs run out of descriptors part way leaves nothing behind") {
    test::data_path_fixture f;
    const int64_t epoch = f.metadata().epoch();
    samsa::protocol::create_topics_request req;
    req.topics.push_back({"starved", 60, 1, {}, {}});
    samsa::protocol::create_topics_response failed;
    {
        // Room for a few partition logs (each keeps a few files open), not for sixty.
        samsa::storage::test::fd_limit limit(40);
        failed = f.call(req, 7);
    }
    REQUIRE(failed.topics.size() == 1);
    CHECK(failed.topics[0].error_code == to_int(error_code::unknown_server_error));
    REQUIRE(failed.topics[0].error_message.has_value());
    CHECK(failed.topics[0].error_message->find("cannot create the log of starved-") != std::string::npos);
    CHECK(failed.topics[0].error_message->find("Too many open files") != std::string::npos);

    CHECK(f.metadata().topics().find("starved") == nullptr);
    CHECK(f.metadata().epoch() == epoch);
    for (const auto& tp : f.logs().partitions()) CHECK(tp.topic != "starved");
    // The directories are renamed away at once and removed on the deleter thread.
    CHECK(f.pump_until([&] { return entries_starting(f.dir(), "starved").empty(); }));
    CHECK(f.pump_until([&] { return fds_on(f.dir(), "starved", 0, 59) == 0; }));

    // With descriptors back, the same creation works and makes every log.
    const auto again = f.call(req, 7);
    CHECK(again.topics[0].error_code == 0);
    CHECK(f.metadata().topics().find("starved")->partitions == 60);
    CHECK(entries_starting(f.dir(), "starved-").size() == 60);
    CHECK(f.log("starved", 59) != nullptr);
}

TEST_CASE("metadata_service: a growth whose logs run out of descriptors part way leaves the topic as it was") {
    test::data_path_fixture f;
    f.create_topic("grows", 2);

    samsa::protocol::create_partitions_request req;
    req.topics.push_back({"grows", 60, std::nullopt});
    samsa::protocol::create_partitions_response failed;
    {
        samsa::storage::test::fd_limit limit(40);
        failed = f.call(req, 3);
    }
    REQUIRE(failed.results.size() == 1);
    CHECK(failed.results[0].error_code == to_int(error_code::unknown_server_error));
    REQUIRE(failed.results[0].error_message.has_value());
    CHECK(failed.results[0].error_message->find("Too many open files") != std::string::npos);

    CHECK(f.metadata().topics().find("grows")->partitions == 2);
    CHECK(f.log("grows", 0) != nullptr);
    CHECK(f.log("grows", 1) != nullptr);
    CHECK(f.log("grows", 2) == nullptr);
    CHECK(f.logs().size() == 2);
    CHECK(f.pump_until([&] { return entries_starting(f.dir(), "grows").size() == 2; }));
    CHECK(f.pump_until([&] { return fds_on(f.dir(), "grows", 2, 59) == 0; }));

    const auto again = f.call(req, 3);
    CHECK(again.results[0].error_code == 0);
    CHECK(f.metadata().topics().find("grows")->partitions == 60);
    CHECK(entries_starting(f.dir(), "grows-").size() == 60);
}

TEST_CASE("metadata_service: a growth that cannot be persisted removes the new logs again") {
    test::temp_dir dir;
    const auto cfg = test::test_config(dir.path());
    metadata_store good(dir.path());
    metadata_store broken(dir.path() / "missing" / "dir");
    test::manual_loop loop;
    log_storage storage(cfg, loop);
    metadata_service md(cfg, good, storage, metadata_service::open_image(cfg, good));
    storage.open(md.topics());
    const new_topic t{"grows", 1, 1, {}, {}};
    REQUIRE(md.create_topics(std::span(&t, 1), false)[0].error == error_code::none);

    // The same node's metadata over a store that cannot be written.
    metadata_service unwritable(cfg, broken, storage, metadata_service::open_image(cfg, good));
    const auto err = unwritable.add_partitions("grows", 4);
    REQUIRE(err.has_value());
    CHECK(err->find("Could not persist the metadata") != std::string::npos);
    CHECK(unwritable.topics().find("grows")->partitions == 1);
    CHECK(storage.manager().size() == 1);
    CHECK(storage.manager().get({"grows", partition_id(0)}) != nullptr);
    CHECK(eventually([&] { return entries_starting(dir.path(), "grows").size() == 1; }));
    REQUIRE_FALSE(storage.close().has_value());
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
