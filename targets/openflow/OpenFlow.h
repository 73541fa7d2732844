//===- targets/openflow/OpenFlow.h - OpenFlow 1.3 flows for ovs-ofctl -----------*- C++ -*-===//
///
/// \file
/// The switch target: an `ovs-ofctl -O OpenFlow13 add-flows` file, one flow per line, multi
/// table with goto_table; tags by push_vlan + set_field (vlan_vid with the 0x1000 present bit)
/// or set_field on eth_dst. Every flow carries `cookie=` Rule::cookie() so that
/// `ofproto/trace` names the rule it picked.
///
/// The file is accepted by `ovs-ofctl -O OpenFlow13 --bundle add-flows` of Open vSwitch 3.1, and
/// `diff-flows` against it is empty once installed (tests/tools/ovs-trace.sh checks both, and
/// the rules' behaviour with ofproto/trace). A rule OpenFlow 1.3 cannot state as given (a range
/// match, rte_flow's mark, a field without its protocol prerequisite, a VLAN write on frames not
/// known to be tagged, goto_table backwards or not last, table > 253, priority > 65535) is a bug
/// of the lowering: an internal compiler error, never a silently different rule. OpenFlow.cpp's
/// file comment lists the forms used (vlan_tci for VLAN matches, mod_nw_ttl, set_queue...).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "targets/Rules.h"

#include <string>

namespace metron::targets::openflow {

/// The add-flows file: `#` comment lines (a header; Rule::note above its flow), then flows
/// `table=T,priority=P,cookie=0xC,<match>,actions=<actions>` sorted by table and decreasing
/// priority (stable: equal priorities keep their order in DeviceRules::rules).
std::string printFlows(const DeviceRules &r);

} // namespace metron::targets::openflow
