#!/usr/bin/env bash
#===- tests/tools/pcapdiff-selftest.sh - metron-pcapdiff must pass equal and fail unequal runs -===#
#
# usage: pcapdiff-selftest.sh BUILD_DIR      (data from $METRON_DATA_DIR, else ../shared/data)
#
# Builds small captures with metron-mkpcap and edits them with a Python helper (a flipped byte,
# a dropped record, two records swapped, a changed timestamp; simulated NAPT runs that rewrite
# tp.src per flow with their own port choices, in their own record order, with their .idx
# files), then requires metron-pcapdiff to:
#  - exact mode: call A vs A identical, catch each edit with the right record number, field
#    and byte offset, and guess the dropped / swapped record;
#  - index mode: accept two runs that rename tp.src consistently per flow (and injectively),
#    and reject a run with one inconsistent packet, two flows sharing a port (only when
#    injectivity is asked), a packet dropped on one side only, a TTL changed, a port rewritten
#    without its checksum; accept a remap on both sides at once, except with --strict-flows;
#  - index mode on the reference interpreter: one run of router -> NAPT -> LB against the same
#    capture split by flow over two runs ("cores") with their own port ranges, crossing NAPT
#    idle timeouts: accepted with the renames, rejected without them or with shared ranges;
#  - refuse bad files (truncated or garbage pcap, idx of the wrong size or entry count, an idx
#    entry past the input) and bad usage with exit 2.
# Also checks what metron-mkpcap promises: determinism, correct IPv4 header checksums, the
# record number in the payload, usage errors. Exit 0 when every check passes, 1 otherwise.
# KEEP=1 keeps the scratch directory (printed) for a look at the captures.
#===----------------------------------------------------------------------------------------===#
# $(idx F) expands to "--index F F.idx" on purpose:
# shellcheck disable=SC2046
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/tools/common.sh
source "$here/common.sh"
build=$(realpath "${1:?usage: pcapdiff-selftest.sh BUILD_DIR}")
mkpcap=$build/tests/metron-mkpcap
pcapdiff=$build/tests/metron-pcapdiff
data=${METRON_DATA_DIR:-$here/../../../shared/data}
PY=/usr/bin/python3
for t in "$mkpcap" "$pcapdiff"; do [ -x "$t" ] || { echo "FAIL: $t is not built"; exit 1; }; done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcapdiff-selftest.XXXXXX")
if [ -n "${KEEP:-}" ]; then echo "keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
pass=0 fail=0

# ---- the capture editor -------------------------------------------------------------------------
cat > "$tmp/pc.py" <<'PY'
"""Edits pcaps for the self-test. Records are 0-based here.
  flip IN OUT REC OFF            xor byte OFF of record REC with 0x01
  firstv4 IN                     print the number of the first untagged IPv4 record
  drop IN OUT REC | swap IN OUT REC | retime IN OUT REC | dup-last IN OUT | cut IN OUT BYTES
  run IN OUT [opts]              a simulated NAPT run: writes OUT and OUT.idx (see run())
  idx-edit IDX OUT {short|odd|past N}
  seqcheck IN                    checks IPv4 header checksums and mkpcap's record numbers
  split IN OUT0 OUT1             records by a hash of their flow (two "cores")
  merge OUT IN...                records of several captures in timestamp order
  mkidx PCAP                     PCAP.idx from mkpcap's record numbers in the payloads
"""
import random, struct, sys

def read(path):
    b = open(path, 'rb').read()
    assert b[:4] == b'\x4d\x3c\xb2\xa1', 'expected a little-endian nanosecond pcap'
    recs, off = [], 24
    while off < len(b):
        ts1, ts2, cap, orig = struct.unpack('<IIII', b[off:off + 16])
        recs.append([ts1, ts2, orig, bytearray(b[off + 16:off + 16 + cap])])
        off += 16 + cap
    return b[:24], recs

def write(path, head, recs):
    with open(path, 'wb') as f:
        f.write(head)
        for ts1, ts2, orig, d in recs:
            f.write(struct.pack('<IIII', ts1, ts2, len(d), max(orig, len(d))) + bytes(d))

