// Every message at every version survives encode -> decode with every field set to a
// non-default value, and size() predicts the encoded length exactly.
#include "protocol/messages/api_table.h"
#include "protocol/messages/samples.h"

#include <doctest/doctest.h>

#include <string>

using namespace samsa::protocol;

TEST_CASE("round trip: every message at every version") {
    size_t checked = 0;
    for (const auto& c : samples::all_cases()) {
        for (int16_t v = c.min_version; v <= c.max_version; ++v) {
            auto r = c.run(v);
            INFO(std::string(c.name) << " v" << v << " status=" << to_string(r.status));
            CHECK(r.size_matches);
            CHECK(r.consumed_all);
            CHECK(r.equal);
            ++checked;
        }
    }
    CHECK(checked > 0);
}

TEST_CASE("round trip: every API in the table has request and response samples over its whole range") {
    for (const auto& api : all_apis()) {
        for (std::string suffix : {"Request", "Response"}) {
            std::string name = std::string(api.name) + suffix;
            bool found = false;
            for (const auto& c : samples::all_cases()) {
                if (c.name != name) continue;
                found = true;
                CHECK(c.min_version == api.min_version);
                CHECK(c.max_version == api.max_version);
            }
            INFO(name);
            CHECK(found);
        }
    }
}
