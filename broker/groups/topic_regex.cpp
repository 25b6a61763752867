#include "broker/groups/topic_regex.h"

#include <re2/re2.h>

namespace samsa::broker {

namespace {
// Far below RE2's default of 8 MiB: a 16 KB literal fits and compiles in a few milliseconds; the
// default takes patterns over a megabyte that cost 0.2 s each.
constexpr int64_t max_program_bytes = 256 << 10;
} // namespace

topic_regex topic_regex::compile(std::string_view pattern) {
    RE2::Options options;
    options.set_log_errors(false);  // a client's mistake is answered, not logged
    options.set_max_mem(max_program_bytes);
    topic_regex out;
    out.re_ = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
    if (!out.re_->ok()) {
        out.error_ = out.re_->error();
        out.re_.reset();
    }
    return out;
}

topic_regex::topic_regex(topic_regex&&) noexcept = default;
topic_regex& topic_regex::operator=(topic_regex&&) noexcept = default;
topic_regex::~topic_regex() = default;

bool topic_regex::matches(std::string_view topic) const {
    return re_ && RE2::FullMatch(re2::StringPiece(topic.data(), topic.size()), *re_);
}

} // namespace samsa::broker
