#include "broker/transactions/partition_txn_marker_writer.h"

#include "broker/logger.h"
#include "broker/partition_manager.h"
#include "broker/produce/produce_completion.h"
#include "protocol/record_batch_builder.h"

#include <memory>

namespace samsa::broker {

using protocol::error_code;

namespace {

// The results of one request, answered once the last partition is done.
struct marker_batch_state {
    std::vector<txn_marker_result> results;
    size_t left = 1;  // one for the loop in write_markers itself
    txn_marker_writer::completion done;

    void finish_one() {
        if (--left != 0) return;
        try {
            done(std::move(results));
        } catch (const std::exception& e) {
            log_error("transaction markers: the completion failed: ", e.what());
        }
    }
};

} // namespace

void partition_txn_marker_writer::write_markers(const txn_marker_request& request, completion done) {
    auto state = std::make_shared<marker_batch_state>();
    state->done = std::move(done);
    state->results.resize(request.partitions.size());

    const int64_t now = partition_manager::wall_clock_ms();
    protocol::batch_options options;
    options.producer_id = request.producer_id.value();
    options.producer_epoch = request.producer_epoch.value();
    const protocol::control_marker marker{request.commit ? protocol::control_type::commit : protocol::control_type::abort,
                                          request.coordinator_epoch};
    const protocol::built_batch built = protocol::build_control_batch(options, marker, now);

    for (size_t i = 0; i < request.partitions.size(); ++i) {
        const auto& part = request.partitions[i];
        txn_marker_result& result = state->results[i];
        result.partition = part;
        if (built.bytes.empty()) {
            result.error = error_code::unknown_server_error;
            continue;
        }
        const partition_handle h = partitions_.find(part.topic, part.partition);
        if (!h.ok()) {
            result.error = h.error;
            continue;
        }
        std::vector<uint8_t> bytes = built.bytes;  // the append patches offsets in place
        const storage::append_result r = partitions_.append(h, bytes, now, storage::append_origin::coordinator);
        if (r.error != error_code::none) {
            result.error = r.error;
            continue;
        }
        if (!acks_all_waits_for_fsync(h.log->config())) continue;
        ++state->left;
        h.log->flush([state, i](error_code e) {
            if (e != error_code::none) state->results[i].error = e;
            state->finish_one();
        });
    }
    state->finish_one();
}

} // namespace samsa::broker
