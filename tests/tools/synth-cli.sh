#!/usr/bin/env bash
# synth-cli.sh — `metronc synth` and `metronc explain` as tools see them: exit codes (0, 1 for
# bad input files, 2 for usage), machine-readable output that parses (JSON, one JSON object per
# trace line, Graphviz), malformed traces and packets refused with the line and the reason,
# device profiles by name and by file, and explain agreeing with synth on the class it names.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/tools/common.sh
source "$here/common.sh"
metronc=$1 root=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
PY=/usr/bin/python3


cat > "$tmp/fw.metron" <<'M'
nf fw {
    rule deny udp dst 10.0.0.0/8 dport 53;
    rule allow tcp dport 80;
    rule allow tcp dport 22 tcp.flags syn;
    default deny;
}
nf nat stateful { napt ip.src to 203.0.113.1 ports 1024-65535; }
chain c { in p0 -> fw -> nat -> out p1; }
M
cat > "$tmp/two.metron" <<'M'
nf r { dec ip.ttl; }
chain a { in p0 -> r -> out p1; }
chain b { in q0 -> r -> out q1; }
M
printf 'nf r { rule deny src 10.0.0.1/33; }\nchain c { in p0 -> r -> out p1; }\n' > "$tmp/bad.metron"

# synth: outputs that parse.
expect synth-tc 0 "$metronc" synth "$tmp/fw.metron" && contains synth-tc "$tmp/out" "table 0 (ingress"
expect synth-json 0 "$metronc" synth --emit json "$tmp/fw.metron"
check synth-json-parses $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["tables"][0]["classes"]' "$tmp/out"
expect synth-dot 0 "$metronc" synth --emit dot "$tmp/fw.metron" && contains synth-dot "$tmp/out" "digraph"
if command -v dot > /dev/null; then check synth-dot-renders dot -Tsvg -o /dev/null "$tmp/out"; fi
expect synth-stats 0 "$metronc" synth --stats --emit none "$tmp/fw.metron" && contains synth-stats "$tmp/err" "1 table, 4 classes"
expect synth-all-chains 0 "$metronc" synth "$tmp/two.metron" && contains synth-all-chains "$tmp/out" "chain b:"
expect synth-json-two 0 "$metronc" synth --emit json "$tmp/two.metron"
check synth-json-two-is-one-document $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [c["chain"] for c in d] == ["a", "b"]' "$tmp/out"
expect synth-one-chain 0 "$metronc" synth --chain b "$tmp/two.metron"
check synth-one-chain-only bash -c "! grep -q 'chain a:' '$tmp/out'"
expect synth-unknown-chain 1 "$metronc" synth --chain zz "$tmp/two.metron" && contains synth-unknown-chain "$tmp/err" "no chain named 'zz' (the file has: a, b)"
expect synth-bad-file 1 "$metronc" synth "$tmp/bad.metron" && contains synth-bad-file "$tmp/err" "error:"
expect synth-missing-file 1 "$metronc" synth "$tmp/nope.metron" && contains synth-missing-file "$tmp/err" "cannot read"
expect synth-max-classes-0 2 "$metronc" synth --max-classes 0 "$tmp/fw.metron"
# split: a device by name and by file; usage errors.
expect split-named 0 "$metronc" synth --emit split --device ovs "$tmp/fw.metron" && contains split-named "$tmp/out" "for ovs"
expect split-json 0 "$metronc" synth --emit split-json --device connectx-5 --cores 2 "$tmp/fw.metron"
check split-json-parses $PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out"
cp "$root/targets/profiles/ovs.toml" "$tmp/mine.toml"
expect split-file 0 "$metronc" synth --emit split --device "$tmp/mine.toml" "$tmp/fw.metron"
printf 'name = "x"\nbogus_key = 1\n' > "$tmp/broken.toml"
expect split-broken-profile 2 "$metronc" synth --emit split --device "$tmp/broken.toml" "$tmp/fw.metron" && contains split-broken-profile "$tmp/err" "broken.toml:"
expect split-unknown-device 2 "$metronc" synth --emit split --device frobnic "$tmp/fw.metron" && contains split-unknown-device "$tmp/err" "connectx-5"
expect split-needs-device 2 "$metronc" synth --emit split "$tmp/fw.metron" && contains split-needs-device "$tmp/err" "needs --device"
expect device-needs-split 2 "$metronc" synth --device ovs "$tmp/fw.metron"

