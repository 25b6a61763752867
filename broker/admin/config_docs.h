// The configuration reference page, docs/configuration.md, generated from the one table of
// broker keys (broker/config.cpp) and the one table of topic keys (broker/topic_config.cpp), so
// the page cannot drift from the code: `samsa --print-config-docs` prints it, and a test fails
// when the committed page differs. Pure function, any thread.
#pragma once

#include <string>

namespace samsa::broker {

[[nodiscard]] std::string configuration_reference();

} // namespace samsa::broker
