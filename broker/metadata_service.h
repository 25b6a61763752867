// The single node's cluster metadata as a service: identity (cluster id, node id), the topic
// table, and the operations that change it (create and delete topics) with Kafka's validation
// and error codes. Every change is persisted through the metadata_store before it is visible
// and creates or deletes partition logs through partition_storage. Owned by the node; handlers
// reach it through request_context::metadata(). Event loop thread only.
#pragma once

#include "broker/config.h"
#include "broker/metadata_store.h"
#include "broker/partition_storage.h"
#include "broker/topic_table.h"
#include "protocol/errors.h"
#include "protocol/kafka_ids.h"

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace samsa::broker {

// One topic of a CreateTopics request (or an auto-creation), as the client asked for it.
struct new_topic {
    std::string name;
    int32_t num_partitions = -1;     // -1: num.partitions, or the assignment count
    int16_t replication_factor = -1; // -1: default.replication.factor, or the assignment size
    std::vector<std::pair<protocol::partition_id, std::vector<protocol::node_id>>> assignments;  // partition -> brokers
    std::vector<std::pair<std::string, std::optional<std::string>>> configs;
};

struct create_outcome {
    protocol::error_code error = protocol::error_code::none;
    std::optional<std::string> message;  // null when there is no error
    topic_info topic;                    // the topic as created (or as it would be, validate_only)
};

// One topic of a DeleteTopics request: a name, or (v6+) a topic id with a null name.
struct delete_target {
    std::optional<std::string> name;
    protocol::uuid id;
};

struct delete_outcome {
    protocol::error_code error = protocol::error_code::none;
    std::optional<std::string> message;
    std::optional<std::string> name;  // known name (null for an unknown id)
    protocol::uuid id;                // known id (zero for an unknown name)
};

class metadata_service {
public:
    // `image` is what the store loaded or a fresh one; `store` and `logs` outlive the service.
    metadata_service(const broker_config& cfg, metadata_store& store, partition_storage& logs, metadata_image image);

    // Loads the image from `store`, or makes a fresh one with a new cluster id. A fresh image
    // is written with the first change (or at shutdown, see ensure_persisted): until then there
    // is nothing a new cluster id could be inconsistent with, and start-up saves two fsyncs.
    // Throws at start-up when the stored node id is not `cfg.node_id` or the file is corrupt.
    [[nodiscard]] static metadata_image open_image(const broker_config& cfg, metadata_store& store);

    [[nodiscard]] protocol::node_id node_id() const noexcept { return node_id_; }
    [[nodiscard]] const std::string& cluster_id() const noexcept { return cluster_id_; }
    [[nodiscard]] int64_t epoch() const noexcept { return epoch_; }
    [[nodiscard]] const topic_table& topics() const noexcept { return topics_; }
    [[nodiscard]] const broker_config& config() const noexcept { return cfg_; }

    // Writes the image if it has never been written (a fresh data directory). Shutdown.
    [[nodiscard]] std::optional<std::string> ensure_persisted();

    // Validates each topic, creates the valid ones (unless `validate_only`) and persists once.
    // One outcome per request entry, in order. A request for more than max_partitions_per_request
    // partitions in all creates nothing: every entry fails with POLICY_VIOLATION.
    [[nodiscard]] std::vector<create_outcome> create_topics(std::span<const new_topic> topics, bool validate_only);

    // Deletes each target and persists once. One outcome per target, in order.
    [[nodiscard]] std::vector<delete_outcome> delete_topics(std::span<const delete_target> targets);

    // Replaces the config overrides of an existing topic (already validated), persists, then
    // hands the topic's new settings to its partition logs. Returns why it failed (nothing
    // changed then), or nullopt.
    [[nodiscard]] std::optional<std::string> set_topic_configs(std::string_view name, topic_configs configs);
    // The same for several topics (each existing, named once) with one save: all of them change
    // or, when the save fails, none does.
    [[nodiscard]] std::optional<std::string> set_topic_configs(std::span<std::pair<std::string, topic_configs>> changes);

    // Grows an existing topic to `partitions` (more than it has; validated by the caller):
    // creates the new partition logs, then persists. Returns why it failed (none of the new
    // logs is left then), or nullopt.
    [[nodiscard]] std::optional<std::string> add_partitions(std::string_view name, int32_t partitions);

private:
    [[nodiscard]] create_outcome validate(const new_topic& t) const;
    [[nodiscard]] protocol::uuid fresh_topic_id() const;
    [[nodiscard]] metadata_image image() const;
    // Saves the image under the next epoch: the store's error (the epoch unchanged), or nothing.
    [[nodiscard]] std::optional<std::string> persist_change();
    // Puts each of `after` in place of the `before` of the same name and persists them with one
    // save; on failure every `before` is back.
    [[nodiscard]] std::optional<std::string> replace_topics(std::span<const topic_info> before,
                                                            std::span<const topic_info> after);

    const broker_config& cfg_;
    metadata_store& store_;
    partition_storage& logs_;
    protocol::node_id node_id_;
    std::string cluster_id_;
    int64_t epoch_;
    bool persisted_;
    topic_table topics_;
};

// A random id that is neither zero nor Kafka's reserved metadata-topic id.
[[nodiscard]] protocol::uuid random_uuid();

} // namespace samsa::broker
