// The `samsa` executable: parses the command line and the configuration, starts a node and
// serves until SIGTERM or SIGINT. Start-up errors (bad configuration, unusable data directory,
// a port in use) are reported on stderr with a non-zero exit status.
#include "broker/admin/config_docs.h"
#include "broker/command_line.h"
#include "broker/config.h"
#include "broker/logger.h"
#include "broker/node.h"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#ifndef SAMSA_VERSION
#define SAMSA_VERSION "unknown"
#endif

namespace {

samsa::broker::log_level level_from(const std::string& s) {
    using samsa::broker::log_level;
    if (s == "debug") return log_level::debug;
    if (s == "warn") return log_level::warn;
    if (s == "error") return log_level::error;
    return log_level::info;
}

} // namespace

int main(int argc, char** argv) {
    using namespace samsa::broker;
    try {
        const auto cli = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
        if (cli.help) {
            std::fputs(usage_text().c_str(), stdout);
            return 0;
        }
        if (cli.print_config_docs) {
            std::fputs(configuration_reference().c_str(), stdout);
            return 0;
        }
        if (cli.version) {
            std::printf("samsa %s\n", SAMSA_VERSION);
            return 0;
        }
        auto cfg = load_config(cli.config_file, cli.overrides, [](std::string_view key) {
            log_warn("unknown configuration key '", key, "' is ignored");
        });
        set_log_level(level_from(cfg.log_level));
        log_info("samsa ", SAMSA_VERSION, " starting, node ", cfg.node_id);
        node n(std::move(cfg));
        n.handle_signals();
        const bool clean = n.run();
        log_info(clean ? "stopped" : "stopped, but not cleanly (see above)");
        return clean ? 0 : 1;
    } catch (const usage_error& e) {
        std::fprintf(stderr, "samsa: %s\n\n%s", e.what(), usage_text().c_str());
        return 2;
    } catch (const std::exception& e) {
        log_error("cannot start: ", e.what());
        return 1;
    }
}
