#!/usr/bin/env bash
# golden.sh — golden tests of metronc's printed output (p4c style).
#
#   golden.sh errors  METRONC DIR   every DIR/*.metron: `metronc check` must exit 1 (or the
#                                   status in a `// EXIT: N` line) and print exactly
#                                   NAME.metron-stderr on stderr
#   golden.sh samples METRONC DIR   every DIR/*.metron must check with exit 0 and print
#                                   exactly NAME-ast.txt / NAME-nfir.txt for --emit=ast|nfir
#                                   (and NAME.metron-stderr when it warns)
#   golden.sh synth   METRONC DIR   every DIR/*.metron: `metronc synth --emit=tc` prints
#                                   exactly NAME-tc.txt (and NAME.metron-stderr when it warns)
#   golden.sh split   METRONC DIR   every DIR/*.metron: `metronc synth --emit=split ARGS` (ARGS
#                                   name the device) prints exactly NAME-split.txt and
#                                   NAME.metron-stderr, exit 0 or the `// EXIT: N` status
#   golden.sh compile METRONC DIR   every DIR/*.metron: `metronc compile ARGS FILE -o OUT` (ARGS
#                                   name the topology) prints exactly NAME-compile.txt (OUT
#                                   shown as "OUT") and NAME.metron-stderr, exit 0 or the
#                                   `// EXIT: N` status, and OUT holds exactly the files of
#                                   NAME.out/ (plan.json, rules/*), byte for byte
#
# Extra arguments for a case go on a `// ARGS: ...` line in the .metron file. Commands run
# inside DIR with the bare file name, so paths in diagnostics are stable.
# METRONC_REPLACE=1 rewrites the expected files instead of comparing (review the diff!).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/tools/common.sh
source "$here/common.sh"
mode=$1 metronc=$(realpath "$2") dir=$3
cd "$dir" || exit 2
fail=0 count=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT


for f in *.metron; do
  [ -e "$f" ] || continue
  count=$((count + 1))
  name=${f%.metron}
  args=$(sed -n 's|^// ARGS: ||p' "$f" | head -1)
  want=$(sed -n 's|^// EXIT: ||p' "$f" | head -1)
  if [ "$mode" = errors ]; then
    want=${want:-1}
    # shellcheck disable=SC2086
    "$metronc" check --color=never $args "$f" > "$tmp/out" 2> "$tmp/err"; rc=$?
    if [ "$rc" != "$want" ]; then echo "FAIL $f: exit $rc, expected $want"; cat "$tmp/err"; fail=$((fail + 1)); continue; fi
    compare "$f-stderr" "$tmp/err" "$f" || fail=$((fail + 1))
  elif [ "$mode" = synth ]; then
    ok=1
    # shellcheck disable=SC2086
    "$metronc" synth --emit=tc $args "$f" > "$tmp/out" 2> "$tmp/err"; rc=$?
    if [ "$rc" != "${want:-0}" ]; then echo "FAIL $f: exit $rc for --emit=tc"; cat "$tmp/err"; ok=0; fi
    [ $ok = 1 ] && { compare "$name-tc.txt" "$tmp/out" "$f --emit=tc" || ok=0; }
    [ $ok = 1 ] && { compare "$f-stderr" "$tmp/err" "$f (stderr)" || ok=0; }
    [ $ok = 1 ] || fail=$((fail + 1))
  elif [ "$mode" = split ]; then
    # shellcheck disable=SC2086
    "$metronc" synth --emit=split $args "$f" > "$tmp/out" 2> "$tmp/err"; rc=$?
    if [ "$rc" != "${want:-0}" ]; then echo "FAIL $f: exit $rc, expected ${want:-0}"; cat "$tmp/err"; fail=$((fail + 1)); continue; fi
    ok=1
    compare "$name-split.txt" "$tmp/out" "$f (stdout)" || ok=0
    compare "$f-stderr" "$tmp/err" "$f (stderr)" || ok=0
    [ $ok = 1 ] || fail=$((fail + 1))
  elif [ "$mode" = compile ]; then
    rm -rf "$tmp/o"
    # shellcheck disable=SC2086
    "$metronc" compile --progress never $args "$f" -o "$tmp/o" > "$tmp/out0" 2> "$tmp/err"; rc=$?
    if [ "$rc" != "${want:-0}" ]; then echo "FAIL $f: exit $rc, expected ${want:-0}"; cat "$tmp/err"; fail=$((fail + 1)); continue; fi
    sed "s|$tmp/o|OUT|g" "$tmp/out0" > "$tmp/out"
    ok=1
    compare "$name-compile.txt" "$tmp/out" "$f (stdout)" || ok=0
    compare "$f-stderr" "$tmp/err" "$f (stderr)" || ok=0
    if [ "${METRONC_REPLACE:-0}" = 1 ]; then
      rm -rf "$name.out"
      if [ -d "$tmp/o" ]; then cp -r "$tmp/o" "$name.out"; rm -rf "$name.out/bin"; fi
    elif [ -d "$tmp/o" ] || [ -d "$name.out" ]; then
      # bin/ holds the data plane's object and executable (for this host): not golden, but the
      # executable plan.json names must be there and runnable.
      exe=$(sed -nE 's|^ *"executable": "(.*)",?$|\1|p' "$tmp/o/plan.json" 2>/dev/null)
      if [ -n "$exe" ] && [ ! -x "$tmp/o/$exe" ]; then echo "FAIL $f: plan.json names $exe, which is not an executable"; ok=0; fi
      got=$(cd "$tmp/o" 2>/dev/null && find . -type f -not -path './bin/*' | sort) wanted=$(cd "$name.out" 2>/dev/null && find . -type f | sort)
      if [ "$got" != "$wanted" ]; then
        echo "FAIL $f: output files differ from $name.out/:"; diff <(echo "$wanted") <(echo "$got"); ok=0
      else
        for g in $got; do compare "$name.out/$g" "$tmp/o/$g" "$f ($g)" || ok=0; done
      fi
    fi
    [ $ok = 1 ] || fail=$((fail + 1))
  else
    ok=1
    for stage in ast nfir; do
      # shellcheck disable=SC2086
      "$metronc" check --color=never $args --emit=$stage "$f" > "$tmp/out" 2> "$tmp/err"; rc=$?
      if [ "$rc" != "${want:-0}" ]; then echo "FAIL $f: exit $rc for --emit=$stage"; cat "$tmp/err"; ok=0; break; fi
      compare "$name-$stage.txt" "$tmp/out" "$f --emit=$stage" || ok=0
    done
    [ $ok = 1 ] && { compare "$f-stderr" "$tmp/err" "$f (stderr)" || ok=0; }
    [ $ok = 1 ] || fail=$((fail + 1))
  fi
done
if [ "$count" = 0 ]; then echo "no test cases in $dir"; exit 1; fi
echo "golden $mode: $((count - fail)) passed, $fail failed"
[ $fail = 0 ]
