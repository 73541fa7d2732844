#!/usr/bin/env bash
# run.sh — build the libFuzzer targets with clang and run each for a fixed number of inputs.
# Seeds: the examples, the error cases, the real data files and captures, the device profiles,
# the example topologies, the rte_flow documents of tests/compile/*.out (plus, when a metronc
# binary is found, two cut from router-napt-lb on fig8b), and a few flat acl tables.
# metronc: $METRONC, else BUILD_DIR/../metronc (CTest's layout), else SRC_ROOT/build-syn/metronc.
# A crash is kept as BUILD_DIR/crash-TARGET-<sha1> (the scratch corpus is removed on exit).
# Usage: run.sh SRC_ROOT BUILD_DIR [RUNS]
set -euo pipefail
root=$1 build=$2 runs=${3:-30000}
cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 > "$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
ninja -C "$build" > "$build.build.log" 2>&1 || { tail -50 "$build.build.log"; exit 1; }

corpus=$(mktemp -d); trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/parser" "$corpus/import" "$corpus/pcap" "$corpus/profile" "$corpus/topology" "$corpus/rteflow" "$corpus/acl"
cp "$root"/examples/*.metron "$root"/tests/errors/*.metron "$root"/tests/samples/*.metron "$corpus/parser/" 2>/dev/null || true
data=${METRON_DATA_DIR:-$root/../shared/data}
# Importer seeds: a selector byte, then the head of a real file of that kind.
i=0
for f in "$data/classbench/pclasseval_song/fw1_100" "$data/classbench/neurocuts/fw1_1k" "$root/tests/errors/data/bad.cb"; do
  { printf '\x00'; head -c 4000 "$f"; } > "$corpus/import/cb$i"; i=$((i + 1)); done
for f in "$data/routing/derived/internet2_atla_ipv4.txt" "$data/routing/stanford_backbone/bbra_rtr_route.txt" "$root/tests/errors/data/bad-routes.txt"; do
  { printf '\x01'; head -c 4000 "$f"; } > "$corpus/import/rt$i"; i=$((i + 1)); done
for f in "$data/dpi/hsbench_samples/snort_literals" "$data/dpi/hsbench_samples/snort_pcres" \
         "$root/tests/dataplane/suricata-flow.rules" "$data"/dpi/suricata_verify/*/test.rules; do
  { printf '\x02'; head -c 4000 "$f"; } > "$corpus/import/pt$i"; i=$((i + 1)); done
# Capture seeds: the real captures of at most 1 MiB (fuzz_pcap reads only the first -max_len
# bytes of each). Device-profile seeds: the built-in profiles.
if [ -d "$data/pcap" ]; then
  find "$data/pcap" -type f \( -name '*.pcap' -o -name '*.pcapng' \) -size -1048577c -print0 |
    while IFS= read -r -d '' f; do cp "$f" "$corpus/pcap/$(basename "$(dirname "$f")")-$(basename "$f")"; done
