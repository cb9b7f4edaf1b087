#include "instance_registry.h"

#include <mutex>
#include <unordered_map>

namespace serval {

namespace {
struct Table {
  std::mutex mu;
  uint64_t next = 1;
  std::unordered_map<uint64_t, std::weak_ptr<DynamicBatcher>> entries;
};

Table& table() {
  static Table* t = new Table();  // never destroyed: executors may look up during process exit
  return *t;
}
}  // namespace

uint64_t InstanceRegistry::Register(const std::shared_ptr<DynamicBatcher>& batcher) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  uint64_t token = t.next++;
  t.entries.emplace(token, batcher);
  return token;
}

void InstanceRegistry::Unregister(uint64_t token) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  t.entries.erase(token);
}

std::shared_ptr<DynamicBatcher> InstanceRegistry::Find(uint64_t token) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.entries.find(token);
  return it == t.entries.end() ? nullptr : it->second.lock();
}

}  // namespace serval
