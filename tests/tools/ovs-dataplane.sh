#!/usr/bin/env bash
# ovs-dataplane.sh — the switch classifies, the server's data plane finishes: a real Open vSwitch
# (userspace) runs the OpenFlow rules metronc compile wrote for it (classes matched, Ω's leading
# writes applied, a VLAN tag pushed per group), a real capture is replayed into it with
# tcpreplay, what it sends towards the server is captured, and that capture goes through the
# compiled data plane, whose NIC rules pop the tag and give it to the core as the packet's mark.
# What the data plane emits must be what the reference interpreter emits for the original
# capture: the same frames, in the same order within each direction of each flow (the switch
# interleaves them differently: a flow's first packet takes its slow path, and the two directions
# of a connection are two datapath flows).
#
#   ovs-dataplane.sh METRONC MKPCAP SRC_ROOT
#
# Chains (tests/targets/ovs.toml, one core): campus-fw-dpi (firewall on the switch, DPI on the
# server) on tcpreplay's test.pcap; router-napt-lb (the router's TTL decrement and MAC rewrite on
# the switch, NAPT and the balancer on the server) on a capture of routed flows.
set -u
metronc=$1 mkpcap=$2 root=$3
here=$(cd "$(dirname "$0")" && pwd)
data=${METRON_DATA_DIR:-$root/../shared/data}
PY=/usr/bin/python3
# shellcheck source=tests/tools/ovs-lib.sh
source "$here/ovs-lib.sh"
tmp=$(mktemp -d /tmp/metron-ovs-dp.XXXXXX)
dump_pid=""
trap '[ -n "$dump_pid" ] && kill "$dump_pid" 2> /dev/null; ovs_stop; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 143' INT TERM
pass=0 fail=0

ovs_start "$tmp/ovs" 3 > "$tmp/ovs.log" 2>&1 || { cat "$tmp/ovs.log"; exit 1; }
ns=$OVS_NETNS
# No IPv6 chatter (router solicitations, MLD) from the ports into the switch.
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for p in p1 p2 p3; do
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$p.disable_ipv6=1"
  ip netns exec "$ns" ip link set "$p" up
done
"$PY" -c "import struct; open('$tmp/empty.pcap','wb').write(struct.pack('<IHHiIII',0xa1b2c3d4,2,4,0,0,65535,1))"
"$mkpcap" --out "$tmp/generated.pcap" --packets 2000 --seed 11 --routes "$data/routing/derived/internet2_atla_ipv4.txt" \
  --every 4 --mix route=100,random=0,miss=5,rev=0 > /dev/null || { echo "metron-mkpcap failed"; exit 1; }
# Only its untagged, unfragmented TCP and UDP frames: on the generator's odd frames (IPv4
# protocol 0, 802.1Q-tagged input) Open vSwitch 3.1 was seen to leave the TTL as it was where
# its flow says dec_ttl (8 of 1,611 frames), a switch divergence this test is not about.
"$PY" - "$tmp/generated.pcap" "$tmp/routed.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read(); out = [d[:24]]; o = 24
while o + 16 <= len(d):
    n = struct.unpack("<I", d[o + 8:o + 12])[0]; f = d[o + 16:o + 16 + n]
    if len(f) >= 34 and f[12:14] == b"\x08\x00" and f[23] in (6, 17) and (struct.unpack(">H", f[20:22])[0] & 0x3fff) == 0:
        out.append(d[o:o + 16 + n])
    o += 16 + n
open(sys.argv[2], "wb").write(b"".join(out))
PY

