// A minimal unit-test harness for the native core (no third-party framework to install):
// TEST(name) registers a case, CHECK*/REQUIRE* record failures, main() runs every case and exits
// non-zero on any failure. One executable per test file, each registered with ctest.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace serval::testing {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& Cases() {
  static std::vector<Case> cases;
  return cases;
}

inline int& Failures() {
  static int failures = 0;
  return failures;
}

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { Cases().push_back({name, std::move(fn)}); }
};

struct RequireFailed {};

inline int RunAll() {
  int failed_cases = 0;
  for (auto& c : Cases()) {
    int before = Failures();
    try {
      c.fn();
    } catch (const RequireFailed&) {
    }
    bool ok = Failures() == before;
    if (!ok) ++failed_cases;
    std::printf("[%s] %s\n", ok ? "  OK  " : " FAIL ", c.name);
  }
  std::printf("%zu passed, %d failed\n", Cases().size() - failed_cases, failed_cases);
  return failed_cases ? 1 : 0;
}

}  // namespace serval::testing

#define SERVAL_CAT2(a, b) a##b
#define SERVAL_CAT(a, b) SERVAL_CAT2(a, b)
#define TEST(name)                                                                              \
  static void name();                                                                           \
  static ::serval::testing::Registrar SERVAL_CAT(reg_, name)(#name, name);                      \
  static void name()

#define CHECK(cond)                                                                             \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                    \
      ++::serval::testing::Failures();                                                          \
    }                                                                                           \
  } while (0)

#define CHECK_EQ(a, b)                                                                          \
  do {                                                                                          \
    auto va_ = (a);                                                                             \
    auto vb_ = (b);                                                                             \
    if (!(va_ == vb_)) {                                                                        \
      std::printf("  %s:%d: CHECK_EQ(%s, %s) failed: %s vs %s\n", __FILE__, __LINE__, #a, #b,   \
                  std::to_string(va_).c_str(), std::to_string(vb_).c_str());                    \
      ++::serval::testing::Failures();                                                          \
    }                                                                                           \
  } while (0)

#define REQUIRE(cond)                                                                           \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::printf("  %s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond);                  \
      ++::serval::testing::Failures();                                                          \
      throw ::serval::testing::RequireFailed{};                                                 \
    }                                                                                           \
  } while (0)

#define TEST_MAIN() \
  int main() { return ::serval::testing::RunAll(); }