def csum(b):
    if len(b) % 2: b = b + b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def parse(d):
    """(l3, l4, proto) of an IPv4 frame with ports (TCP/UDP, not a later fragment), else None;
    and the flow key as the packet model defines it."""
    l3 = 14
    if len(d) >= 18 and d[12:14] == b'\x81\x00': l3 = 18
    if len(d) < l3 + 20 or d[l3 - 2:l3] != b'\x08\x00' or d[l3] >> 4 != 4: return None, (0, 0, 0, 0, 0)
    ihl = (d[l3] & 15) * 4
    proto, src, dst = d[l3 + 9], d[l3 + 12:l3 + 16], d[l3 + 16:l3 + 20]
    frag = struct.unpack('!H', d[l3 + 6:l3 + 8])[0] & 0x1fff
    l4 = l3 + ihl
    if proto in (6, 17) and not frag:
        sp, dp = struct.unpack('!HH', d[l4:l4 + 4])
        return (l3, l4, proto), (proto, bytes(src), bytes(dst), sp, dp)
    return None, (proto, bytes(src), bytes(dst), 0, 0)

def fix_l4(d, l3, l4, proto):
    total = struct.unpack('!H', d[l3 + 2:l3 + 4])[0]
    seg = d[l4:l3 + total]
    co = 16 if proto == 6 else 6
    seg[co:co + 2] = b'\0\0'
    pseudo = d[l3 + 12:l3 + 20] + struct.pack('!BBH', 0, proto, len(seg))
    c = csum(bytes(pseudo + seg))
    if proto == 17 and c == 0: c = 0xffff
    d[l4 + co:l4 + co + 2] = struct.pack('!H', c)

def fix_ip(d, l3):
    d[l3 + 10:l3 + 12] = b'\0\0'
    d[l3 + 10:l3 + 12] = struct.pack('!H', csum(bytes(d[l3:l3 + 20])))

def run(args):
    """A simulated run of a chain with a source NAPT: inputs whose number is 0 mod --drop are
    dropped; TCP/UDP packets get tp.src = the port of their flow (ports given in order of first
    appearance from --base, or a permutation of them with --permute); --shuffle writes the
    records in a random order. Faults: --inconsistent K (input K gets its flow's port + 1),
    --collide (the first two flows get one port), --ttl K (input K's TTL - 1, checksum fixed),
    --nocsum K (input K's port + 1 without fixing the checksum), --extra-drop K, --remap K
    (from input K on, K's flow gets a new port)."""
    inp, out = args[0], args[1]
    opt = dict(drop=7, base=1024, permute=0, shuffle=0, inconsistent=-1, collide=0, ttl=-1, nocsum=-1,
               extra_drop=-1, remap=-1)
    it = iter(args[2:])
    for a in it:
        k = a.lstrip('-').replace('-', '_')
        opt[k] = 1 if k in ('permute', 'shuffle', 'collide') else int(next(it))
    head, recs = read(inp)
    ports, outs = {}, []
    remapped = None
    for i, r in enumerate(recs):
        if i % opt['drop'] == 0 or i == opt['extra_drop']: continue
        d = bytearray(r[3])
        hdr, key = parse(d)
        if hdr:
            l3, l4, proto = hdr
            if key not in ports:
                n = len(ports)
                if opt['collide'] and n == 1: n = 0
                ports[key] = opt['base'] + ((n * 7919) % 20011 if opt['permute'] else n)
            port = ports[key]
            if i == opt['remap']: remapped = key
            if remapped == key: port = (port + 30000) % 65536
            if i == opt['inconsistent']: port += 1
            d[l4:l4 + 2] = struct.pack('!H', port)
            fix_l4(d, l3, l4, proto)
            if i == opt['nocsum']: d[l4:l4 + 2] = struct.pack('!H', port + 1)
            if i == opt['ttl']:
                d[l3 + 8] = (d[l3 + 8] - 1) & 255
                fix_ip(d, l3)
        outs.append((i, [r[0], r[1], r[2], d]))
    if opt['shuffle']: random.Random(5).shuffle(outs)
    write(out, head, [r for _, r in outs])
    with open(out + '.idx', 'wb') as f:
        f.write(b''.join(struct.pack('<Q', i) for i, _ in outs))

