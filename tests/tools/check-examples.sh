#!/usr/bin/env bash
# check-examples.sh — every bundled example must check with exit 0 and no diagnostics at all.
set -u
metronc=$1 dir=$2
fail=0 n=0
for f in "$dir"/*.metron; do
  n=$((n + 1))
  if ! out=$("$metronc" check --color=never "$f" 2>&1); then echo "FAIL $f:"; echo "$out"; fail=$((fail + 1)); continue; fi
  if [ -n "$out" ]; then echo "FAIL $f: checks with diagnostics:"; echo "$out"; fail=$((fail + 1)); fi
done
[ $n -gt 0 ] || { echo "no examples found in $dir"; exit 1; }
echo "examples: $((n - fail)) passed, $fail failed"
[ $fail = 0 ]
