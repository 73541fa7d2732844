#!/usr/bin/env bash
# run-hostile.sh — bad captures through the compiled data plane (`metronc run`): each is
# refused with a clear message and leaves no output, or runs and agrees with --reference.
#
#   run-hostile.sh METRONC PCAPDIFF
set -u
metronc=$(realpath "$1") pcapdiff=$(realpath "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/common.sh"
pass=0 fail=0
chain=$root/tests/dataplane/stateful-mix.metron

/usr/bin/python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
def hdr(link=1): return struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, link)
def rec(ts, data, wire=None): return struct.pack("<IIII", ts, 0, len(data), wire or len(data)) + data
def udp(n, ttl=64):
    payload = bytes(i & 0xff for i in range(n))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + n, 1, 0, ttl, 17, 0, bytes([10, 0, 0, 1]), bytes([6, 1, 2, 3]))
    s = sum(struct.unpack("!10H", ip)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
    return bytes.fromhex("020000000001020000000002") + b"\x08\x00" + ip + struct.pack("!HHHH", 1234, 80, 8 + n, 0) + payload
good = udp(20)
w = lambda name, data: open(f"{d}/{name}.pcap", "wb").write(data)
w("garbage", b"this is not a capture file at all" * 3)
w("zero", b"")
w("cut", (hdr() + rec(1, good) + rec(2, good) + rec(3, good))[:-10])
w("caplen", hdr() + rec(1, good) + struct.pack("<IIII", 2, 0, 0x7fffffff, 60) + good)
w("linktype", hdr(113) + rec(1, good))
w("empty", hdr())
# Jumbo (9,000 B), a zero-length record, a record cut by the snap length, an oversized frame
# (40,000 B: more than net_pcap writes), TTL 1 and 0, a 14-byte frame, a runt.
w("odd", hdr() + rec(1, good) + rec(2, udp(9000)) + rec(3, b"") + rec(4, good[:30], len(good)) +
  rec(5, udp(40000)) + rec(6, udp(20, 1)) + rec(7, udp(20, 0)) + rec(8, good[:14]) + rec(9, good[:5]) + rec(10, good))
PY

refused() { # NAME FILE MESSAGE
  expect "$1" 1 "$metronc" run "$chain" --pcap "$tmp/$2.pcap" --out "$tmp/o-$2.pcap" && contains "$1 message" "$tmp/err" "$3"
  check "$1 leaves no output" test ! -e "$tmp/o-$2.pcap" -a ! -e "$tmp/o-$2.pcap.tmp"
}
refused garbage garbage "cannot open '$tmp/garbage.pcap': unknown file format"
refused empty-file zero "cannot open '$tmp/zero.pcap'"
refused cut-record cut "record 3: truncated dump file"
refused huge-caplen caplen "record 2: invalid packet capture length 2147483647"
refused link-type linktype "link type LINUX_SLL (113) is not supported"

expect no-packets 0 "$metronc" run "$chain" --pcap "$tmp/empty.pcap" --out "$tmp/o-empty.pcap" &&
  contains no-packets "$tmp/err" "metronc run: 0 packets read, 0 emitted"

# Odd frames: counted, never a crash, and the same output as the reference.
expect odd-frames 0 "$metronc" run "$chain" --pcap "$tmp/odd.pcap" --out "$tmp/o-odd.pcap" &&
  contains odd-frames-counts "$tmp/err" "9 packets read" &&
  contains odd-frames-counts "$tmp/err" "1 truncated, 1 skipped" &&
  contains odd-frames-cut "$tmp/err" "1 emitted frame longer than 16128 bytes was cut to that length by net_pcap"
expect odd-frames-reference 0 "$metronc" run --reference "$chain" --pcap "$tmp/odd.pcap" --out "$tmp/r-odd.pcap"
expect odd-frames-equal 0 "$pcapdiff" --captured-only --snaplen 16128 "$tmp/o-odd.pcap" "$tmp/r-odd.pcap"

# Usage errors.
expect reference-and-cores 2 "$metronc" run --reference "$chain" --cores 2 --pcap "$tmp/empty.pcap" --out "$tmp/x.pcap"
contains reference-and-cores "$tmp/err" "--reference excludes --cores"
expect compiled-missing 1 "$metronc" run "$chain" --compiled "$tmp/nowhere" --pcap "$tmp/empty.pcap" --out "$tmp/x.pcap"
contains compiled-missing "$tmp/err" "--compiled: cannot open '$tmp/nowhere/plan.json'"
expect switch-classifier 2 "$metronc" run "$root/tests/compile/napt-mirror.metron" --topology "$root/tests/targets/ovs.toml" \
  --pcap "$tmp/empty.pcap" --out "$tmp/x.pcap"
contains switch-classifier "$tmp/err" "the classifier is switch 's1'; metronc run emulates only the server's NIC"

# No silent fallback: hardware dispatch on a port that refuses rte_flow rules is an error.
expect hardware-refused 1 "$metronc" run "$chain" --dispatch hardware --pcap "$tmp/empty.pcap" --out "$tmp/x.pcap"
contains hardware-refused "$tmp/err" "--dispatch hardware: port 0 refuses the NIC rules"
expect tmpdir-missing 1 env TMPDIR="$tmp/nowhere" "$metronc" run "$chain" --pcap "$tmp/empty.pcap" --out "$tmp/x.pcap"
contains tmpdir-missing "$tmp/err" "cannot create a scratch directory from '$tmp/nowhere/metronc-run.XXXXXX'"

# A data plane on a device that never runs dry (net_null) stops gracefully on SIGINT: exit 0,
# its statistics written, the load sampled at 10 Hz meanwhile.
expect keep 0 "$metronc" run "$chain" --keep "$tmp/bin" --pcap "$tmp/empty.pcap" --out "$tmp/x.pcap"
"$tmp/bin/bin/server1" -l 0,1 --no-huge --no-shconf -m 512 --no-pci --no-telemetry --log-level=4 --vdev=net_null0 --vdev=net_null1 -- \
  --port port0=net_null0 --port port1=net_null1 --rules "$tmp/bin/rules/server1.nic0.rte_flow.json" --stats none \
  --stats-json "$tmp/stats.json" --quiet 2> "$tmp/dp.err" &
dp=$!
sleep 3
kill -INT "$dp"
wait "$dp"; rc=$?
check sigint-exit test "$rc" = 0
check sigint-stats /usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
ok = j.get("stopped_by") == "Interrupt" and j["load_samples"] >= 5 and j["nic"]["received"] > 0
sys.exit(0 if ok else 1)' "$tmp/stats.json"

echo "run-hostile: $pass passed, $fail failed"
[ "$fail" = 0 ]
