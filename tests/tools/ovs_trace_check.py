#!/usr/bin/python3
"""ovs_trace_check.py — compares Open vSwitch's ofproto/trace of compiled rules with metronc.

Used by tests/tools/ovs-trace.sh (run it with /usr/bin/python3). Three subcommands:

  ovs_trace_check.py flows PLAN HEADERS
      prints one ofproto/trace flow per header line ('SRC DST SPORT DPORT PROTO RULEID', decimal,
      ClassBench form; TCP and UDP only), entering the classifier switch at the port plan.json
      names for the chain's ingress. The packet is the one `metronc explain --headers` builds:
      zero MACs, TTL 64, TCP flags 0.

  ovs_trace_check.py trace CTL BRIDGE FLOWS
      runs `ofproto/trace BRIDGE FLOW` for every line of FLOWS over one connection to
      ovs-vswitchd's unixctl socket CTL (the JSON-RPC that ovs-appctl speaks, without a process
      per call: 2,000 traces take about 0.5 s instead of 10-25 s) and prints, per flow, '=== N'
      and the reply text exactly as ovs-appctl prints it (ovs-trace.sh checks that on the first
      headers by running ovs-appctl itself).

  ovs_trace_check.py check --name NAME --plan PLAN --headers HEADERS --explain JSONL
                           --traces TRACES --dpif DPIF --rules-file FILE --install-ms MS
      HEADERS: the same header lines; JSONL: `metronc explain --headers HEADERS`; TRACES: for
      each header, a line '=== N' then the output of `ovs-appctl ofproto/trace`; DPIF: the output
      of `ovs-appctl dpif/show` (OpenFlow port -> datapath port); FILE: the installed add-flows
      file. For every header it checks
        (a) the tables OVS went through and the cookie of the rule it picked in each (cookie =
            (role + 1) << 32 | class id, targets/Rules.h): role "class" with the class explain
            names for that table, or role "default" where plan.json says the class (or its whole
            table) runs in software;
        (b) the datapath actions: `drop` for classes the switch drops; for classes handed to
            software, the group's tag (vlan: push_vlan(vid=TAG); mac: eth dst 02:00:00:00:TT:TT)
            plus the group's hw_writes (and those of the jumps before), then output to the server
            port; for classes in software, a plain output to the server port;
        (c) that explain's rules.firewall is the trace's sixth column (the 1-based index of the
            first ClassBench rule that matches; 0 = none): the chains' first NF is a `firewall`
            made of that rule set, so it sees the headers as they are in the trace.
      Prints 'ovs-trace: NAME: N headers, M mismatches, R rules installed in X ms (bundle),
      diff-flows clean' and the outcome counts; exit 1 with the first mismatches in full.
"""
import argparse
import json
import re
import socket
import sys

ROLES = ["class", "mirror", "default", "path", "dispatch", "return"]
ETH_SRC, ETH_DST, TTL = "00:00:00:00:00:00", "00:00:00:00:00:00", 64  # as metronc explain --headers


def ip_str(v):
    return ".".join(str((v >> s) & 255) for s in (24, 16, 8, 0))


def mac_str(v):
    return ":".join("%02x" % ((v >> s) & 255) for s in range(40, -8, -8))


def read_headers(path):
    out = []
    for line in open(path):
        w = line.split()
        if w:
            out.append([int(x) for x in w[:6]])
    return out


def port_number(p, default):
    """A port as plan.json may give it: 2, "2" or "s1:2"."""
    if p is None:
        return default
    if isinstance(p, int):
        return p
    m = re.search(r"(\d+)$", str(p))
    return int(m.group(1)) if m else default


class Plan:
    def __init__(self, path):
        self.doc = json.load(open(path))
        d = self.doc
        self.element = (d.get("classifier") or {}).get("element")
        self.cls = {}  # class id -> (table entry, class entry)
        for t in d["tables"]:
            for c in t["classes"]:
                self.cls[c["id"]] = (t, c)
        self.groups = {g["group"]: g for g in d["groups"]}
        self.in_port, self.server_port = 1, 2
        for p in d.get("path", []):
            if p.get("element") == self.element or (self.element is None and p.get("switch")):
                self.in_port = port_number(p.get("in_port"), 1)
                self.server_port = port_number(p.get("out_port"), 2)
                break


# ---- expected behaviour, from plan.json and explain --------------------------------------------