check() { # NAME CHAIN CAPTURE COMPARE (exact | renamed)
  local name=$1 chain=$2 capture=$3 compare=$4 out=$tmp/$1
  if ! "$metronc" compile "$chain" --topology "$root/tests/targets/ovs.toml" --cores 1 -o "$out" > "$out.compile" 2>&1; then
    echo "FAIL $name: compile: $(cat "$out.compile")"; fail=$((fail + 1)); return; fi
  grep -q "classifier s1 (ovs)" "$out.compile" || { echo "FAIL $name: the switch does not classify: $(cat "$out.compile")"; fail=$((fail + 1)); return; }
  ovs-ofctl -O OpenFlow13 del-flows "$OVS_BR"
  ovs-ofctl -O OpenFlow13 --bundle add-flows "$OVS_BR" "$out/rules/s1.ofctl" || { fail=$((fail + 1)); return; }
  # What the switch sends to the server (port 2): captured on the port's tap.
  ip netns exec "$ns" tcpdump -i p2 -U -w "$out/to-server.pcap" 2> "$out.tcpdump" &
  dump_pid=$!
  for _ in $(seq 50); do grep -q "listening on" "$out.tcpdump" && break; sleep 0.1; done
  ip netns exec "$ns" tcpreplay -q -i p1 --pps 2000 "$capture" > "$out.tcpreplay" 2>&1 ||
    { echo "FAIL $name: tcpreplay: $(cat "$out.tcpreplay")"; fail=$((fail + 1)); }
  sleep 1
  kill -INT "$dump_pid"; wait "$dump_pid" 2> /dev/null; dump_pid=""
  # The data plane on that capture, with the NIC rules (pop the tag, mark, queue).
  "$out/bin/server1" --lcores 0@0,1@0 --no-huge --no-shconf -m 256 --no-pci \
    --vdev="net_pcap0,rx_pcap=$out/to-server.pcap,tx_pcap=/dev/null" \
    --vdev="net_pcap1,rx_pcap=$tmp/empty.pcap,tx_pcap=$out/emitted.pcap" -- --port port0=net_pcap0 --port port1=net_pcap1 \
    --rules "$out/rules/server1.nic0.rte_flow.json" --dispatch nic-model --stop-when-idle --stats json > "$out.stats" 2> "$out.dp" ||
    { echo "FAIL $name: data plane: $(tail -5 "$out.dp")"; fail=$((fail + 1)); return; }
  "$metronc" run --reference "$chain" --pcap "$capture" --out "$out/reference.pcap" > /dev/null 2>&1 ||
    { echo "FAIL $name: reference run"; fail=$((fail + 1)); return; }
  if "$PY" - "$out/emitted.pcap" "$out/reference.pcap" "$out/to-server.pcap" "$out.stats" "$name" "$compare" <<'PY'
import json, struct, sys
def frames(path):
    d = open(path, "rb").read(); o = 24; out = []
    while o + 16 <= len(d):
        n = struct.unpack("<I", d[o + 8:o + 12])[0]; out.append(d[o + 16:o + 16 + n]); o += 16 + n
    return out
def flow(f):  # the frame's 5-tuple, one direction ("" for non-IPv4)
    if len(f) < 34 or f[12:14] != b"\x08\x00": return b""
    ihl = (f[14] & 15) * 4; proto = f[23]; a, b = f[26:30], f[30:34]
    pa = pb = b""
    if proto in (6, 17) and len(f) >= 14 + ihl + 4: pa, pb = f[14 + ihl:16 + ihl], f[16 + ihl:18 + ihl]
    return bytes([proto]) + a + pa + b + pb
got, want, sent = frames(sys.argv[1]), frames(sys.argv[2]), frames(sys.argv[3])
tagged = sum(1 for f in sent if f[12:14] == b"\x81\x00")
stats = json.load(open(sys.argv[4]))
def by_flow(fs):
    d = {}
    for f in fs: d.setdefault(flow(f), []).append(f)
    return d
def masked(f):  # the frame without what NAPT and LB choose per flow (addresses, ports, checksums)
    if len(f) < 34 or f[12:14] != b"\x08\x00": return f, None
    ihl = (f[14] & 15) * 4; l4 = 14 + ihl; proto = f[23]
    b = bytearray(f); b[24:26] = b[26:34] = bytes(2) + bytes(8)
    t = (f[26:30], f[30:34])
    if proto in (6, 17) and len(f) >= l4 + 8:
        b[l4:l4 + 4] = bytes(4); t += (f[l4:l4 + 4],)
        c = l4 + (16 if proto == 6 else 6)
        if len(f) >= c + 2: b[c:c + 2] = bytes(2)
    return bytes(b), t
if sys.argv[6] == "exact":
    # Stateful elements that choose nothing by arrival order: the frames themselves, per flow direction.
    ok = by_flow(got) == by_flow(want) and len(want) > 0
    how = "same frames, same order per flow direction"
else:
    # NAPT ports and balancer backends go to flows in the order flows arrive, which the switch
    # changes: the same frames up to a renaming of addresses and ports that is consistent per
    # flow and one-to-one (metron-pcapdiff's --rename-injective, order aside).
    mg, mw = {}, {}
    for f in got: mg.setdefault(masked(f)[0], []).append(masked(f)[1])
    for f in want: mw.setdefault(masked(f)[0], []).append(masked(f)[1])
    ok = sorted(mg) == sorted(mw) and all(len(mg[k]) == len(mw[k]) for k in mw) and len(want) > 0
    fwd, back = {}, {}
    for k in mw if ok else []:
        for a, b in zip(sorted(mw[k]), sorted(mg[k])) if len(mw[k]) > 1 else [(mw[k][0], mg[k][0])]:
            if fwd.setdefault(a, b) != b or back.setdefault(b, a) != a: ok = False
    how = "same frames up to a per-flow, one-to-one renaming of addresses and ports"
print("%s: the switch sent %d frames to the server (%d VLAN-tagged); the data plane's NIC rules matched %d, "
      "it emitted %d, the reference %d: %s" % (sys.argv[5], len(sent), tagged, stats["nic"]["matched"], len(got), len(want),
      how if ok else "DIFFERENT"))
sys.exit(0 if ok and tagged > 0 else 1)
PY
  then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

check campus "$root/examples/campus-fw-dpi.metron" "$data/pcap/tcpreplay/test.pcap" exact
check router "$root/examples/router-napt-lb.metron" "$tmp/routed.pcap" renamed
echo "ovs-dataplane: $pass passed, $fail failed"
[ "$fail" = 0 ]
