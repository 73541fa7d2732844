#!/usr/bin/env bash
# deploy.sh — metronc deploy / status / undeploy against two real metron-agents and a real Open
# vSwitch bridge (userspace), on one machine.
#
#   tests/agent/deploy.sh METRONC METRON_AGENT DATA_DIR
#
# The topology: switch s1 (OVS, br0; too small to classify the chain, so Algorithm 2 gives
# classification to the server's NIC and s1 forwards) with the chain's ingress on port 1 and its
# egress on port 4, server1 on port 2, server2 on port 3, each server's agent running data planes
# on DPDK net_pcap ports that replay a capture. Checks:
#  - pinning (--server server1) puts the chain on server1, s1 forwards port 1 to port 2 (its
#    flows carry the chain's cookie), and what the data plane emits equals the reference
#    interpreter's output for the capture;
#  - a deploy whose switch flows would take the running chain's traffic (the same ID again, or
#    another chain on the same ingress port) is refused before anything changes;
#  - Algorithm 1 then sends a second chain (its own ingress, port 5) to the less loaded server2
#    (s1 to port 3);
#  - status lists both; undeploy removes the chains, their NIC rules and their switch flows;
#  - a deploy the agent refuses leaves no switch flow behind; a wrong token, an unknown server,
#    a topology without agents are clear errors.
# Every agent is stopped by PID, OVS by ovs-lib.sh's ovs_stop.
set -u
metronc=$1 agent=$2 data=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
tmp=$(mktemp -d /tmp/metron-deploy-test.XXXXXX)
pids=()
# shellcheck source=tests/tools/ovs-lib.sh
source "$root/tests/tools/ovs-lib.sh"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$p" 2> /dev/null
  done
  ovs_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' INT TERM
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

ovs_start "$tmp/ovs" 5 > "$tmp/ovs-start.log" 2>&1 || { cat "$tmp/ovs-start.log"; exit 1; }
head -c 24 /dev/urandom | base64 > "$tmp/token"
chmod 600 "$tmp/token"
capture=$data/pcap/tcpreplay/test.pcap
for s in 1 2; do
  "$agent" --listen 127.0.0.1:0 --port-file "$tmp/agent$s.port" --token-file "$tmp/token" --server-id "server$s" \
    --state-dir "$tmp/state$s" --cores 0-1 --main-core 0 --eal-args "--no-huge --no-shconf -m 256 --no-pci" \
    --max-body $((1 << 28)) --start-timeout 120000 \
    --nic "nic0=net_pcap$s,rx_pcap=$capture,tx_pcap=$tmp/out$s.pcap" > "$tmp/agent$s.log" 2>&1 &
  pids+=($!)
done
for s in 1 2; do
  for _ in $(seq 100); do [ -s "$tmp/agent$s.port" ] && break; sleep 0.05; done
  [ -s "$tmp/agent$s.port" ] || { echo "agent $s did not start:"; cat "$tmp/agent$s.log"; exit 1; }
done
topology() { # $1: file; $2: "agents" or "none"
  {
    printf 'name = "two-servers"\n\n[[switch]]\nname = "s1"\nprofile = "ovs"\nrules = 1\nopenflow = "unix:%s/br0.mgmt"\n' "$OVS_DIR"
    for s in 1 2; do
      printf '\n[[server]]\nname = "server%s"\ncores = 1\n' "$s"
      [ "$2" = agents ] && printf 'agent = "127.0.0.1:%s"\n' "$(cat "$tmp/agent$s.port")"
      printf '\n  [[server.nic]]\n  name = "nic0"\n  profile = "connectx-5"\n'
    done
    printf '\n[[link]]\na = "s1:2"\nb = "server1.nic0:0"\n\n[[link]]\na = "s1:3"\nb = "server2.nic0:0"\n'
    printf '\n[[ingress]]\nport = "port0"\nat = "s1:1"\n\n[[ingress]]\nport = "port2"\nat = "s1:5"\n'
    printf '\n[[egress]]\nport = "port1"\nat = "s1:4"\n'
  } > "$1"
}
topology "$tmp/two.toml" agents
topology "$tmp/none.toml" none
chain=$root/examples/campus-fw-dpi.metron
# The same chain on another ingress port.
sed -e "s|\"../../shared/data/|\"$data/|" -e 's/in port0 ->/in port2 ->/' "$chain" > "$tmp/campus2.metron"
flows() { local f; f=$(ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats) && grep -v '^OFPST' <<< "$f"; }
where() { # the server status says runs chain $1
  "$metronc" status --topology "$tmp/two.toml" --token-file "$tmp/token" --format json |
    $PY -c "import json,sys; d=json.load(sys.stdin); print(' '.join(s['server'] for s in d['servers'] for c in s.get('chains',[]) if c['id']=='$1'))"
}

