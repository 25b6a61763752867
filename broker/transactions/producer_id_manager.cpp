#include "broker/transactions/producer_id_manager.h"

#include "broker/json_state_file.h"

#include <nlohmann/json.hpp>

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
    // A file that cannot be read, or holds no valid block, stops start-up: ids cannot be
    // allocated safely without knowing which were handed out.
    const auto last_reserved = load_json_file(path_, "producer id block", [](const json& j) {
        if (j.at("version").get<int>() != block_file_version) throw std::runtime_error("unknown version " + j.at("version").dump());
        const auto start = j.at("block_start").get<int64_t>();
        const auto end = j.at("block_end").get<int64_t>();
        if (start < 0 || end < start) throw std::runtime_error("the block is empty or negative");
        return end;
    });
    // The block may have been partly used before the stop: skip what is left of it.
    block_end_ = last_reserved.value_or(-1);
    next_id_ = block_end_ + 1;
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
        if (auto why = save_json_file(path_, "producer id block", j)) {
            *error = "cannot reserve producer ids: " + *why;
            return std::nullopt;
        }
        next_id_ = start;
        block_end_ = end;
    }
    return protocol::producer_id(next_id_++);
}

} // namespace samsa::broker
