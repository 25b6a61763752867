// topic_source over the metadata service's topic table: what the group coordinator learns of
// topics (names, ids, partition counts) on this broker. Owned by the node, after the metadata
// service it reads; loop thread only.
#pragma once

#include "broker/groups/topic_source.h"
#include "broker/metadata_service.h"

#include <optional>
#include <string_view>
#include <vector>

namespace samsa::broker {

class metadata_topic_source final : public topic_source {
public:
    explicit metadata_topic_source(const metadata_service& metadata) : metadata_(metadata) {}
    [[nodiscard]] std::optional<topic_meta> by_name(std::string_view name) const override;
    [[nodiscard]] std::optional<topic_meta> by_id(const protocol::uuid& id) const override;
    [[nodiscard]] std::vector<topic_meta> all() const override;

private:
    const metadata_service& metadata_;
};

} // namespace samsa::broker
