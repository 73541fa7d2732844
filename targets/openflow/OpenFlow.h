//===- targets/openflow/OpenFlow.h - OpenFlow 1.3 flows for ovs-ofctl -----------*- C++ -*-===//
///
/// \file
/// The switch target: an `ovs-ofctl -O OpenFlow13 add-flows` file, one flow per line, multi
/// table with goto_table; tags by push_vlan + set_field (vlan_vid with the 0x1000 present bit)
/// or set_field on eth_dst. Every flow carries `cookie=` Rule::cookie() so that
/// `ofproto/trace` names the rule it picked.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "targets/Rules.h"

#include <string>

namespace metron::targets::openflow {

/// The add-flows file: `#` comment lines, then flows sorted by table and decreasing priority.
std::string printFlows(const DeviceRules &r);

} // namespace metron::targets::openflow
