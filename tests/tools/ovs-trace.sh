#!/usr/bin/env bash
# ovs-trace.sh — the OpenFlow 1.3 rules of `metronc compile`, installed into a real Open vSwitch
# (userspace, private daemons; tests/tools/ovs-lib.sh), must do what the compiler says they do.
#
#   ovs-trace.sh METRONC SRC_ROOT
#
# For each chain of tests/targets (fw1_1K.metron: a ClassBench firewall; fw5k-router.metron:
# fw1_5K -> router -> NAPT, two tables joined by goto_table):
#   1. metronc compile CHAIN --topology tests/targets/ovs.toml -o OUT (plan.json, rules/s1.ofctl:
#      Fig. 8a with the switch an Open vSwitch, memory-bounded, so it takes the whole chain);
#   2. ovs-ofctl -O OpenFlow13 --bundle add-flows, then diff-flows must print nothing;
#   3. OVS_TRACE_HEADERS (default 2000) TCP/UDP headers spread over the rule set's ClassBench
#      trace go through `metronc explain --headers` and, one by one, `ofproto/trace` (over one
#      unixctl connection; the first 20 also through ovs-appctl, which must print the same);
#      tests/tools/ovs_trace_check.py compares the two with plan.json (the rule OVS picks in each
#      table by its cookie, the datapath actions: drop / tag + device writes + output to the
#      server / plain output) and explain's firewall rule with the trace's last column.
# Then: the mirrored NAPT return rules of tests/compile/napt-mirror.metron (return packets to
# the core owning their port), and real captures frame by frame through the rules of
# tests/targets/real-traffic.metron against `metronc run --reference` (tests/tools/ovs_pcap_check.py).
# Prints one summary line per chain; exits 1 on any mismatch (the first few printed in full).
# Data: $METRON_DATA_DIR (default SRC_ROOT/../shared/data). Needs root (OVS creates taps).
set -euo pipefail
metronc=$(realpath "$1") root=$(realpath "$2")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=$(realpath "${METRON_DATA_DIR:-$root/../shared/data}")
nheaders=${OVS_TRACE_HEADERS:-2000}
PY=/usr/bin/python3
check="$here/ovs_trace_check.py"
# shellcheck source=tests/tools/ovs-lib.sh
source "$here/ovs-lib.sh"
tmp=$(mktemp -d)
trap 'ovs_stop; rm -rf "$tmp"' EXIT
trap 'exit 143' INT TERM # so that the EXIT trap stops OVS

now_ms() { echo $(($(date +%s%N) / 1000000)); }

ovs_start "$tmp/ovs" 2
failed=0

