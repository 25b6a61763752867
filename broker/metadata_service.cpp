#include "broker/metadata_service.h"

#include "broker/logger.h"
#include "broker/replica_assignment.h"
#include "broker/topic_name.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

namespace samsa::broker {

using protocol::error_code;

namespace {

create_outcome failed(error_code e, std::string message, const new_topic& t) {
    create_outcome o;
    o.error = e;
    o.message = std::move(message);
    o.topic.name = t.name;
    o.topic.partitions = -1;
    o.topic.replication_factor = -1;
    return o;
}

// The partitions `topics` ask for, counted as Kafka counts them against its per-request bound,
// before any other check: a duplicated name adds nothing (it fails anyway), nor does an invalid
// count; -1 adds num.partitions, an assignment its length.
int64_t requested_partitions(std::span<const new_topic> topics, const std::map<std::string_view, int>& occurrences,
                             int32_t default_partitions) {
    int64_t total = 0;
    for (const auto& t : topics) {
        if (occurrences.at(t.name) > 1) continue;
        if (!t.assignments.empty()) total += static_cast<int64_t>(t.assignments.size());
        else if (t.num_partitions == -1) total += default_partitions;
        else if (t.num_partitions > 0) total += t.num_partitions;
    }
    return total;
}

} // namespace

protocol::uuid random_uuid() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    for (;;) {
        protocol::uuid u;
        for (size_t i = 0; i < 16; i += 8) {
            const uint64_t r = rng();
            for (size_t b = 0; b < 8; ++b) u.bytes[i + b] = static_cast<uint8_t>(r >> (8 * b));
        }
        u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0F) | 0x40);  // version 4
        u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3F) | 0x80);  // IETF variant
        protocol::uuid metadata_topic_id;
        metadata_topic_id.bytes[15] = 1;
        if (!u.is_zero() && u != metadata_topic_id) return u;
    }
}

metadata_service::metadata_service(const broker_config& cfg, metadata_store& store, partition_storage& logs,
                                   metadata_image image)
    : cfg_(cfg), store_(store), logs_(logs), node_id_(image.node_id), cluster_id_(std::move(image.cluster_id)),
      epoch_(image.epoch), persisted_(image.persisted) {
    for (auto& t : image.topics) {
        const auto name = t.name;
        if (!topics_.insert(std::move(t))) throw std::runtime_error("metadata lists topic " + name + " (or its id) twice");
    }
}

metadata_image metadata_service::open_image(const broker_config& cfg, metadata_store& store) {
    if (auto loaded = store.load()) {
        if (loaded->node_id != cfg.node_id)
            throw std::runtime_error("the data directory belongs to node " + std::to_string(loaded->node_id.value()) +
                                     " but node.id is " + std::to_string(cfg.node_id.value()) + " (" + store.path().string() + ")");
        log_info("loaded metadata: cluster ", loaded->cluster_id, ", ", loaded->topics.size(), " topic(s), epoch ",
                 loaded->epoch);
        return std::move(*loaded);
    }
    metadata_image fresh;
    fresh.cluster_id = random_uuid().to_base64();
    fresh.node_id = cfg.node_id;
    fresh.epoch = 0;
    log_info("new data directory: cluster id ", fresh.cluster_id, ", node ", fresh.node_id);
    return fresh;
}

std::optional<std::string> metadata_service::ensure_persisted() {
    if (persisted_) return std::nullopt;
    auto err = store_.save(image());
    if (!err) persisted_ = true;
    return err;
}

std::optional<std::string> metadata_service::persist_change() {
    ++epoch_;
    if (auto err = store_.save(image())) {
        --epoch_;
        return err;
    }
    persisted_ = true;
    return std::nullopt;
}

std::optional<std::string> metadata_service::replace_topics(std::span<const topic_info> before,
                                                           std::span<const topic_info> after) {
    auto put = [this](std::span<const topic_info> infos) {
        for (const auto& t : infos) {
            (void)topics_.erase(t.name);
            (void)topics_.insert(t);
        }
    };
    put(after);
    if (auto err = persist_change()) {
        put(before);
        return "Could not persist the metadata: " + *err;
    }
    return std::nullopt;
}

metadata_image metadata_service::image() const {
    metadata_image m;
    m.cluster_id = cluster_id_;
    m.node_id = node_id_;
    m.epoch = epoch_;
    for (const auto* t : topics_.all()) m.topics.push_back(*t);
    return m;
}

protocol::uuid metadata_service::fresh_topic_id() const {
    for (;;) {
        auto id = random_uuid();
        if (topics_.find(id) == nullptr) return id;
    }
}

