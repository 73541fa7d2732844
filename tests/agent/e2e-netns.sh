#!/usr/bin/env bash
# e2e-netns.sh — the whole deployment on one machine, in network namespaces:
#
#   gen ──g1/o1──┐                 ┌──o2/s1── srv1: metron-agent, the chain's data plane on
#                │  OVS br0 (its   │           DPDK net_af_packet over veth s1
#   gen ──g4/o4──┤  own netns,     │
#   (capture)    │  userspace)     └──o3/s2── srv2: metron-agent, net_af_packet over veth s2
#
#   ctl ──10.200.1.0/30── srv1,  ctl ──10.200.2.0/30── srv2   (the control plane: metronc runs in
#   ctl and reaches the agents there; OVS through its management socket, a file)
#
# The chain (examples/campus-fw-dpi.metron: a firewall the switch runs, DPI the server runs) is
# deployed with metronc deploy: Algorithm 1 chooses a server, the switch's flows classify and tag
# (VLAN), the chosen server's NIC rules pop the tag. tcpreplay replays a real capture from gen
# into the switch; what leaves the switch's egress port is captured in gen and must equal what
# `metronc run --reference` emits for the capture (per flow direction: the switch interleaves
# flows). Then the chain is undeployed and deployed again pinned to the other server, and the
# replay is checked again.
#
#   tests/agent/e2e-netns.sh METRONC METRON_AGENT SRC_ROOT
#
# Addresses exist only inside the namespaces this script creates; everything it starts is
# stopped by PID, the namespaces deleted.
set -u
metronc=$(realpath "$1") agent=$(realpath "$2") root=$(realpath "$3")
data=${METRON_DATA_DIR:-$root/../shared/data}
PY=/usr/bin/python3
# shellcheck source=tests/tools/ovs-lib.sh
source "$root/tests/tools/ovs-lib.sh"
tmp=$(mktemp -d /tmp/metron-e2e.XXXXXX)
chmod 755 "$tmp"
tag=$$
NS_GEN=metron-gen-$tag NS_CTL=metron-ctl-$tag NS_S1=metron-srv1-$tag NS_S2=metron-srv2-$tag
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$p" 2> /dev/null
  done
  ovs_stop
  for n in "$NS_GEN" "$NS_CTL" "$NS_S1" "$NS_S2"; do ip netns delete "$n" 2> /dev/null; done
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' INT TERM
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
quiet_ns() { # no IPv6 chatter (router solicitations, MLD) on any link of namespace $1
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip netns exec "$1" ip link set lo up
}
# veth A (in namespace NA) <-> B (in namespace NB), both up
link() {
  ip link add "$1" type veth peer name "$3" || return 1
  ip link set "$1" netns "$2" && ip link set "$3" netns "$4" || return 1
  ip netns exec "$2" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" 2> /dev/null
  ip netns exec "$4" sysctl -qw "net.ipv6.conf.$3.disable_ipv6=1" 2> /dev/null
  ip netns exec "$2" ip link set "$1" up && ip netns exec "$4" ip link set "$3" up
}

ovs_start "$tmp/ovs" 0 > "$tmp/ovs.log" 2>&1 || { cat "$tmp/ovs.log"; exit 1; }
for n in "$NS_GEN" "$NS_CTL" "$NS_S1" "$NS_S2"; do ip netns add "$n" && quiet_ns "$n" || exit 1; done
quiet_ns "$OVS_NETNS"
x=$tag
link "g1$x" "$NS_GEN" "o1$x" "$OVS_NETNS" && link "g4$x" "$NS_GEN" "o4$x" "$OVS_NETNS" &&
  link "s1$x" "$NS_S1" "o2$x" "$OVS_NETNS" && link "s2$x" "$NS_S2" "o3$x" "$OVS_NETNS" &&
  link "c1$x" "$NS_CTL" "k1$x" "$NS_S1" && link "c2$x" "$NS_CTL" "k2$x" "$NS_S2" || { echo "cannot create the links"; exit 1; }
ip netns exec "$NS_CTL" ip addr add 10.200.1.1/30 dev "c1$x"
ip netns exec "$NS_S1" ip addr add 10.200.1.2/30 dev "k1$x"
ip netns exec "$NS_CTL" ip addr add 10.200.2.1/30 dev "c2$x"
ip netns exec "$NS_S2" ip addr add 10.200.2.2/30 dev "k2$x"
for i in 1 2 3 4; do
  ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout=20 add-port "$OVS_BR" "o$i$x" -- set interface "o$i$x" ofport_request=$i ||
    exit 1
done

head -c 24 /dev/urandom | base64 > "$tmp/token"
chmod 600 "$tmp/token"
for s in 1 2; do
  ns=$NS_S1 && [ $s = 2 ] && ns=$NS_S2
  ip netns exec "$ns" "$agent" --listen "10.200.$s.2:8600" --token-file "$tmp/token" --server-id "server$s" \
    --state-dir "$tmp/state$s" --eal-args "--no-huge --no-shconf -m 256 --no-pci" --max-body $((1 << 28)) \
    --start-timeout 120000 --nic "nic0=net_af_packet0,iface=s$s$x,framecnt=4096" > "$tmp/agent$s.log" 2>&1 &
  pids+=($!)
done
cat > "$tmp/net.toml" <<EOF
name = "e2e"

[[switch]]
name = "s1"
profile = "ovs"
openflow = "unix:$OVS_DIR/$OVS_BR.mgmt"

