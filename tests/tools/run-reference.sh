#!/usr/bin/env bash
# run-reference.sh — `metronc run --reference` as a user runs it: every example on real captures
# and on a capture built from the example's own routing table, output captures that tcpdump
# reads, record counts that agree with the summary line, hand-checked rewrites of the
# router → NAPT → round-robin chain, bad captures (exit 1, no output left behind), the %e rule
# for several egress ports, and usage errors (exit 2).
# Usage: run-reference.sh METRONC SOURCE_DIR   (data from $METRON_DATA_DIR)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/tools/common.sh
source "$here/common.sh"
metronc=$1 root=$2
data=${METRON_DATA_DIR:-$root/../shared/data}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
PY=/usr/bin/python3

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
records() { # FILE: the number of records of a pcap file (any byte order and time precision)
  $PY - "$1" <<'P'
import struct, sys
b = open(sys.argv[1], 'rb').read()
e = '<' if b[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
n, off = 0, 24
while off < len(b):
    caplen = struct.unpack(e + 'I', b[off + 8:off + 12])[0]
    off += 16 + caplen
    n += 1
assert off == len(b), 'trailing bytes'
print(n)
P
}
# The numbers of the summary line "metronc run: R packets read, E emitted (...), D dropped; ...".
summary() { sed -n 's/^metronc run: \([0-9]*\) packets read, \([0-9]*\) emitted (.*), \([0-9]*\) dropped;.*/\1 \2 \3/p' "$1"; }

# A capture built from the routing table of the examples: for every 4th line of the Internet2
# table (the routes the examples keep) with a next hop, a TCP or UDP packet from 65.170.11.65
# (which fw1_1K's rule 750 allows) to the first address of the prefix; then 10 packets to
# private addresses (the table rejects 10.0.0.0/8) and 10 with TTL 1.
$PY - "$data/routing/derived/internet2_atla_ipv4.txt" "$tmp/routed.pcap" > "$tmp/routed.expect" <<'P'
import struct, sys
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ip(s): return struct.unpack('!I', bytes(int(x) for x in s.split('.')))[0]
def frame(i, src, dst, proto, sport, dport, ttl):
    payload = b'metron %06d' % i
    if proto == 6:
        l4 = struct.pack('!HHIIBBHHH', sport, dport, i, 0, 5 << 4, 0x02, 65535, 0, 0) + payload
        c = csum(struct.pack('!IIBBH', src, dst, 0, 6, len(l4)) + l4)
        l4 = l4[:16] + struct.pack('!H', c) + l4[18:]
    else:
        l4 = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
        c = csum(struct.pack('!IIBBH', src, dst, 0, 17, len(l4)) + l4) or 0xffff
        l4 = l4[:6] + struct.pack('!H', c) + l4[8:]
    h = struct.pack('!BBHHHBBHII', 0x45, 0, 20 + len(l4), i & 0xffff, 0, ttl, proto, 0, src, dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return bytes.fromhex('020000000002020000000001') + b'\x08\x00' + h + l4
out = open(sys.argv[2], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
# The routes `every 4` keeps (lines 1, 5, 9...; the first of a duplicate prefix wins), and a
# longest-prefix match over them: a destination is used only when its own route is its match.
table = {}
for n, line in enumerate(open(sys.argv[1])):
    f = line.split()
    if n % 4 == 0 and len(f) == 3:
        prefix, length = f[0].split('/')
        table.setdefault((ip(prefix), int(length)), f[1:])
def lpm(a):
    for l in range(32, -1, -1):
        k = (a & ((0xffffffff << (32 - l)) & 0xffffffff), l)
        if k in table: return k
pk = []
for (prefix, length), (hop, iface) in table.items():
    if hop == '-' or not 8 <= length <= 30 or lpm(prefix + 1) != (prefix, length): continue
    pk.append((prefix + 1, 6 if len(pk) % 2 else 17, 64, hop))
    if len(pk) == 300: break
for i in range(10): pk.append((ip('10.%d.0.1' % i), 17, 64, None))
for i in range(10): pk.append((pk[i][0], 6, 1, None))
for i, (dst, proto, ttl, hop) in enumerate(pk):
    fr = frame(i, ip('65.170.11.65'), dst, proto, 20000 + i, 80, ttl)
    out.write(struct.pack('<IIII', 1000 + i // 100, (i % 100) * 10000, len(fr), len(fr)) + fr)
    if hop: print(hop, proto)
P
[ -s "$tmp/routed.pcap" ] && ok || bad "could not build the routed capture"

# Every example on two real captures and on the routed one.
for ex in "$root"/examples/*.metron; do
  name=$(basename "$ex" .metron)
  for cap in "$data/pcap/tcpreplay/test.pcap" "$data/pcap/zeek/wikipedia.pcap" "$tmp/routed.pcap"; do
    what="$name on $(basename "$cap")"
    out="$tmp/$name-$(basename "$cap" .pcap).out.pcap"
    expect "$what" 0 "$metronc" run --reference "$ex" --pcap "$cap" --out "$out" --stats --stats-format json || continue
    read -r nread nemit ndrop <<< "$(summary "$tmp/err")"
    if [ -z "${nread:-}" ]; then bad "$what: no summary line:"; cat "$tmp/err"; continue; fi
    echo "$what: $(cat "$tmp/err")"
    if tcpdump -nn -r "$out" > /dev/null 2>&1; then ok; else bad "$what: tcpdump cannot read $out"; fi
    [ "$(records "$out")" = "$nemit" ] && ok || bad "$what: $out has $(records "$out") records, the summary says $nemit"
    [ "$(records "$cap")" = "$nread" ] && ok || bad "$what: $cap has $(records "$cap") records, the summary says $nread"
    [ $((nemit + ndrop)) = "$nread" ] && ok || bad "$what: emitted + dropped != read"
    [ ! -e "$out.tmp" ] && ok || bad "$what: $out.tmp left behind"
    if $PY - "$tmp/out" "$nread" "$ndrop" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["packets"]["read"] == int(sys.argv[2]) and d["packets"]["dropped"] == int(sys.argv[3]), d["packets"]
first = d["nfs"][0]
assert first["in"] == int(sys.argv[2]), first   # every packet enters the first NF
for n in d["nfs"]:
    assert n["in"] == n["dropped"] + sum(n["out"].values()), n
P
    then ok; else bad "$what: --stats json does not add up"; cat "$tmp/out"; fi
  done
done

# router-napt-lb on the routed capture, packet by packet: source NAPT to 203.0.113.1 with
# ports from 1024 in flow order, destinations 10.0.1.1..4 in turn, TTL 63, eth.dst the next
# hop's 02:00:a:b:c:d, checksums correct; the private and TTL-1 packets are dropped.
if $PY - "$tmp/router-napt-lb-routed.out.pcap" "$tmp/routed.expect" <<'P'
import struct, sys
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return s
b = open(sys.argv[1], 'rb').read()
want = [l.split() for l in open(sys.argv[2])]
assert struct.unpack('<I', b[:4])[0] == 0xa1b23c4d, 'not a nanosecond pcap'
off, i = 24, 0
while off < len(b):
    caplen = struct.unpack('<I', b[off + 8:off + 12])[0]
    f = b[off + 16:off + 16 + caplen]
    off += 16 + caplen
    hop, proto = want[i]
    mac = bytes([2, 0]) + bytes(int(x) for x in hop.split('.'))
    assert f[0:6] == mac, (i, f[0:6].hex(), hop)
    h, l4 = f[14:34], f[34:]
    assert h[8] == 63 and h[9] == int(proto), (i, h[8], h[9])
    assert h[12:16] == bytes([203, 0, 113, 1]), i
    assert h[16:20] == bytes([10, 0, 1, 1 + i % 4]), (i, h[16:20])
    assert struct.unpack('!H', l4[0:2])[0] == 1024 + i, (i, struct.unpack('!H', l4[0:2])[0])
    assert csum(h) == 0xffff, ('ip checksum', i)
    assert csum(h[12:20] + struct.pack('!BBH', 0, h[9], len(l4)) + l4) == 0xffff, ('l4 checksum', i)
    i += 1
assert i == len(want), (i, len(want))
print('router-napt-lb: %d packets checked' % i)
P
then ok; else bad "router-napt-lb on the routed capture: wrong packets"; fi

# Bad input: not a capture, a capture cut in the middle of a record. Exit 1, a message, and
# no output file (nor its temporary).
ex="$root/examples/campus-fw-dpi.metron"
echo "this is not a capture" > "$tmp/junk.pcap"
expect junk 1 "$metronc" run --reference "$ex" --pcap "$tmp/junk.pcap" --out "$tmp/junk.out" && contains junk "$tmp/err" "cannot open"
[ ! -e "$tmp/junk.out" ] && [ ! -e "$tmp/junk.out.tmp" ] && ok || bad "junk: output left behind"
head -c 3000 "$data/pcap/zeek/wikipedia.pcap" > "$tmp/cut.pcap"
expect cut 1 "$metronc" run --reference "$ex" --pcap "$tmp/cut.pcap" --out "$tmp/cut.out" && contains cut "$tmp/err" "record"
[ ! -e "$tmp/cut.out" ] && [ ! -e "$tmp/cut.out.tmp" ] && ok || bad "cut: output left behind"
expect missing 1 "$metronc" run --reference "$ex" --pcap "$tmp/nope.pcap" --out "$tmp/nope.out" && contains missing "$tmp/err" "nope.pcap"
expect out-dir 1 "$metronc" run --reference "$ex" --pcap "$data/pcap/zeek/wikipedia.pcap" --out "$tmp/no/such/dir/x.pcap"

# Several egress ports: --out needs %e; every port gets its file, empty ones included.
cat > "$tmp/two.metron" <<'M'
nf sw { rule branch web tcp dport 80; rule branch never vlan.id 4000; default allow; }
chain c { in p0 -> sw -> out other; sw.web -> out web; sw.never -> out never; }
M
expect no-percent-e 2 "$metronc" run --reference "$tmp/two.metron" --pcap "$data/pcap/zeek/wikipedia.pcap" --out "$tmp/two.pcap" \
  && contains no-percent-e "$tmp/err" "has 3 egress ports (other, web, never): --out must contain %e"
expect percent-e 0 "$metronc" run --reference "$tmp/two.metron" --pcap "$data/pcap/zeek/wikipedia.pcap" --out "$tmp/two-%e.pcap"
read -r nread nemit ndrop <<< "$(summary "$tmp/err")"
sum=0
for port in other web never; do
  if [ -e "$tmp/two-$port.pcap" ]; then ok; sum=$((sum + $(records "$tmp/two-$port.pcap"))); else bad "percent-e: no file for $port"; fi
done
[ "$sum" = "$nemit" ] && [ "$nemit" = "$nread" ] && ok || bad "percent-e: files hold $sum packets, summary $nread read / $nemit emitted"
[ "$(records "$tmp/two-never.pcap")" = 0 ] && ok || bad "percent-e: 'never' is not empty"
[ "$(records "$tmp/two-web.pcap")" -gt 0 ] && ok || bad "percent-e: no web packet"
contains percent-e "$tmp/err" "emitted (other "

# Usage.
# Without --reference the compiled data plane runs (tests/tools/dataplane-diff.sh compares the two).
expect compiled 0 "$metronc" run "$ex" --pcap "$data/pcap/zeek/wikipedia.pcap" --out "$tmp/x.pcap" \
  && contains compiled "$tmp/err" "dispatch: nic-model"
expect no-pcap 2 "$metronc" run --reference "$ex" --out "$tmp/x.pcap"
expect bad-in 2 "$metronc" run --reference "$ex" --pcap "$data/pcap/zeek/wikipedia.pcap" --out "$tmp/x.pcap" --in port9 \
  && contains bad-in "$tmp/err" "'port9' is not an ingress port of chain 'campus' (its ingress ports: port0)"
expect bad-chain 1 "$metronc" run --reference "$ex" --pcap "$data/pcap/zeek/wikipedia.pcap" --out "$tmp/x.pcap" --chain nope
expect stats-text 0 "$metronc" run --reference "$ex" --pcap "$data/pcap/zeek/wikipedia.pcap" --out "$tmp/x.pcap" --stats \
  && contains stats-text "$tmp/out" "dpi.matched"

echo "run-reference: $pass passed, $fail failed"
[ $fail = 0 ]
