#!/usr/bin/env bash
# quickstart.sh — the README's first command: install what is needed (Debian 12 packages),
# build metronc, and run the furthest stages that exist on the bundled examples: check the chain,
# synthesize it into traffic classes, split them for a ConnectX-5, explain one packet, compile the
# campus firewall for the paper's Fig. 8a testbed (rules for its switch and NIC), and — the main
# job — run a real capture through the chain's compiled DPDK data plane, checked against the
# reference interpreter.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMETRON_TESTS=OFF > build.configure.log 2>&1 \
  || { cat build.configure.log; exit 1; }
ninja -C build metronc
example=examples/web.metron
echo
echo "\$ build/metronc check $example"
build/metronc check "$example"
echo "ok: no errors, no warnings"
data=${METRON_DATA_DIR:-$root/../shared/data}
run() { echo; echo "\$ $*"; "$@"; }
run build/metronc synth "$example" --stats --emit none
run build/metronc synth examples/router-napt-lb.metron --emit split --device connectx-5 --cores 4 2>/dev/null | grep -v '^  class'
run build/metronc explain "$example" --packet 'tcp 192.0.2.7:40000 -> 6.1.2.3:80' --device connectx-5
out=$(mktemp -d)
run build/metronc compile examples/campus-fw-dpi.metron --topology examples/fig8a.toml -o "$out/fig8a" 2>/dev/null
run head -c 600 "$out/fig8a/rules/s1.ofctl"
echo
# The main job: compile the campus firewall + DPI chain to its data plane (LLVM, linked with the
# DPDK runtime) and run a real capture through it on DPDK's net_pcap devices, then the same
# capture through the reference interpreter, which it must match.
run build/metronc run examples/campus-fw-dpi.metron --pcap "$data/pcap/tcpreplay/test.pcap" --out "$out/campus.pcap" --stats
run build/metronc run --reference examples/campus-fw-dpi.metron --pcap "$data/pcap/tcpreplay/test.pcap" --out "$out/campus-reference.pcap"
# Same frames, in the same order (timestamps aside: net_pcap stamps what it sends).
frames() { tcpdump -r "$1" -nn -x 2>/dev/null | sed -E 's/^[0-9:.]+ //'; }
if cmp -s <(frames "$out/campus.pcap") <(frames "$out/campus-reference.pcap"); then
  echo "ok: the compiled data plane emitted the same frames as the reference interpreter"
else
  echo "error: the compiled data plane and the reference interpreter disagree"; exit 1
fi
rm -rf "$out"
