// The data path's side of ending a transaction: appends a COMMIT or ABORT control batch for the
// producer to each named partition of this node (storage then closes the producer's open
// transaction there, moves the last stable offset and, for an abort, adds the transaction to the
// segment's .txnindex). Serves the transaction coordinator (through txn_marker_writer) and
// WriteTxnMarkers requests with the same code.
//
// Holds only a reference to the partition_manager, which outlives it; loop thread only. The
// completion may run before write_markers returns (nothing to wait for) or later, after the
// fsync of partitions whose topic has a flush policy (as acks=-1 produce waits for it).
#pragma once

#include "broker/transactions/txn_marker_writer.h"

namespace samsa::broker {

class partition_manager;

class partition_txn_marker_writer final : public txn_marker_writer {
public:
    explicit partition_txn_marker_writer(partition_manager& partitions) : partitions_(partitions) {}

    void write_markers(const txn_marker_request& request, completion done) override;

private:
    partition_manager& partitions_;
};

} // namespace samsa::broker