def pick(inp, drop, want):
    """Input numbers useful for the faults: 'second' = the second kept TCP/UDP packet of a
    flow (its port is known); 'ported' = any kept TCP/UDP packet."""
    head, recs = read(inp)
    seen = {}
    for i, r in enumerate(recs):
        if i % drop == 0: continue
        hdr, key = parse(r[3])
        if not hdr: continue
        if want == 'ported' and i > 50: return i
        seen[key] = seen.get(key, 0) + 1
        if want == 'second' and seen[key] == 2 and i > 50: return i
    raise SystemExit('no such input')

def payload_record(d):
    """The record number metron-mkpcap put at the start of the payload."""
    l3 = 18 if d[12:14] == b'\x81\x00' else 14
    et = d[l3 - 2:l3]
    if et == b'\x08\x06': off = l3 + 28
    elif et == b'\x86\xdd': off = l3 + 40 + (20 if d[l3 + 6] == 6 else 8)
    else:
        l4 = l3 + (d[l3] & 15) * 4
        proto, frag = d[l3 + 9], struct.unpack('!H', d[l3 + 6:l3 + 8])[0] & 0x1fff
        off = l4 if frag else l4 + (d[l4 + 12] >> 4) * 4 if proto == 6 else l4 + 8 if proto in (1, 17) else l4
    return struct.unpack('!Q', d[off:off + 8])[0]

def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == 'split':
        import zlib
        head, recs = read(a[0])
        parts = ([], [])
        for r in recs:
            parts[zlib.crc32(repr(parse(r[3])[1]).encode()) & 1].append(r)
        write(a[1], head, parts[0]); write(a[2], head, parts[1])
        return print(len(parts[0]), len(parts[1]))
    if cmd == 'merge':
        recs = []
        for f in a[1:]:
            head, rs = read(f)
            recs += rs
        recs.sort(key=lambda r: (r[0], r[1]))
        return write(a[0], head, recs)
    if cmd == 'mkidx':
        head, recs = read(a[0])
        with open(a[0] + '.idx', 'wb') as f:
            f.write(b''.join(struct.pack('<Q', payload_record(r[3])) for r in recs))
        return
    if cmd == 'run': return run(a)
    if cmd == 'pick': return print(pick(a[0], int(a[1]), a[2]))
    if cmd == 'firstv4':
        head, recs = read(a[0])
        return print(next(i for i, r in enumerate(recs) if r[3][12:14] == b'\x08\x00'))
    if cmd == 'seqcheck':
        head, recs = read(a[0])
        checked = 0
        for i, r in enumerate(recs):
            hdr, key = parse(r[3])
            d = r[3]
            if d[12:14] == b'\x08\x00':
                assert csum(bytes(d[14:34])) == 0, 'record %d: IPv4 header checksum' % i
            if hdr and hdr[2] == 6:
                l4 = hdr[1]
                payload = l4 + (d[l4 + 12] >> 4) * 4
                assert struct.unpack('!Q', d[payload:payload + 8])[0] == i, 'record %d: payload record number' % i
                checked += 1
        assert checked > 100, 'too few TCP records: %d' % checked
        return print('ok', checked)
    if cmd.startswith('idx-'):
        b = open(a[0], 'rb').read()
        if a[2] == 'short': b = b[:-8]
        elif a[2] == 'odd': b = b + b'\1\2\3'
        elif a[2] == 'past': b = b[:8] + struct.pack('<Q', int(a[3])) + b[16:]
        return open(a[1], 'wb').write(b)
    head, recs = read(a[0])
    if cmd == 'flip': recs[int(a[2])][3][int(a[3])] ^= 1
    elif cmd == 'drop': del recs[int(a[2])]
    elif cmd == 'swap': k = int(a[2]); recs[k], recs[k + 1] = recs[k + 1], recs[k]
    elif cmd == 'retime': recs[int(a[2])][1] += 1
    elif cmd == 'dup-last': recs.append(recs[-1])
    elif cmd == 'cut':
        write(a[1], head, recs)
        b = open(a[1], 'rb').read()
        return open(a[1], 'wb').write(b[:len(b) - int(a[2])])
    else: raise SystemExit('unknown command ' + cmd)
    write(a[1], head, recs)

