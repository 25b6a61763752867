// The regular expression a consumer (KIP-848) group member subscribes with
// (ConsumerGroupHeartbeat v1+ SubscribedTopicRegex), compiled with RE2: the syntax Kafka's
// coordinator accepts (it uses RE2/J), matched against whole topic names in time linear in the
// name. The pattern comes from a client, so nothing about it may cost the broker unbounded stack,
// memory or time: RE2 limits nesting and program size, and never backtracks. A topic_regex owns
// its compiled program; immutable after compile, so any thread may match with it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace samsa::broker {

class topic_regex {
public:
    // The compiled pattern, or (when it does not compile) none and why, in RE2's words.
    static topic_regex compile(std::string_view pattern);

    topic_regex(topic_regex&&) noexcept;
    topic_regex& operator=(topic_regex&&) noexcept;
    ~topic_regex();

    [[nodiscard]] bool ok() const noexcept { return re_ != nullptr; }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    // Whether the whole of `topic` matches (Kafka's Matcher.matches()); false when !ok().
    [[nodiscard]] bool matches(std::string_view topic) const;

private:
    topic_regex() = default;
    std::unique_ptr<re2::RE2> re_;
    std::string error_;
};

} // namespace samsa::broker
