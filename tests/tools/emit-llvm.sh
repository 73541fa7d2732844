#!/usr/bin/env bash
# emit-llvm.sh — golden tests of the data plane's LLVM module (`metronc compile --emit llvm`,
# optimized, for this host): tests/codegen/NAME.metron against tests/codegen/NAME.ll. The first
# comment line starting with `// ARGS:` gives the compile options (topology, cores).
# METRONC_REPLACE=1 rewrites the expected files.
#
#   emit-llvm.sh METRONC
set -u
metronc=$(realpath "$1")
dir=$(cd "$(dirname "$0")/../codegen" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/common.sh"
pass=0 fail=0
cd "$dir"
for src in *.metron; do
  name=${src%.metron}
  args=$(sed -nE 's|^// ARGS: ||p' "$src" | head -1)
  # shellcheck disable=SC2086
  if ! "$metronc" compile "$src" $args -o "$tmp/out" --formats rte_flow --emit llvm > "$tmp/$name.ll" 2> "$tmp/err"; then
    echo "FAIL $name: compile failed"; cat "$tmp/err"; fail=$((fail + 1)); continue
  fi
  # The module must be what LLVM's own parser and verifier accept.
  if ! /usr/lib/llvm-14/bin/opt -verify -disable-output "$tmp/$name.ll" 2> "$tmp/err"; then
    echo "FAIL $name: opt -verify rejects the module"; cat "$tmp/err"; fail=$((fail + 1)); continue
  fi
  if compare "$name.ll" "$tmp/$name.ll" "$name"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "emit-llvm: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