main()
PY
pc() { $PY "$tmp/pc.py" "$@"; }

cb=$data/classbench/pclasseval_song/fw1_1K_trace
routes=$data/routing/derived/internet2_atla_ipv4.txt
A=$tmp/a.pcap

# ---- metron-mkpcap -------------------------------------------------------------------------------
expect mkpcap.build 0 "$mkpcap" --out "$A" --packets 3000 --seed 3 --classbench "$cb" --routes "$routes" --every 4 --flow-len 5 --active 64
contains mkpcap.summary "$tmp/out" "3000 packets"
expect mkpcap.again 0 "$mkpcap" --out "$tmp/a2.pcap" --packets 3000 --seed 3 --classbench "$cb" --routes "$routes" --every 4 --flow-len 5 --active 64
check mkpcap.deterministic cmp -s "$A" "$tmp/a2.pcap"
expect mkpcap.seqcheck 0 pc seqcheck "$A"
expect mkpcap.other_seed 0 "$mkpcap" --out "$tmp/b.pcap" --packets 3000 --seed 4 --classbench "$cb" --routes "$routes" --every 4 --flow-len 5 --active 64
expect mkpcap.bad_mix 2 "$mkpcap" --out "$tmp/x.pcap" --packets 10 --mix tcp=1,bogus=3
contains mkpcap.bad_mix_msg "$tmp/err" "found 'bogus=3'"
expect mkpcap.no_trace 2 "$mkpcap" --out "$tmp/x.pcap" --packets 10 --classbench "$tmp/nonexistent"
contains mkpcap.no_trace_msg "$tmp/err" "cannot read"
check mkpcap.no_output_left [ ! -e "$tmp/x.pcap" ]

# ---- exact mode ----------------------------------------------------------------------------------
expect exact.same 0 "$pcapdiff" "$A" "$A"
contains exact.same_msg "$tmp/out" "3000 records identical"
expect exact.copy 0 "$pcapdiff" "$A" "$tmp/a2.pcap" --timestamps
expect exact.other_seed 1 "$pcapdiff" "$A" "$tmp/b.pcap"

v4=$(pc firstv4 "$A")
pc flip "$A" "$tmp/flip.pcap" "$v4" 22      # untagged IPv4: byte 22 is the TTL
expect exact.flip 1 "$pcapdiff" "$A" "$tmp/flip.pcap"
contains exact.flip_count "$tmp/out" "1 of the 3000 records compared differ"
contains exact.flip_record "$tmp/out" "record $((v4 + 1)): length"
contains exact.flip_field "$tmp/out" "ip.ttl: A "
contains exact.flip_csum "$tmp/out" "B has a wrong checksum"
contains exact.flip_byte "$tmp/out" "first differing byte: offset 22"
contains exact.flip_where "$tmp/out" "IPv4 header byte 8 (ttl)"

pc flip "$A" "$tmp/flip2.pcap" 2999 59      # the last byte of a minimal frame or inside a bigger one
expect exact.flip_last 1 "$pcapdiff" "$A" "$tmp/flip2.pcap"
contains exact.flip_last_record "$tmp/out" "record 3000: length"

pc drop "$A" "$tmp/drop.pcap" 5
expect exact.drop 1 "$pcapdiff" "$A" "$tmp/drop.pcap"
contains exact.drop_counts "$tmp/out" "A has 3000 records, B has 2999"
contains exact.drop_guess "$tmp/out" "record(s) 6..6 of A are missing from B"
expect exact.drop_reverse 1 "$pcapdiff" "$tmp/drop.pcap" "$A"
contains exact.drop_reverse_guess "$tmp/out" "B has 1 extra record(s) before record 6 of A"

