#!/usr/bin/env bash
# dataplane-processes.sh — the data plane with a DPDK secondary process per core (issue 5; the
# paper's master/slave design; metronc-dataplane(8) PROCESSES), against the reference
# interpreter, on hugepages this test reserves and gives back:
#   - without free hugepages, `--processes secondary` is refused and `auto` says why it chose threads;
#   - with them, router -> NAPT -> LB and fw1_5K -> NAPT on 2 cores and the campus firewall with
#     DPI on 1 core: one process per core (distinct pids, bin/SERVER.coreK), output equal to the
#     reference (1 core byte-identical; 2 cores after renaming NAPT ports / LB backends per flow);
#   - a core's process killed while the data plane runs: an error naming it, no output left;
#   - nothing left behind: hugepage files, /var/run/dpdk/<prefix>, free hugepages as before;
#   - a core's executable started by hand against the primary of another chain, or of one that
#     runs threads, is refused with a message that says so;
#   - the data plane refuses --processes secondary under --no-huge, and metronc run refuses a
#     compile output without per-core executables.
# Root only (it reserves hugepages and mounts a hugetlbfs); exits 77 (skipped) otherwise.
#
#   dataplane-processes.sh BUILD_DIR
set -u
build=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${METRON_DATA_DIR:?set METRON_DATA_DIR to ../shared/data}
metronc=$build/metronc mkpcap=$build/tests/metron-mkpcap pcapdiff=$build/tests/metron-pcapdiff
if [ "$(id -u)" != 0 ]; then echo "SKIP: reserving hugepages needs root"; exit 77; fi
tmp=$(mktemp -d)
pages_before=$(cat /proc/sys/vm/nr_hugepages)
mnt=$tmp/huge
cleanup() {
  mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
  echo "$pages_before" > /proc/sys/vm/nr_hugepages
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
# has NAME FILE TEXT: FILE contains TEXT.
has() { if grep -qF -- "$3" "$2"; then ok; else bad "$1: '$2' does not say '$3'"; sed 's/^/    /' "$2" | tail -5; fi; }
free_pages() { awk '/^HugePages_Free:/ {print $2}' /proc/meminfo; }

"$mkpcap" --out "$tmp/gen.pcap" --packets 50000 --seed 9 \
  --classbench "$data/classbench/pclasseval_song/fw1_5K_trace" \
  --routes "$data/routing/derived/internet2_atla_ipv4.txt" --every 4 > "$tmp/gen.log" || { cat "$tmp/gen.log"; exit 1; }
router=$root/examples/router-napt-lb.metron

# Without hugepages (when this machine has none free and no hugetlbfs of its own).
if [ "$(free_pages)" = 0 ]; then
  "$metronc" run "$router" --pcap "$tmp/gen.pcap" --out "$tmp/x.pcap" --processes secondary 2> "$tmp/err"
  [ $? = 1 ] && ok || bad "no hugepages: --processes secondary did not exit 1"
  has "no hugepages" "$tmp/err" "metronc run: error: --processes secondary: secondary processes need hugepages and 0 MiB are free"
  [ -e "$tmp/x.pcap" ] && bad "no hugepages: an output was written" || ok
  "$metronc" run "$router" --pcap "$tmp/gen.pcap" --out "$tmp/x.pcap" 2> "$tmp/err" || bad "no hugepages: auto failed"
  has "no hugepages, auto" "$tmp/err" "processes: threads (secondary processes need hugepages and 0 MiB are free"
fi

# Reserve 256 hugepages more and mount a hugetlbfs.
echo $((pages_before + 256)) > /proc/sys/vm/nr_hugepages
if [ "$(free_pages)" -lt 256 ]; then echo "SKIP: the kernel gave $(free_pages) free hugepages, not 256"; exit 77; fi
mkdir "$mnt" && mount -t hugetlbfs nodev "$mnt" || { echo "SKIP: cannot mount a hugetlbfs"; exit 77; }
free0=$(free_pages)
ls /var/run/dpdk 2> /dev/null | sort > "$tmp/rundirs.before"

# Each chain: the reference, then the compiled chain with one process per core.
runs=("$router 2" "$root/tests/dataplane/fw5k-napt.metron 2" "$root/examples/campus-fw-dpi.metron 1")
for r in "${runs[@]}"; do
  read -r chain cores <<< "$r"
  name=$(basename "$chain" .metron)
  renames=()
  grep -q 'napt ip.src' "$chain" && renames+=(--rename-injective tp.src)
  grep -q 'napt ip.dst' "$chain" && renames+=(--rename-injective tp.dst)
  for f in $(grep -oE 'balance [a-z.]+' "$chain" | awk '{print $2}' | sort -u); do renames+=(--rename "$f"); done
  rm -f "$tmp"/ref-* "$tmp"/sec-*
  if ! "$metronc" run --reference "$chain" --pcap "$tmp/gen.pcap" --out "$tmp/ref-%e.pcap" --index 2> "$tmp/ref.err"; then
    bad "$name: reference run failed"; cat "$tmp/ref.err"; continue
  fi
  if ! "$metronc" run "$chain" --cores "$cores" --processes secondary --pcap "$tmp/gen.pcap" --out "$tmp/sec-%e.pcap" \
       --index --keep "$tmp/out-$name" --stats --stats-format json > "$tmp/stats.json" 2> "$tmp/sec.err"; then
    bad "$name: metronc run --processes secondary failed"; cat "$tmp/sec.err"; continue
  fi
  has "$name" "$tmp/sec.err" "processes: secondary (requested (--processes secondary))"
  # One process per core, none of them metronc's data plane itself.
  /usr/bin/python3 - "$tmp/stats.json" "$cores" > "$tmp/pids" 2>&1 <<'PY' && ok || { bad "$name: processes in the statistics"; cat "$tmp/pids"; }
import json, sys
st = json.load(open(sys.argv[1]))
p = st["processes"]
cores = int(sys.argv[2])
assert p["mode"] == "secondary", p
assert len(p["pids"]) == cores and len(set(p["pids"])) == cores, p
assert sum(c["packets"] for c in st["cores"]) == st["nic"]["received"] - st["nic"]["dropped"], st["cores"]
PY
  for k in $(seq 0 $((cores - 1))); do
    [ -x "$tmp/out-$name/bin/server1.core$k" ] && ok || bad "$name: no bin/server1.core$k"
  done
  for ref in "$tmp"/ref-*.pcap; do
    e=${ref#"$tmp"/ref-}
    if [ "$cores" = 1 ]; then
      "$pcapdiff" --captured-only --snaplen 16128 "$tmp/sec-$e" "$ref" > "$tmp/diff" 2>&1
    else
      "$pcapdiff" --captured-only --snaplen 16128 --input "$tmp/gen.pcap" --index "$tmp/sec-$e" "$tmp/sec-$e.idx" \
        --index "$ref" "$ref.idx" "${renames[@]}" > "$tmp/diff" 2>&1
    fi
    if [ $? = 0 ]; then ok; else bad "$name/$cores cores/${e%.pcap}: output differs from the reference"; head -20 "$tmp/diff"; fi
  done
  echo "$name: $(sed -nE 's/metronc run: ([0-9]+) packets read.*/\1/p' "$tmp/ref.err") packets on $cores core(s), one process each: as the reference"
done

# A core's process killed while the data plane runs.
rm -f "$tmp"/kill*
"$metronc" run --compiled "$tmp/out-router-napt-lb" "$router" --processes secondary --pcap "$tmp/gen.pcap" \
  --out "$tmp/kill-%e.pcap" 2> "$tmp/kill.err" &
run=$!
victim=
for _ in $(seq 1 2000); do
  victim=$(pgrep -f "out-router-napt-lb/bin/server1.core1 " | head -1)
  [ -n "$victim" ] && break
  sleep 0.005
done
if [ -n "$victim" ]; then
  kill -9 "$victim"
  wait "$run"
  [ $? = 1 ] && ok || bad "kill: metronc run did not exit 1"
  has kill "$tmp/kill.err" "core 1's process ($tmp/out-router-napt-lb/bin/server1.core1) was killed by Killed"
  ls "$tmp"/kill-* > /dev/null 2>&1 && bad "kill: an output capture was left" || ok
else
  wait "$run"
  bad "kill: core 1's process never appeared"
fi

# Nothing left behind.
[ -z "$(ls "$mnt")" ] && ok || bad "hugepage files left in $mnt: $(ls "$mnt" | head -3)"
[ "$(free_pages)" = "$free0" ] && ok || bad "free hugepages: $(free_pages) after the runs, $free0 before"
ls /var/run/dpdk 2> /dev/null | sort > "$tmp/rundirs.after"
left=$(comm -13 "$tmp/rundirs.before" "$tmp/rundirs.after" | grep '^metronc-run-')
[ -z "$left" ] && ok || bad "runtime directories left in /var/run/dpdk: $left"

# Refusals.
"$metronc" compile "$router" --topology "$root/examples/fig8b.toml" --cores 2 --cpu native -o "$tmp/plain" > /dev/null 2>&1 ||
  bad "metronc compile failed"
"$metronc" run --compiled "$tmp/plain" "$router" --processes secondary --pcap "$tmp/gen.pcap" --out "$tmp/x.pcap" 2> "$tmp/err"
[ $? = 1 ] && ok || bad "no per-core executables: metronc run did not exit 1"
has "no per-core executables" "$tmp/err" "has no per-core executables for --processes secondary: compile with --core-executables"
"$tmp/out-router-napt-lb/bin/server1" --lcores=0@0,1@0,2@0 --no-huge --no-shconf -m 256 --no-pci --no-telemetry \
  --file-prefix=mtr-nohuge-$$ --vdev=net_null0 --vdev=net_null1 \
  --log-level=1 -- --port port0=net_null0 --port port1=net_null1 --processes secondary > /dev/null 2> "$tmp/err"
[ $? = 1 ] && ok || bad "--no-huge: the data plane did not exit 1"
has "--no-huge" "$tmp/err" "--processes secondary: secondary processes map the primary's hugepages, and EAL runs with --no-huge"

# With hugepages but no shared configuration, and a core's option given by hand to a primary.
"$tmp/out-router-napt-lb/bin/server1" --lcores=0@0,1@0,2@0 --no-shconf --file-prefix=mtr-noshconf-$$ --no-pci --no-telemetry \
  --vdev=net_null0 --vdev=net_null1 --log-level=1 -- --port port0=net_null0 --port port1=net_null1 \
  --processes secondary > /dev/null 2> "$tmp/err"
[ $? = 1 ] && ok || bad "--no-shconf: the data plane did not exit 1"
has "--no-shconf" "$tmp/err" "--processes secondary: EAL runs without a shared configuration (--no-shconf or --in-memory), which secondary processes attach to"
"$tmp/out-router-napt-lb/bin/server1.core0" --lcores=0@0 --no-huge --no-shconf -m 256 --no-pci --no-telemetry \
  --file-prefix=mtr-byhand-$$ --log-level=1 -- \
  --secondary-core 0 > /dev/null 2> "$tmp/err"
[ $? = 1 ] && ok || bad "--secondary-core by hand: the data plane did not exit 1"
has "--secondary-core by hand" "$tmp/err" "--secondary-core is for the per-core processes the data plane starts itself (--processes secondary)"

# A core's executable started by hand against primaries it does not belong to: one of another
# chain (router-napt-lb's, 2 cores, on endless net_null ports), and one that runs its cores as
# threads (no shared memzone). Both sides at the base address the data plane gives secondaries.
base=--base-virtaddr=0x200000000000
primary() { # PREFIX PROCESSES: a primary of router-napt-lb in the background, until it runs
  "$tmp/out-router-napt-lb/bin/server1" --lcores=0@0,1@0,2@0 --file-prefix="$1" --no-pci --no-telemetry "$base" \
    --vdev=net_null0 --vdev=net_null1 --log-level=1 -- --port port0=net_null0 --port port1=net_null1 \
    --processes "$2" > /dev/null 2> "$tmp/primary.err" &
  primary_pid=$!
  for _ in $(seq 1 1000); do
    grep -q "processes:" "$tmp/primary.err" 2> /dev/null && break
    sleep 0.01
  done
  # With secondary processes: until its cores' processes are there.
  [ "$2" = secondary ] && for _ in $(seq 1 1000); do pgrep -f "out-router-napt-lb/bin/server1.core1 " > /dev/null && break; sleep 0.01; done
}
attach() { # PREFIX EXECUTABLE: a core 0 process attached to that primary
  "$2" --proc-type=secondary --file-prefix="$1" --lcores=3@0 --no-pci --no-telemetry "$base" --log-level=1 -- \
    --secondary-core 0 > /dev/null 2> "$tmp/err"
}
stop_primary() {
  kill -INT "$primary_pid" 2> /dev/null
  wait "$primary_pid"
  [ $? = 0 ] && ok || { bad "$1: the primary did not stop cleanly on SIGINT"; cat "$tmp/primary.err"; }
}
primary mtr-other-$$ secondary
attach mtr-other-$$ "$tmp/out-fw5k-napt/bin/server1.core0"
[ $? = 1 ] && ok || bad "another chain's core: it did not exit 1"
has "another chain's core" "$tmp/err" "the primary process runs another program (2 cores, "
stop_primary "another chain's core"
primary mtr-threads-$$ threads
attach mtr-threads-$$ "$tmp/out-router-napt-lb/bin/server1.core0"
[ $? = 1 ] && ok || bad "a primary with threads: the core's process did not exit 1"
has "a primary with threads" "$tmp/err" "no primary process shares the memzone metron_shared"
stop_primary "a primary with threads"
[ -z "$(ls "$mnt")" ] && ok || bad "hugepage files left in $mnt after the refusals: $(ls "$mnt" | head -3)"
left=$(ls /var/run/dpdk 2> /dev/null | grep -E "^mtr-.*-$$\$")
[ -z "$left" ] && ok || bad "runtime directories left in /var/run/dpdk after the refusals: $left"

echo "dataplane-processes: $pass passed, $fail failed"
[ "$fail" = 0 ]
