#!/usr/bin/env bash
# test.sh — the README's second command (and CI's): install what is needed, build with
# AddressSanitizer + UndefinedBehaviorSanitizer (Debug), run every test with ctest, then build
# optimised and run the benchmarks (which print their tables and baselines).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)
bash scripts/install-deps.sh

echo "== build (Debug, ASan+UBSan)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMETRON_SANITIZE=ON > build-asan.configure.log 2>&1 \
  || { cat build-asan.configure.log; exit 1; }
ninja -C build-asan -j "$jobs"

echo "== tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan --output-on-failure -j "$jobs"

echo "== benchmarks (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMETRON_TESTS=ON -DMETRON_FUZZ=OFF > build.configure.log 2>&1 \
  || { cat build.configure.log; exit 1; }
ninja -C build -j "$jobs" metronc bench_check
build/tests/bench_check "${METRON_DATA_DIR:-$root/../shared/data}" 7
