// What the group coordinator needs to know about topics: their ids and partition counts, to
// resolve KIP-848 subscriptions, check committed partitions and name topics in descriptions.
// Implemented over the broker's topic table (metadata_topic_source) and by tests. Loop thread.
#pragma once

#include "protocol/wire.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace samsa::broker {

struct topic_meta {
    std::string name;
    protocol::uuid id;
    int32_t partitions = 0;
};

class topic_source {
public:
    virtual ~topic_source() = default;
    [[nodiscard]] virtual std::optional<topic_meta> by_name(std::string_view name) const = 0;
    [[nodiscard]] virtual std::optional<topic_meta> by_id(const protocol::uuid& id) const = 0;
    [[nodiscard]] virtual std::vector<topic_meta> all() const = 0;
};

} // namespace samsa::broker