create_outcome metadata_service::validate(const new_topic& t) const {
    if (auto problem = topic_name_problem(t.name)) return failed(error_code::invalid_topic_exception, *problem, t);
    if (topics_.find(t.name) != nullptr)
        return failed(error_code::topic_already_exists, "Topic '" + t.name + "' already exists.", t);

    int32_t partitions = t.num_partitions;
    int32_t replication = t.replication_factor;
    if (!t.assignments.empty()) {
        if (t.num_partitions != -1)
            return failed(error_code::invalid_request,
                          "A manual partition assignment was specified, but numPartitions was not set to -1.", t);
        if (t.replication_factor != -1)
            return failed(error_code::invalid_request,
                          "A manual partition assignment was specified, but replicationFactor was not set to -1.", t);
        // Kafka's order: each list as it comes (its replica count set by the ones before it), then
        // the indexes, which must run from 0 without a gap.
        std::set<protocol::partition_id> indexes;
        std::optional<size_t> replicas;
        for (const auto& [index, brokers] : t.assignments) {
            if (!indexes.insert(index).second)
                return failed(error_code::invalid_replica_assignment,
                              "Found multiple manual partition assignments for partition " + std::to_string(index.value()), t);
            if (auto problem = replica_list_problem(brokers, node_id_, replicas))
                return failed(error_code::invalid_replica_assignment, std::move(*problem), t);
            replicas = brokers.size();
        }
        const auto count = static_cast<int32_t>(indexes.size());
        if (*indexes.begin() != protocol::partition_id(0) || *indexes.rbegin() != protocol::partition_id(count - 1))
            return failed(error_code::invalid_replica_assignment, "partitions should be a consecutive 0-based integer sequence", t);
        partitions = count;
        replication = static_cast<int32_t>(*replicas);
    } else {
        if (partitions == -1) partitions = cfg_.num_partitions;
        if (replication == -1) replication = cfg_.default_replication_factor;
        if (partitions <= 0)
            return failed(error_code::invalid_partitions, "Number of partitions was set to an invalid non-positive value.", t);
        if (replication <= 0)
            return failed(error_code::invalid_replication_factor,
                          "Replication factor must be larger than 0, or -1 to use the default value.", t);
    }
    if (partitions > max_partitions_per_topic)
        return failed(error_code::invalid_partitions,
                      "Number of partitions " + std::to_string(partitions) + " is over this broker's limit of " +
                          std::to_string(max_partitions_per_topic) + ".",
                      t);
    if (replication > 1)
        return failed(error_code::invalid_replication_factor,
                      "Unable to replicate the partition " + std::to_string(replication) +
                          " time(s): The target replication factor of " + std::to_string(replication) +
                          " cannot be reached because only 1 broker(s) are registered.",
                      t);

    topic_configs configs;
    for (const auto& [name, value] : t.configs) {
        if (!value) return failed(error_code::invalid_config, "Null value not supported for topic configs: " + name, t);
        if (auto problem = topic_config_problem(name, *value)) return failed(error_code::invalid_config, *problem, t);
        configs[name] = *value;
    }

    create_outcome ok;
    ok.message = std::nullopt;
    ok.topic.name = t.name;
    ok.topic.partitions = partitions;
    ok.topic.replication_factor = static_cast<int16_t>(replication);
    ok.topic.leader_epoch = protocol::leader_epoch(0);
    ok.topic.configs = std::move(configs);
    return ok;
}

std::vector<create_outcome> metadata_service::create_topics(std::span<const new_topic> topics, bool validate_only) {
    std::map<std::string_view, int> occurrences;
    for (const auto& t : topics) ++occurrences[t.name];

    std::vector<create_outcome> out;
    out.reserve(topics.size());
    if (requested_partitions(topics, occurrences, cfg_.num_partitions) > max_partitions_per_request) {
        // Kafka fails the whole request, validate_only too, and answers every topic of it alike.
        for (const auto& t : topics) out.push_back(failed(error_code::policy_violation, std::string(too_many_partitions_message), t));
        return out;
    }
    std::vector<size_t> created;  // indexes into `out`
    for (const auto& t : topics) {
        if (occurrences[t.name] > 1) {
            out.push_back(failed(error_code::invalid_request, "Duplicate topic name.", t));
            continue;
        }
        auto outcome = validate(t);
        if (outcome.error != error_code::none || validate_only) {
            out.push_back(std::move(outcome));
            continue;
        }
        outcome.topic.id = fresh_topic_id();
        // On failure the storage has removed the logs it made for this topic: nothing is left.
        if (auto err = logs_.create_partitions(outcome.topic)) {
            log_error("cannot create the partitions of topic ", t.name, ": ", *err);
            out.push_back(failed(error_code::unknown_server_error, "Could not create the partition logs: " + *err, t));
            continue;
        }
        const bool inserted = topics_.insert(outcome.topic);
        (void)inserted;  // name and id were checked free above, on this thread
        created.push_back(out.size());
        out.push_back(std::move(outcome));
    }
    if (created.empty()) return out;

    if (auto err = persist_change()) {
        log_error("cannot persist metadata, the topic creation is rolled back: ", *err);
        for (const size_t i : created) {
            auto& o = out[i];
            (void)topics_.erase(o.topic.name);
            if (auto derr = logs_.delete_partitions(o.topic, 0)) log_error("cannot remove the partitions of ", o.topic.name, ": ", *derr);
            const new_topic request{o.topic.name, -1, -1, {}, {}};
            o = failed(error_code::unknown_server_error, "Could not persist the metadata: " + *err, request);
        }
        return out;
    }
    for (const size_t i : created)
        log_info("created topic ", out[i].topic.name, " (id ", out[i].topic.id.to_base64(), ", ", out[i].topic.partitions,
                 " partition(s))");
    return out;
}