pc swap "$A" "$tmp/swap.pcap" 7
expect exact.swap 1 "$pcapdiff" "$A" "$tmp/swap.pcap"
contains exact.swap_count "$tmp/out" "2 of the 3000 records compared differ"
contains exact.swap_guess "$tmp/out" "records 8 and 9 are swapped in B"

pc retime "$A" "$tmp/retime.pcap" 100
expect exact.retime_ignored 0 "$pcapdiff" "$A" "$tmp/retime.pcap"
expect exact.retime 1 "$pcapdiff" --timestamps "$A" "$tmp/retime.pcap"
contains exact.retime_msg "$tmp/out" "timestamp: A "

pc dup-last "$A" "$tmp/longer.pcap"
expect exact.longer 1 "$pcapdiff" "$A" "$tmp/longer.pcap"
contains exact.longer_msg "$tmp/out" "the first 3000 records are identical; B has 1 more"

# ---- index mode: simulated NAPT runs ---------------------------------------------------------------
I=$tmp/in.pcap
"$mkpcap" --out "$I" --packets 4000 --seed 9 --classbench "$cb" --flow-len 6 --active 32 > /dev/null
pc run "$I" "$tmp/ra.pcap"                              # "reference": ports 1024, 1025, ... in order
pc run "$I" "$tmp/rb.pcap" --base 30000 --permute --shuffle   # "compiled": its own ports, its own order
idx() { echo --index "$1" "$1.idx"; }
RA=$tmp/ra.pcap RB=$tmp/rb.pcap
expect index.renamed 0 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$RB") --rename-injective tp.src
contains index.renamed_msg "$tmp/out" "agree on every input after renaming"
contains index.renamed_counts "$tmp/out" "4000 inputs"
expect index.same 0 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$RA")
expect index.not_renamed 1 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$RB")
contains index.not_renamed_msg "$tmp/out" "tp.src: A "

k=$(pc pick "$I" 7 second)
pc run "$I" "$tmp/inc.pcap" --base 30000 --permute --shuffle --inconsistent "$k"
expect index.inconsistent 1 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$tmp/inc.pcap") --rename tp.src
contains index.inconsistent_msg "$tmp/out" "input $k ("
contains index.inconsistent_why "$tmp/out" "not consistent with the flow's previous packet"
# one packet off: it differs from the packet before and from the packet after
contains index.inconsistent_count "$tmp/out" "inconsistent packets in 1 flows"
expect index.inconsistent_strict 1 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$tmp/inc.pcap") --rename tp.src --strict-flows
contains index.inconsistent_strict_count "$tmp/out" "1 inconsistent packets in 1 flows"

pc run "$I" "$tmp/col.pcap" --base 30000 --collide
expect index.collide_allowed 0 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$tmp/col.pcap") --rename tp.src
expect index.collide_strict 1 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$tmp/col.pcap") --rename-injective tp.src --strict-flows
expect index.collide 1 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$tmp/col.pcap") --rename-injective tp.src
contains index.collide_msg "$tmp/out" "B maps two flows to one value"
contains index.collide_count "$tmp/out" "1 injectivity conflicts"

pc run "$I" "$tmp/xdrop.pcap" --base 30000 --shuffle --extra-drop "$k"
expect index.extra_drop 1 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$tmp/xdrop.pcap") --rename tp.src
contains index.extra_drop_msg "$tmp/out" "input $k ("
contains index.extra_drop_count "$tmp/out" "1 only in A, 0 only in B"

pc run "$I" "$tmp/ttl.pcap" --base 30000 --shuffle --ttl "$k"
expect index.ttl 1 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$tmp/ttl.pcap") --rename tp.src
contains index.ttl_msg "$tmp/out" "frames differ"
contains index.ttl_field "$tmp/out" "ip.ttl: A "
contains index.ttl_count "$tmp/out" "1 frames differ"

p=$(pc pick "$I" 7 ported)
pc run "$I" "$tmp/csum.pcap" --base 30000 --shuffle --nocsum "$p"
expect index.nocsum 1 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$tmp/csum.pcap") --rename tp.src
contains index.nocsum_msg "$tmp/out" "B has a wrong checksum"

