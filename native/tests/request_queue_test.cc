// RequestQueue: priority order, removal from the middle, deadline index.
#include "request_queue.h"
#include "test_harness.h"
#include "test_support.h"

using namespace serval;
using namespace serval::testing;

namespace {
RequestPtr Req(uint64_t id, uint32_t level, int64_t deadline = 0) {
  RequestPtr r = FloatRequest(id);
  r->priority_level = level;
  r->deadline_ns = deadline;
  return r;
}
}  // namespace

TEST(front_is_highest_priority_oldest) {
  RequestQueue q(3);
  q.Push(Req(1, 3));
  q.Push(Req(2, 2));
  q.Push(Req(3, 2));
  q.Push(Req(4, 1));
  std::vector<uint64_t> order;
  for (InferenceRequest* r = q.Front(); r; r = q.After(r)) order.push_back(r->id);
  CHECK(order == std::vector<uint64_t>({4, 2, 3, 1}));
  CHECK_EQ(q.size(), size_t(4));
  CHECK_EQ(q.size(2), size_t(2));
  CHECK_EQ(q.samples(), uint64_t(4));
}

TEST(remove_from_the_middle_keeps_links) {
  RequestQueue q(1);
  q.Push(Req(1, 1));
  q.Push(Req(2, 1));
  q.Push(Req(3, 1));
  InferenceRequest* mid = q.After(q.Front());
  RequestPtr r = q.Remove(mid);
  CHECK_EQ(r->id, uint64_t(2));
  CHECK_EQ(q.Front()->id, uint64_t(1));
  CHECK_EQ(q.After(q.Front())->id, uint64_t(3));
  CHECK(q.After(q.After(q.Front())) == nullptr);
}

TEST(take_expired_returns_due_requests_only) {
  RequestQueue q(2);
  q.Push(Req(1, 1, 100));
  q.Push(Req(2, 2, 50));
  q.Push(Req(3, 1, 0));
  q.Push(Req(4, 2, 300));
  CHECK_EQ(q.EarliestDeadline(), int64_t(50));
  auto expired = q.TakeExpired(100);
  CHECK_EQ(expired.size(), size_t(2));
  CHECK_EQ(q.size(), size_t(2));
  CHECK_EQ(q.EarliestDeadline(), int64_t(300));
  auto all = q.TakeAll();
  CHECK_EQ(all.size(), size_t(2));
  CHECK(q.empty());
}

TEST(delayed_requests_go_behind_their_level_only) {
  RequestQueue q(2);
  RequestPtr late = Req(1, 1);
  late->expired_delayed = true;
  q.Push(std::move(late));
  q.Push(Req(2, 1));
  q.Push(Req(3, 2));
  std::vector<uint64_t> order;
  for (InferenceRequest* r = q.Front(); r; r = q.After(r)) order.push_back(r->id);
  CHECK(order == std::vector<uint64_t>({2, 1, 3}));
}

TEST_MAIN()