std::optional<std::string> metadata_service::set_topic_configs(std::string_view name, topic_configs configs) {
    std::pair<std::string, topic_configs> change{std::string(name), std::move(configs)};
    return set_topic_configs(std::span(&change, 1));
}

std::optional<std::string> metadata_service::set_topic_configs(std::span<std::pair<std::string, topic_configs>> changes) {
    std::vector<topic_info> before, after;
    before.reserve(changes.size());
    after.reserve(changes.size());
    for (auto& [name, configs] : changes) {
        const topic_info* current = topics_.find(name);
        if (current == nullptr) return "no topic " + name;
        before.push_back(*current);
        after.push_back(*current);
        after.back().configs = std::move(configs);
    }
    if (auto err = replace_topics(before, after)) return err;
    for (const auto& t : after) {
        log_info("topic ", t.name, " configs changed");
        if (auto err = logs_.apply_config(t)) log_error("cannot apply the new configs of ", t.name, ": ", *err);
    }
    return std::nullopt;
}

std::optional<std::string> metadata_service::add_partitions(std::string_view name, int32_t partitions) {
    const topic_info* current = topics_.find(name);
    if (current == nullptr) return "no topic " + std::string(name);
    const topic_info before = *current;
    topic_info after = before;
    after.partitions = partitions;
    // Logs first: a topic must never list a partition that has no log. Either step failing
    // leaves none of the new logs behind.
    if (auto err = logs_.create_partitions(after)) return "Could not create the partition logs: " + *err;
    if (auto err = replace_topics(std::span(&before, 1), std::span(&after, 1))) {
        if (auto derr = logs_.delete_partitions(after, before.partitions))
            log_error("cannot remove the new partitions of ", after.name, ": ", *derr);
        return err;
    }
    log_info("topic ", after.name, " grew from ", before.partitions, " to ", partitions, " partition(s)");
    return std::nullopt;
}

std::vector<delete_outcome> metadata_service::delete_topics(std::span<const delete_target> targets) {
    std::map<std::string, int> names;
    std::map<protocol::uuid, int> ids;
    for (const auto& t : targets) {
        if (t.name && t.id.is_zero()) ++names[*t.name];
        if (!t.name && !t.id.is_zero()) ++ids[t.id];
    }

    std::vector<delete_outcome> out;
    out.reserve(targets.size());
    std::vector<std::pair<size_t, topic_info>> deleted;
    for (const auto& t : targets) {
        delete_outcome o;
        o.name = t.name;
        o.id = t.id;
        auto fail = [&](error_code e, std::string msg) {
            o.error = e;
            o.message = std::move(msg);
            out.push_back(std::move(o));
        };
        if (t.name && !t.id.is_zero()) {
            fail(error_code::invalid_request, "You may not specify both topic name and topic id.");
            continue;
        }
        if (!t.name && t.id.is_zero()) {
            fail(error_code::invalid_request, "Neither topic name nor id were specified.");
            continue;
        }
        if ((t.name && names[*t.name] > 1) || (!t.name && ids[t.id] > 1)) {
            fail(error_code::invalid_request, t.name ? "Duplicate topic name." : "Duplicate topic id.");
            continue;
        }
        const topic_info* info = t.name ? topics_.find(*t.name) : topics_.find(t.id);
        if (info == nullptr) {
            if (t.name) fail(error_code::unknown_topic_or_partition, "This server does not host this topic-partition.");
            else fail(error_code::unknown_topic_id, "This server does not host this topic ID.");
            continue;
        }
        o.name = info->name;
        o.id = info->id;
        deleted.emplace_back(out.size(), *info);
        (void)topics_.erase(info->name);
        out.push_back(std::move(o));
    }
    if (deleted.empty()) return out;

    if (auto err = persist_change()) {
        log_error("cannot persist metadata, the topic deletion is rolled back: ", *err);
        for (auto& [i, info] : deleted) {
            (void)topics_.insert(info);
            out[i].error = error_code::unknown_server_error;
            out[i].message = "Could not persist the metadata: " + *err;
        }
        return out;
    }
    for (const auto& [i, info] : deleted) {
        log_info("deleted topic ", info.name, " (id ", info.id.to_base64(), ")");
        // The topic is gone from the metadata already; leftover files are logged, not reported.
        if (auto err = logs_.delete_partitions(info, 0)) log_error("cannot remove the partitions of ", info.name, ": ", *err);
    }
    return out;
}

} // namespace samsa::broker
