// librdkafka set-up shared by samsa_bench's workloads: a configuration built from key/value
// lists (the workload's own settings, then the user's --client ones, which win), and a consumer
// assigned every partition of a topic from the beginning. Called on the benchmark's main thread;
// the caller owns what these return (rd_kafka_new takes the configuration).
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace samsa::bench {

using settings = std::vector<std::pair<std::string, std::string>>;

// Throws with the key and librdkafka's message when a setting is refused.
inline rd_kafka_conf_t* conf_of(const settings& kv, const settings& extra) {
    rd_kafka_conf_t* c = rd_kafka_conf_new();
    char err[512];
    for (const auto* list : {&kv, &extra})
        for (const auto& [k, v] : *list)
            if (rd_kafka_conf_set(c, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(c);
                throw std::runtime_error(k + ": " + err);
            }
    return c;
}

// Partitions 0..partitions-1 of `topic`, each from its first offset.
inline void assign_from_beginning(rd_kafka_t* rk, const std::string& topic, int32_t partitions) {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
    for (int32_t p = 0; p < partitions; ++p)
        rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    (void)rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

} // namespace samsa::bench
