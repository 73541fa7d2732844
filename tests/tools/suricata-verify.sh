#!/usr/bin/env bash
# suricata-verify.sh — DPI alert counts against the suricata-verify cases in
# $METRON_DATA_DIR/dpi/suricata_verify/*: for each case whose rules our `dpi` element can
# express — payload `content` matches (|hex| bytes, nocase) on any protocol, without flow state,
# application-layer buffers or negation — the rules become a Hyperscan pattern set, a chain
# `dpi` runs the case's capture in the compiled data plane and in the reference interpreter,
# and the packets that matched must equal the alert count the case's test.yaml expects (as
# Suricata alerts once per matching packet and signature for these rules). Other cases are
# listed as not applicable, with the keyword that makes them so.
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
  verdict=$(/usr/bin/python3 - "$case" "$tmp/$name.pats" <<'PY'
import re, sys
case, out = sys.argv[1], sys.argv[2]
unsupported = ("flow:", "http", "absent", "pcre", "bsize", "fast_pattern", "dsize", "depth", "offset", "distance",
               "within", "isdataat", "byte_", "tls", "dns", "file", "flowbits", "threshold", "stream", "app-layer")
pats, why = [], None
for line in open(case + "/test.rules"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    m = re.match(r'(\w+)\s+(\w+)\s.*?\((.*)\)\s*$', line)
    if not m:
        why = "unparsed rule"; break
    action, proto, opts = m.groups()
    if action != "alert" or proto not in ("ip", "tcp", "udp", "pkthdr"):
        why = f"protocol '{proto}' (application layer)"; break
    bad = [k for k in unsupported if k in opts]
    if bad:
        why = f"keyword '{bad[0]}'"; break
    contents = re.findall(r'content:\s*(!?)"((?:[^"\\]|\\.)*)"\s*;((?:\s*nocase\s*;)?)', opts)
    if len(contents) != 1 or contents[0][0] == "!":
        why = "several or negated contents"; break
    text, nocase = contents[0][1], bool(contents[0][2].strip())
    raw = bytearray()
    for i, part in enumerate(text.split("|")):  # |28 29| runs are hex bytes
        raw += bytes.fromhex(part) if i % 2 else part.encode()
    regex = "".join(f"\\x{b:02x}" for b in raw)
    sid = re.search(r'sid:\s*(\d+)', opts).group(1)
    pats.append(f"{sid}:/{regex}/{'i' if nocase else ''}")
if why is None and not pats:
    why = "no rule"
if why is None:
    open(out, "w").write("\n".join(pats) + "\n")
    # Expected alerts: the count of every check filtering on event_type alert.
    y = open(case + "/test.yaml").read()
    counts = [int(c) for c, t in re.findall(r'count:\s*(\d+)\s*\n\s*match:\s*\n\s*event_type:\s*(alert)', y)]
    print(f"ok {sum(counts)}")
else:
    print(f"na {why}")
PY
)
  pcap=$(ls "$case"/*.pcap | head -1)
  case $verdict in
    na*) echo "$name: not applicable (${verdict#na })"; continue;;
  esac
  expected=${verdict#ok }
  cat > "$tmp/$name.metron" <<METRON
import patterns "$tmp/$name.pats" as rules;
nf ids stateful { dpi rules; }
chain c { in port0 -> ids -> out port1; }
METRON
  checked=$((checked + 1))
  ref=$("$metronc" run --reference "$tmp/$name.metron" --pcap "$pcap" --out "$tmp/r.pcap" --stats --stats-format json 2>/dev/null |
        /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(v for n in j["nfs"] for k,v in n["elements"].items() if k.endswith("matched")))')
  got=$("$metronc" run "$tmp/$name.metron" --pcap "$pcap" --out "$tmp/o.pcap" --stats --stats-format json 2>/dev/null |
        /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(s["counters"].get("matched",0) for s in j["stateful"]))')
  if [ "$got" = "$expected" ] && [ "$ref" = "$expected" ]; then
    echo "$name: $expected alert(s) expected; data plane $got, reference $ref"; pass=$((pass + 1))
  else
    echo "FAIL $name: $expected alert(s) expected; data plane ${got:-?}, reference ${ref:-?}"; fail=$((fail + 1))
  fi
done
echo "suricata-verify: $pass passed, $fail failed ($checked applicable)"
[ "$fail" = 0 ] && [ "$checked" -gt 0 ]
