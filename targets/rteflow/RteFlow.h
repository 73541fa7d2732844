//===- targets/rteflow/RteFlow.h - rte_flow rules as testpmd lines and JSON -----*- C++ -*-===//
///
/// \file
/// The NIC target: one `flow create PORT ...` line per rule in the syntax of dpdk-testpmd
/// 22.11's flow command (the de-facto interchange form of rte_flow rules), and the same rules
/// as JSON. Device table N is rte_flow group N; Jump is `jump group N`; priorities are
/// converted to rte_flow's "0 is highest".
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "targets/Rules.h"

#include <cstdint>
#include <string>

namespace metron::targets::rteflow {

struct Options {
  uint16_t port = 0; ///< the DPDK port id the rules are created on
};

/// `flow create 0 group 0 priority 3 ingress pattern eth / ipv4 src spec ... / end actions ... / end`,
/// one line per rule, preceded by `#` comment lines (testpmd ignores them).
std::string printTestpmd(const DeviceRules &r, const Options &o = {});
/// {"element":..., "profile":..., "port":0, "rules":[{"group":0,"priority":3,"pattern":[...],"actions":[...],"role":"class","class":12}]}
std::string printJson(const DeviceRules &r, const Options &o = {});

} // namespace metron::targets::rteflow
