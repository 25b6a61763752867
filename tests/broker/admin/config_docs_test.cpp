// Tests broker/admin/config_docs.cpp: the committed docs/configuration.md is exactly what the
// key tables generate, so the page cannot drift from the code. Regenerate it with
//   samsa --print-config-docs > docs/configuration.md
#include "broker/admin/config_docs.h"
#include "broker/config.h"
#include "broker/topic_config.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace samsa::broker;

TEST_CASE("config_docs: the committed configuration page is the generated one") {
    std::ifstream in(SAMSA_CONFIG_DOC);
    REQUIRE_MESSAGE(in.good(), "cannot read " SAMSA_CONFIG_DOC);
    std::ostringstream committed;
    committed << in.rdbuf();
    const std::string generated = configuration_reference();
    CHECK_MESSAGE(committed.str() == generated,
                  "docs/configuration.md differs from the key tables: run `samsa --print-config-docs > docs/configuration.md`");
}

TEST_CASE("config_docs: every broker and topic key has a row") {
    const std::string page = configuration_reference();
    for (const auto& k : config_keys()) CHECK_MESSAGE(page.find("| `" + std::string(k.name) + "` |") != std::string::npos, k.name);
    for (const auto& k : topic_config_keys()) {
        CHECK_MESSAGE(page.find("| `" + std::string(k.name) + "` |") != std::string::npos, k.name);
        CHECK_MESSAGE(!k.doc.empty(), k.name);
    }
}
