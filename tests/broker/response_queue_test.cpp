// Tests broker/response_queue.cpp and deferred_response (broker/handler.h): the in-order
// release of responses that settle out of order, without sockets.
#include "broker/handler.h"
#include "broker/response_queue.h"

#include <doctest/doctest.h>

using namespace samsa::broker;
using samsa::protocol::output_buffer;

namespace {

output_buffer tagged(uint8_t tag) {
    output_buffer b;
    b.bytes = {tag};
    return b;
}

std::vector<uint8_t> tags(const std::vector<output_buffer>& frames) {
    std::vector<uint8_t> out;
    for (const auto& f : frames) out.push_back(f.bytes.at(0));
    return out;
}

} // namespace

TEST_CASE("response_queue: responses leave in request order even when later ones settle first") {
    int notified = 0;
    response_queue q([&] { ++notified; });
    auto a = q.push();
    auto b = q.push();
    auto c = q.push();
    std::vector<output_buffer> out;

    c->settle(response_slot::state::ready, tagged(3));
    b->settle(response_slot::state::ready, tagged(2));
    CHECK(notified == 2);
    CHECK(q.pop_ready(out) == response_queue::head_state::waiting);
    CHECK(out.empty());

    a->settle(response_slot::state::ready, tagged(1));
    CHECK(q.pop_ready(out) == response_queue::head_state::empty);
    CHECK(tags(out) == std::vector<uint8_t>{1, 2, 3});
    CHECK(q.size() == 0);
}

TEST_CASE("response_queue: a request without a response is skipped, a second answer ignored") {
    response_queue q([] {});
    auto a = q.push();
    auto b = q.push();
    a->settle(response_slot::state::no_response);
    b->settle(response_slot::state::ready, tagged(2));
    b->settle(response_slot::state::ready, tagged(9));
    std::vector<output_buffer> out;
    CHECK(q.pop_ready(out) == response_queue::head_state::empty);
    CHECK(tags(out) == std::vector<uint8_t>{2});
}

TEST_CASE("deferred_response: answers once, in order, and a dropped one fails its slot") {
    response_queue q([] {});
    auto first = q.push();
    auto second = q.push();
    deferred_response later(first);
    CHECK(later.pending());
    CHECK_FALSE(later.cancelled());
    second->settle(response_slot::state::ready, tagged(2));
    later.respond_frame(tagged(1));
    CHECK_FALSE(later.pending());
    std::vector<output_buffer> out;
    CHECK(q.pop_ready(out) == response_queue::head_state::empty);
    CHECK(tags(out) == std::vector<uint8_t>{1, 2});

    auto third = q.push();
    { deferred_response dropped(third); }
    out.clear();
    CHECK(q.pop_ready(out) == response_queue::head_state::failed);
}

TEST_CASE("deferred_response: a closed connection cancels it and runs its hook once") {
    int hooks = 0;
    deferred_response later;
    {
        response_queue q([] {});
        later = deferred_response(q.push());
        later.on_cancel([&] { ++hooks; });
        q.cancel_all();
        CHECK(hooks == 1);
        CHECK(later.cancelled());
    }
    later.respond_frame(tagged(1));  // harmless after the connection is gone
    CHECK(hooks == 1);
}
