#include "broker/internal_topic_partition.h"

#include <climits>

namespace samsa::broker {

int32_t java_string_hash(std::string_view s) noexcept {
    uint32_t h = 0;
    auto unit = [&h](uint32_t u) { h = 31 * h + u; };
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        auto cont = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k]) & 0x3fu); };
        uint32_t cp = c;
        size_t n = 1;
        if (c >= 0xf0 && i + 3 < s.size()) {
            cp = ((c & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
            n = 4;
        } else if (c >= 0xe0 && i + 2 < s.size()) {
            cp = ((c & 0x0fu) << 12) | (cont(1) << 6) | cont(2);
            n = 3;
        } else if (c >= 0xc0 && i + 1 < s.size()) {
            cp = ((c & 0x1fu) << 6) | cont(1);
            n = 2;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            unit(0xd800 + (cp >> 10));
            unit(0xdc00 + (cp & 0x3ff));
        } else {
            unit(cp);
        }
        i += n;
    }
    return static_cast<int32_t>(h);
}

int32_t internal_topic_partition(std::string_view key, int32_t partitions) noexcept {
    const int32_t h = java_string_hash(key);
    const int32_t abs = h == INT32_MIN ? 0 : (h < 0 ? -h : h);  // Kafka's Utils.abs
    return abs % partitions;
}

} // namespace samsa::broker