fi
cp "$root"/targets/profiles/*.toml "$corpus/profile/"
cp "$root"/examples/*.toml "$corpus/topology/"
# rte_flow seeds: documents over -max_len (16384) are cut to their first rules, so that the
# seed is still a valid document (libFuzzer would cut it mid-JSON).
metronc=${METRONC:-}
if [ -z "$metronc" ]; then
  for m in "$(dirname "$build")/metronc" "$root/build-syn/metronc"; do
    if [ -x "$m" ]; then metronc=$m; break; fi; done
fi
gen=$(mktemp -d "$corpus/gen.XXXXXX")
if [ -n "$metronc" ] && "$metronc" compile "$root/examples/router-napt-lb.metron" \
     --topology "$root/examples/fig8b.toml" -o "$gen/out" > /dev/null 2>&1; then
  for f in "$gen"/out/rules/*.rte_flow.json; do cp "$f" "$gen/router-napt-lb-$(basename "$f")"; done
fi
for f in "$root"/tests/compile/*.out/rules/*.rte_flow.json; do
  cp "$f" "$gen/$(basename "$(dirname "$(dirname "$f")")" .out)-$(basename "$f")"; done
/usr/bin/python3 - "$corpus/rteflow" "$gen"/*.rte_flow.json <<'PY'
import json, os, sys
for path in sys.argv[2:]:
    text = open(path).read()
    base = os.path.join(sys.argv[1], os.path.basename(path))
    if len(text) <= 16000:
        open(base, "w").write(text)
        continue
    doc = json.loads(text)
    rules = doc["rules"]
    for cap, tag in ((15000, "a"), (4000, "b")):
        doc["rules"] = []
        for r in rules:
            doc["rules"].append(r)
            if len(json.dumps(doc)) > cap:
                doc["rules"].pop()
                break
        open(base + "." + tag, "w").write(json.dumps(doc))
PY
rm -rf "$gen"
printf '%s\n' '"kind"' '"nic"' '"port"' '"groups"' '"rules"' '"group"' '"priority"' '"ingress"' '"egress"' \
  '"transfer"' '"pattern"' '"actions"' '"type"' '"spec"' '"mask"' '"last"' '"eth"' '"vlan"' '"ipv4"' '"tcp"' \
  '"udp"' '"icmp"' '"has_vlan"' '"tci"' '"inner_type"' '"src"' '"dst"' '"tos"' '"ttl"' '"proto"' '"flags"' \
  '"code"' '"queue"' '"index"' '"drop"' '"jump"' '"port_id"' '"id"' '"mark"' '"set_mac_src"' '"set_mac_dst"' \
  '"mac_addr"' '"set_ipv4_src"' '"set_ipv4_dst"' '"ipv4_addr"' '"set_ttl"' '"ttl_value"' '"set_ipv4_dscp"' \
  '"dscp_value"' '"set_tp_src"' '"set_tp_dst"' '"dec_ttl"' '"of_set_vlan_vid"' '"vlan_vid"' \
  '"of_set_vlan_pcp"' '"vlan_pcp"' '"of_push_vlan"' '"ethertype"' '"of_pop_vlan"' '"class"' '"null"' \
  '"true"' '"false"' '"255.255.255.0"' '"ff:ff:ff:ff:ff:ff"' '"65535"' > "$corpus/rteflow.dict"
# Flat acl table seeds (runtime/dataplane/Acl.h): little-endian words, magic and class count,
# then per class its constraint count and [field | kind << 8] [a] [b] per constraint.
/usr/bin/python3 - "$corpus/acl" <<'PY'
import struct, sys
MAGIC = 0x4d545241434c0001
def table(name, classes):
    w = [MAGIC, len(classes)]
    for cls in classes:
        w.append(len(cls))
        for field, kind, a, b in cls:
            w += [field | kind << 8, a, b]
    open(sys.argv[1] + "/" + name, "wb").write(struct.pack("<%dQ" % len(w), *w))
# Field ids of compiler/Fields.def: 1 eth.src, 4 vlan.id, 6 ip.src, 7 ip.dst, 8 ip.proto,
# 11 tp.src, 12 tp.dst, 13 tcp.flags. Kinds: 0 range a..b, 1 mask (v & b) == a.
table("empty", [])
table("catch-all", [[]])
table("fw", [[(8, 1, 6, 0xff), (12, 0, 80, 80), (6, 1, 0x0a000000, 0xff000000)],
             [(8, 1, 17, 0xff), (11, 0, 1024, 65535), (7, 1, 0xc0000200, 0xffffff00)],
             [(13, 1, 0x02, 0x12), (4, 0, 1, 4094)],
             [(1, 1, 0x020000000000, 0x020000000000), (6, 1, 1, 1), (6, 1, 0, 2)],
             []])
PY

# metron-agent requests (fuzz_agent.cpp): byte 0 the route, byte 1 the item, then the body.
mkdir -p "$corpus/agent"
/usr/bin/python3 - "$corpus/agent" <<'PY'
import base64, hashlib, json, sys
exe = b"\x7fELF" + bytes(60)
rule = {"group": 0, "priority": 0, "ingress": True, "port": 0,
        "pattern": [{"type": "eth"}, {"type": "ipv4"}, {"type": "udp", "spec": {"dst": 53}, "mask": {"dst": 65535}}],
        "actions": [{"type": "mark", "id": 1}, {"type": "queue", "index": 0}]}
deploy = {"id": "a", "cores": 2, "ports": {"p0": "nic0"},
          "config": {"executable": base64.b64encode(exe).decode(), "sha256": hashlib.sha256(exe).hexdigest()},
          "rules": {"nic": "nic0", "rules": [{"id": "a/0", "rule": rule}]}}
seeds = {"deploy": (3, 0, deploy), "reconf": (5, 0, dict(deploy, cores=1)), "delete": (6, 0, None),
         "install": (9, 3, {"rules": [{"id": "r1", "rule": rule}]}), "rdelete": (10, 3, {"rule_ids": ["r1"]}),
         "setctrl": (11, 0, {"ip": "127.0.0.1", "port": 8181}), "delctrl": (13, 0, {"ip": "127.0.0.1", "port": 8181}),
         "features": (0, 0, None), "stats": (4, 0, None)}
for name, (route, item, body) in seeds.items():
    open(sys.argv[1] + "/" + name, "wb").write(bytes([route, item]) + (json.dumps(body).encode() if body else b""))
PY

# HTTP seeds (fuzz_http.cpp): the TCP payloads of the suricata-verify captures, and a few
# requests written here.
mkdir -p "$corpus/http"
/usr/bin/python3 - "$corpus/http" "$data"/dpi/suricata_verify/*/*.pcap <<'PY'
import struct, sys
n = 0
for path in sys.argv[2:]:
    b = open(path, "rb").read()
    little = b[:4] == b"\xd4\xc3\xb2\xa1"
    e = "<" if little else ">"
    off = 24
    while off + 16 <= len(b):
        incl = struct.unpack(e + "I", b[off + 8:off + 12])[0]
        f = b[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(f) < 34 or f[12:14] != b"\x08\x00" or f[23] != 6:
            continue
        ihl = (f[14] & 15) * 4
        t = 14 + ihl
        if len(f) < t + 20:
            continue
        payload = f[t + (f[t + 12] >> 4) * 4:]
        if payload:
            open("%s/cap%d" % (sys.argv[1], n), "wb").write(payload)
            n += 1
for i, r in enumerate([b"GET http://h:8/x/../y%2f?a HTTP/1.0\nHost: A:1\n folded\nX\n\n",
                       b"POST / HTTP/1.1\r\nCookie: a\r\nCookie: b\r\n\r\nbody"]):
    open("%s/req%d" % (sys.argv[1], i), "wb").write(r)
PY

cd "$corpus"   # relative imports found by the fuzzer resolve inside the scratch dir
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1
"$build/fuzz_parser" -runs="$runs" -seed=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_parser-" -dict="$root/tests/fuzz/metron.dict" -print_final_stats=1 "$corpus/parser" 2>&1 | tail -15
"$build/fuzz_import" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_import-" -print_final_stats=1 "$corpus/import" 2>&1 | tail -15
# 128 KiB: room for a record over PcapReader::kMaxFrameBytes (65553) after the file header.
"$build/fuzz_pcap" -runs="$runs" -seed=1 -max_len=131072 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_pcap-" -print_final_stats=1 "$corpus/pcap" 2>&1 | tail -15
"$build/fuzz_profile" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_profile-" -print_final_stats=1 "$corpus/profile" 2>&1 | tail -15
"$build/fuzz_topology" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_topology-" -print_final_stats=1 "$corpus/topology" 2>&1 | tail -15
"$build/fuzz_rteflow" -runs="$runs" -seed=1 -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_rteflow-" -dict="$corpus/rteflow.dict" -print_final_stats=1 "$corpus/rteflow" 2>&1 | tail -15
"$build/fuzz_acl" -runs="$runs" -seed=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_acl-" -print_final_stats=1 "$corpus/acl" 2>&1 | tail -15
"$build/fuzz_agent" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_agent-" -dict="$corpus/rteflow.dict" -print_final_stats=1 "$corpus/agent" 2>&1 | tail -15
"$build/fuzz_http" -runs="$runs" -seed=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crash-fuzz_http-" -print_final_stats=1 "$corpus/http" 2>&1 | tail -15
echo "fuzz: 9 passed, 0 failed"