class Expect:
    """What OVS must do with one header: tables and rules, then the datapath actions."""

    def __init__(self):
        self.path = []  # (device table, role, class id or None)
        self.drop = False
        self.vlans = []  # pushed VLAN ids
        self.sets = {}  # datapath field -> value
        self.outputs = []  # OpenFlow ports
        self.what = ""  # 'drop on the switch', 'tagged to software', 'untagged to software'

    def text(self):
        p = " -> ".join(f"table {t}: {r}" + (f" {c}" if c is not None else "") for t, r, c in self.path)
        if self.drop:
            a = "drop"
        else:
            a = ", ".join([f"push_vlan(vid={v})" for v in self.vlans] +
                          [f"set {k}={v}" for k, v in sorted(self.sets.items())] +
                          [f"output:{o}" for o in self.outputs])
        return f"{p}; datapath: {a}"


def apply_write(w, hdr, sets):
    """One hw_writes entry {"field","kind","value"} applied to the packet as the datapath sees it."""
    f, kind, v = w["field"], w.get("kind", "const"), w.get("value")
    l4 = "tcp" if hdr[4] == 6 else "udp"
    if f == "ip.ttl":
        cur = int(sets.get("ipv4.ttl", TTL))
        sets["ipv4.ttl"] = str(cur - int(v if v is not None else 1) if kind == "dec" else int(v))
        return
    if kind != "const":
        raise ValueError(f"write kind {kind!r} on {f}")
    if f in ("eth.src", "eth.dst"):
        sets[f] = str(v).lower() if isinstance(v, str) else mac_str(int(v))
    elif f in ("ip.src", "ip.dst"):
        sets["ipv4." + f[3:]] = v if isinstance(v, str) else ip_str(int(v))
    elif f == "ip.dscp":
        sets["ipv4.dscp"] = str(int(v))
    elif f in ("tp.src", "tp.dst"):
        sets[f"{l4}.{f[3:]}"] = str(int(v))
    else:
        raise ValueError(f"write on {f}")


def expect(plan, hdr, ex):
    e = Expect()
    classes = ex["classes"]
    for k, cid in enumerate(classes):
        t, c = plan.cls[cid]
        dt = t.get("device_table")
        if dt is None or not c.get("hw"):
            # A software class: the switch's default rule of that table sends it, untagged.
            e.path.append((dt if dt is not None else 0, "default", None))
            e.outputs = [plan.server_port]
            e.what = "untagged to software"
            break
        e.path.append((dt, "class", cid))
        g = plan.groups[c["group"]]
        if c["action"] == "drop":
            e.drop = True
            e.what = "drop on the switch"
            break
        for w in g.get("hw_writes", []):
            apply_write(w, hdr, e.sets)
        if c["action"] == "jump":
            if k + 1 >= len(classes):
                raise ValueError(f"class {cid} jumps to table {c.get('jump_table')} but explain stops there")
            nt, _ = plan.cls[classes[k + 1]]
            if nt["table"] != c.get("jump_table"):
                raise ValueError(f"class {cid} jumps to table {c.get('jump_table')}, "
                                 f"explain continues in {nt['table']}")
            continue
        tag = g.get("tag")
        if tag is None:
            raise ValueError(f"class {cid} goes to software from the switch, its group {g['group']} has no tag")
        if tag["kind"] == "vlan":
            e.vlans.append(int(tag["value"]))
        elif tag["kind"] == "mac":
            e.sets["eth.dst"] = "02:00:00:00:%02x:%02x" % (int(tag["value"]) >> 8, int(tag["value"]) & 255)
        else:
            raise ValueError(f"tag kind {tag['kind']} on a switch")
        e.outputs = [plan.server_port]
        e.what = "tagged to software"
        break
    else:
        raise ValueError("explain's classes end without a terminal")
    # The datapath leaves out writes that change nothing.
    orig = {"eth.src": ETH_SRC, "eth.dst": ETH_DST, "ipv4.src": ip_str(hdr[0]), "ipv4.dst": ip_str(hdr[1]),
            "ipv4.ttl": str(TTL), "ipv4.dscp": "0"}
    l4 = "tcp" if hdr[4] == 6 else "udp"
    orig.update({f"{l4}.src": str(hdr[2]), f"{l4}.dst": str(hdr[3])})
    e.sets = {k: v for k, v in e.sets.items() if orig.get(k) != v}
    return e


# ---- what OVS did, from ofproto/trace ----------------------------------------------------------

TABLE_RE = re.compile(r"^\s*(\d+)\. (.*)$")
COOKIE_RE = re.compile(r"cookie (0x[0-9a-f]+)")


