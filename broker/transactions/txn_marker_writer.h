// The seam between the transaction coordinator and the partitions it writes markers to.
//
// When a transaction ends, the coordinator (broker/transactions/, which owns __transaction_state)
// asks this node's partitions to append a COMMIT or ABORT control batch for the producer to every
// partition in the transaction, __consumer_offsets partitions included. The data path implements
// it (the same code serves WriteTxnMarkers requests from a remote coordinator later); the
// coordinator and its tests see only this interface.
//
// Loop thread only. The callback runs on the loop thread, exactly once per call, possibly before
// write_markers returns; the request's vectors need only live for the call.
#pragma once

#include "protocol/errors.h"
#include "protocol/kafka_ids.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace samsa::broker {

struct txn_marker_partition {
    std::string topic;
    protocol::partition_id partition{-1};
};

struct txn_marker_request {
    protocol::producer_id producer_id = protocol::no_producer_id;
    protocol::producer_epoch producer_epoch = protocol::no_producer_epoch;
    int32_t coordinator_epoch = 0;
    bool commit = false;
    std::vector<txn_marker_partition> partitions;
};

struct txn_marker_result {
    txn_marker_partition partition;
    protocol::error_code error = protocol::error_code::none;
};

class txn_marker_writer {
public:
    using completion = std::function<void(std::vector<txn_marker_result>)>;

    virtual ~txn_marker_writer() = default;

    // Appends the marker to each partition (made durable as acks=-1 would) and reports one
    // result per partition, in request order.
    virtual void write_markers(const txn_marker_request& request, completion done) = 0;
};

} // namespace samsa::broker
