#!/usr/bin/env bash
# bench-deploy.sh — how long deploying a firewall takes, step by step, for 5 to 4,000 rules
# (paper §5.6.1, Fig. 17: synthesis, translation into device rules, then either installation in
# the OpenFlow switch (17a) or the server's configuration (17b); about 180 ms of fixed cost to
# start a data-plane process and 0.471 ms per rule for the software path there).
#
#   bench-deploy.sh METRONC METRON_AGENT SRC_ROOT
#
# The firewalls are the first N rules of ClassBench fw1_5K (N = 5, 50, 500, 1000, 2000, 4000),
# one allow-rule set with default deny, as in bench-ovs-install.sh.
#  software (17b): `metronc deploy --format json` to a real metron-agent whose NIC is a DPDK
#    net_null port (the server's NIC classifies): server selection, compile (synthesis; placement
#    and rules; LLVM code and link), SC_DEPLOY (the executable and the NIC rules over HTTP, the
#    agent checking the rules, writing and starting the data plane until its first statistics).
#    Undeployed between runs (not timed).
#  hardware (17a): the same chain for tests/targets/ovs.toml, where Open vSwitch classifies:
#    `metronc compile --formats openflow --time-passes` (synthesis; placement, lowering and the
#    OpenFlow file) and `ovs-ofctl --bundle add-flows` into a real userspace bridge (emptied
#    between runs, not timed).
# Medians of BENCH_RUNS (default 3) runs, wall clock. No pass/fail on time; it fails when a
# deploy or an installation fails.
set -euo pipefail
metronc=$(realpath "$1") agent=$(realpath "$2") root=$(realpath "$3")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=$(realpath "${METRON_DATA_DIR:-$root/../shared/data}")
runs=${BENCH_RUNS:-3}
PY=/usr/bin/python3
# shellcheck source=tests/tools/ovs-lib.sh
source "$here/../tools/ovs-lib.sh"
tmp=$(mktemp -d)
agent_pid=""
cleanup() {
  if [ -n "$agent_pid" ]; then
    kill "$agent_pid" 2> /dev/null || true
    for _ in $(seq 100); do kill -0 "$agent_pid" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$agent_pid" 2> /dev/null || true
  fi
  ovs_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

now_ns() { date +%s%N; }
ms_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

head -c 24 /dev/urandom | base64 > "$tmp/token"
chmod 600 "$tmp/token"
"$agent" --listen 127.0.0.1:0 --port-file "$tmp/port" --token-file "$tmp/token" --server-id server1 \
  --state-dir "$tmp/state" --eal-args "--no-huge --no-shconf -m 512 --no-pci" --nic nic0=net_null0 > "$tmp/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { cat "$tmp/agent.log"; exit 1; }
sed "s/^cores = 1$/cores = 1\nagent = \"127.0.0.1:$(cat "$tmp/port")\"/" "$root/tests/agent/one-server.toml" > "$tmp/server.toml"
ovs_start "$tmp/ovs" 3 > "$tmp/ovs.log" 2>&1 || { cat "$tmp/ovs.log"; exit 1; }

echo "bench-deploy: firewalls of the first N rules of ClassBench fw1_5K, median of $runs runs, ms (wall clock)"
echo "  software: metronc deploy to metron-agent (net_null NIC classifies); hardware: compile for Open vSwitch + bundle install"
printf "%6s %8s | %7s %9s %8s %10s %8s | %7s %9s %8s %8s\n" rules classes synth translate codegen "server cfg" total \
  synth translate install total
declare -A cfg
for n in 5 50 500 1000 2000 4000; do
  head -n "$n" "$data/classbench/pclasseval_song/fw1_5K" > "$tmp/fw$n"
  cat > "$tmp/fw$n.metron" <<METRON
import classbench "$tmp/fw$n" as rules;
nf firewall { rules rules action allow; default deny; }
chain fw { in port0 -> firewall -> out port1; }
METRON
  sw=() hw=()
  for i in $(seq "$runs"); do
    "$metronc" deploy "$tmp/fw$n.metron" --topology "$tmp/server.toml" --token-file "$tmp/token" --format json \
      > "$tmp/deploy.json" 2> "$tmp/deploy.err" || { cat "$tmp/deploy.err"; exit 1; }
    sw+=("$($PY - "$tmp/deploy.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = {x["step"].strip(): x["ms"] for x in d["steps"]}
print(s["synthesis"], s["placement + rules (Algorithm 2)"], s["code generation + link"],
      s["server configuration (SC_DEPLOY)"], d["total_ms"])
PY
)")
    "$metronc" undeploy fw --topology "$tmp/server.toml" --token-file "$tmp/token" > /dev/null
    # hardware path
    t0=$(now_ns)
    "$metronc" compile "$tmp/fw$n.metron" --topology "$root/tests/targets/ovs.toml" -o "$tmp/hw" --formats openflow \
      --time-passes > "$tmp/hw.out" 2> "$tmp/hw.err" || { cat "$tmp/hw.err"; exit 1; }
    gen=$(ms_since "$t0")
    ovs-ofctl -O OpenFlow13 del-flows "$OVS_BR"
    t0=$(now_ns)
    ovs-ofctl -O OpenFlow13 --bundle add-flows "$OVS_BR" "$tmp/hw/rules/s1.ofctl"
    inst=$(ms_since "$t0")
    hw+=("$($PY - "$tmp/hw.err" "$gen" "$inst" <<'PY'
import re, sys
synth = trans = 0.0
for line in open(sys.argv[1]):
    m = re.match(r"\s*([0-9.]+)\s+[0-9.]+%\s+(.*\S)\s*$", line)
    if not m:
        continue
    ms, name = float(m.group(1)), m.group(2)
    if name == "synth":
        synth += ms
    elif name in ("place + split", "lower") or name.startswith("print"):
        trans += ms
print(synth, trans, sys.argv[3], float(sys.argv[2]) + float(sys.argv[3]))
PY
)")
  done
  classes=$(grep -o '[0-9]* classes offloaded' "$tmp/hw.out" | awk '{print $1}')
  col() { printf '%s\n' "${@:2}" | awk -v k="$1" '{ print $k }' | median; }
  s_syn=$(col 1 "${sw[@]}") s_tr=$(col 2 "${sw[@]}") s_cg=$(col 3 "${sw[@]}") s_cfg=$(col 4 "${sw[@]}") s_tot=$(col 5 "${sw[@]}")
  h_syn=$(col 1 "${hw[@]}") h_tr=$(col 2 "${hw[@]}") h_in=$(col 3 "${hw[@]}") h_tot=$(col 4 "${hw[@]}")
  cfg[$n]=$s_cfg
  printf "%6s %8s | %7.1f %9.1f %8.1f %10.1f %8.1f | %7.1f %9.1f %8.1f %8.1f\n" "$n" "${classes:-?}" "$s_syn" "$s_tr" "$s_cg" \
    "$s_cfg" "$s_tot" "$h_syn" "$h_tr" "$h_in" "$h_tot"
done
awk -v a="${cfg[5]}" -v b="${cfg[4000]}" 'BEGIN {
  printf "server configuration: %.0f ms for 5 rules (paper: ~180 ms to start a slave), %.3f ms per extra rule up to 4,000 (paper: 0.471)\n", a, (b - a) / 3995 }'
