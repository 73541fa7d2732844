//===- targets/rteflow/RteFlow.h - rte_flow rules as testpmd lines and JSON -----*- C++ -*-===//
///
/// \file
/// The NIC target: one `flow create PORT ...` line per rule in the syntax of dpdk-testpmd
/// 22.11's flow command (the de-facto interchange form of rte_flow rules), and the same rules
/// as JSON. Device table N is rte_flow group N; Jump is `jump group N`; priorities are
/// converted to rte_flow's "0 is highest".
///
/// A rule line:
/// \code
///   flow create 0 group 0 priority 3 ingress pattern eth / ipv4 src spec 10.0.0.0 src mask 255.0.0.0 /
///       tcp dst is 80 / end actions mark id 2 / queue index 1 / end            (one line)
/// \endcode
///  - Port: Rule::inPort when set (the NIC port the rule is created on, even when it differs
///    from Options::port), else Options::port.
///  - Priority: P = M - Rule::priority with M = DeviceRules::maxPriority (raised to the
///    largest rule priority if a rule exceeds it), so the rule of largest priority gets 0.
///  - Pattern: `eth` always first, with no spec unless eth.src/eth.dst/eth.type are matched
///    (an `ipv4` item after it already implies EtherType 0x0800, as rte_flow intends); `vlan`
///    when Rule::vlan or vlan.id/vlan.pcp are matched, both in one `tci` (pcp << 13 | vid,
///    always as spec + mask, leaving the DEI bit out); `ipv4` when Rule::ipv4, Rule::proto or
///    an ip.* field is matched: `src`, `dst`, `tos` (ip.dscp << 2, spec + mask 0xfc), `ttl`,
///    and `proto` only when ip.proto is in Rule::match (or Rule::proto has no item of its own);
///    `tcp`/`udp` (`src`, `dst`, tcp `flags`) or `icmp` (`type`, `code`) per Rule::proto.
///  - Field forms: an exact match is `F is V` (testpmd sets the field's full mask); a masked
///    one is `F spec V F mask M`; a range (DeviceMatch::isRange) is
///    `F spec LO F last HI F mask FULL`. A mask of 0 or a full range prints nothing. Never a
///    bare `spec`: rte_flow would then use the item's default mask, which ignores tos/ttl.
///  - Actions, each followed by ` / `, then `end`: Drop `drop`; Jump `jump group N`; Set
///    `set_mac_src|set_mac_dst mac_addr X`, `set_ipv4_src|set_ipv4_dst ipv4_addr A`,
///    `set_ttl ttl_value N`, `set_ipv4_dscp dscp_value N`, `set_tp_src|set_tp_dst port N`,
///    `of_set_vlan_vid vlan_vid N`, `of_set_vlan_pcp vlan_pcp N`; DecTtl `dec_ttl`;
///    PushVlan `of_push_vlan ethertype 0x8100 / of_set_vlan_vid vlan_vid N`; PopVlan
///    `of_pop_vlan`; Mark `mark id N`; Queue `queue index N`; Output `port_id id N`. The list is
///    printed as given: a rule without a fate action (drop, queue, jump, port_id) is printed
///    too, although what a device does with it is PMD-specific (some reject it, others let
///    the packet go on as if unmatched); the lowering decides, the printer does not add one.
///  - Comments: a header (element, profile, rule counts per role, the priority conversion)
///    and one `# rule I (role, class C, group G): note` line before each rule. testpmd's
///    cmdline treats a line starting with `#` as empty. Comment text is reduced to printable
///    ASCII without `?` (testpmd's line editor drops other bytes and treats `?` as its help
///    key), other characters becoming `_`.
///  - Length: testpmd reads at most 512 characters per line; a rule line longer than 510 (so
///    that its `flow validate` form fits too) is preceded by a `# warning:` comment, and
///    tests/tools/testpmd-check.sh rejects it. Ordinary rules are shorter: a 5-tuple with two
///    prefixes, two port ranges, TCP flags, a DSCP write and a VLAN tag is about 410.
/// The file is loaded by `testpmd> load FILE` and checked against the real dpdk-testpmd
/// parser by tests/tools/testpmd-check.sh.
///
/// JSON: one object per device, keys in this order:
/// \code
///   {"element": "server1.nic0", "profile": "connectx-5", "kind": "nic", "port": 0,
///    "groups": 2,             // device tables = rte_flow groups 0 .. groups-1
///    "max_priority": 7,       // M above
///    "rules": [ <one rule object per line>, ... ]}
/// \endcode
/// A rule object: "group" (rte_flow group = device table), "priority" (rte_flow, 0 highest),
/// "ingress": true, "port" (as above), "pattern" (items in order: {"type": "ipv4", "spec":
/// {...}, "last": {...}, "mask": {...}}; "last" only with a range, all three absent for an
/// item without fields; field names as in the testpmd line, IPv4 and MAC values as strings,
/// the others as numbers, every present field with its explicit mask), "actions" ({"type":
/// "queue", "index": 3}: the testpmd action and parameter names), "role" (ruleRoleName),
/// "class" (traffic class id or null), "class_group" (traffic-class group or null),
/// "rule_priority" (Rule::priority: larger wins) and "note".
///
/// A rule that breaks Rules.h's invariants is a lowering bug: both printers stop with an
/// internal compiler error (METRON_INTERNAL_ASSERT) on a match on in_port (use Rule::inPort),
/// two matches on one field, tp.* without proto 6/17, tcp.flags without 6, icmp.* without 1,
/// or a Set of a field rte_flow cannot write.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "targets/Rules.h"

#include <cstdint>
#include <string>

namespace metron::targets::rteflow {

struct Options {
  uint16_t port = 0; ///< the DPDK port id the rules are created on (when Rule::inPort is not set)
};

/// `flow create 0 group 0 priority 3 ingress pattern eth / ipv4 src spec ... / end actions ... / end`,
/// one line per rule, preceded by `#` comment lines (testpmd ignores them).
std::string printTestpmd(const DeviceRules &r, const Options &o = {});
/// {"element":..., "profile":..., "port":0, ..., "rules":[{"group":0,"priority":3,"pattern":[...],
/// "actions":[...],"role":"class","class":12,...}]}, one rule object per line (keys: see above).
std::string printJson(const DeviceRules &r, const Options &o = {});

} // namespace metron::targets::rteflow
