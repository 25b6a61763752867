#include "broker/coordinator_partitions.h"

#include "broker/logger.h"

#include <algorithm>
#include <utility>

namespace samsa::broker {

using protocol::error_code;

namespace {

constexpr int32_t load_chunk_bytes = 1 << 20;

} // namespace

coordinator_partitions::coordinator_partitions(std::string_view topic, coordinator_log& log, loop_services& loop,
                                               int32_t partitions, int32_t segment_bytes)
    : topic_(topic), log_(log), loop_(loop), configured_partitions_(partitions), segment_bytes_(segment_bytes) {}

void coordinator_partitions::stop() noexcept { alive_.reset(); }

void coordinator_partitions::load(load_steps steps) {
    steps_ = std::move(steps);
    states_.assign(static_cast<size_t>(log_.partitions()), state::loading);
    if (count() > 0) post_load(protocol::partition_id(0), protocol::offset(0));
}

void coordinator_partitions::post_load(protocol::partition_id partition, protocol::offset from) {
    loop_.post([this, partition, from, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock()) load_partition(partition, from);
    });
}

void coordinator_partitions::load_partition(protocol::partition_id partition, protocol::offset from) {
    const auto chunk = log_.read(partition, from, load_chunk_bytes);
    if (chunk.error != error_code::none) {
        steps_.unreadable(partition, chunk.error);
    } else {
        steps_.replay(partition, chunk.batches);
        // A read that does not move forward ends the partition rather than reading it forever.
        if (!chunk.end && chunk.next_offset > from) {
            post_load(partition, chunk.next_offset);
            return;
        }
        states_[static_cast<size_t>(partition.value())] = state::loaded;
        steps_.finish(partition);
    }
    if (partition.value() + 1 < count()) post_load(protocol::partition_id(partition.value() + 1), protocol::offset(0));
}

error_code coordinator_partitions::ensure_created() {
    if (count() > 0) return error_code::none;
    int32_t existing = log_.partitions();
    if (existing == 0) {
        if (auto why = log_.create(configured_partitions_, segment_bytes_); !why.empty()) {
            log_error("cannot create ", topic_, ": ", why);
            return error_code::coordinator_not_available;
        }
        existing = configured_partitions_;
        log_info("created ", topic_, " with ", existing, " partitions");
    }
    states_.assign(static_cast<size_t>(existing), state::loaded);
    return error_code::none;
}

bool coordinator_partitions::loading(protocol::partition_id partition) const noexcept {
    if (partition.value() < 0 || partition.value() >= count()) return false;
    return states_[static_cast<size_t>(partition.value())] == state::loading;
}

bool coordinator_partitions::loading_any() const noexcept {
    return std::any_of(states_.begin(), states_.end(), [](state s) { return s == state::loading; });
}

} // namespace samsa::broker
