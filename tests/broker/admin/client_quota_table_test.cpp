// Tests broker/admin/client_quota_table.cpp: validation, Describe filters and Kafka's
// precedence of user and client-id quotas.
#include "broker/admin/client_quota_table.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using samsa::protocol::error_code;

namespace {

using name = std::optional<std::string>;

quota_alteration set(std::vector<std::pair<std::string, name>> entity, std::string key, double value) {
    quota_alteration a;
    for (const auto& [t, n] : entity) a.entity[t] = n;
    a.entity_as_sent = std::move(entity);
    a.ops = {{std::move(key), value, false}};
    return a;
}

} // namespace

TEST_CASE("client_quota_table: the most specific entity wins, in Kafka's order") {
    client_quota_table t;
    t.apply(set({{"client-id", std::nullopt}}, "producer_byte_rate", 8));
    CHECK(t.resolve("producer_byte_rate", "ANONYMOUS", "app")->bound == 8);
    t.apply(set({{"client-id", std::string("app")}}, "producer_byte_rate", 7));
    CHECK(t.resolve("producer_byte_rate", "ANONYMOUS", "app")->bound == 7);
    t.apply(set({{"user", std::nullopt}}, "producer_byte_rate", 6));
    CHECK(t.resolve("producer_byte_rate", "ANONYMOUS", "app")->bound == 6);
    t.apply(set({{"user", std::string("ANONYMOUS")}}, "producer_byte_rate", 3));
    const auto user_level = t.resolve("producer_byte_rate", "ANONYMOUS", "app");
    CHECK(user_level->bound == 3);
    CHECK(user_level->bucket_client_id.empty());  // shared by all the user's clients
    t.apply(set({{"user", std::string("ANONYMOUS")}, {"client-id", std::string("app")}}, "producer_byte_rate", 1));
    const auto exact = t.resolve("producer_byte_rate", "ANONYMOUS", "app");
    CHECK(exact->bound == 1);
    CHECK(exact->bucket_client_id == "app");
    CHECK_FALSE(t.resolve("consumer_byte_rate", "ANONYMOUS", "app").has_value());
    CHECK(t.resolve("producer_byte_rate", "ANONYMOUS", "other")->bound == 3);
}

TEST_CASE("client_quota_table: bad entities, keys and values are INVALID_REQUEST") {
    CHECK(client_quota_table::check(set({}, "producer_byte_rate", 1)).error == error_code::invalid_request);
    CHECK(client_quota_table::check(set({{"group", std::string("g")}}, "producer_byte_rate", 1)).error == error_code::invalid_request);
    CHECK(client_quota_table::check(set({{"client-id", std::string("a")}}, "bytes", 1)).error == error_code::invalid_request);
    CHECK(client_quota_table::check(set({{"client-id", std::string("a")}}, "producer_byte_rate", -1)).error ==
          error_code::invalid_request);
    CHECK(client_quota_table::check(set({{"ip", std::string("1.2.3.4")}, {"user", std::string("u")}}, "connection_creation_rate", 1))
              .error == error_code::invalid_request);
    CHECK(client_quota_table::check(set({{"ip", std::string("not-an-ip")}}, "connection_creation_rate", 1)).error ==
          error_code::invalid_request);
    CHECK(client_quota_table::check(set({{"user", std::string("u")}}, "request_percentage", 12.5)).error == error_code::none);
}

TEST_CASE("client_quota_table: removing the last value removes the entity") {
    client_quota_table t;
    auto a = set({{"user", std::string("u")}}, "producer_byte_rate", 5);
    t.apply(a);
    a.ops[0].remove = true;
    t.apply(a);
    CHECK(t.all().empty());
}

TEST_CASE("client_quota_table: describe filters by exact name, default and any name, strictly or not") {
    client_quota_table t;
    t.apply(set({{"user", std::string("u")}}, "producer_byte_rate", 1));
    t.apply(set({{"user", std::string("u")}, {"client-id", std::string("c")}}, "producer_byte_rate", 2));
    t.apply(set({{"user", std::nullopt}}, "producer_byte_rate", 3));
    quota_error e;
    const std::vector<quota_filter_component> exact_u{{"user", 0, std::string("u")}};
    CHECK(t.describe(exact_u, false, e).size() == 2);
    CHECK(t.describe(exact_u, true, e).size() == 1);
    const std::vector<quota_filter_component> default_user{{"user", 1, std::nullopt}};
    CHECK(t.describe(default_user, false, e).size() == 1);
    const std::vector<quota_filter_component> any_user{{"user", 2, std::nullopt}};
    CHECK(t.describe(any_user, false, e).size() == 2);
    CHECK(t.describe({}, false, e).size() == 3);
    CHECK(e.error == error_code::none);
    const std::vector<quota_filter_component> twice{{"user", 2, std::nullopt}, {"user", 1, std::nullopt}};
    (void)t.describe(twice, false, e);
    CHECK(e.error == error_code::invalid_request);
    const std::vector<quota_filter_component> unknown{{"group", 2, std::nullopt}};
    quota_error e2;
    (void)t.describe(unknown, false, e2);
    CHECK(e2.error == error_code::unsupported_version);
}
