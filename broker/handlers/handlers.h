// The handler list: every Kafka API the broker serves, each defined in handlers/<api>.cpp.
// default_handlers() is the one list the dispatcher is built from, and therefore also what
// ApiVersions advertises. Built once at start-up.
#pragma once

#include "broker/handler.h"

#include <vector>

namespace samsa::broker {

[[nodiscard]] handler_entry api_versions_handler();
[[nodiscard]] handler_entry metadata_handler();
[[nodiscard]] handler_entry create_topics_handler();
[[nodiscard]] handler_entry delete_topics_handler();
// The data path: producing, consuming and offset lookups (broker/produce/, broker/fetch/).
[[nodiscard]] handler_entry produce_handler();
[[nodiscard]] handler_entry fetch_handler();
[[nodiscard]] handler_entry list_offsets_handler();
[[nodiscard]] handler_entry offset_for_leader_epoch_handler();
// Idempotent and transactional producers (broker/transactions/).
[[nodiscard]] handler_entry init_producer_id_handler();
[[nodiscard]] handler_entry write_txn_markers_handler();
[[nodiscard]] handler_entry add_partitions_to_txn_handler();
[[nodiscard]] handler_entry add_offsets_to_txn_handler();
[[nodiscard]] handler_entry end_txn_handler();
[[nodiscard]] handler_entry txn_offset_commit_handler();
[[nodiscard]] handler_entry describe_transactions_handler();
[[nodiscard]] handler_entry list_transactions_handler();
// Consumer groups and committed offsets (broker/groups/).
[[nodiscard]] handler_entry find_coordinator_handler();
[[nodiscard]] handler_entry join_group_handler();
[[nodiscard]] handler_entry sync_group_handler();
[[nodiscard]] handler_entry heartbeat_handler();
[[nodiscard]] handler_entry leave_group_handler();
[[nodiscard]] handler_entry offset_commit_handler();
[[nodiscard]] handler_entry offset_fetch_handler();
[[nodiscard]] handler_entry describe_groups_handler();
[[nodiscard]] handler_entry list_groups_handler();
[[nodiscard]] handler_entry delete_groups_handler();
[[nodiscard]] handler_entry offset_delete_handler();
[[nodiscard]] handler_entry consumer_group_heartbeat_handler();
[[nodiscard]] handler_entry consumer_group_describe_handler();

// Administration: configuration, partitions, records, log dirs, client quotas (broker/admin/).
[[nodiscard]] handler_entry describe_configs_handler();
[[nodiscard]] handler_entry alter_configs_handler();
[[nodiscard]] handler_entry incremental_alter_configs_handler();
[[nodiscard]] handler_entry create_partitions_handler();
[[nodiscard]] handler_entry delete_records_handler();
[[nodiscard]] handler_entry describe_cluster_handler();
[[nodiscard]] handler_entry describe_log_dirs_handler();
[[nodiscard]] handler_entry describe_producers_handler();
[[nodiscard]] handler_entry elect_leaders_handler();
[[nodiscard]] handler_entry describe_client_quotas_handler();
[[nodiscard]] handler_entry alter_client_quotas_handler();

// Every handler, in API key order.
[[nodiscard]] std::vector<handler_entry> default_handlers();

} // namespace samsa::broker
