#!/usr/bin/env bash
# test.sh — the README's second command (and CI's): install what is needed, build with
# AddressSanitizer + UndefinedBehaviorSanitizer (Debug), run every test with ctest, then build
# optimised, re-run the hostile-input tests there (where memory limits can apply: ASan needs
# terabytes of address space) and run the benchmarks, which print their tables and baselines.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)
data=${METRON_DATA_DIR:-$root/../shared/data}
bash scripts/install-deps.sh

echo "== build (Debug, ASan+UBSan)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMETRON_SANITIZE=ON -DMETRON_TESTS=ON > build-asan.configure.log 2>&1 \
  || { cat build-asan.configure.log; exit 1; }
ninja -C build-asan -j "$jobs"

echo "== tests (ASan+UBSan)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan --output-on-failure -j "$jobs" | tee build-asan.ctest.log || true
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' build-asan.ctest.log | tail -1)
total=$(sed -E 's/.* out of ([0-9]+)/\1/' <<< "$summary")
failed=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<< "$summary")

echo "== build (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMETRON_TESTS=ON -DMETRON_FUZZ=OFF > build.configure.log 2>&1 \
  || { cat build.configure.log; exit 1; }
ninja -C build -j "$jobs" metronc metron-agent bench_check bench_synth bench_targets metron-diff metron-mkpcap \
  metron-pcapdiff dataplane_harness

echo "== differential and oracle tests at full size (Release): synthesized tables and the compiled data plane vs the reference interpreter, and ClassBench"
ctest --test-dir build --output-on-failure -j "$jobs" -R '^(diff|oracle)\.' | tee build.diff.log || true
dsummary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' build.diff.log | tail -1)
total=$((total + $(sed -E 's/.* out of ([0-9]+)/\1/' <<< "$dsummary")))
failed=$((failed + $(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<< "$dsummary")))

echo "== hostile inputs (Release, 2 GiB address-space limit)"
bash tests/hostile/run.sh build/metronc
total=$((total + 1))

echo "== benchmarks (Release)"
build/tests/bench_check "$data" 7
total=$((total + 1))
echo
build/tests/bench_synth "$data" 5
total=$((total + 1))
echo
build/tests/bench_targets "$data" 5
total=$((total + 1))
echo
bash tests/bench/bench-ovs-install.sh build/metronc . || failed=$((failed + 1))
total=$((total + 1))
echo
bash tests/bench/bench-dataplane.sh build || failed=$((failed + 1))
total=$((total + 1))
echo
bash tests/bench/bench-placement.sh build/metronc || failed=$((failed + 1))
total=$((total + 1))
echo
bash tests/bench/bench-deploy.sh build/metronc build/metron-agent . || failed=$((failed + 1))
total=$((total + 1))

echo
echo "tests: $((total - failed)) passed, $failed failed"
[ "$failed" = 0 ]
