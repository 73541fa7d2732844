#!/usr/bin/python3
"""ovs_pcap_check.py — real captures through the real switch, against the reference interpreter.

    ovs_pcap_check.py CTL BRIDGE IN.pcap REF.pcap MAX

Every frame of IN.pcap (the first MAX) goes through `ofproto/trace BRIDGE in_port=1 HEX` over
ovs-vswitchd's unixctl socket CTL, the frame exactly as captured. REF.pcap holds what
`metronc run --reference` emitted for IN.pcap on the chain's egress; for a chain that does not
rewrite packets (a firewall), frame i was emitted by the reference iff it is the next frame of
REF.pcap (the reference keeps the order). The switch's verdict must agree:
  - `Datapath actions: drop`           -> the reference dropped the frame;
  - push_vlan(vid=...) then an output  -> the class went to the server tagged: the reference
                                          emitted it (the chain's classes that egress are tagged);
  - an output without a tag            -> the default rule: the class runs in software (no verdict
                                          on the switch; counted, not judged).
Frames shorter than their IPv4 total length (cut by the capture's snaplen) are counted and not
judged: the packet model still reads them as IPv4 (metron-lang(7)), a switch does not parse
their transport header (a documented divergence, man metronc-compile(1), BUGS).
Prints one summary line; exits 1 on a disagreement (the first few printed in full).
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ovs_trace_check import unixctl_calls  # noqa: E402  (one unixctl client for both checkers)


def read_pcap(path):
    """The frames of a classic pcap file (both byte orders, micro- or nanosecond stamps)."""
    data = open(path, "rb").read()
    if len(data) < 24:
        sys.exit(f"ovs_pcap_check: {path}: not a pcap file")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"ovs_pcap_check: {path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"ovs_pcap_check: {path}: link type {linktype}, not Ethernet")
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def trace_all(ctl, bridge, frames):
    out = []
    params = ([bridge, "in_port=1", f.hex()] for f in frames)
    for n, (result, error) in enumerate(unixctl_calls(ctl, "ofproto/trace", params), 1):
        if error is not None:
            sys.exit(f"ovs_pcap_check: ofproto/trace of frame {n}: {error}")
        out.append(result)
    return out


def ipv4_truncated(f):
    """Is \p f an IPv4 frame (optionally 802.1Q-tagged) shorter than its IPv4 total length?"""
    off, etype = 14, f[12:14]
    if etype == b"\x81\x00" and len(f) >= 18:
        off, etype = 18, f[16:18]
    if etype != b"\x08\x00" or len(f) < off + 20:
        return False
    return off + struct.unpack(">H", f[off + 2:off + 4])[0] > len(f)


def verdict(trace):
    actions = next((l[len("Datapath actions: "):] for l in trace.splitlines() if l.startswith("Datapath actions: ")), None)
    if actions is None:
        return "none", ""
    if actions.strip() == "drop":
        return "drop", actions
    if "push_vlan(" in actions:
        return "tagged", actions
    return "untagged", actions


def main():
    ctl, bridge, inp, ref, most = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    all_frames = read_pcap(inp)
    frames = all_frames[:most]
    emitted_frames = read_pcap(ref)
    # Alignment: the reference keeps the order and does not rewrite (checked: every output frame
    # must be consumed).
    emitted, j = [], 0
    for f in frames:
        hit = j < len(emitted_frames) and emitted_frames[j] == f
        emitted.append(hit)
        j += hit
    if len(frames) == len(all_frames) and j != len(emitted_frames):
        sys.exit(f"ovs_pcap_check: {ref}: the reference's output is not a subsequence of {inp} (frames rewritten?)")
    counts = {"drop": 0, "tagged": 0, "untagged": 0}
    bad, truncated = [], 0
    for i, (f, t) in enumerate(zip(frames, trace_all(ctl, bridge, frames))):
        if ipv4_truncated(f):
            truncated += 1
            continue
        v, actions = verdict(t)
        if v == "none":
            bad.append((i + 1, "no datapath actions in the trace", t))
            continue
        counts[v] += 1
        if v == "drop" and emitted[i]:
            bad.append((i + 1, "the switch drops it, the reference emits it", actions))
        elif v == "tagged" and not emitted[i]:
            bad.append((i + 1, "the switch tags it for the server, the reference drops it", actions))
    name = inp.rsplit("/", 1)[-1]
    print(f"ovs-pcap: {name}: {len(frames)} frames, {sum(emitted)} emitted by the reference; switch: "
          f"{counts['drop']} dropped, {counts['tagged']} tagged, {counts['untagged']} to software untagged, "
          f"{truncated} cut by the snaplen (not judged); {len(bad)} disagreements")
    for n, why, text in bad[:5]:
        print(f"  frame {n}: {why}: {frames[n - 1].hex()}\n    {text.strip()[:400]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
