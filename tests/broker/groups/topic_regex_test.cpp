// Subscription patterns as Kafka's coordinator reads them (RE2 syntax, whole-name matches), and
// what a hostile pattern may cost the broker: an error, never a crash or a stalled loop.
#include "broker/groups/topic_regex.h"

#include <doctest/doctest.h>

#include <string>

namespace samsa::broker::test {

TEST_CASE("topic_regex: matches whole topic names only") {
    const auto re = topic_regex::compile("orders.*");
    REQUIRE(re.ok());
    CHECK(re.matches("orders"));
    CHECK(re.matches("orders-eu"));
    CHECK_FALSE(re.matches("old-orders"));
    const auto exact = topic_regex::compile("orders");
    CHECK_FALSE(exact.matches("orders-eu"));
    CHECK(exact.matches("orders"));
}

TEST_CASE("topic_regex: takes the RE2 syntax Kafka takes, inline flags included") {
    const auto re = topic_regex::compile("(?i)ORDERS-(eu|us)");
    REQUIRE(re.ok());
    CHECK(re.matches("orders-eu"));
    CHECK(re.matches("Orders-US"));
    CHECK_FALSE(re.matches("orders-asia"));
    CHECK(topic_regex::compile(R"(metrics\.\d+)").matches("metrics.42"));
}

TEST_CASE("topic_regex: a pattern that does not compile says why and matches nothing") {
    for (const char* bad : {"(", "orders[", "*", "a{2,1}", "(?<=x)y", R"(\1)"}) {
        CAPTURE(bad);
        const auto re = topic_regex::compile(bad);
        CHECK_FALSE(re.ok());
        CHECK_FALSE(re.error().empty());
        CHECK_FALSE(re.matches("orders"));
    }
}

TEST_CASE("topic_regex: deep nesting compiles without recursion; a large program is refused") {
    // 100 000 nested groups overflowed the stack of a recursive compiler and killed the broker;
    // 10 000 compile, and 100 000 make a program over the budget.
    const auto nested = topic_regex::compile(std::string(10000, '(') + std::string(10000, ')'));
    CHECK(nested.ok());
    CHECK(nested.matches(""));
    CHECK_FALSE(nested.matches("orders"));
    CHECK_FALSE(topic_regex::compile(std::string(100000, '(') + std::string(100000, ')')).ok());
    // Repetition counts multiply: RE2's parser refuses the product.
    CHECK_FALSE(topic_regex::compile("((((a{1000}){1000}){1000}){1000})").ok());
    // The program budget: a pattern of some kilobytes compiles, one of 64 KiB does not.
    CHECK(topic_regex::compile(std::string(8 << 10, 'x')).ok());
    const auto huge = topic_regex::compile(std::string(64 << 10, 'x'));
    CHECK_FALSE(huge.ok());
    CHECK(huge.error().find("too large") != std::string::npos);
}

TEST_CASE("topic_regex: a pattern that makes a backtracking matcher exponential matches at once") {
    // A backtracking matcher tries 2^n ways to split the a's before giving up on the missing b;
    // n = 40 would hold the event loop for days.
    const auto re = topic_regex::compile("(a*)*b");
    REQUIRE(re.ok());
    CHECK_FALSE(re.matches(std::string(249, 'a')));  // the longest topic name Kafka allows
    CHECK(re.matches(std::string(248, 'a') + "b"));
}

} // namespace samsa::broker::test
