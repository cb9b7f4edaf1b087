#include "inference_request.h"

#include <utility>

namespace serval {

void DeliverCompletions(CompletionSink* fallback, std::vector<RequestPtr> done) {
  if (done.empty()) return;
  CompletionSink* first = done.front()->sink ? done.front()->sink : fallback;
  bool one_sink = true;
  for (const auto& r : done) {
    if ((r->sink ? r->sink : fallback) != first) {
      one_sink = false;
      break;
    }
  }
  if (one_sink) {  // the common case: every request of the batch came from one environment
    first->Complete(std::move(done));
    return;
  }
  // Several callers share the batch: one group per sink, each in arrival order. Few sinks: a linear scan.
  std::vector<std::pair<CompletionSink*, std::vector<RequestPtr>>> groups;
  for (auto& r : done) {
    CompletionSink* s = r->sink ? r->sink : fallback;
    auto it = groups.begin();
    while (it != groups.end() && it->first != s) ++it;
    if (it == groups.end()) {
      groups.emplace_back(s, std::vector<RequestPtr>());
      it = groups.end() - 1;
    }
    it->second.push_back(std::move(r));
  }
  for (auto& [sink, requests] : groups) sink->Complete(std::move(requests));
}

}  // namespace serval
