// samsa: the broker's entry point. Until the server lands it only reports what it can decode.
#include "protocol/messages/api_table.h"

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
        std::printf("samsa 0.1.0\n");
        return 0;
    }
    std::fprintf(stderr,
                 "samsa: the network server is not built yet; this build decodes %zu Kafka APIs.\n",
                 samsa::protocol::all_apis().size());
    return 1;
}
