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
# server) on tcpreplay's test.pcap; router-napt-lb (the router's classes on the switch, which
# tags; the TTL decrement and MAC rewrite, NAPT and the balancer on the server: Open vSwitch does
# not apply IPv4 writes to packets of IP protocol 0, which the router's classes admit, so the ovs
# profile keeps those writes in software) on a capture of routed flows with the generator's odd
# frames (802.1Q-tagged input, fragments, IP protocol 0, expiring TTLs).
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
  "$out/bin/server1" --lcores 0@0,1@0 --no-huge --no-shconf -m 256 --no-pci --no-telemetry \
    --vdev="net_pcap0,rx_pcap=$out/to-server.pcap,tx_pcap=/dev/null" \
    --vdev="net_pcap1,rx_pcap=$tmp/empty.pcap,tx_pcap=$out/emitted.pcap" -- --port port0=net_pcap0 --port port1=net_pcap1 \
    --rules "$out/rules/server1.nic0.rte_flow.json" --dispatch nic-model --stop-when-idle --stats json > "$out.stats" 2> "$out.dp" ||
    { echo "FAIL $name: data plane: $(tail -5 "$out.dp")"; fail=$((fail + 1)); return; }
  "$metronc" run --reference "$chain" --pcap "$capture" --out "$out/reference.pcap" > /dev/null 2>&1 ||
    { echo "FAIL $name: reference run"; fail=$((fail + 1)); return; }
  if "$PY" - "$out/emitted.pcap" "$out/reference.pcap" "$out/to-server.pcap" "$out.stats" "$name" "$compare" "$capture" <<'PY'
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
def ipv4(f):  # the offset of the IPv4 header (after one 802.1Q tag), or None
    o = 18 if f[12:14] == b"\x81\x00" else 14
    return o if len(f) >= o + 20 and f[o - 2:o] == b"\x08\x00" and f[o] >> 4 == 4 else None
def split(f, keep_writes):
    """(the frame with its renameable bytes zeroed: addresses, TCP/UDP ports, checksums -- and,
    unless keep_writes, the router's writes too: eth.dst, TTL -- ; its addresses and ports)"""
    o = ipv4(f)
    if o is None: return f, None
    l4 = o + (f[o] & 15) * 4; proto = f[o + 9]; first = struct.unpack(">H", f[o + 6:o + 8])[0] & 0x1fff == 0
    b = bytearray(f); b[o + 10:o + 12] = bytes(2); b[o + 12:o + 20] = bytes(8)
    if not keep_writes: b[0:6] = bytes(6); b[o + 8] = 0
    t = (f[o + 12:o + 16], f[o + 16:o + 20])
    if proto in (6, 17) and first and len(f) >= l4 + 8:
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
    # flow (the input flow: what a frame carried when it entered; its bytes the chain does not
    # write find it in the capture), and one-to-one among TCP/UDP flows (each has its own NAPT
    # port), order aside.
    from collections import Counter
    origin = {}
    for f in frames(sys.argv[7]):
        key, t = split(f, False)
        origin[key] = None if key in origin and origin[key] != t else t  # None: ambiguous
    def attributed(fs):
        out = []
        for f in fs:
            flow_in = origin.get(split(f, False)[0], "unknown")
            masked, t = split(f, True)
            out.append((flow_in, masked, t))
        return out
    W, G = attributed(want), attributed(got)
    ok = len(want) > 0 and all(x[0] not in ("unknown", None) for x in W + G)
    ok = ok and Counter(x[:2] for x in W) == Counter(x[:2] for x in G)  # the frames, per input flow
    to_w, to_g = {}, {}
    for x in W: to_w.setdefault(x[0], set()).add(x[2])
    for x in G: to_g.setdefault(x[0], set()).add(x[2])
    ok = ok and all(len(to_g[k]) == len(to_w[k]) == 1 for k in to_w)  # one output tuple per flow
    ported = [k for k in to_w if k and len(k) == 3]
    ok = ok and len({next(iter(to_g[k])) for k in ported}) == len({next(iter(to_w[k])) for k in ported}) == len(ported)
    how = "same frames up to a renaming of addresses and ports consistent per flow, one-to-one among TCP/UDP flows"
print("%s: the switch sent %d frames to the server (%d VLAN-tagged); the data plane's NIC rules matched %d, "
      "it emitted %d, the reference %d: %s" % (sys.argv[5], len(sent), tagged, stats["nic"]["matched"], len(got), len(want),
      how if ok else "DIFFERENT"))
sys.exit(0 if ok and tagged > 0 else 1)
PY
  then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

check campus "$root/examples/campus-fw-dpi.metron" "$data/pcap/tcpreplay/test.pcap" exact
check router "$root/examples/router-napt-lb.metron" "$tmp/generated.pcap" renamed
echo "ovs-dataplane: $pass passed, $fail failed"
[ "$fail" = 0 ]