[[server]]
name = "server1"
cores = 1
agent = "10.200.1.2:8600"

  [[server.nic]]
  name = "nic0"
  profile = "connectx-5"

[[server]]
name = "server2"
cores = 1
agent = "10.200.2.2:8600"

  [[server.nic]]
  name = "nic0"
  profile = "connectx-5"

[[link]]
a = "s1:2"
b = "server1.nic0:0"

[[link]]
a = "s1:3"
b = "server2.nic0:0"

[[ingress]]
port = "port0"
at = "s1:1"

[[egress]]
port = "port1"
at = "s1:4"
EOF
for s in 1 2; do
  up=""
  for _ in $(seq 100); do
    grep -q "listening on" "$tmp/agent$s.log" && { up=1; break; }
    sleep 0.1
  done
  [ -n "$up" ] || { echo "agent $s did not start:"; cat "$tmp/agent$s.log"; exit 1; }
done

chain=$root/examples/campus-fw-dpi.metron
capture=$data/pcap/tcpreplay/test.pcap
"$metronc" run --reference "$chain" --pcap "$capture" --out "$tmp/reference.pcap" > /dev/null 2>&1 || { echo "reference run failed"; exit 1; }
ctl() { ip netns exec "$NS_CTL" "$metronc" "$@"; }

# replay NAME: tcpreplay the capture into the switch, capture its egress; compare.
replay() {
  local out=$tmp/$1.pcap
  ip netns exec "$NS_GEN" tcpdump -i "g4$x" -U -w "$out" 2> "$tmp/$1.tcpdump" &
  local dump=$!
  for _ in $(seq 50); do grep -q "listening on" "$tmp/$1.tcpdump" && break; sleep 0.1; done
  ip netns exec "$NS_GEN" tcpreplay -q -i "g1$x" --pps 500 "$capture" > "$tmp/$1.tcpreplay" 2>&1 ||
    bad "tcpreplay: $(cat "$tmp/$1.tcpreplay")"
  sleep 2
  kill -INT "$dump"
  wait "$dump" 2> /dev/null
  if "$PY" - "$out" "$tmp/reference.pcap" "$1" <<'PY'
import struct, sys
def frames(path):
    d = open(path, "rb").read(); o = 24; out = []
    while o + 16 <= len(d):
        n = struct.unpack("<I", d[o + 8:o + 12])[0]; out.append(d[o + 16:o + 16 + n]); o += 16 + n
    return out
def flow(f):
    if len(f) < 34 or f[12:14] != b"\x08\x00": return b""
    ihl = (f[14] & 15) * 4; proto = f[23]
    pa = pb = b""
    if proto in (6, 17): pa, pb = f[14 + ihl:16 + ihl], f[16 + ihl:18 + ihl]
    return bytes([proto]) + f[26:30] + pa + f[30:34] + pb
def by_flow(fs):
    d = {}
    for f in fs: d.setdefault(flow(f), []).append(f)
    return d
got, want = frames(sys.argv[1]), frames(sys.argv[2])
same = by_flow(got) == by_flow(want) and len(want) > 0
print("%s: %d frames out of the switch's egress, the reference emits %d: %s" %
      (sys.argv[3], len(got), len(want), "same frames, same order per flow direction" if same else "DIFFERENT"))
sys.exit(0 if same else 1)
PY
  then ok; else bad "replay $1: the network's output differs from the reference"; fi
}

where() { ctl status --topology "$tmp/net.toml" --token-file "$tmp/token" --format json |
  "$PY" -c "import json,sys; print(' '.join(s['server'] for s in json.load(sys.stdin)['servers'] for c in s.get('chains',[]) if c['id']=='campus'))"; }

# 1. Algorithm 1 chooses.
if out=$(ctl deploy "$chain" --topology "$tmp/net.toml" --token-file "$tmp/token" --timeout 300000 2>&1); then ok
else bad "deploy: $out"; fi
echo "$out"
chosen=$(sed -n "s/^deployed chain campus as 'campus' on \(server[12]\) .*/\1/p" <<< "$out")
[ -n "$chosen" ] && [ "$(where)" = "$chosen" ] && ok || bad "status does not show the chain on the chosen server ($chosen): $(where)"
replay "algorithm1-$chosen"
undeploy() { # the chosen server's data plane received what the switch sent it: the 132 frames the firewall allows
  local out
  out=$(ctl undeploy campus --topology "$tmp/net.toml" --token-file "$tmp/token" 2>&1) &&
    grep -q "undeployed 'campus' from $1 (1 NIC rules deleted; 132 packets received)" <<< "$out" && ok || bad "undeploy from $1: $out"
}
undeploy "$chosen"

# 2. Pinned to the other server.
other=server1
[ "$chosen" = server1 ] && other=server2
if out=$(ctl deploy "$chain" --topology "$tmp/net.toml" --token-file "$tmp/token" --timeout 300000 --server "$other" 2>&1) &&
  grep -q "on $other " <<< "$out"; then ok; else bad "deploy --server $other: $out"; fi
[ "$(where)" = "$other" ] && ok || bad "status does not show the chain on $other: $(where)"
replay "pinned-$other"
undeploy "$other"

echo "e2e: $pass passed, $fail failed"
if [ "$fail" != 0 ]; then
  for s in 1 2; do echo "--- agent $s:"; tail -5 "$tmp/agent$s.log"; done
fi
[ "$fail" = 0 ]