# run_chain NAME CHAIN-FILE TRACE TOPOLOGY. It runs in an `||` list, where set -e does not
# apply: every step checks its own status.
run_chain() {
  local name=$1 src=$2 trace=$3 topo=$4 out="$tmp/$1" t0 t1
  mkdir -p "$out"
  # The chains import from ../../../shared/data (the checkout's layout); point them at $data.
  sed "s|\"\\.\\./\\.\\./\\.\\./shared/data/|\"$data/|" "$src" > "$out/chain.metron"
  "$metronc" compile "$out/chain.metron" --topology "$topo" -o "$out/out" > "$out/compile.log" 2>&1 ||
    { echo "FAIL $name: metronc compile failed:"; cat "$out/compile.log"; return 1; }
  local plan="$out/out/plan.json" rules
  # The classifier must be the switch, and its add-flows file listed.
  rules=$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d.get("classifier") or {}
if c.get("kind") != "switch":
    why = "; ".join(s["element"] + ": " + s.get("why", "") for s in d.get("selection", []))
    sys.exit("the classifier is %s, not a switch (%s)" % (c.get("element"), why))
for dev in d.get("devices", []):
    if dev.get("element") == c["element"]:
        print(next((f for f in dev["files"] if f.endswith(".ofctl")), ""))' "$plan" 2> "$out/why") ||
    { echo "FAIL $name: $(cat "$out/why")"; return 1; }
  [ -n "$rules" ] || { echo "FAIL $name: plan.json names no .ofctl file for the classifier"; return 1; }
  rules="$out/out/$rules"

  ovs-ofctl -O OpenFlow13 del-flows "$OVS_BR"
  t0=$(now_ms)
  ovs-ofctl -O OpenFlow13 --bundle add-flows "$OVS_BR" "$rules" ||
    { echo "FAIL $name: add-flows $rules failed"; return 1; }
  t1=$(now_ms)
  local install_ms=$((t1 - t0))
  ovs-ofctl -O OpenFlow13 diff-flows "$OVS_BR" "$rules" > "$out/diff" 2>&1 || true
  if [ -s "$out/diff" ]; then
    echo "FAIL $name: diff-flows after add-flows is not empty:"; head -20 "$out/diff"; return 1
  fi

  # Headers: TCP and UDP lines of the trace, N of them evenly spread over the whole file.
  awk '$5 == 6 || $5 == 17' "$trace" | awk -v n="$nheaders" '{ l[NR] = $0 }
    END { if (NR < n) n = NR; for (i = 0; i < n; i++) print l[int(i * NR / n) + 1] }' > "$out/headers"
  "$metronc" explain "$out/chain.metron" --headers "$out/headers" > "$out/explain.jsonl" 2> "$out/explain.log" ||
    { echo "FAIL $name: metronc explain failed:"; cat "$out/explain.log"; return 1; }
  "$PY" "$check" flows "$plan" "$out/headers" > "$out/flows" || { echo "FAIL $name: no trace flows"; return 1; }
  t0=$(now_ms)
  "$PY" "$check" trace "$OVS_DIR/ovs-vswitchd.$_ovs_sw_pid.ctl" "$OVS_BR" "$out/flows" > "$out/traces" ||
    { echo "FAIL $name: ofproto/trace over unixctl failed"; return 1; }
  local trace_ms=$(($(now_ms) - t0)) i=0 flow
  # The unixctl replies are what ovs-appctl prints: check on the first headers.
  while read -r flow && [ $i -lt 20 ]; do
    i=$((i + 1))
    echo "=== $i"
    ovs-appctl ofproto/trace "$OVS_BR" "$flow"
  done < "$out/flows" > "$out/traces-appctl"
  if ! head -n "$(wc -l < "$out/traces-appctl")" "$out/traces" | cmp -s - "$out/traces-appctl"; then
    echo "FAIL $name: ovs-appctl ofproto/trace prints other text than the unixctl replies:"
    head -n "$(wc -l < "$out/traces-appctl")" "$out/traces" | diff - "$out/traces-appctl" | head -20
    return 1
  fi
  ovs-appctl dpif/show > "$out/dpif"
  "$PY" "$check" check --name "$name" --plan "$plan" --headers "$out/headers" --explain "$out/explain.jsonl" \
    --traces "$out/traces" --dpif "$out/dpif" --rules-file "$rules" --install-ms "$install_ms" ||
    return 1
  echo "ovs-trace: $name: $(grep -c '^=== ' "$out/traces") ofproto/trace calls in $trace_ms ms (one unixctl connection)"
}

cb="$data/classbench/pclasseval_song"
topo="$root/tests/targets/ovs.toml"
run_chain fw1_1K "$root/tests/targets/fw1_1K.metron" "$cb/fw1_1K_trace" "$topo" || failed=1
run_chain fw5k-router "$root/tests/targets/fw5k-router.metron" "$cb/fw1_5K_trace" "$topo" || failed=1

