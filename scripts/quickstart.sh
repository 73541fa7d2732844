#!/usr/bin/env bash
# quickstart.sh — the README's first command: install what is needed (Debian 12 packages),
# build metronc, and run the furthest stages that exist on the bundled examples: check the chain,
# synthesize it into traffic classes, split them for a ConnectX-5, explain one packet, compile the
# campus firewall for the paper's Fig. 8a testbed (rules for its switch and NIC), and run a
# chain in the reference interpreter on a real capture.
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
run build/metronc run --reference examples/campus-fw-dpi.metron --pcap "$data/pcap/tcpreplay/test.pcap" --out "$out/campus.pcap" --stats
rm -rf "$out"
