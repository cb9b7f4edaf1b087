// DynamicBatcher: Triton batching semantics, deadlines, queue limits, cancellation, close.
#include <atomic>
#include <cstring>
#include <thread>

#include "test_harness.h"
#include "test_support.h"

using namespace serval;
using namespace serval::testing;

namespace {
BatchingConfig Cfg(int64_t delay_us = 0, std::vector<uint32_t> preferred = {}) {
  BatchingConfig c;
  c.max_queue_delay_ns = delay_us * 1000;
  c.preferred_batch_sizes = std::move(preferred);
  return c;
}
constexpr int64_t kMs = 1000000;
}  // namespace

TEST(takes_everything_queued_up_to_max_when_no_delay) {
  BatcherFixture f(FloatModel(4), Cfg());
  for (int i = 0; i < 6; ++i) REQUIRE(f.Enqueue(FloatRequest(i)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->samples, 4u);
  CHECK_EQ(b->requests.size(), size_t(4));
  CHECK_EQ(b->inputs[0].dims[0], int64_t(4));
  f.Execute(b);
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->samples, 2u);
  f.Execute(b);
  CHECK_EQ(f.sink.WaitFor(6), size_t(6));
}

TEST(copies_inputs_contiguously_and_splits_outputs_back) {
  BatcherFixture f(FloatModel(8, 3), Cfg());
  REQUIRE(f.Enqueue(FloatRequest(1, 2, 3)).ok());
  REQUIRE(f.Enqueue(FloatRequest(2, 1, 3)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->inputs[0].byte_size, size_t(3 * 3 * 4));
  const float* in = reinterpret_cast<const float*>(b->inputs[0].buffer->data());
  CHECK(in[0] == 100.f && in[3] == 101.f && in[6] == 200.f);
  f.Execute(b);
  auto done = f.sink.Take();
  REQUIRE(done.size() == 2);
  for (auto& r : done) {
    REQUIRE(r->status.ok());
    const auto& o = r->outputs[0];
    CHECK_EQ(o.dims[0], int64_t(r->batch_size));
    const float* v = reinterpret_cast<const float*>(o.data());  // the executor's buffer is gone by now
    CHECK(v[0] == float(r->id * 100));
    if (r->batch_size == 2) CHECK(v[1] == float(r->id * 100 + 1));
  }
}

TEST(requests_of_one_batch_complete_to_their_own_sinks) {
  // Two JS environments (the main thread and an HTTP thread) share one batcher: each request goes back to
  // the sink it names, the others to the batcher's own, in arrival order.
  BatcherFixture f(FloatModel(8), Cfg());
  CollectingSink other;
  for (int i = 0; i < 6; ++i) {
    RequestPtr r = FloatRequest(i);
    if (i % 2) r->sink = &other;
    REQUIRE(f.Enqueue(std::move(r)).ok());
  }
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->requests.size(), size_t(6));
  f.Execute(b);
  auto mine = f.sink.Take();
  auto theirs = other.Take();
  REQUIRE(mine.size() == 3 && theirs.size() == 3);
  for (size_t k = 0; k < 3; ++k) {
    CHECK_EQ(mine[k]->id, uint64_t(2 * k));
    CHECK_EQ(theirs[k]->id, uint64_t(2 * k + 1));
    CHECK(theirs[k]->status.ok());
  }
  // Closing with requests queued: each refusal reaches its own sink too.
  RequestPtr queued = FloatRequest(9);
  queued->sink = &other;
  REQUIRE(f.Enqueue(std::move(queued)).ok());
  f.batcher->Close(false);
  CHECK_EQ(other.WaitFor(1), size_t(1));
  CHECK_EQ(f.sink.size(), size_t(0));
}

TEST(waits_max_queue_delay_for_more_requests) {
  BatcherFixture f(FloatModel(8), Cfg(30000));  // 30 ms
  REQUIRE(f.Enqueue(FloatRequest(1)).ok());
  const Batch* b = nullptr;
  int64_t t0 = NowNs();
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    f.Enqueue(FloatRequest(2));
  });
  auto res = f.batcher->NextBatch(1000 * kMs, &b);
  int64_t waited = NowNs() - t0;
  late.join();
  REQUIRE(res == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->samples, 2u);      // the late request joined
  CHECK(waited >= 29 * kMs);     // the delay was honoured
  CHECK(waited < 500 * kMs);
  f.Execute(b);
}