# Mirrored NAPT return rules (tests/compile/napt-mirror.metron on 3 cores): a packet addressed to
# the NAPT's address must be tagged for the core whose part of the port range its destination
# port is in — the group's own tag when that is the group's core, else the group's return tag
# for that core (plan.json: napt[].cores, tags[] with napt_return). Expectations come from
# plan.json; the packets are one per part and per source class.
mirror_check() {
  local out="$tmp/mirror"
  mkdir -p "$out"
  "$metronc" compile "$root/tests/compile/napt-mirror.metron" --topology "$topo" --cores 3 -o "$out/out" \
    > "$out/compile.log" 2>&1 || { echo "FAIL mirror: metronc compile failed:"; cat "$out/compile.log"; return 1; }
  ovs-ofctl -O OpenFlow13 del-flows "$OVS_BR"
  ovs-ofctl -O OpenFlow13 --bundle add-flows "$OVS_BR" "$out/out/rules/s1.ofctl" || { echo "FAIL mirror: add-flows"; return 1; }
  "$PY" - "$out/out/plan.json" > "$out/cases" <<'PY' || { echo "FAIL mirror: plan.json"; return 1; }
import json, sys
p = json.load(open(sys.argv[1]))
nat = p["napt"][0]
assert nat["field"] == "ip.src" and len(nat["cores"]) == 3, nat
tags = p["tags"]
def tag(group, core):
    own = [t for t in tags if t["group"] == group and not t["napt_return"]]
    if own and own[0]["core"] == core:
        return own[0]["value"]
    ret = [t for t in tags if t["group"] == group and t["core"] == core and t["napt_return"]]
    assert len(ret) == 1, (group, core, tags)
    return ret[0]["value"]
# Class 1 of the chain: tcp from 198.51.100.0/24 (group 1); class 2: anything to 203.0.113.0/24 (group 2).
for src, group in (("198.51.100.7", 1), ("192.0.2.9", 2)):
    for part in nat["cores"]:
        lo, hi = part["ports"]
        for port in (lo, (lo + hi) // 2, hi):
            flow = "tcp,in_port=1,nw_src=%s,nw_dst=%s,tcp_src=80,tcp_dst=%d" % (src, nat["address"], port)
            print(flow + "|" + str(tag(group, part["core"])))
PY
  # The datapath number of OpenFlow port 2 (dpif/show: "p2 2/5: (internal)").
  local dp2
  dp2=$(ovs-appctl dpif/show | awk '$2 ~ /^2\// { sub(/^2\//, "", $2); sub(/:$/, "", $2); print $2 }')
  [ -n "$dp2" ] || { echo "FAIL mirror: no datapath port for OpenFlow port 2"; ovs-appctl dpif/show; return 1; }
  local n=0 bad=0 flow want got
  while IFS='|' read -r flow want; do
    n=$((n + 1))
    got=$(ovs-appctl ofproto/trace "$OVS_BR" "$flow" | sed -n 's/^Datapath actions: //p')
    case "$got" in
      *"push_vlan(vid=$want,pcp=0),$dp2") ;;
      *) bad=$((bad + 1)); echo "FAIL mirror: $flow: want vid $want out of port 2, datapath actions: $got" ;;
    esac
  done < "$out/cases"
  [ "$n" -gt 0 ] || { echo "FAIL mirror: no cases"; return 1; }
  echo "ovs-trace: napt-mirror: $n return packets, $bad on the wrong core"
  [ "$bad" = 0 ]
}
mirror_check || failed=1

# Real captures (ARP, IPv6, fragments, truncated frames, real TCP/UDP/ICMP) through the switch
# rules of tests/targets/real-traffic.metron, frame by frame, against the reference interpreter
# (tests/tools/ovs_pcap_check.py): a frame the switch drops must be dropped by the reference,
# a frame it tags for the server must be emitted by it.
pcap_check() {
  local out="$tmp/pcap" f name ok=0
  mkdir -p "$out"
  "$metronc" compile "$root/tests/targets/real-traffic.metron" --topology "$topo" -o "$out/out" \
    > "$out/compile.log" 2>&1 || { echo "FAIL pcap: metronc compile failed:"; cat "$out/compile.log"; return 1; }
  ovs-ofctl -O OpenFlow13 del-flows "$OVS_BR"
  ovs-ofctl -O OpenFlow13 --bundle add-flows "$OVS_BR" "$out/out/rules/s1.ofctl" || { echo "FAIL pcap: add-flows"; return 1; }
  for f in debian-dpkt/dns_icmp.pcap debian-dpkt/http.pcap debian-dpkt/nb6-http.pcap debian-dpkt/truncated_dns.pcap \
           tcpreplay/test.pcap zeek/wikipedia.pcap zeek/bro.org.pcap ndpi/synscan.pcap ndpi/android.pcap; do
    name=$(basename "$f" .pcap)
    [ -e "$data/pcap/$f" ] || { echo "FAIL pcap: $data/pcap/$f is missing"; ok=1; continue; }
    "$metronc" run --reference "$root/tests/targets/real-traffic.metron" --pcap "$data/pcap/$f" --out "$out/$name.ref.pcap" \
      > "$out/$name.run.log" 2>&1 || { echo "FAIL pcap: metronc run --reference $f:"; cat "$out/$name.run.log"; ok=1; continue; }
    "$PY" "$here/ovs_pcap_check.py" "$OVS_DIR/ovs-vswitchd.$_ovs_sw_pid.ctl" "$OVS_BR" "$data/pcap/$f" \
      "$out/$name.ref.pcap" "${OVS_PCAP_FRAMES:-3000}" || ok=1
  done
  return $ok
}
pcap_check || failed=1
exit $failed
