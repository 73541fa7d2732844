#!/usr/bin/env bash
# compile-cli.sh — `metronc compile` on real rule sets and as tools see it:
#  - capacity: ClassBench fw1_5K on an Intel 82599 (128 5-tuple filters) offloads what fits,
#    by priority, with a diagnostic; on a ConnectX-5 it uses table 0 (one jump) and group 1
#    (every class); plan.json agrees with the rule files;
#  - every rte_flow file written here goes through the real dpdk-testpmd parser;
#  - the output directory is replaced atomically: a failed compile leaves nothing behind and
#    the previous output intact, a directory that is not a compile output is never replaced;
#  - progress on a terminal only (forced with --progress always), --time-passes, usage errors;
#  - --cpu: the default object is portable (corei7: no MOVBE), a named CPU is used, a bad name
#    is a usage error.
# Usage: compile-cli.sh METRONC SRC_ROOT
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/tools/common.sh
source "$here/common.sh"
metronc=$(realpath "$1") root=$(realpath "$2")
data=${METRON_DATA_DIR:-$root/../shared/data}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
PY=/usr/bin/python3


cat > "$tmp/fw5k.metron" <<M
import classbench "$data/classbench/pclasseval_song/fw1_5K" as fw;
nf firewall { rules fw action allow; default deny; }
nf mon stateful { monitor timeout 30; }
chain c { in port0 -> firewall -> mon -> out port1; }
M

# ---- the 82599: 128 rules, by priority ------------------------------------------------------
expect 82599 0 "$metronc" compile "$tmp/fw5k.metron" --topology "$root/tests/compile/topologies/nic-82599.toml" \
  -o "$tmp/x82599" --progress never
contains 82599-diag "$tmp/err" "[offload-capacity]"
contains 82599-summary "$tmp/out" "classifier server1.nic0 (intel-82599)"
# plan.json: at most 128 device rules; the rule file has exactly the plan's offloaded rules;
# no offloaded class comes after a software class that overlaps it is checked by the split's
# own tests — here: the offloaded classes are a priority-ordered selection (their rte_flow
# priorities increase with the class order).
$PY - "$tmp/x82599" > "$tmp/py" 2>&1 <<'PY'
import json, re, sys
out = sys.argv[1]
p = json.load(open(out + "/plan.json"))
cls = p["tables"][0]["classes"]
hw = [c for c in cls if c["hw"]]
rules = sum(c["rules"] for c in hw)
assert p["classifier"]["profile"] == "intel-82599", p["classifier"]
assert 0 < rules <= 128, rules
assert len(hw) < len(cls), "fw1_5K cannot fit in 128 rules"
lines = [l for l in open(out + "/rules/server1.nic0.testpmd") if l.startswith("flow create")]
assert len(lines) == rules, (len(lines), rules)
prios = [int(re.search(r" priority (\d+) ", l).group(1)) for l in lines]
assert prios == sorted(prios), "rules not in priority order"
assert all(0 <= x <= 7 for x in prios), "82599 n-tuple priorities are 1..7 levels"
assert all(" queue index " in l for l in lines), "the 82599 only queues"
print("82599:", len(hw), "of", len(cls), "classes,", rules, "rules")
PY
check 82599-plan grep -q "^82599:" "$tmp/py" || cat "$tmp/py"

# ---- the ConnectX-5: root jump, then group 1 --------------------------------------------------
expect cx5 0 "$metronc" compile "$tmp/fw5k.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/cx5" --progress never
$PY - "$tmp/cx5" > "$tmp/py" 2>&1 <<'PY'
import json, sys
out = sys.argv[1]
p = json.load(open(out + "/plan.json"))
t = p["tables"][0]
assert t["device_table"] == 1, t["device_table"]
assert all(c["hw"] for c in t["classes"][:-1]), "every allow class is offloaded"
lines = [l for l in open(out + "/rules/server1.nic0.testpmd") if l.startswith("flow create")]
g0 = [l for l in lines if " group 0 " in l]
assert len(g0) == 1 and "jump group 1" in g0[0], g0
assert len(lines) - 1 == p["classifier"]["device_rules"] + 0, (len(lines), p["classifier"]["device_rules"])
print("cx5:", len(t["classes"]), "classes,", len(lines), "rules")
PY
check cx5-plan grep -q "^cx5:" "$tmp/py" || cat "$tmp/py"

