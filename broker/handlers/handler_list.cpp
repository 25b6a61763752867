#include "broker/handlers/handlers.h"

#include <algorithm>

namespace samsa::broker {

std::vector<handler_entry> default_handlers() {
    std::vector<handler_entry> list{
        metadata_handler(),
        api_versions_handler(),
        create_topics_handler(),
        delete_topics_handler(),
        produce_handler(),
        fetch_handler(),
        list_offsets_handler(),
        offset_for_leader_epoch_handler(),
        init_producer_id_handler(),
        write_txn_markers_handler(),
        add_partitions_to_txn_handler(),
        add_offsets_to_txn_handler(),
        end_txn_handler(),
        txn_offset_commit_handler(),
        describe_transactions_handler(),
        list_transactions_handler(),
        find_coordinator_handler(),
        join_group_handler(),
        sync_group_handler(),
        heartbeat_handler(),
        leave_group_handler(),
        offset_commit_handler(),
        offset_fetch_handler(),
        describe_groups_handler(),
        list_groups_handler(),
        delete_groups_handler(),
        offset_delete_handler(),
        consumer_group_heartbeat_handler(),
        consumer_group_describe_handler(),
        describe_configs_handler(),
        alter_configs_handler(),
        incremental_alter_configs_handler(),
        create_partitions_handler(),
        delete_records_handler(),
        describe_cluster_handler(),
        describe_log_dirs_handler(),
        describe_producers_handler(),
        elect_leaders_handler(),
        describe_client_quotas_handler(),
        alter_client_quotas_handler(),
    };
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return list;
}

} // namespace samsa::broker
