#!/usr/bin/env bash
# oracle.sh — ClassBench ground truth for synthesis: for every filter set in
# $METRON_DATA_DIR/classbench/pclasseval_song/ that has a trace, a chain with that set as its
# firewall must give, through `metronc explain --headers` (computed from the synthesized
# tables), the rule the trace's last column names for every header (1-based, 0 = no rule).
#
#   oracle.sh METRONC [small]
#
# With `small` (the sanitizer build), the 5K and 10K sets are left out; scripts/test.sh runs
# all 15 pairs on the Release build.
set -u
metronc=$(realpath "$1") only_small=${2:-}
data=${METRON_DATA_DIR:?set METRON_DATA_DIR to ../shared/data}/classbench/pclasseval_song
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pairs=0 failed=0 headers=0
for trace in "$data"/*_trace; do
  set=${trace%_trace}
  name=$(basename "$set")
  [ -f "$set" ] || continue
  case $name in *_5K|*_10K) [ -n "$only_small" ] && continue;; esac
  pairs=$((pairs + 1))
  cat > "$tmp/fw.metron" <<METRON
import classbench "$set" as rules;
nf firewall { rules rules action allow; default deny; }
chain oracle { in port0 -> firewall -> out port1; }
METRON
  if ! "$metronc" explain "$tmp/fw.metron" --headers "$trace" > "$tmp/out.jsonl" 2> "$tmp/err"; then
    echo "FAIL $name: explain failed"; cat "$tmp/err"; failed=$((failed + 1)); continue
  fi
  # The expected rule is the last column of the trace; the explained one is rules.firewall.
  # A rule that exists must also be the verdict: allow (egress) for a rule, deny for none.
  result=$(/usr/bin/python3 - "$trace" "$tmp/out.jsonl" <<'PY'
import json, sys
exp = [int(l.split()[-1]) for l in open(sys.argv[1]) if l.strip()]
got = [json.loads(l) for l in open(sys.argv[2])]
bad = []
if len(exp) != len(got):
    print(f"{len(got)} results for {len(exp)} headers"); sys.exit(0)
for i, (e, g) in enumerate(zip(exp, got)):
    verdict_ok = (g["verdict"] == "egress") == (e != 0)
    if g["rules"].get("firewall") != e or g["line"] != i + 1 or not verdict_ok:
        bad.append(f"line {i + 1}: trace says rule {e}, explain says {g['rules'].get('firewall')} ({g['verdict']})")
print(f"ok {len(exp)}" if not bad else f"{len(bad)} mismatches, first: " + "; ".join(bad[:3]))
PY
)
  case $result in
    ok*) headers=$((headers + ${result#ok })); echo "ok   $name: ${result#ok } headers";;
    *) echo "FAIL $name: $result"; failed=$((failed + 1));;
  esac
done
echo "oracle: $pairs rule set/trace pairs, $headers headers, $failed failed"
[ "$pairs" -gt 0 ] && [ "$failed" = 0 ]