# 1. Pinned.
if out=$("$metronc" deploy "$chain" --timeout 300000 --topology "$tmp/two.toml" --token-file "$tmp/token" --server server1 --id a 2>&1) &&
  grep -q "deployed chain campus as 'a' on server1" <<< "$out" && grep -q "server selection .*server1 \[pinned with --server\]" <<< "$out" &&
  grep -q "^switch s1 .*2 flows in one bundle" <<< "$out" && grep -q "^server configuration (SC_DEPLOY)" <<< "$out"; then ok
else bad "deploy --server server1: $out"; fi
echo "$out" | sed -n '2,$p'
[ "$(where a)" = server1 ] && ok || bad "status does not show chain a on server1: $(where a)"
if flows | grep -q "in_port=1 actions=output:2" && [ "$(flows | grep -c 'cookie=0x')" = 2 ]; then ok
else bad "s1 does not forward port 1 to server1: $(flows)"; fi

# 2. Refused before anything changes: chain a's flows must stay as they are.
before=$(flows)
out=$("$metronc" deploy "$chain" --timeout 300000 --topology "$tmp/two.toml" --token-file "$tmp/token" --server server2 --id a 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "switch s1 (unix:.*): it already holds flows with this chain ID's cookie .*nothing was deployed" <<< "$out"; then ok
else bad "deploying ID a again (rc $rc): $out"; fi
[ "$(flows)" = "$before" ] && ok || bad "a refused redeploy changed s1's flows: $(flows)"
out=$("$metronc" deploy "$chain" --timeout 300000 --topology "$tmp/two.toml" --token-file "$tmp/token" --server server2 --id b 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "the flows of chain 'a' (on server1) (cookie 0x[0-9a-f]*/0xffffff0000000000) take in_port 1 in table 0, as this chain's would" <<< "$out" &&
  grep -q "nothing was deployed" <<< "$out"; then ok; echo "$out" | tail -1
else bad "a second chain on chain a's ingress port (rc $rc): $out"; fi
[ "$(flows)" = "$before" ] && [ -z "$(where b)" ] && ok || bad "a refused deploy on a busy ingress changed something: $(flows); b on $(where b)"

# Algorithm 1: server1 has 1 of 2 cores free, server2 2 of 2; both are asked; server2 wins.
if out=$("$metronc" deploy "$tmp/campus2.metron" --timeout 300000 --topology "$tmp/two.toml" --token-file "$tmp/token" --id b --seed 3 2>&1) &&
  grep -q "deployed chain campus as 'b' on server2" <<< "$out" && grep -q "server2 by Algorithm 1" <<< "$out" &&
  grep -q "server1: 1 of 2 cores free" <<< "$out" && grep -q "server2: 2 of 2 cores free" <<< "$out"; then ok
else bad "Algorithm 1 did not choose the less loaded server2: $out"; fi
[ "$(where b)" = server2 ] && ok || bad "status does not show chain b on server2: $(where b)"
flows | grep -q "in_port=5 actions=output:3" && ok || bad "s1 does not forward port 5 to server2: $(flows)"
flows | grep -q "in_port=1 actions=output:2" && ok || bad "chain b took chain a's ingress: $(flows)"
out=$("$metronc" status --topology "$tmp/two.toml" --token-file "$tmp/token")
grep -q "chain a " <<< "$out" && grep -q "chain b " <<< "$out" && ok || bad "status: $out"

# 3. Undeploy; chain a's output against the reference interpreter.
for id in a b; do
  out=$("$metronc" undeploy "$id" --topology "$tmp/two.toml" --token-file "$tmp/token" 2>&1) &&
    grep -q "undeployed '$id' from server" <<< "$out" && grep -q "NIC rules deleted" <<< "$out" && ok || bad "undeploy $id: $out"
done
[ -z "$(flows)" ] && ok || bad "switch flows left after undeploy: $(flows)"
[ -z "$(where a)$(where b)" ] && ok || bad "chains left after undeploy"
"$metronc" run --reference "$chain" --pcap "$capture" --out "$tmp/reference.pcap" > /dev/null 2>&1
frames() { tcpdump -r "$1" -nn -x 2> /dev/null | sed -E 's/^[0-9:.]+ //'; }
if [ -s "$tmp/reference.pcap" ] && cmp -s <(frames "$tmp/out1.pcap") <(frames "$tmp/reference.pcap"); then ok
else bad "server1's data plane did not emit the reference interpreter's frames"; fi
out=$("$metronc" undeploy a --topology "$tmp/two.toml" --token-file "$tmp/token" 2>&1)
[ $? = 1 ] && grep -q "no agent of topology 'two-servers' runs a chain 'a'" <<< "$out" && ok || bad "undeploy twice: $out"

# 3b. The switch classifies (no `rules` limit: Algorithm 2 gives it the chain): its flows tag
# with VLAN IDs, the NIC's rules pop them (tests/tools/ovs-dataplane.sh checks that data path).
sed 's/^rules = 1$//' "$tmp/two.toml" > "$tmp/switch.toml"
if out=$("$metronc" deploy "$chain" --timeout 300000 --topology "$tmp/switch.toml" --token-file "$tmp/token" --server server2 --id sw 2>&1) &&
  grep -q "classifier s1" <<< "$out"; then ok; else bad "deploy with the switch classifying: $out"; fi
n=$(flows | grep -c 'push_vlan')
[ "$n" -gt 100 ] && flows | grep -q "output:3" && ok || bad "s1 holds $n tagging flows towards server2"
nic=$("$PY" - "$(cat "$tmp/agent2.port")" "$tmp/token" <<'PY'
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/metron/rules/nic0", headers={"Authorization": "Bearer " + open(sys.argv[2]).read().strip()})
rules = json.loads(c.getresponse().read())["rules"]
print(sum(1 for r in rules if [a["type"] for a in r["rule"]["actions"]][:2] == ["of_pop_vlan", "mark"]))
PY
)
[ "$nic" -ge 1 ] && ok || bad "server2's NIC has no pop-and-mark dispatch rule ($nic)"
out=$("$metronc" undeploy sw --topology "$tmp/switch.toml" --token-file "$tmp/token" 2>&1) && [ -z "$(flows)" ] && ok ||
  bad "undeploy sw: $out; flows left: $(flows | head -3)"

# 3c. A switch that tags only by MAC address (which replaces eth.dst for good): refused before
# anything is installed.
sed -e 's/^name = "ovs"/name = "ovs-mac"/' -e 's/^kinds = \["vlan", "mac"\]/kinds = ["mac"]/' -e '/^vlan = /d' \
  "$root/targets/profiles/ovs.toml" > "$tmp/ovs-mac.toml"
sed -e 's|^profile = "ovs"$|profile = "ovs-mac.toml"|' "$tmp/switch.toml" > "$tmp/mac.toml"
out=$("$metronc" deploy "$root/examples/router-napt-lb.metron" --timeout 300000 --topology "$tmp/mac.toml" --token-file "$tmp/token" \
  --server server2 --id mac 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "on switch 's1', which tags with mac tags; the data plane can take a switch's VLAN tags only (a MAC tag replaces eth.dst for good), so nothing was deployed" <<< "$out"; then ok
else bad "a MAC-tagging switch (rc $rc): $out"; fi
[ -z "$(flows)" ] && [ -z "$(where mac)" ] && ok || bad "a refused MAC-tag deploy left something: $(flows | head -3); on $(where mac)"

# 4. Refusals and rollback.
out=$("$metronc" deploy "$chain" --timeout 300000 --topology "$tmp/two.toml" --token-file "$tmp/token" --server server1 --cores 3 --id c 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "SC_DEPLOY_REQ: .*HTTP 422: the chain needs 3 cores; this server gives chains 2 (the switch rules were removed)" <<< "$out"; then ok
else bad "a refused deploy (rc $rc): $out"; fi
[ -z "$(flows)" ] && ok || bad "switch flows left by a refused deploy: $(flows)"
printf '%s\n' "0123456789abcdef-wrong-token" > "$tmp/wrong" && chmod 600 "$tmp/wrong"
out=$("$metronc" deploy "$chain" --timeout 300000 --topology "$tmp/two.toml" --token-file "$tmp/wrong" --server server1 2>&1)
[ $? = 1 ] && grep -q "HTTP 401: wrong token" <<< "$out" && ok || bad "wrong token: $out"
[ -z "$(flows)" ] && ok || bad "switch flows left by a wrong token: $(flows)"
out=$("$metronc" deploy "$chain" --timeout 300000 --topology "$tmp/two.toml" --token-file "$tmp/token" --server server9 2>&1)
[ $? = 2 ] && grep -q "no server 'server9'" <<< "$out" && ok || bad "unknown server: $out"
out=$("$metronc" deploy "$chain" --timeout 300000 --topology "$tmp/none.toml" --token-file "$tmp/token" 2>&1)
[ $? = 2 ] && grep -q "has an agent" <<< "$out" && ok || bad "no agents: $out"
chmod 644 "$tmp/wrong"
out=$("$metronc" status --topology "$tmp/two.toml" --token-file "$tmp/wrong" 2>&1)
[ $? = 2 ] && grep -q "others can read the token" <<< "$out" && ok || bad "open token file: $out"

echo "deploy: $pass passed, $fail failed"
[ "$fail" = 0 ]
