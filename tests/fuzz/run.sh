#!/usr/bin/env bash
# run.sh — build the libFuzzer targets with clang and run each for a fixed number of inputs.
# Seeds: the examples, the error cases, the real data files and captures, the device profiles,
# the example topologies.
# A crash is kept as BUILD_DIR/crash-TARGET-<sha1> (the scratch corpus is removed on exit).
# Usage: run.sh SRC_ROOT BUILD_DIR [RUNS]
set -euo pipefail
root=$1 build=$2 runs=${3:-30000}
cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 > "$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
ninja -C "$build" > "$build.build.log" 2>&1 || { tail -50 "$build.build.log"; exit 1; }

corpus=$(mktemp -d); trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/parser" "$corpus/import" "$corpus/pcap" "$corpus/profile" "$corpus/topology"
cp "$root"/examples/*.metron "$root"/tests/errors/*.metron "$root"/tests/samples/*.metron "$corpus/parser/" 2>/dev/null || true
data=${METRON_DATA_DIR:-$root/../shared/data}
# Importer seeds: a selector byte, then the head of a real file of that kind.
i=0
for f in "$data/classbench/pclasseval_song/fw1_100" "$data/classbench/neurocuts/fw1_1k" "$root/tests/errors/data/bad.cb"; do
  { printf '\x00'; head -c 4000 "$f"; } > "$corpus/import/cb$i"; i=$((i + 1)); done
for f in "$data/routing/derived/internet2_atla_ipv4.txt" "$data/routing/stanford_backbone/bbra_rtr_route.txt" "$root/tests/errors/data/bad-routes.txt"; do
  { printf '\x01'; head -c 4000 "$f"; } > "$corpus/import/rt$i"; i=$((i + 1)); done
for f in "$data/dpi/hsbench_samples/snort_literals" "$data/dpi/hsbench_samples/snort_pcres"; do
  { printf '\x02'; head -c 4000 "$f"; } > "$corpus/import/pt$i"; i=$((i + 1)); done
# Capture seeds: the real captures of at most 1 MiB (fuzz_pcap reads only the first -max_len
# bytes of each). Device-profile seeds: the built-in profiles.
if [ -d "$data/pcap" ]; then
  find "$data/pcap" -type f \( -name '*.pcap' -o -name '*.pcapng' \) -size -1048577c -print0 |
    while IFS= read -r -d '' f; do cp "$f" "$corpus/pcap/$(basename "$(dirname "$f")")-$(basename "$f")"; done
fi
cp "$root"/targets/profiles/*.toml "$corpus/profile/"
cp "$root"/examples/*.toml "$corpus/topology/"

cd "$corpus"   # relative imports found by the fuzzer resolve inside the scratch dir
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1
"$build/fuzz_parser" -runs="$runs" -seed=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_parser-" -dict="$root/tests/fuzz/metron.dict" -print_final_stats=1 "$corpus/parser" 2>&1 | tail -15
"$build/fuzz_import" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_import-" -print_final_stats=1 "$corpus/import" 2>&1 | tail -15
# 128 KiB: room for a record over PcapReader::kMaxFrameBytes (65553) after the file header.
"$build/fuzz_pcap" -runs="$runs" -seed=1 -max_len=131072 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_pcap-" -print_final_stats=1 "$corpus/pcap" 2>&1 | tail -15
"$build/fuzz_profile" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_profile-" -print_final_stats=1 "$corpus/profile" 2>&1 | tail -15
"$build/fuzz_topology" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_topology-" -print_final_stats=1 "$corpus/topology" 2>&1 | tail -15
echo "fuzz: 5 passed, 0 failed"