# explain --packet: the rule each NF matched, the verdict, the rewritten fields.
expect explain-packet 0 "$metronc" explain "$tmp/fw.metron" --packet 'tcp 10.0.0.1:1234 -> 8.8.8.8:80'
contains explain-rule "$tmp/out" "fw: rule 2"
contains explain-verdict "$tmp/out" "verdict: egress p1"
contains explain-napt "$tmp/out" "ip.src=203.0.113.1"
expect explain-deny 0 "$metronc" explain "$tmp/fw.metron" --packet 'udp 1.2.3.4:5 -> 10.9.9.9:53' && contains explain-deny "$tmp/out" "verdict: drop"
expect explain-fields 0 "$metronc" explain "$tmp/fw.metron" --packet 'tcp 1.2.3.4:5 -> 9.9.9.9:22 tcp.flags=0x10' && contains explain-fields "$tmp/out" "fw: default deny"
expect explain-device 0 "$metronc" explain "$tmp/fw.metron" --packet 'tcp 1.2.3.4:5 -> 9.9.9.9:80' --device noviflow-1132 && contains explain-device "$tmp/out" "offload: on noviflow-1132"
expect explain-bad-proto 2 "$metronc" explain "$tmp/fw.metron" --packet 'sctp 1.2.3.4 -> 5.6.7.8' && contains explain-bad-proto "$tmp/err" "unknown protocol 'sctp'"
expect explain-bad-addr 2 "$metronc" explain "$tmp/fw.metron" --packet 'tcp 1.2.3.400:5 -> 5.6.7.8:1' && contains explain-bad-addr "$tmp/err" "not an IPv4 address"
expect explain-bad-port 2 "$metronc" explain "$tmp/fw.metron" --packet 'tcp 1.2.3.4:70000 -> 5.6.7.8:1' && contains explain-bad-port "$tmp/err" "not a port"
expect explain-bad-field 2 "$metronc" explain "$tmp/fw.metron" --packet 'tcp 1.2.3.4 -> 5.6.7.8 ip.foo=1' && contains explain-bad-field "$tmp/err" "unknown field 'ip.foo'"
expect explain-bad-value 2 "$metronc" explain "$tmp/fw.metron" --packet 'tcp 1.2.3.4 -> 5.6.7.8 ip.ttl=300' && contains explain-bad-value "$tmp/err" "not a valid value for ip.ttl"
expect explain-no-arrow 2 "$metronc" explain "$tmp/fw.metron" --packet 'tcp 1.2.3.4 5.6.7.8'
expect explain-neither 2 "$metronc" explain "$tmp/fw.metron"
expect explain-unknown-in 2 "$metronc" explain "$tmp/fw.metron" --in zz --packet 'tcp 1.2.3.4 -> 5.6.7.8'

# explain --headers: one JSON object per line, equal to what --packet says; malformed traces.
printf '167772161 134744072 1234 80 6 0\n16909060 168430089 5 53 17\n\n16909060 151587081 5 22 6 0 extra columns\n' > "$tmp/trace"
expect headers 0 "$metronc" explain "$tmp/fw.metron" --headers "$tmp/trace"
check headers-json $PY - "$tmp/out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["line"] for r in rows] == [1, 2, 4], rows
assert [r["rules"]["fw"] for r in rows] == [2, 1, 0], rows
assert [r["verdict"] for r in rows] == ["egress", "drop", "drop"], rows
assert rows[0]["egress"] == "p1" and rows[0]["tc"] == rows[0]["classes"][0]
PY
printf '1 2 3 4\n' > "$tmp/short"
expect headers-short 1 "$metronc" explain "$tmp/fw.metron" --headers "$tmp/short" && contains headers-short "$tmp/err" "short:1: error: expected 'SRC DST SPORT DPORT PROTO ...'"
printf '1 2 3 4 6\n1 2 3 70000 6\n' > "$tmp/range"
expect headers-range 1 "$metronc" explain "$tmp/fw.metron" --headers "$tmp/range" && contains headers-range "$tmp/err" "range:2: error: column 4 ('70000') is not a decimal tp.dst (0-65535)"
printf '1 2 3 0x50 6\n' > "$tmp/hex"
expect headers-hex 1 "$metronc" explain "$tmp/fw.metron" --headers "$tmp/hex"
head -c 5000 /dev/zero | tr '\0' '1' > "$tmp/long"
expect headers-long-line 1 "$metronc" explain "$tmp/fw.metron" --headers "$tmp/long" && contains headers-long-line "$tmp/err" "longer than 4096 bytes"
expect headers-missing 1 "$metronc" explain "$tmp/fw.metron" --headers "$tmp/nope" && contains headers-missing "$tmp/err" "cannot read"
expect headers-device 2 "$metronc" explain "$tmp/fw.metron" --headers "$tmp/trace" --device ovs

# Hostile traces (fixed seeds): random bytes, random digit soup, huge numbers. Exit 0 or 1,
# never a crash.
for seed in $(seq 1 20); do
  $PY - "$tmp/hostile" "$seed" <<'PY'
import random, sys
r = random.Random(int(sys.argv[2]))
kind = r.randrange(3)
with open(sys.argv[1], "wb") as f:
    for _ in range(r.randrange(1, 200)):
        if kind == 0:
            f.write(bytes(r.randrange(256) for _ in range(r.randrange(80))) + b"\n")
        elif kind == 1:
            f.write(" ".join(str(r.choice([0, 1, 255, 65535, 65536, 2**32 - 1, 2**32, 2**64, -1, r.randrange(10**25)]))
                             for _ in range(r.randrange(8))).encode() + b"\n")
        else:
            f.write(b" ".join(r.choice([b"1", b"\t", b"\x00", b"\xff\xfe", b"9" * 30, b""]) for _ in range(6)) + b"\n")
PY
  "$metronc" explain "$tmp/fw.metron" --headers "$tmp/hostile" > /dev/null 2> "$tmp/err"; rc=$?
  if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then pass=$((pass + 1)); else echo "FAIL hostile trace seed $seed: exit $rc"; head -5 "$tmp/err"; fail=$((fail + 1)); fi
done

# The man pages of the commands render without warnings.
for page in metronc-synth.1 metronc-explain.1 metron-device.5; do
  if LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$root/man/$page" 2>&1 > /dev/null | grep -q .; then
    echo "FAIL man $page renders with warnings"; fail=$((fail + 1))
  else pass=$((pass + 1)); fi
done

echo "synth-cli: $pass passed, $fail failed"
[ $fail = 0 ]
