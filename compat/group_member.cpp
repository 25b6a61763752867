// One librdkafka consumer group member in its own process, for the compatibility test that
// kills a member with SIGKILL: joins `group`, consumes `topic` and writes its assignment (one
// partition number per line) to `status_file` after every rebalance, until it is killed.
// Usage: group_member BOOTSTRAP GROUP TOPIC STATUS_FILE
#include "compat/rdkafka_group_consumer.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: group_member BOOTSTRAP GROUP TOPIC STATUS_FILE\n");
        return 2;
    }
    samsa::compat::group_consumer c({{"bootstrap.servers", argv[1]}, {"group.id", argv[2]}, {"session.timeout.ms", "6000"},
                                     {"heartbeat.interval.ms", "500"}, {"auto.offset.reset", "earliest"}},
                                    argv[3]);
    std::set<int32_t> last{-1};
    for (;;) {
        const auto now = c.assignment();
        if (now != last) {
            std::ofstream out(std::string(argv[4]) + ".tmp");
            for (const int32_t p : now) out << p << "\n";
            out.close();
            std::rename((std::string(argv[4]) + ".tmp").c_str(), argv[4]);
            last = now;
        }
        if (!c.failure().empty()) {
            std::fprintf(stderr, "%s\n", c.failure().c_str());
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}