pc run "$I" "$tmp/remapA.pcap" --remap "$k"
pc run "$I" "$tmp/remapB.pcap" --base 30000 --permute --shuffle --remap "$k"
expect index.remap_strict 1 "$pcapdiff" --input "$I" $(idx "$tmp/remapA.pcap") $(idx "$tmp/remapB.pcap") --rename tp.src --strict-flows
contains index.remap_hint "$tmp/out" "without it, changes on both sides at once are accepted"
expect index.remap_allowed 0 "$pcapdiff" --input "$I" $(idx "$tmp/remapA.pcap") $(idx "$tmp/remapB.pcap") --rename-injective tp.src
expect index.remap_self 0 "$pcapdiff" --input "$I" $(idx "$tmp/remapA.pcap") $(idx "$tmp/remapA.pcap") --rename tp.src
expect index.remap_one_side 1 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$tmp/remapB.pcap") --rename tp.src
contains index.remap_one_side_msg "$tmp/out" "values may change only where they change on both sides"

# ---- index mode on the reference interpreter: one core vs two simulated cores -------------------
# A: router -> NAPT (ports 1024-65535, 60 s idle timeout) -> round-robin LB, one run. B: the
# capture split by flow into two "cores", each run separately with its own NAPT port range and
# its own round robin, outputs merged: what a correct 2-core data plane emits. The capture spans
# 200 s and 20% of flows pause ~75 s, so NAPT mappings expire in mid-flow.
metronc=$build/metronc
[ -x "$metronc" ] || { echo "FAIL: $metronc is not built"; fail=$((fail + 1)); }
chain() { # FILE PORTS
  cat > "$1" <<METRON
import routes "$routes" as internet2 every 4;
nf router { lookup ip.dst in internet2; dec ip.ttl; }
nf napt stateful { napt ip.src to 203.0.113.1 ports $2 timeout 60; }
nf lb stateful { balance ip.dst round_robin [10.0.1.1, 10.0.1.2, 10.0.1.3, 10.0.1.4]; }
chain c { in port0 -> router -> napt -> lb -> out port1; }
METRON
}
chain "$tmp/one.metron" 1024-65535
chain "$tmp/core0.metron" 1024-30000
chain "$tmp/core1.metron" 30001-65535
S=$tmp/sim.pcap
"$mkpcap" --out "$S" --packets 20000 --seed 5 --routes "$routes" --every 4 --mix route=90,random=10,pause=20 --rate 100 --idle 75 > /dev/null
pc split "$S" "$tmp/s0.pcap" "$tmp/s1.pcap" > /dev/null
run() { "$metronc" run --reference "$1" --pcap "$2" --out "$3" 2>> "$tmp/run.log" || echo "FAIL: metronc run $1 $2"; }
run "$tmp/one.metron" "$S" "$tmp/ref.pcap"
run "$tmp/one.metron" "$S" "$tmp/ref2.pcap"
run "$tmp/core0.metron" "$tmp/s0.pcap" "$tmp/c0.pcap"
run "$tmp/core1.metron" "$tmp/s1.pcap" "$tmp/c1.pcap"
run "$tmp/one.metron" "$tmp/s1.pcap" "$tmp/c1same.pcap"
pc merge "$tmp/two.pcap" "$tmp/c0.pcap" "$tmp/c1.pcap"
pc merge "$tmp/twosame.pcap" "$tmp/c0.pcap" "$tmp/c1same.pcap"
for f in ref two twosame; do pc mkidx "$tmp/$f.pcap"; done
expect interp.one_core 0 "$pcapdiff" "$tmp/ref.pcap" "$tmp/ref2.pcap" --timestamps
expect interp.two_cores_exact 1 "$pcapdiff" "$tmp/ref.pcap" "$tmp/two.pcap"
expect interp.two_cores 0 "$pcapdiff" --input "$S" $(idx "$tmp/ref.pcap") $(idx "$tmp/two.pcap") --rename-injective tp.src --rename ip.dst
contains interp.two_cores_emitted "$tmp/out" "0 only in A, 0 only in B"
grep -q " 0 flows renamed" "$tmp/out" && { echo "FAIL interp.two_cores: no flow renamed"; fail=$((fail + 1)); }
expect interp.two_cores_strict 1 "$pcapdiff" --input "$S" $(idx "$tmp/ref.pcap") $(idx "$tmp/two.pcap") --rename-injective tp.src --rename ip.dst --strict-flows
contains interp.two_cores_strict_msg "$tmp/out" "without it, changes on both sides at once are accepted"
expect interp.self_strict 1 "$pcapdiff" --input "$S" $(idx "$tmp/ref.pcap") $(idx "$tmp/ref.pcap") --rename tp.src --strict-flows
expect interp.self 0 "$pcapdiff" --input "$S" $(idx "$tmp/ref.pcap") $(idx "$tmp/ref.pcap") --rename-injective tp.src --rename ip.dst
expect interp.two_cores_no_lb_rename 1 "$pcapdiff" --input "$S" $(idx "$tmp/ref.pcap") $(idx "$tmp/two.pcap") --rename-injective tp.src
contains interp.two_cores_no_lb_rename_msg "$tmp/out" "ip.dst: A 10.0.1."
# Both cores with the whole port range: two flows get one port, which only injectivity sees.
expect interp.shared_ports 1 "$pcapdiff" --input "$S" $(idx "$tmp/ref.pcap") $(idx "$tmp/twosame.pcap") --rename-injective tp.src --rename ip.dst
contains interp.shared_ports_msg "$tmp/out" "B maps two flows to one value"
expect interp.shared_ports_not_asked 0 "$pcapdiff" --input "$S" $(idx "$tmp/ref.pcap") $(idx "$tmp/twosame.pcap") --rename tp.src --rename ip.dst