# ---- Algorithm 2 on the paper's Fig. 8a with a NoviFlow of 1,024 rules: the 3,133 rules fw1_5K
# needs there exceed 1,024 x 0.9, so the 82599 is the last resort; the switch then only
# forwards the chain to the server and back to the egress.
sed 's/^rules = 4096$/rules = 1024/' "$root/examples/fig8a.toml" > "$tmp/fig8a-1k.toml"
check fig8a-edited grep -q "^rules = 1024$" "$tmp/fig8a-1k.toml"
expect fig8a 0 "$metronc" compile "$tmp/fw5k.metron" --topology "$tmp/fig8a-1k.toml" -o "$tmp/fig8a" --progress never
$PY - "$tmp/fig8a" > "$tmp/py" 2>&1 <<'PY'
import json, sys
out = sys.argv[1]
p = json.load(open(out + "/plan.json"))
sel = p["selection"]
assert [s["element"] for s in sel] == ["s1", "server1.nic0"], sel
assert not sel[0]["chosen"] and sel[0]["why"] == "D = 3,133 exceeds C x CAP_THR = 921", sel[0]
assert sel[1]["chosen"] and p["classifier"]["profile"] == "intel-82599", p["classifier"]
flows = [l.strip() for l in open(out + "/rules/s1.ofctl") if not l.startswith("#")]
assert flows == ["table=0,priority=1,cookie=0x400000000,in_port=1,actions=output:2",
                 "table=0,priority=1,cookie=0x600000000,in_port=2,actions=output:3"], flows
print("fig8a: NoviFlow passed over, 82599 chosen")
PY
check fig8a-plan grep -q "^fig8a:" "$tmp/py" || cat "$tmp/py"

