#!/usr/bin/env bash
# suricata-verify.sh — DPI alert counts against the suricata-verify cases in
# $METRON_DATA_DIR/dpi/suricata_verify/*: each case's test.rules is imported as it is (`import
# patterns`, which reads Suricata rules: man/metron-lang.7, IMPORTS), a chain `dpi` runs the
# case's capture in the compiled data plane and in the reference interpreter, and the alerts
# (one per rule and packet, as Suricata counts them) must equal the count of the checks of the
# case's test.yaml that filter on event_type alert; a check that names a signature is also run
# with that rule alone (reference interpreter), whose alerts must equal its count. A case whose rules the importer refuses
# (application-layer protocols and buffers) is listed as not applicable with metronc's first
# error, which must name what it refused.
#
#   suricata-verify.sh METRONC
set -u
metronc=$(realpath "$1")
data=${METRON_DATA_DIR:?set METRON_DATA_DIR to ../shared/data}/dpi/suricata_verify
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 checked=0
for case in "$data"/*/; do
  name=$(basename "$case")
  [ -f "$case/test.rules" ] || continue
  pcap=$(ls "$case"/*.pcap | head -1)
  cat > "$tmp/$name.metron" <<METRON
import patterns "$case/test.rules" as rules;
nf ids stateful { dpi rules; }
chain c { in port0 -> ids -> out port1; }
METRON
  if ! "$metronc" check "$tmp/$name.metron" > /dev/null 2> "$tmp/check.err"; then
    why=$(grep -m1 -o 'error: .*' "$tmp/check.err" | sed -E 's/^error: //; s/ \[import-malformed\]$//')
    case $why in
      *"is not supported"*) echo "$name: not applicable: ${why}";;
      *) echo "FAIL $name: the rules are refused without naming what is unsupported: ${why:-?}"; fail=$((fail + 1));;
    esac
    continue
  fi
  # Expected alerts: the count of every check filtering on event_type alert.
  expected=$(/usr/bin/python3 - "$case/test.yaml" <<'PY'
import re, sys
y = open(sys.argv[1]).read()
print(sum(int(c) for c in re.findall(r'count:\s*(\d+)\s*\n\s*match:\s*\n\s*event_type:\s*alert', y)))
PY
)
  checked=$((checked + 1))
  ref=$("$metronc" run --reference "$tmp/$name.metron" --pcap "$pcap" --out "$tmp/r.pcap" --stats --stats-format json 2>/dev/null |
        /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(v for n in j["nfs"] for k,v in n["elements"].items() if k.endswith(".alerts")))')
  got=$("$metronc" run "$tmp/$name.metron" --pcap "$pcap" --out "$tmp/o.pcap" --stats --stats-format json 2>/dev/null |
        /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(s["counters"].get("alerts",0) for s in j["stateful"]))')
  # The checks that name a signature: that rule alone, in the reference interpreter, must give
  # the count (a total can hide a rule that fires wrongly behind one that fails to).
  sidfail=0 sids=0
  while read -r count sid; do
    [ -n "$sid" ] || continue
    sids=$((sids + 1))
    grep -E "^[^#]*[(; ]sid: *$sid *;" "$case/test.rules" > "$tmp/one.rules"
    sed "s#\"$case/test.rules\"#\"$tmp/one.rules\"#" "$tmp/$name.metron" > "$tmp/one.metron"
    one=$("$metronc" run --reference "$tmp/one.metron" --pcap "$pcap" --out "$tmp/r1.pcap" --stats --stats-format json 2>/dev/null |
          /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(v for n in j["nfs"] for k,v in n["elements"].items() if k.endswith(".alerts")))')
    if [ "$one" != "$count" ]; then
      echo "FAIL $name: sid $sid alone: $count alert(s) expected, reference ${one:-?}"; sidfail=$((sidfail + 1))
    fi
  done < <(/usr/bin/python3 - "$case/test.yaml" <<'PY'
import re, sys
y = open(sys.argv[1]).read()
for c, sid in re.findall(r'count:\s*(\d+)\s*\n\s*match:\s*\n\s*event_type:\s*alert\s*\n\s*alert\.signature_id:\s*(\d+)', y):
    print(c, sid)
PY
)
  if [ "$got" = "$expected" ] && [ "$ref" = "$expected" ] && [ "$sidfail" = 0 ]; then
    extra=""; [ "$sids" -gt 0 ] && extra="; $sids signature(s) checked one by one"
    echo "$name: $expected alert(s) expected; data plane $got, reference $ref$extra"
    pass=$((pass + 1))
  else
    echo "FAIL $name: $expected alert(s) expected; data plane ${got:-?}, reference ${ref:-?}"; fail=$((fail + 1))
  fi
done
echo "suricata-verify: $pass passed, $fail failed ($checked applicable)"
[ "$fail" = 0 ] && [ "$checked" -gt 0 ]
