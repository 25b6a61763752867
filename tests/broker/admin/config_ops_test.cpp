// Tests broker/admin/config_ops.cpp: IncrementalAlterConfigs' SET, DELETE, APPEND, SUBTRACT.
#include "broker/admin/config_ops.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using samsa::protocol::error_code;

namespace {

std::optional<list_key_info> info(std::string_view name) {
    if (name == "cleanup.policy") return list_key_info{true, "delete"};
    if (name == "retention.ms") return list_key_info{false, "604800000"};
    return std::nullopt;
}

config_change op(std::string name, config_op o, std::optional<std::string> value) {
    return {std::move(name), static_cast<int8_t>(o), std::move(value)};
}

} // namespace

TEST_CASE("config_ops: SET and DELETE change only the keys named") {
    const config_map current{{"retention.ms", "1000"}, {"segment.bytes", "2048"}};
    const std::vector<config_change> ops{op("retention.ms", config_op::remove, std::nullopt),
                                         op("max.message.bytes", config_op::set, "5000")};
    const auto r = apply_config_ops(current, ops, info);
    REQUIRE(r.error == error_code::none);
    CHECK(r.values == config_map{{"max.message.bytes", "5000"}, {"segment.bytes", "2048"}});
}

TEST_CASE("config_ops: APPEND starts from the default and skips values already there, SUBTRACT removes") {
    const std::vector<config_change> append{op("cleanup.policy", config_op::append, "compact,delete")};
    auto r = apply_config_ops({}, append, info);
    REQUIRE(r.error == error_code::none);
    CHECK(r.values.at("cleanup.policy") == "delete,compact");
    const std::vector<config_change> subtract{op("cleanup.policy", config_op::subtract, "delete")};
    r = apply_config_ops(r.values, subtract, info);
    REQUIRE(r.error == error_code::none);
    CHECK(r.values.at("cleanup.policy") == "compact");
}

TEST_CASE("config_ops: APPEND to a key that is not a LIST is INVALID_CONFIG") {
    const std::vector<config_change> ops{op("retention.ms", config_op::append, "5")};
    const auto r = apply_config_ops({}, ops, info);
    CHECK(r.error == error_code::invalid_config);
    CHECK(r.message == "Can't APPEND to key retention.ms because its type is not LIST.");
}

TEST_CASE("config_ops: duplicate keys, null values and unknown operations are INVALID_REQUEST") {
    const std::vector<config_change> dup{op("a", config_op::set, "1"), op("a", config_op::remove, std::nullopt)};
    CHECK(apply_config_ops({}, dup, info).error == error_code::invalid_request);
    const std::vector<config_change> null_set{op("retention.ms", config_op::set, std::nullopt)};
    const auto r = apply_config_ops({}, null_set, info);
    CHECK(r.error == error_code::invalid_request);
    CHECK(r.message == "Null value not supported for : SET:retention.ms");
    const std::vector<config_change> unknown{{"retention.ms", 9, "1"}};
    CHECK(apply_config_ops({}, unknown, info).error == error_code::invalid_request);
}
