#include "broker/log_storage.h"

#include "broker/logger.h"
#include "broker/topic_config.h"

#include <chrono>
#include <set>
#include <stdexcept>
#include <vector>

namespace samsa::broker {

namespace {

int64_t wall_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// How often log_manager::tick runs: its duties have second-scale intervals at the finest.
constexpr uint64_t tick_interval_ms = 500;

} // namespace

storage::log_config storage_config_for(const broker_config& cfg, const topic_configs& overrides) {
    storage::log_config out;
    for (const auto& key : topic_config_keys()) {
        if (!storage::log_config::is_known_key(key.name)) continue;
        const auto it = overrides.find(std::string(key.name));
        const std::string value = it != overrides.end() ? it->second : key.broker_default(cfg);
        // Values were validated when the topic was created; a refusal here is a table mismatch.
        if (auto err = out.set(key.name, value); !err.empty()) log_warn("topic setting ", key.name, "=", value, ": ", err);
    }
    return out;
}

log_storage::log_storage(const broker_config& cfg, loop_services& loop)
    : cfg_(cfg), loop_(loop),
      manager_(
          [&] {
              storage::log_manager_config mc;
              mc.log_dirs = cfg.data_dirs();
              mc.defaults = storage_config_for(cfg, {});
              mc.topic_config = [this](const std::string& topic) -> std::optional<storage::log_config> {
                  if (topics_ == nullptr) return std::nullopt;
                  const auto* t = topics_->find(topic);
                  if (t == nullptr) return std::nullopt;
                  return storage_config_for(cfg_, t->configs);
              };
              mc.retention_check_interval_ms = cfg.log_retention_check_interval_ms;
              mc.producer_id_expiration_ms = cfg.producer_id_expiration_ms;
              mc.producer_id_expiration_check_interval_ms = cfg.producer_id_expiration_check_interval_ms;
              return mc;
          }(),
          // Called on a background thread: hop to the loop to run the completions there.
          [this] { (void)loop_.post([this] { (void)manager_.run_completions(); }); }) {}

log_storage::~log_storage() {
    if (!closed_) {
        if (auto err = close()) log_error("closing storage: ", *err);
    }
}

void log_storage::open(const topic_table& topics) {
    topics_ = &topics;
    std::string error;
    if (!manager_.open(wall_ms(), &error)) throw std::runtime_error("cannot open the logs: " + error);

    std::set<storage::topic_partition> wanted;
    for (const auto* t : topics.all())
        for (int32_t p = 0; p < t->partitions; ++p) wanted.insert({t->name, protocol::partition_id(p)});
    for (const auto& tp : manager_.partitions()) {
        if (wanted.contains(tp)) continue;
        log_warn("removing the log of ", tp.dir_name(), ": its topic is not in the metadata");
        (void)manager_.remove(tp);
    }
    for (const auto* t : topics.all()) {
        if (auto err = create_partitions(*t)) throw std::runtime_error(*err);
    }
    log_info("storage open: ", manager_.size(), " partition log(s)");
    schedule_tick();
}

void log_storage::schedule_tick() {
    tick_ = loop_.start_timer(tick_interval_ms, [this] {
        if (closed_) return;
        manager_.tick(wall_ms());
        schedule_tick();
    });
}

std::optional<std::string> log_storage::create_partitions(const topic_info& topic) {
    const auto config = storage_config_for(cfg_, topic.configs);
    const int64_t now = wall_ms();
    std::vector<storage::topic_partition> made;
    for (int32_t p = 0; p < topic.partitions; ++p) {
        storage::topic_partition tp{topic.name, protocol::partition_id(p)};
        if (manager_.get(tp)) continue;
        std::string error;
        if (!manager_.get_or_create(tp, config, now, &error)) {
            // Out of descriptors or space, most likely: the logs made so far would hold on to
            // both for a topic that does not exist, so they go again.
            for (const auto& m : made) (void)manager_.remove(m);
            return "cannot create the log of " + tp.dir_name() + ": " + error;
        }
        made.push_back(std::move(tp));
    }
    return std::nullopt;
}

std::optional<std::string> log_storage::delete_partitions(const topic_info& topic, int32_t first) {
    for (int32_t p = first; p < topic.partitions; ++p) (void)manager_.remove({topic.name, protocol::partition_id(p)});
    return std::nullopt;
}

std::optional<std::string> log_storage::apply_config(const topic_info& topic) {
    const auto config = storage_config_for(cfg_, topic.configs);
    for (int32_t p = 0; p < topic.partitions; ++p)
        if (auto log = manager_.get({topic.name, protocol::partition_id(p)})) log->set_config(config);
    return std::nullopt;
}

std::optional<std::string> log_storage::close() {
    if (closed_) return std::nullopt;
    closed_ = true;
    tick_.reset();
    try {
        manager_.close();
    } catch (const std::exception& e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

} // namespace samsa::broker
