//===- targets/p4/P4.h - A P4_16 (v1model) classifier and its table entries -----*- C++ -*-===//
///
/// \file
/// The programmable-switch target: a P4_16 program for the v1model architecture (one ternary
/// table per device table, actions for drop, jump, field writes, tagging and output) and its
/// entries as simple_switch_CLI commands and as P4Runtime-style JSON. No P4 compiler is
/// packaged on Debian 12: the output is checked structurally (golden files), not compiled.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "targets/Rules.h"

#include <string>

namespace metron::targets::p4 {

std::string printProgram(const DeviceRules &r);  ///< the .p4 source
std::string printCli(const DeviceRules &r);      ///< simple_switch_CLI `table_add` commands
std::string printP4Runtime(const DeviceRules &r); ///< {"tables":[{"name":...,"entries":[...]}]}

} // namespace metron::targets::p4
