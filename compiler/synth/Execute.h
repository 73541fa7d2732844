//===- compiler/synth/Execute.h - Running packets through synthesized tables ---------*- C++ -*-===//
///
/// \file
/// Executes a chain's traffic-class tables on packets: look the packet up in table 0, apply Ω
/// (writes from the packet as it entered the table, stateful operations on their own state,
/// the same runtime/state objects the reference interpreter uses), follow the terminal. This is
/// what `metronc explain` reports from and what the differential tests compare with the
/// reference interpreter; it is not the data plane (codegen/ is).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/synth/Classify.h"
#include "compiler/synth/Synth.h"
#include "runtime/packet/Packet.h"
#include "runtime/state/State.h"

#include <map>
#include <memory>

namespace metron::synth {

struct ExecOutcome {
  bool dropped = false;
  uint32_t egress = 0; ///< Module::portNames index
  /// Every (table, class) the packet went through, in order.
  std::vector<std::pair<uint32_t, uint32_t>> classes;
  /// The packet's fields as it entered each of those tables (filled when
  /// Executor::recordEntries is set; for tests of what devices would match).
  std::vector<std::array<uint64_t, ir::kNumFields>> entries;
};

class Executor {
public:
  /// nullptr and \p err when a stateful element cannot be set up (a DPI pattern Hyperscan
  /// rejects).
  static std::unique_ptr<Executor> create(const ir::Module &m, const ChainTables &t, std::string &err);
  ExecOutcome process(pkt::Packet &p);
  bool recordEntries = false;

private:
  Executor(const ir::Module &m, const ChainTables &t) : m_(m), t_(t) {}
  const ir::Module &m_;
  const ChainTables &t_;
  std::vector<std::unique_ptr<TableClassifier>> classifiers_;
  std::map<std::pair<uint32_t, uint32_t>, std::unique_ptr<state::ElementState>> state_;
};

} // namespace metron::synth
