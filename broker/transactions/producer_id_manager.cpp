#include "broker/transactions/producer_id_manager.h"

#include "broker/json_state_file.h"
#include "storage/file_handle.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <limits>
#include <stdexcept>

namespace samsa::broker {

namespace {

using json = nlohmann::json;

// The file's layout, version 1 (docs/architecture.md):
//   {"version":1,"broker":<node id>,"block_start":<first id>,"block_end":<last id>}
constexpr int block_file_version = 1;

} // namespace

producer_id_manager::producer_id_manager(std::string path, protocol::node_id node_id) : path_(std::move(path)), node_id_(node_id) {
    const auto text = read_state_file(path_);
    if (!text) {
        next_id_ = 0;
        block_end_ = -1;
        return;
    }
    try {
        const json j = json::parse(*text);
        if (j.at("version").get<int>() != block_file_version)
            throw std::runtime_error("unknown version " + j.at("version").dump());
        const auto start = j.at("block_start").get<int64_t>();
        const auto end = j.at("block_end").get<int64_t>();
        if (start < 0 || end < start) throw std::runtime_error("the block is empty or negative");
        // The block may have been partly used before the stop: skip what is left of it.
        block_end_ = end;
        next_id_ = end + 1;
    } catch (const std::exception& e) {
        throw std::runtime_error("the producer id block file " + path_ + " is malformed (" + e.what() +
                                 "); producer ids cannot be allocated safely");
    }
}

std::optional<protocol::producer_id> producer_id_manager::next(std::string* error) {
    if (next_id_ > block_end_) {
        const int64_t start = block_end_ + 1;
        if (start > std::numeric_limits<int64_t>::max() - block_size) {
            *error = "producer ids are exhausted";
            return std::nullopt;
        }
        const int64_t end = start + block_size - 1;
        const json j = {{"version", block_file_version}, {"broker", node_id_.value()}, {"block_start", start}, {"block_end", end}};
        if (const int err = storage::write_file_atomically(path_, j.dump()); err != 0) {
            *error = "cannot reserve producer ids in " + path_ + ": " + std::strerror(err);
            return std::nullopt;
        }
        next_id_ = start;
        block_end_ = end;
    }
    return protocol::producer_id(next_id_++);
}

} // namespace samsa::broker