# ---- bad files and usage ---------------------------------------------------------------------------
pc cut "$A" "$tmp/cut.pcap" 10
expect bad.truncated 2 "$pcapdiff" "$A" "$tmp/cut.pcap"
contains bad.truncated_msg "$tmp/err" "record 3000"
head -c 5000 /dev/urandom > "$tmp/garbage.pcap"
expect bad.garbage 2 "$pcapdiff" "$tmp/garbage.pcap" "$A"
contains bad.garbage_msg "$tmp/err" "cannot open"
expect bad.missing 2 "$pcapdiff" "$A" "$tmp/nonexistent.pcap"
pc idx-edit "$RB.idx" "$tmp/odd.idx" odd
expect bad.idx_odd 2 "$pcapdiff" --input "$I" $(idx "$RA") --index "$RB" "$tmp/odd.idx"
contains bad.idx_odd_msg "$tmp/err" "is not a multiple of 8"
pc idx-edit "$RB.idx" "$tmp/short.idx" short
expect bad.idx_short 2 "$pcapdiff" --input "$I" $(idx "$RA") --index "$RB" "$tmp/short.idx"
contains bad.idx_short_msg "$tmp/err" "entries but"
pc idx-edit "$RB.idx" "$tmp/past.idx" past 4000
expect bad.idx_past 2 "$pcapdiff" --input "$I" $(idx "$RA") --index "$RB" "$tmp/past.idx"
contains bad.idx_past_msg "$tmp/err" "names input index 4000, but the input has 4000 records"
expect bad.input_truncated 2 "$pcapdiff" --input "$tmp/cut.pcap" $(idx "$RA") $(idx "$RB")
expect usage.one_file 2 "$pcapdiff" "$A"
expect usage.one_index 2 "$pcapdiff" --input "$I" $(idx "$RA")
contains usage.one_index_msg "$tmp/err" "needs --index twice"
expect usage.unknown_field 2 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$RB") --rename tp.bogus
contains usage.unknown_field_msg "$tmp/err" "unknown field 'tp.bogus'"
expect usage.readonly_field 2 "$pcapdiff" --input "$I" $(idx "$RA") $(idx "$RB") --rename ip.proto
expect usage.rename_exact 2 "$pcapdiff" "$A" "$A" --rename tp.src

echo "pcapdiff-selftest: $pass passed, $fail failed"
[ "$fail" = 0 ]