TEST(sends_at_once_when_largest_preferred_size_reached) {
  BatcherFixture f(FloatModel(16), Cfg(1000000, {2, 4}));  // 1 s delay
  for (int i = 0; i < 4; ++i) REQUIRE(f.Enqueue(FloatRequest(i)).ok());
  const Batch* b = nullptr;
  int64_t t0 = NowNs();
  REQUIRE(f.batcher->NextBatch(2000 * kMs, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK(NowNs() - t0 < 100 * kMs);
  CHECK_EQ(b->samples, 4u);
  f.Execute(b);
}

TEST(sends_largest_preferred_size_reached_leaving_the_rest) {
  BatcherFixture f(FloatModel(16), Cfg(1000000, {2, 4, 8}));
  for (int i = 0; i < 5; ++i) REQUIRE(f.Enqueue(FloatRequest(i)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->samples, 4u);
  f.Execute(b);
}

TEST(sends_what_is_there_when_delay_expires) {
  BatcherFixture f(FloatModel(16), Cfg(20000, {4}));  // 20 ms
  for (int i = 0; i < 3; ++i) REQUIRE(f.Enqueue(FloatRequest(i)).ok());
  const Batch* b = nullptr;
  CHECK(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kTimeout);  // not yet
  REQUIRE(f.batcher->NextBatch(1000 * kMs, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->samples, 3u);
  f.Execute(b);
}

TEST(multi_row_requests_count_rows_and_never_split) {
  BatcherFixture f(FloatModel(4), Cfg());
  REQUIRE(f.Enqueue(FloatRequest(1, 3)).ok());
  REQUIRE(f.Enqueue(FloatRequest(2, 3)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->samples, 3u);
  CHECK_EQ(b->requests.size(), size_t(1));
  f.Execute(b);
  CHECK(f.Enqueue(FloatRequest(3, 5)).code() == StatusCode::kInvalidInput);  // over max_batch_size
}

TEST(different_shapes_go_to_different_batches) {
  BatcherFixture f(FloatModel(8, -1), Cfg());
  REQUIRE(f.Enqueue(FloatRequest(1, 1, 2)).ok());
  REQUIRE(f.Enqueue(FloatRequest(2, 1, 3)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->requests.size(), size_t(1));
  CHECK_EQ(b->inputs[0].dims[1], int64_t(2));
  f.Execute(b);
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->inputs[0].dims[1], int64_t(3));
  f.Execute(b);
}

TEST(higher_priority_requests_are_batched_first) {
  BatchingConfig c = Cfg();
  c.priority_levels = 3;
  c.default_priority_level = 2;
  BatcherFixture f(FloatModel(2), c);
  REQUIRE(f.Enqueue(FloatRequest(1, 1, 2, 3)).ok());
  REQUIRE(f.Enqueue(FloatRequest(2, 1, 2, 0)).ok());  // default → 2
  REQUIRE(f.Enqueue(FloatRequest(3, 1, 2, 1)).ok());
  REQUIRE(f.Enqueue(FloatRequest(4, 1, 2, 9)).ok());  // out of range → default 2
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  REQUIRE(b->requests.size() == 2);
  CHECK_EQ(b->requests[0]->id, uint64_t(3));
  CHECK_EQ(b->requests[1]->id, uint64_t(2));
  f.Execute(b);
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(b->requests[0]->id, uint64_t(4));
  CHECK_EQ(b->requests[1]->id, uint64_t(1));
  f.Execute(b);
}

TEST(queue_full_rejects_and_counts_per_level) {
  BatchingConfig c = Cfg();
  c.queue_policies.resize(1);
  c.queue_policies[0].max_queue_size = 2;
  BatcherFixture f(FloatModel(4), c);
  REQUIRE(f.Enqueue(FloatRequest(1)).ok());
  REQUIRE(f.Enqueue(FloatRequest(2)).ok());
  RequestPtr third = FloatRequest(3);
  Status s = f.batcher->Enqueue(third);
  CHECK(s.code() == StatusCode::kQueueFull);
  CHECK(third != nullptr);  // ownership stays with the caller on failure
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  f.Execute(b);
  CHECK(f.Enqueue(FloatRequest(4)).ok());  // room again
}

TEST(expired_request_is_rejected_at_its_deadline_while_executor_is_busy) {
  BatchingConfig c = Cfg();
  c.queue_policies.resize(1);
  c.queue_policies[0].default_timeout_ns = 20 * kMs;
  BatcherFixture f(FloatModel(1), c);
  REQUIRE(f.Enqueue(FloatRequest(1)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);  // executor now "busy"
  int64_t t0 = NowNs();
  REQUIRE(f.Enqueue(FloatRequest(2)).ok());
  REQUIRE(f.sink.WaitFor(1, 2000) == 1);  // completes without the executor asking for a batch
  int64_t took = NowNs() - t0;
  auto done = f.sink.Take();
  CHECK(done[0]->id == 2);
  CHECK(done[0]->status.code() == StatusCode::kTimeout);
  CHECK(took >= 19 * kMs);
  CHECK(took < 200 * kMs);
  f.Execute(b);
}

TEST(request_timeout_applies_when_model_sets_none_and_override_rules) {
  BatchingConfig c = Cfg();
  c.queue_policies.resize(1);
  BatcherFixture f(FloatModel(1), c);
  RequestPtr r = FloatRequest(1);
  r->timeout_ns = 5 * kMs;
  REQUIRE(f.batcher->Enqueue(r).ok());
  CHECK_EQ(f.sink.WaitFor(1, 2000), size_t(1));
  CHECK(f.sink.Take()[0]->status.code() == StatusCode::kTimeout);

  BatchingConfig c2 = Cfg();
  c2.queue_policies.resize(1);
  c2.queue_policies[0].default_timeout_ns = 1000 * kMs;
  c2.queue_policies[0].allow_timeout_override = false;
  BatcherFixture g(FloatModel(1), c2);
  RequestPtr r2 = FloatRequest(2);
  r2->timeout_ns = 5 * kMs;  // ignored: override not allowed
  REQUIRE(g.batcher->Enqueue(r2).ok());
  CHECK_EQ(g.sink.WaitFor(1, 100), size_t(0));
}

TEST(delay_action_keeps_expired_requests_behind_others) {
  BatchingConfig c = Cfg();
  c.priority_levels = 2;
  c.default_priority_level = 1;
  c.queue_policies.resize(2);
  c.queue_policies[0].default_timeout_ns = 5 * kMs;
  c.queue_policies[0].delay_on_timeout = true;
  BatcherFixture f(FloatModel(1), c);
  REQUIRE(f.Enqueue(FloatRequest(1, 1, 2, 1)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  RequestPtr fresh = FloatRequest(2, 1, 2, 1);
  fresh->timeout_ns = 0;
  REQUIRE(f.Enqueue(std::move(fresh)).ok());
  REQUIRE(f.Enqueue(FloatRequest(3, 1, 2, 2)).ok());
  const Batch* b = nullptr;
  std::vector<uint64_t> order;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
    order.push_back(b->requests[0]->id);
    f.Execute(b);
  }
  // The expired level-1 request went behind the fresh level-1 one, but stays ahead of level 2.
  CHECK_EQ(order[0], uint64_t(2));
  CHECK_EQ(order[1], uint64_t(1));
  CHECK_EQ(order[2], uint64_t(3));
  for (auto& r : f.sink.Take()) CHECK(r->status.ok());
}

TEST(cancel_removes_a_queued_request) {
  BatcherFixture f(FloatModel(4), Cfg());
  RequestPtr r = FloatRequest(7);
  r->cancellable = true;
  REQUIRE(f.batcher->Enqueue(r).ok());
  CHECK(f.batcher->Cancel(7));
  CHECK(!f.batcher->Cancel(7));
  auto done = f.sink.Take();
  REQUIRE(done.size() == 1);
  CHECK(done[0]->status.code() == StatusCode::kCancelled);
  CHECK_EQ(f.batcher->counters().queued_requests.load(), 0u);
}

TEST(close_with_drain_serves_queue_then_reports_closed) {
  BatcherFixture f(FloatModel(2), Cfg());
  for (int i = 0; i < 3; ++i) REQUIRE(f.Enqueue(FloatRequest(i)).ok());
  f.batcher->Close(true);
  CHECK(f.Enqueue(FloatRequest(9)).code() == StatusCode::kClosed);
  const Batch* b = nullptr;
  int served = 0;
  while (f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch) {
    served += b->samples;
    f.Execute(b);
  }
  CHECK_EQ(served, 3);
  CHECK(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kClosed);
  CHECK(f.batcher->Drained());
}

TEST(close_without_drain_rejects_queued_requests) {
  BatcherFixture f(FloatModel(2), Cfg());
  for (int i = 0; i < 3; ++i) REQUIRE(f.Enqueue(FloatRequest(i)).ok());
  f.batcher->Close(false);
  auto done = f.sink.Take();
  CHECK_EQ(done.size(), size_t(3));
  for (auto& r : done) CHECK(r->status.code() == StatusCode::kClosed);
}

TEST(failed_inflight_batch_fails_only_its_requests) {
  BatcherFixture f(FloatModel(2), Cfg());
  for (int i = 0; i < 3; ++i) REQUIRE(f.Enqueue(FloatRequest(i)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  f.batcher->FailInflight(0, Status(StatusCode::kExecutionFailed, "executor died"));
  auto done = f.sink.Take();
  CHECK_EQ(done.size(), size_t(2));
  for (auto& r : done) CHECK(r->status.code() == StatusCode::kExecutionFailed);
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);  // the third still runs
  f.Execute(b);
  auto rest = f.sink.Take();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0]->status.ok());
}

TEST(malformed_outputs_fail_the_batch_with_execution_failed) {
  BatcherFixture f(FloatModel(4), Cfg());
  REQUIRE(f.Enqueue(FloatRequest(1)).ok());
  REQUIRE(f.Enqueue(FloatRequest(2)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  float one = 1;
  OutputView v;
  v.dtype = DType::kFp32;
  v.dims = {1, 1};  // wrong batch dimension
  v.data = reinterpret_cast<const uint8_t*>(&one);
  v.byte_size = 4;
  CHECK(f.batcher->CompleteBatch(b->id, {v}).code() == StatusCode::kExecutionFailed);
  for (auto& r : f.sink.Take()) CHECK(r->status.code() == StatusCode::kExecutionFailed);
}

TEST(bytes_outputs_split_by_element) {
  ModelSpec s = FloatModel(4);
  s.outputs[0].dtype = DType::kBytes;
  BatcherFixture f(s, Cfg());
  REQUIRE(f.Enqueue(FloatRequest(1, 2)).ok());
  REQUIRE(f.Enqueue(FloatRequest(2, 1)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  std::vector<uint8_t> blob;
  for (std::string str : {"a", "bc", "def"}) {
    uint32_t n = str.size();
    for (int k = 0; k < 4; ++k) blob.push_back((n >> (8 * k)) & 0xff);
    blob.insert(blob.end(), str.begin(), str.end());
  }
  OutputView v;
  v.dtype = DType::kBytes;
  v.dims = {3, 1};
  v.data = blob.data();
  v.byte_size = blob.size();
  REQUIRE(f.batcher->CompleteBatch(b->id, {v}).ok());
  auto done = f.sink.Take();
  REQUIRE(done.size() == 2);
  CHECK_EQ(done[0]->outputs[0].byte_size, size_t(4 + 1 + 4 + 2));
  CHECK_EQ(done[1]->outputs[0].byte_size, size_t(4 + 3));
  CHECK(std::memcmp(done[1]->outputs[0].data(), blob.data() + 11, 7) == 0);
}

TEST(large_outputs_of_one_batch_share_one_arena_small_ones_are_copied) {
  ModelSpec s = FloatModel(4);
  s.outputs.push_back({"second", DType::kFp32, {1}});
  s.outputs.push_back({"small", DType::kFp32, {1}});
  BatcherFixture f(s, Cfg());
  REQUIRE(f.Enqueue(FloatRequest(1, 1)).ok());
  RequestPtr not_first = FloatRequest(2, 2);
  not_first->output_mask = 6;
  REQUIRE(f.Enqueue(std::move(not_first)).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(0, &b) == DynamicBatcher::WaitResult::kBatch);
  // 3 samples of 2731 floats: 32772 bytes, at least kOutputArenaMinBytes; the second starts at 32776.
  const int64_t width = 2731;
  std::vector<float> first(3 * width), second(3 * width), small = {7, 8, 9};
  for (size_t k = 0; k < first.size(); ++k) first[k] = float(k), second[k] = float(100000 + k);
  std::vector<OutputView> views(3);
  for (size_t o = 0; o < 3; ++o) {
    const std::vector<float>& src = o == 0 ? first : o == 1 ? second : small;
    views[o].dtype = DType::kFp32;
    views[o].dims = {3, o == 2 ? 1 : width};
    views[o].data = reinterpret_cast<const uint8_t*>(src.data());
    views[o].byte_size = src.size() * sizeof(float);
  }
  REQUIRE(f.batcher->CompleteBatch(b->id, views).ok());
  first.assign(first.size(), 0);
  second.assign(second.size(), 0);
  small.assign(3, 0);
  auto done = f.sink.Take();
  REQUIRE(done.size() == 2);
  const OutputData& a0 = done[0]->outputs[0];
  const OutputData& a1 = done[0]->outputs[1];
  const OutputData& b1 = done[1]->outputs[1];
  const OutputData& b2 = done[1]->outputs[2];
  CHECK(done[1]->outputs[0].dtype == DType::kInvalid && !done[1]->outputs[0].arena);  // not requested
  CHECK(a0.arena && a0.arena == a1.arena && a1.arena == b1.arena);
  CHECK_EQ(a0.arena->size, size_t(32776 * 2));
  CHECK_EQ(a0.offset, size_t(0));
  CHECK_EQ(a1.offset, size_t(32776));
  CHECK_EQ(b1.offset, size_t(32776 + width * 4));
  CHECK_EQ(b1.byte_size, size_t(2 * width * 4));
  CHECK_EQ(b1.dims[0], int64_t(2));
  const float* v = reinterpret_cast<const float*>(b1.data());
  CHECK(v[0] == float(100000 + width) && v[2 * width - 1] == float(100000 + 3 * width - 1));
  CHECK(reinterpret_cast<const float*>(a0.data())[width - 1] == float(width - 1));
  CHECK(!b2.arena && b2.byte_size == 8 && b2.bytes.size() == 8);
  CHECK(reinterpret_cast<const float*>(b2.data())[1] == 9.f);
}

TEST(concurrent_producers_and_executor_lose_nothing) {
  BatcherFixture f(FloatModel(16), Cfg(100));
  std::atomic<bool> stop{false};
  std::thread executor([&] {
    const Batch* b = nullptr;
    while (!stop.load()) {
      if (f.batcher->NextBatch(2 * kMs, &b) == DynamicBatcher::WaitResult::kBatch) f.Execute(b);
    }
  });
  constexpr int kPerThread = 2000;
  std::vector<std::thread> producers;
  for (int t = 0; t < 3; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        RequestPtr r = FloatRequest(t * kPerThread + i);
        r->timeout_ns = (i % 7 == 0) ? 1000 : 0;  // some expire
        while (!f.batcher->Enqueue(r).ok()) {}
      }
    });
  }
  for (auto& p : producers) p.join();
  CHECK_EQ(f.sink.WaitFor(3 * kPerThread, 10000), size_t(3 * kPerThread));
  stop = true;
  executor.join();
}

TEST(idle_spin_takes_work_that_arrives_and_still_times_out) {
  BatchingConfig c = Cfg();
  c.idle_spin_ns = 2 * kMs;
  BatcherFixture f(FloatModel(4), c);
  const Batch* b = nullptr;
  int64_t t0 = NowNs();
  CHECK(f.batcher->NextBatch(10 * kMs, &b) == DynamicBatcher::WaitResult::kTimeout);  // nothing came
  CHECK(NowNs() - t0 >= 9 * kMs);
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::microseconds(500));  // within the spin
    f.Enqueue(FloatRequest(1));
  });
  REQUIRE(f.batcher->NextBatch(1000 * kMs, &b) == DynamicBatcher::WaitResult::kBatch);
  late.join();
  CHECK_EQ(b->requests[0]->id, uint64_t(1));
  f.Execute(b);
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // after the spin: the sleeping path
    f.Enqueue(FloatRequest(2));
  });
  REQUIRE(f.batcher->NextBatch(1000 * kMs, &b) == DynamicBatcher::WaitResult::kBatch);
  later.join();
  CHECK_EQ(b->requests[0]->id, uint64_t(2));
  f.Execute(b);
}

TEST_MAIN()
