#!/usr/bin/env bash
# Builds the native core and its unit tests without Node and runs them under ctest: a plain release
# build, then AddressSanitizer and ThreadSanitizer builds (skip the sanitizers with SERVAL_SANITIZERS=0).
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=$(nproc 2>/dev/null || echo 2)

run() {
  local dir=$1; shift
  echo "== native tests: ${dir} $*"
  cmake -S . -B "${dir}" -DSERVAL_BUILD_TESTS=ON -DSERVAL_CUDA="${SERVAL_CUDA:-off}" "$@" >/dev/null
  cmake --build "${dir}" -j "${jobs}" >/dev/null
  (cd "${dir}" && ctest --output-on-failure -j "${jobs}")
}

run build-native -DCMAKE_BUILD_TYPE=Release
if [ "${SERVAL_SANITIZERS:-1}" != "0" ]; then
  run build-native-asan -DCMAKE_BUILD_TYPE=Debug -DSERVAL_SANITIZE=address
  # TSan needs a fixed address-space layout on newer kernels; setarch -R disables ASLR for the run.
  if setarch "$(uname -m)" -R true 2>/dev/null; then
    TSAN_WRAP="setarch $(uname -m) -R"
  else
    TSAN_WRAP=""
  fi
  echo "== native tests: build-native-tsan"
  cmake -S . -B build-native-tsan -DSERVAL_BUILD_TESTS=ON -DSERVAL_CUDA=off -DCMAKE_BUILD_TYPE=Debug -DSERVAL_SANITIZE=thread >/dev/null
  cmake --build build-native-tsan -j "${jobs}" >/dev/null
  (cd build-native-tsan && ${TSAN_WRAP} ctest --output-on-failure -j "${jobs}")
fi
