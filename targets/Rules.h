//===- targets/Rules.h - The target IR: device rules, before any printer ---------*- C++ -*-===//
///
/// \file
/// What one network element (a switch or a NIC) must do for one chain, in a form every printer
/// (rte_flow, OpenFlow 1.3, P4) can print without knowing about synthesis or the split:
/// numbered tables of prioritized rules, each a conjunction of matches and a list of actions.
///
/// Built by lowerElement() (targets/Lower.cpp) from the split (split::SplitPlan) and the
/// placement (compiler/place): the classifier's rules (one rule per device alternative of an
/// offloaded class), the mirrored rules for the return path of NAPT'ed flows, the path rules of
/// the elements between the classifier and the server, the NIC's tag-dispatch rules, the
/// default rules that send everything else to the server, and the return rules towards the
/// chain's egress points.
///
/// Matches. `ipv4`, `vlan` and `proto` are the protocol prerequisites (an OpenFlow
/// `ip`/`tcp`/`udp`/`icmp` keyword, an rte_flow `ipv4`/`tcp`/`udp`/`icmp` item); `match` holds
/// the field matches, at most one per field, never on eth.type or ip.proto when the
/// prerequisites say it (the printers derive those). A field of L4 appears only with the
/// matching `proto` (tp.* with 6 or 17, tcp.flags with 6, icmp.* with 1). `inPort` is the
/// element's own port number (a switch port, or the NIC port the rule is created on).
///
/// Priorities: larger wins (OpenFlow's convention). Rules of one table are sorted by
/// decreasing priority; two overlapping rules never share a priority unless their actions are
/// equal. Printers for devices whose priority runs the other way (rte_flow: 0 is highest)
/// convert per table with `tableMaxPriority[table] - priority`.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/split/Split.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace metron::targets {

using split::DeviceMatch;

enum class ActionKind : uint8_t {
  Drop,      ///< drop the packet (alone in its list)
  Jump,      ///< continue in device table `value` (OpenFlow goto_table, rte_flow jump group)
  Set,       ///< field := value (set_field / rte_flow SET_*)
  DecTtl,    ///< ip.ttl -= 1, dropping expired packets (OpenFlow dec_ttl; rte_flow DEC_TTL)
  PushVlan,  ///< push an 802.1Q tag with VLAN id `value` (the tag of a group)
  PopVlan,   ///< pop the outer 802.1Q tag
  Mark,      ///< rte_flow MARK id `value` (the tag of a group)
  Queue,     ///< deliver to Rx queue `value` (= the core)
  Output     ///< send out of element port `value` (`port` names it)
};
const char *actionKindName(ActionKind k);

struct Action {
  ActionKind kind = ActionKind::Drop;
  ir::FieldId field = ir::FieldId::InPort; ///< Set
  uint64_t value = 0;
  std::string port; ///< Output: the topology's name of the port ("s1:2"), for comments
  bool operator==(const Action &o) const { return kind == o.kind && field == o.field && value == o.value; }
};

/// Why a rule exists (plan.json, comments in the rule files).
enum class RuleRole : uint8_t {
  Class,    ///< an offloaded traffic class
  Mirror,   ///< return path of NAPT'ed flows: back to the core holding their mapping
  Default,  ///< everything the classifier does not take: to the server, untagged
  Path,     ///< an element after the classifier: forwards tagged packets towards the server
  Dispatch, ///< the server's NIC: tag → queue of the owning core (VLAN: popped, as the mark)
  Return,   ///< packets leaving the chain: from the server towards an egress point
  Root      ///< device table 0 of a NIC whose classifier starts in table 1 (SplitPlan::rootJump)
};
const char *ruleRoleName(RuleRole r);

struct Rule {
  uint32_t table = 0;    ///< device table (0 = the one every packet enters)
  uint32_t priority = 0; ///< larger wins
  // ---- match
  std::optional<uint32_t> inPort;
  bool ipv4 = false;       ///< IPv4 packets only
  bool vlan = false;       ///< 802.1Q-tagged frames only
  uint8_t proto = 0;       ///< 0: any; 6, 17 or 1: TCP, UDP or ICMP packets only (implies ipv4)
  std::vector<DeviceMatch> match; ///< sorted by field
  // ---- actions, in order
  std::vector<Action> actions;
  // ---- provenance
  RuleRole role = RuleRole::Class;
  int64_t classId = -1; ///< Class, Mirror: the traffic class
  int64_t group = -1;   ///< Class, Mirror, Dispatch: the group
  std::string note;     ///< one line for comments ("class 12: fw1_5K rule 33")
  /// A 64-bit id for OpenFlow cookies and P4 handles: (role + 1) << 32 | class id (0 when none),
  /// so a trace that names a rule names its role and class.
  uint64_t cookie() const { return (uint64_t(role) + 1) << 32 | uint32_t(classId < 0 ? 0 : classId); }
};

struct DeviceRules {
  std::string element;   ///< topology name ("s1", "server1.nic0")
  std::string profile;   ///< device profile name
  split::DeviceProfile::Kind kind = split::DeviceProfile::Nic;
  uint32_t tables = 1;   ///< device tables used (0 .. tables-1)
  uint32_t maxPriority = 0; ///< the largest priority any rule uses
  /// Per device table, the largest priority its rules use: printers whose priorities run the
  /// other way convert with `tableMaxPriority[table] - priority`, so each table starts at 0
  /// (a NIC's table 0 may have very few levels).
  std::vector<uint32_t> tableMaxPriority;
  std::vector<Rule> rules; ///< by table, then by decreasing priority
  uint64_t count(RuleRole r) const;
};

} // namespace metron::targets
