//===- targets/p4/P4.h - A P4_16 (v1model) classifier and its table entries -----*- C++ -*-===//
///
/// \file
/// The programmable-switch target: a P4_16 program for the v1model architecture (bmv2
/// simple_switch) and its table entries, as simple_switch_CLI commands and as P4Runtime-style
/// JSON. No P4 compiler is packaged on Debian 12: the output is checked structurally (unit tests
/// and golden files under tests/targets/p4), not compiled.
///
/// The program. Headers ethernet, vlan (one 802.1Q tag), ipv4 (+ options), tcp, udp, icmp; a
/// parser after metron-lang(7) PACKET MODEL; metadata views of the fields a packet may lack
/// (eth_type after the tag, tp_src/tp_dst of TCP or UDP, tcp_flags, icmp_type/code: 0 when
/// absent). Control `ingress` holds one table `metron_t<N>` per device table that has rules,
/// keyed by exactly what its rules match: `standard_metadata.ingress_port`, the validity of the
/// VLAN tag and of IPv4 (`hdr.vlan.isValid()`, `hdr.ipv4.isValid()`: ternary, so that a rule can
/// leave them out), `hdr.ipv4.protocol` for the L4 prerequisite, and the fields; every key is
/// ternary except a field some rule matches with a range that is not one prefix block (then
/// `range`, when no rule of the table needs a non-prefix mask on it). A table whose rules match
/// nothing is keyed by `hdr.ethernet.isValid()` so that it still takes entries. Each key carries
/// `@name("...")`, the name P4Runtime knows it by ("hdr.ipv4.$valid$", "meta.tp_dst", ...).
/// One action per distinct action list, named after its parts (`a_push_vlan_output(bit<12> vid,
/// bit<9> port)`, `a_set_eth_dst_output`, `a_drop`, `a_dec_ttl_jump`), values as parameters.
/// `const default_action = NoAction()`: a packet no rule takes keeps its fate so far, and every
/// packet starts marked to drop (`mark_to_drop`), so a packet no action outputs is dropped.
/// Jump sets `meta.next_table`; table N>0 is applied when `meta.next_table == N`, in increasing
/// order (jumps go forward, as OpenFlow's goto_table). After each table: dec_ttl's verdict (TTL
/// <= 1, or no IPv4 header: drop and exit), pop_vlan, and push_vlan/vlan writes (a tag is pushed
/// when the frame has none; the program models one tag, so push_vlan on a tagged frame rewrites
/// its id). tp.* writes go to the views and are written back to TCP/UDP after the last table.
/// IPv4, TCP and UDP checksums are recomputed (update_checksum[_with_payload], csum16) for
/// packets whose covered fields were written. Mark and Queue have no v1model counterpart: they
/// set `meta.mark` / `meta.queue` only. The program depends on the fields and action lists the
/// rules use (and table sizes rounded up to powers of two from 1024), not on their values.
///
/// Priorities: the IR's larger-wins priority p is `tableMaxPriority[table] - p + 1` for
/// simple_switch_CLI (bmv2: the smallest number wins; entries compete within their table only)
/// and `p + 1` for P4Runtime (larger wins; 0 is invalid for a ternary table). A table beyond
/// DeviceRules::tableMaxPriority, or whose rules go higher, uses the largest of its rules'.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "targets/Rules.h"

#include <string>

namespace metron::targets::p4 {

/// The .p4 source.
std::string printProgram(const DeviceRules &r);
/// simple_switch_CLI commands, one per entry (a rule whose range is expanded into prefix blocks
/// on a ternary key takes several), in rule order:
/// \code
///   table_add ingress.metron_t0 ingress.a_drop 1&&&0x1 10.0.0.0&&&255.0.0.0 6&&&0xff 80&&&0xffff => 2
/// \endcode
/// Ternary `value&&&mask`, range `lo->hi`, keys in table key order, IPv4 dotted, MAC with
/// colons, other numbers decimal (masks hex), then `=>`, the action parameters, the priority.
/// Names are fully qualified. The CLI has no comment syntax (a `#` line is "Unknown syntax" and
/// an empty line repeats the previous command), so the file has neither: provenance is in the
/// JSON's `metadata` (Rule::cookie()).
std::string printCli(const DeviceRules &r);
/// P4Runtime TableEntry messages (p4/v1/p4runtime.proto) in the protobuf JSON mapping's field
/// names, with P4Info names where the messages carry ids (table_name, field_name, action_name,
/// param_name) and bytes as 0x-prefixed big-endian hex of the field's width:
/// \code
///   {"element":"s1","profile":"...","table_entries":[{"table_name":"ingress.metron_t0",
///    "match":[{"field_name":"hdr.ipv4.srcAddr","ternary":{"value":"0x0a000000","mask":"0xff000000"}}],
///    "action":{"action":{"action_name":"ingress.a_drop","params":[]}},"priority":3,
///    "metadata":"0x0000000100000000"}]}
/// \endcode
/// "Don't care" matches are omitted, as P4Runtime requires; `metadata` is Rule::cookie().
std::string printP4Runtime(const DeviceRules &r);

} // namespace metron::targets::p4