def split_top(s):
    """Splits at commas outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        out.append(cur)
    return [x.strip() for x in out if x.strip()]


class Trace:
    def __init__(self, text, dp_to_of):
        self.text = text
        self.path = []  # (table, role, class id) or (table, 'no match', None)
        self.drop = False
        self.vlans, self.sets, self.outputs, self.other = [], {}, [], []
        self.actions = None
        for line in text.splitlines():
            m = TABLE_RE.match(line)
            if m:
                table, rest = int(m.group(1)), m.group(2)
                if rest.startswith("No match"):
                    self.path.append((table, "no match", None))
                    continue
                cm = COOKIE_RE.search(rest)
                cookie = int(cm.group(1), 16) if cm else 0
                role = (cookie >> 32) - 1
                rname = ROLES[role] if 0 <= role < len(ROLES) else f"cookie {cookie:#x}"
                self.path.append((table, rname, cookie & 0xffffffff))
            elif line.startswith("Datapath actions:"):
                self.actions = line.split(":", 1)[1].strip()
        if self.actions is None:
            return
        for a in split_top(self.actions):
            if a == "drop":
                self.drop = True
            elif a.isdigit():
                self.outputs.append(dp_to_of.get(int(a), f"dp{a}"))
            elif a.startswith("push_vlan("):
                m = re.search(r"vid=(\d+)", a)
                self.vlans.append(int(m.group(1)) if m else -1)
            elif a.startswith("set(") or a.startswith("set_masked("):
                m = re.match(r"set(?:_masked)?\((\w+)\((.*)\)\)$", a)
                if not m:
                    self.other.append(a)
                    continue
                proto = m.group(1)
                for kv in split_top(m.group(2)):
                    k, _, v = kv.partition("=")
                    val, _, mask = v.partition("/")
                    if proto == "ipv4" and k == "tos":
                        self.sets["ipv4.dscp"] = str(int(val, 0) >> 2)
                    elif proto == "ipv4" and k == "ttl":
                        self.sets["ipv4.ttl"] = str(int(val, 0))
                    elif proto in ("tcp", "udp"):
                        self.sets[f"{proto}.{k}"] = str(int(val, 0))
                    elif proto == "eth":
                        self.sets[f"eth.{k}"] = val.lower()
                    else:
                        self.sets[f"{proto}.{k}"] = val
            else:
                self.other.append(a)

    def excerpt(self):
        keep = [l for l in self.text.splitlines() if TABLE_RE.match(l) or l.startswith("    ") or
                l.startswith("Flow:") or l.startswith("Datapath actions:")]
        return "\n".join("      | " + l for l in keep)


def compare(e, t, hdr, ex):
    """A list of differences (empty when OVS did what plan.json and explain say)."""
    d = []
    got_path = [(tb, r, c if r != "default" else None) for tb, r, c in t.path]
    if got_path != e.path:
        d.append(f"tables/rules: expected {e.path}, OVS {t.path}")
    if t.actions is None:
        d.append("no 'Datapath actions' line in the trace")
        return d
    if t.other:
        d.append(f"unexpected datapath actions {t.other}")
    if e.drop != t.drop or (e.drop and (t.vlans or t.sets or t.outputs)):
        d.append(f"expected {'drop' if e.drop else 'no drop'}, datapath actions '{t.actions}'")
    if not e.drop:
        if t.vlans != e.vlans:
            d.append(f"VLAN tags: expected {e.vlans}, datapath {t.vlans}")
        if t.sets != e.sets:
            d.append(f"header writes: expected {e.sets}, datapath {t.sets}")
        if t.outputs != e.outputs:
            d.append(f"outputs: expected {e.outputs}, datapath {t.outputs}")
    if len(hdr) > 5:
        want_rule, got_rule = hdr[5], ex.get("rules", {}).get("firewall")
        if got_rule != want_rule:
            d.append(f"firewall rule: trace says {want_rule}, explain says {got_rule}")
    return d


def read_traces(path):
    out, cur, n = {}, [], None
    for line in open(path):
        if line.startswith("=== "):
            if n is not None:
                out[n] = "".join(cur)
            n, cur = int(line.split()[1]), []
        else:
            cur.append(line)
    if n is not None:
        out[n] = "".join(cur)
    return out


def read_dpif(path):
    """dpif/show lines '    NAME OFPORT/DPPORT: (type)' -> {dp port: OpenFlow port}."""
    m = {}
    for line in open(path):
        r = re.match(r"^\s+\S+ (\d+)/(\d+):", line)
        if r:
            m[int(r.group(2))] = int(r.group(1))
    return m


def count_flows(path):
    return sum(1 for l in open(path) if l.strip() and not l.lstrip().startswith("#"))


def cmd_flows(a):
    plan = Plan(a.plan)
    for h in read_headers(a.headers):
        src, dst, sp, dp, proto = h[:5]
        l4 = {6: "tcp", 17: "udp"}.get(proto)
        if l4 is None:
            sys.exit(f"ovs_trace_check: protocol {proto} in {a.headers}: only TCP and UDP headers are traced")
        print(f"{l4},in_port={plan.in_port},nw_src={ip_str(src)},nw_dst={ip_str(dst)},nw_ttl={TTL},"
              f"{l4}_src={sp},{l4}_dst={dp}")


def unixctl_calls(ctl, method, params_list):
    """Sends each params list of \p params_list as one \p method request over ovs-vswitchd's
    unixctl socket \p ctl (the JSON-RPC that ovs-appctl speaks), on one connection; yields the
    (result, error) of each reply in order."""
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(ctl)
    dec = json.JSONDecoder()
    buf = ""
    for n, params in enumerate(params_list, 1):
        sock.sendall(json.dumps({"id": n, "method": method, "params": params}).encode())
        while True:
            buf = buf.lstrip()
            try:
                reply, end = dec.raw_decode(buf)
                buf = buf[end:]
                break
            except ValueError:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    sys.exit("ovs_trace_check: ovs-vswitchd closed the unixctl connection")
                buf += chunk.decode()
        if reply.get("id") != n:
            sys.exit(f"ovs_trace_check: unixctl reply {reply.get('id')} to request {n}")
        yield reply.get("result"), reply.get("error")


def cmd_trace(a):
    out = sys.stdout
    params = ([a.bridge, line.strip()] for line in open(a.flows))
    for n, (result, error) in enumerate(unixctl_calls(a.ctl, "ofproto/trace", params), 1):
        out.write(f"=== {n}\n")
        out.write(result if error is None else f"unixctl error: {error}\n")
    return 0


def cmd_check(a):
    plan = Plan(a.plan)
    headers = read_headers(a.headers)
    explained = [json.loads(l) for l in open(a.explain) if l.strip()]
    traces = read_traces(a.traces)
    dp_to_of = read_dpif(a.dpif)
    flows = count_flows(a.rules_file)
    problems = []
    if len(explained) != len(headers):
        problems.append(f"explain printed {len(explained)} results for {len(headers)} headers")
    for dev in plan.doc.get("devices", []):
        if dev.get("element") == plan.element and dev.get("rules") is not None and dev["rules"] != flows:
            problems.append(f"plan.json says {dev['element']} has {dev['rules']} rules, "
                            f"{a.rules_file} has {flows} flows")
    mismatches, outcomes, shown = 0, {}, []
    for ex in explained:
        n = ex["line"]
        hdr = headers[n - 1]
        t = Trace(traces.get(n, ""), dp_to_of)
        try:
            e = expect(plan, hdr, ex)
            diffs = compare(e, t, hdr, ex)
            want = e.text()
        except (KeyError, ValueError) as err:
            diffs, want = [f"cannot derive the expected behaviour: {err!r}"], "?"
        if diffs:
            mismatches += 1
            if len(shown) < a.show:
                shown.append(f"  header {n}: {' '.join(map(str, hdr))}\n"
                             f"    explain:  {json.dumps(ex, sort_keys=True)}\n"
                             f"    expected: {want}\n" + "".join(f"    MISMATCH: {x}\n" for x in diffs) +
                             "    OVS trace:\n" + t.excerpt())
        else:
            key = f"{e.what} after {len(e.path)} table{'s' if len(e.path) > 1 else ''}"
            outcomes[key] = outcomes.get(key, 0) + 1
    print(f"ovs-trace: {a.name}: {len(explained)} headers, {mismatches} mismatches, {flows} rules installed in "
          f"{a.install_ms} ms (bundle), diff-flows clean")
    print(f"ovs-trace: {a.name}: outcomes: " + ", ".join(f"{v} {k}" for k, v in sorted(outcomes.items())))
    for p in problems:
        print(f"ovs-trace: {a.name}: FAIL {p}")
    if shown:
        print(f"ovs-trace: {a.name}: FAIL, the first {len(shown)} mismatches:")
        print("\n".join(shown))
    return 1 if mismatches or problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("flows")
    f.add_argument("plan")
    f.add_argument("headers")
    t = sub.add_parser("trace")
    t.add_argument("ctl")
    t.add_argument("bridge")
    t.add_argument("flows")
    c = sub.add_parser("check")
    for opt in ("name", "plan", "headers", "explain", "traces", "dpif", "rules-file", "install-ms"):
        c.add_argument("--" + opt, required=True)
    c.add_argument("--show", type=int, default=5, help="mismatches printed in full")
    a = ap.parse_args()
    if a.cmd == "flows":
        cmd_flows(a)
        return 0
    if a.cmd == "trace":
        return cmd_trace(a)
    return cmd_check(a)


if __name__ == "__main__":
    sys.exit(main())
