// partition_storage backed by storage::log_manager: the partition logs in log.dirs. Builds the
// storage settings of each topic from the broker defaults and the topic's overrides, opens
// (and recovers) the logs at start-up and reconciles them with the topic metadata, runs the
// manager's periodic duties on a loop timer and its background completions on the loop, and
// closes it at shutdown (log_manager writes the clean-shutdown marker). Owned by the node;
// loop thread only (background threads reach the loop through loop_services::post).
#pragma once

#include "broker/config.h"
#include "broker/loop_services.h"
#include "broker/partition_storage.h"
#include "broker/topic_table.h"
#include "storage/log_config.h"
#include "storage/log_manager.h"

#include <memory>
#include <optional>
#include <string>

namespace samsa::broker {

// The storage settings of a topic: the broker's defaults, then the topic's overrides.
[[nodiscard]] storage::log_config storage_config_for(const broker_config& cfg, const topic_configs& overrides);

class log_storage final : public partition_storage {
public:
    // `cfg` and `loop` outlive this object.
    log_storage(const broker_config& cfg, loop_services& loop);
    ~log_storage() override;

    // Opens every log dir (blocking; recovers after an unclean stop), then makes the logs match
    // `topics`: missing partition logs are created, logs of unknown topics are removed.
    // `topics` (which gives the settings of logs found on disk) outlives this object.
    // Throws std::runtime_error at start-up.
    void open(const topic_table& topics);

    [[nodiscard]] std::optional<std::string> create_partitions(const topic_info& topic) override;
    [[nodiscard]] std::optional<std::string> delete_partitions(const topic_info& topic, int32_t first) override;
    [[nodiscard]] std::optional<std::string> close() override;
    [[nodiscard]] std::optional<std::string> apply_config(const topic_info& topic) override;

    [[nodiscard]] storage::log_manager& manager() noexcept { return manager_; }

private:
    void schedule_tick();

    const broker_config& cfg_;
    loop_services& loop_;
    const topic_table* topics_ = nullptr;
    storage::log_manager manager_;
    std::unique_ptr<loop_timer> tick_;
    bool closed_ = false;
};

} // namespace samsa::broker
