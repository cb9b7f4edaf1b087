#include "shared_models.h"

#include <mutex>
#include <thread>
#include <unordered_map>

namespace serval::binding {

namespace {

struct Table {
  std::mutex mu;
  std::unordered_map<uint64_t, std::shared_ptr<SharedModel>> models;
  uint64_t next = 1;
};

Table& Shared() {
  static Table* table = new Table();  // never destroyed: environments may tear down in any order at exit
  return *table;
}

}  // namespace

void SharedModel::Retire() {
  retired_.store(true, std::memory_order_seq_cst);
  // A caller inside holds it for one enqueue or cancel: microseconds.
  while (users_.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

uint64_t PublishSharedModel(std::shared_ptr<SharedModel> model) {
  Table& t = Shared();
  std::lock_guard<std::mutex> lock(t.mu);
  const uint64_t token = t.next++;
  t.models.emplace(token, std::move(model));
  return token;
}

std::shared_ptr<SharedModel> FindSharedModel(uint64_t token) {
  Table& t = Shared();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.models.find(token);
  return it == t.models.end() ? nullptr : it->second;
}

void WithdrawSharedModel(uint64_t token) {
  Table& t = Shared();
  std::lock_guard<std::mutex> lock(t.mu);
  t.models.erase(token);
}

}  // namespace serval::binding
