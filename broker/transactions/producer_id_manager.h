// Hands out producer ids, unique on this node for ever: InitProducerId gives one to every
// idempotent producer, and the transaction coordinator one to each new transactional id.
//
// Ids are reserved in blocks (Kafka's ProducerIdManager does the same): the end of the current
// block is written to `<first log dir>/producer-id-block` (atomically, fsynced) before the first
// id of the block is handed out, so after a restart, clean or not, allocation resumes after the
// last reserved block and no id is ever given twice. One small fsync per `block_size` ids.
//
// Owned by the node; loop thread only (the block write blocks the loop, as metadata writes do).
#pragma once

#include "protocol/kafka_ids.h"

#include <cstdint>
#include <optional>
#include <string>

namespace samsa::broker {

inline constexpr std::string_view producer_id_block_file = "producer-id-block";

class producer_id_manager {
public:
    static constexpr int64_t block_size = 1000;

    // Reads the last reserved block from `path`. A missing file starts at id 0; an unreadable or
    // malformed one throws std::runtime_error (start-up stops rather than risk reusing ids).
    producer_id_manager(std::string path, protocol::node_id node_id);
    producer_id_manager(const producer_id_manager&) = delete;
    producer_id_manager& operator=(const producer_id_manager&) = delete;

    // The next unused id; nullopt with `*error` set when a new block could not be reserved
    // (the disk refused the write). Nothing is handed out from an unwritten block.
    [[nodiscard]] std::optional<protocol::producer_id> next(std::string* error);

    // The first id of the block after the last reserved one (tests, start-up messages).
    [[nodiscard]] int64_t next_block_start() const noexcept { return block_end_ + 1; }

private:
    std::string path_;
    protocol::node_id node_id_;
    int64_t next_id_ = 0;     // next id to hand out from the current block
    int64_t block_end_ = -1;  // last id of the current block (inclusive); -1: none reserved
};

} // namespace samsa::broker
