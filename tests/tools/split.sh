#!/usr/bin/env bash
# split.sh — golden tests of the offload split (compiler/split), p4c style.
#
#   split.sh METRONC DIR   every DIR/*.metron runs as
#                            metronc synth --emit split ARGS NAME.metron
#                          (ARGS from its `// ARGS: ...` line, e.g. --device noviflow-1132);
#                          stdout must equal NAME-split.txt and stderr NAME.metron-stderr, and
#                          the exit status 0 or the one of a `// EXIT: N` line
#
# Commands run inside DIR with the bare file name, so paths in diagnostics are stable and a
# `--device data/x.toml` is found. METRONC_REPLACE=1 rewrites the expected files instead of
# comparing (review the diff!). Exits 77 (skipped) while `metronc synth` has no --device option.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/tools/common.sh
source "$here/common.sh"
metronc=$(realpath "$1") dir=$2
cd "$dir" || exit 2
if ! "$metronc" synth --help 2>/dev/null | grep -q -- '--device'; then
  echo "SKIP: metronc synth has no --device option yet"
  exit 77
fi
fail=0 count=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT


for f in *.metron; do
  [ -e "$f" ] || continue
  count=$((count + 1))
  name=${f%.metron}
  args=$(sed -n 's|^// ARGS: ||p' "$f" | head -1)
  want=$(sed -n 's|^// EXIT: ||p' "$f" | head -1)
  # shellcheck disable=SC2086
  "$metronc" synth --emit split $args "$f" > "$tmp/out" 2> "$tmp/err"; rc=$?
  if [ "$rc" != "${want:-0}" ]; then echo "FAIL $f: exit $rc, expected ${want:-0}"; cat "$tmp/err"; fail=$((fail + 1)); continue; fi
  ok=1
  compare "$name-split.txt" "$tmp/out" "$f (stdout)" || ok=0
  compare "$f-stderr" "$tmp/err" "$f (stderr)" || ok=0
  [ $ok = 1 ] || fail=$((fail + 1))
done
if [ "$count" = 0 ]; then echo "no test cases in $dir"; exit 1; fi
echo "golden split: $((count - fail)) passed, $fail failed"
[ $fail = 0 ]
