#include "broker/node.h"

#include "broker/admin/config_registry.h"
#include "broker/admin/quota_manager.h"
#include "broker/dispatcher.h"
#include "broker/groups/group_coordinator.h"
#include "broker/groups/metadata_topic_source.h"
#include "broker/handlers/handlers.h"
#include "broker/internal_topic_log.h"
#include "broker/log_storage.h"
#include "broker/logger.h"
#include "broker/metadata_service.h"
#include "broker/metadata_store.h"
#include "broker/partition_manager.h"
#include "broker/partition_storage.h"
#include "broker/request_context.h"
#include "broker/server.h"
#include "broker/transactions/partition_txn_marker_writer.h"
#include "broker/transactions/producer_id_manager.h"
#include "broker/transactions/transaction_coordinator.h"
#include "broker/transactions/transaction_log.h"

#include <filesystem>
#include <stdexcept>

namespace samsa::broker {

// Declared in dependency order: later members use earlier ones and are destroyed first.
struct node::parts {
    explicit parts(broker_config c)
        : cfg(std::move(c)), dirs(prepare_dirs(cfg)), store(dirs.front()), net(cfg), storage(cfg, net.loop()),
          metadata(cfg, store, storage, metadata_service::open_image(cfg, store)), offsets_topic(offsets_topic_name, metadata, storage.manager()),
          topics(metadata), groups(group_config::from(cfg), net.loop(), offsets_topic, topics),
          partitions(metadata, storage.manager()), configs(cfg, metadata, storage, dirs.front()),
          quotas(cfg, configs.quotas()),
          producer_ids((dirs.front() / producer_id_block_file).string(), cfg.node_id), txn_markers(partitions),
          txn_state_topic(transaction_state_topic_name, metadata, storage.manager()),
          transactions(transaction_config::from(cfg), net.loop(), txn_state_topic, txn_markers, [this] { return next_producer_id(); }),
          handlers(default_handlers()),
          services{metadata, storage.manager(), net.loop(), cfg, &groups, &partitions, &configs, &quotas} {
        services.producer_ids = &producer_ids;
        services.transactions = &transactions;
        // A transaction's markers decide the offsets it committed for consumer groups.
        transactions.set_markers_listener(
            [this](protocol::producer_id pid, bool commit) { groups.complete_txn_offsets(pid, commit); });
        // Dynamic broker configs change the topic defaults the logs are opened with.
        configs.load();
        storage.open(metadata.topics());
        groups.start();
        transactions.start();
    }

    std::optional<protocol::producer_id> next_producer_id() {
        std::string why;
        auto id = producer_ids.next(&why);
        if (!id) log_error("no producer id for a transactional id: ", why);
        return id;
    }

    static std::vector<std::filesystem::path> prepare_dirs(const broker_config& cfg) {
        std::vector<std::filesystem::path> out;
        for (const auto& d : cfg.data_dirs()) {
            std::error_code ec;
            std::filesystem::create_directories(d, ec);
            if (ec) throw std::runtime_error("cannot create the data directory " + d + ": " + ec.message());
            out.emplace_back(d);
        }
        return out;
    }

    broker_config cfg;
    std::vector<std::filesystem::path> dirs;
    metadata_store store;
    server net;
    log_storage storage;
    metadata_service metadata;
    internal_topic_log offsets_topic;
    metadata_topic_source topics;
    group_coordinator groups;
    partition_manager partitions;
    config_registry configs;
    quota_manager quotas;
    producer_id_manager producer_ids;
    partition_txn_marker_writer txn_markers;
    internal_topic_log txn_state_topic;
    transaction_coordinator transactions;
    dispatcher handlers;
    broker_services services;
    bool shutdown_clean = false;
};

node::node(broker_config cfg) : parts_(std::make_unique<parts>(std::move(cfg))) {
    auto& p = *parts_;
    p.net.listen(p.handlers, p.services);
    p.net.on_shutdown([&p] {
        // Parked group requests are answered and group timers stopped before storage closes.
        p.groups.close();
        p.transactions.close();
        if (auto err = p.metadata.ensure_persisted()) log_error("cannot write the metadata: ", *err);
        // log_manager flushes every log, writes its checkpoints and then the clean-shutdown marker.
        if (auto err = p.storage.close()) {
            log_error("closing storage failed: ", *err);
            return;
        }
        p.shutdown_clean = true;
        log_info("storage flushed and closed");
    });
}

// The shutdown hook uses the parts declared after the server: a node that never ran shuts down
// here, before they are destroyed.
node::~node() { parts_->net.shut_down_unrun(); }

void node::handle_signals() { parts_->net.handle_signals(); }

bool node::run() {
    const bool loop_clean = parts_->net.run();
    return loop_clean && parts_->shutdown_clean;
}

void node::request_shutdown() { parts_->net.request_shutdown(); }

uint16_t node::bound_port(std::string_view listener) const { return parts_->net.bound_port(listener); }

const server_stats& node::stats() const noexcept { return parts_->net.stats(); }

const broker_config& node::config() const noexcept { return parts_->cfg; }

} // namespace samsa::broker