# ---- every rte_flow file through dpdk-testpmd ------------------------------------------------
check testpmd bash "$here/testpmd-check.sh" "$tmp/x82599/rules/server1.nic0.testpmd" "$tmp/cx5/rules/server1.nic0.testpmd" \
  "$tmp/fig8a/rules/server1.nic0.testpmd" \
  "$root"/tests/compile/*.out/rules/*.testpmd

# ---- atomic output ---------------------------------------------------------------------------
cp -r "$tmp/x82599" "$tmp/keep"
cat > "$tmp/bad.metron" <<'M'
nf fw { rule allow tcp dport 80; default deny; }
chain c { in wan -> fw -> out lan; }
M
expect atomic-fail 1 "$metronc" compile "$tmp/bad.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/x82599"
check atomic-intact diff -r "$tmp/keep" "$tmp/x82599"
check atomic-no-partial test -z "$(find "$tmp" -maxdepth 1 -name '.*partial*')"
mkdir -p "$tmp/mine" && echo precious > "$tmp/mine/notes.txt"
expect refuse 1 "$metronc" compile "$tmp/fw5k.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/mine"
contains refuse-msg "$tmp/err" "holds no plan.json; refusing to replace it"
check refuse-intact grep -q precious "$tmp/mine/notes.txt"
expect replace 0 "$metronc" compile "$tmp/fw5k.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/x82599" --progress never
contains replace-new "$tmp/x82599/plan.json" '"profile": "connectx-5"'

# ---- progress and pass times -----------------------------------------------------------------
expect progress 0 "$metronc" compile "$root/tests/compile/two-switches.metron" \
  --topology "$root/tests/compile/topologies/two-switches.toml" -o "$tmp/p" --progress always --time-passes
contains progress-stage "$tmp/err" "[3/6] placing the stateless part"
contains time-passes "$tmp/err" "print rules/s2.ofctl"
expect quiet 0 "$metronc" compile "$root/tests/compile/two-switches.metron" \
  --topology "$root/tests/compile/topologies/two-switches.toml" -o "$tmp/p"
check quiet-empty test ! -s "$tmp/err"

# ---- warnings: what the rules cannot do ------------------------------------------------------
# Fig. 8a as the paper has it: the NoviFlow takes the campus firewall and tags with VLANs, which
# the 82599 behind it cannot match.
expect warn-dispatch 0 "$metronc" compile "$root/examples/campus-fw-dpi.metron" --topology "$root/examples/fig8a.toml" \
  -o "$tmp/w1" --progress never
contains warn-dispatch-msg "$tmp/err" "metronc compile: warning: server1.nic0 (intel-82599) cannot match vlan.id, the tag s1 puts on packets: the server dispatches them in software"
# An egress point on a switch the chain's path does not cross.
sed -e 's/^at = "s1:3"$/at = "s9:1"/' "$root/tests/targets/ovs.toml" > "$tmp/offpath.toml"
printf '\n[[switch]]\nname = "s9"\nprofile = "ovs"\n' >> "$tmp/offpath.toml"
check offpath-edited grep -q '^at = "s9:1"$' "$tmp/offpath.toml"
expect warn-offpath 0 "$metronc" compile "$root/tests/compile/napt-mirror.metron" --topology "$tmp/offpath.toml" -o "$tmp/w2"
contains warn-offpath-msg "$tmp/err" "metronc compile: warning: egress point port1 (s9:1) is not on the path from the ingress to server1: no return rule is written; the network must route what the server sends there"
check offpath-no-return bash -c "! grep -q 'cookie=0x6' '$tmp/w2/rules/s1.ofctl'"

# ---- usage and input errors ------------------------------------------------------------------
expect no-topology 2 "$metronc" compile "$tmp/fw5k.metron" -o "$tmp/q"
expect bad-format 2 "$metronc" compile "$tmp/fw5k.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/q" --formats pdf
printf 'name = 3\n' > "$tmp/bad.toml"
expect bad-topology 1 "$metronc" compile "$tmp/fw5k.metron" --topology "$tmp/bad.toml" -o "$tmp/q"
contains bad-topology-msg "$tmp/err" "bad.toml:1:"
expect no-server 2 "$metronc" compile "$tmp/fw5k.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/q" --server nope
contains no-server-msg "$tmp/err" "metronc compile: error: no server 'nope' in topology 'fig8b' (it has: server1)"
check nothing-written test ! -e "$tmp/q"
expect no-parent 1 "$metronc" compile "$tmp/fw5k.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/none/out"
contains no-parent-msg "$tmp/err" "metronc compile: error: $tmp/none: no such directory"
touch "$tmp/afile"
expect not-a-dir 1 "$metronc" compile "$tmp/fw5k.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/afile"
contains not-a-dir-msg "$tmp/err" "metronc compile: error: $tmp/afile exists and is not a directory"
check not-a-dir-partial test -z "$(find "$tmp" -maxdepth 1 -name '.*partial*')"

# ---- --cpu: the data plane is compiled for the server, not for this machine -------------------
# By default for corei7 (what Debian's DPDK is built for): no MOVBE, which LLVM uses for the
# byte-swapping header loads on any CPU that has it (Haswell, Zen) and which older servers lack.
movbe() { objdump -d "$1"/bin/*.o | grep -c movbe; }
expect cpu-default 0 "$metronc" compile "$root/examples/router-napt-lb.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/cpu0"
check cpu-default-portable test "$(movbe "$tmp/cpu0")" = 0
expect cpu-znver2 0 "$metronc" compile "$root/examples/router-napt-lb.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/cpu1" \
  --cpu znver2
check cpu-znver2-movbe test "$(movbe "$tmp/cpu1")" -gt 0
expect cpu-bad 2 "$metronc" compile "$root/examples/router-napt-lb.metron" --topology "$root/examples/fig8b.toml" -o "$tmp/cpu2" \
  --cpu pentium9
contains cpu-bad-msg "$tmp/err" "metronc compile: error: --cpu: LLVM does not know the CPU 'pentium9'"
check cpu-bad-nothing test ! -e "$tmp/cpu2"
expect cpu-bad-run 2 "$metronc" run "$root/examples/router-napt-lb.metron" --pcap "$data/pcap/tcpreplay/test.pcap" \
  --out "$tmp/cpu.pcap" --cpu pentium9
contains cpu-bad-run-msg "$tmp/err" "metronc run: error: --cpu: LLVM does not know the CPU 'pentium9'"
# --cpu means nothing to the interpreter or to an output already compiled: usage errors.
expect cpu-reference 2 "$metronc" run --reference "$root/examples/router-napt-lb.metron" --pcap "$data/pcap/tcpreplay/test.pcap" \
  --out "$tmp/cpu.pcap" --cpu znver2
contains cpu-reference-msg "$tmp/err" "--reference excludes --cpu"
expect cpu-compiled 2 "$metronc" run --compiled "$tmp/cpu0" "$root/examples/router-napt-lb.metron" \
  --pcap "$data/pcap/tcpreplay/test.pcap" --out "$tmp/cpu.pcap" --cpu znver2
contains cpu-compiled-msg "$tmp/err" "--compiled excludes --cpu"

echo "compile-cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
