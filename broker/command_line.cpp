#include "broker/command_line.h"

namespace samsa::broker {

command_line parse_command_line(const std::vector<std::string>& args) {
    command_line out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const std::string& option) -> std::string {
            if (i + 1 >= args.size()) throw usage_error(option + " needs a value");
            return args[++i];
        };
        if (a == "--help" || a == "-h") {
            out.help = true;
        } else if (a == "--version") {
            out.version = true;
        } else if (a == "--print-config-docs") {
            out.print_config_docs = true;
        } else if (a == "--config" || a == "-c") {
            if (out.config_file) throw usage_error("--config given twice");
            out.config_file = value(a);
        } else if (a.rfind("--config=", 0) == 0) {
            if (out.config_file) throw usage_error("--config given twice");
            out.config_file = a.substr(9);
        } else if (a == "--override" || a == "-o") {
            out.overrides.push_back(value(a));
        } else if (a.rfind("--override=", 0) == 0) {
            out.overrides.push_back(a.substr(11));
        } else {
            throw usage_error("unknown argument '" + a + "'");
        }
    }
    return out;
}

std::string usage_text() {
    return "Usage: samsa [--config FILE] [--override key=value ...]\n"
           "\n"
           "A Kafka-compatible message broker. Without arguments it listens on localhost:9092\n"
           "and keeps its data in ./samsa-data.\n"
           "\n"
           "  -c, --config FILE          read settings from FILE (Kafka's server.properties format)\n"
           "  -o, --override key=value   set one setting, after the file; may be repeated\n"
           "  -h, --help                 show this help\n"
           "      --version              show the version\n"
           "      --print-config-docs    print the configuration reference (Markdown)\n";
}

} // namespace samsa::broker
