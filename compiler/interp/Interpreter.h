//===- compiler/interp/Interpreter.h - The reference interpreter ----------------------*- C++ -*-===//
///
/// \file
/// The ground truth of the semantic contract (DESIGN.md §3): executes the NF IR of one chain
/// packet by packet, NF by NF, element by element, exactly as written (man/metron-lang.7), with
/// its own state for the stateful elements (runtime/state). No synthesis, no shortcuts: every
/// later stage is tested against it.
///
/// Blackboxes: the interpreter cannot run a closed binary; it models every blackbox as a wire
/// that forwards each packet unchanged from the input it arrived on to its first output port.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"
#include "runtime/packet/Packet.h"
#include "runtime/state/State.h"

#include <memory>
#include <string>
#include <vector>

namespace metron::interp {

/// One step of a packet's walk, for tests and for `--trace`.
struct Step {
  uint32_t node;    ///< chain node
  uint16_t element; ///< element index within the NF
  int32_t rule;     ///< Classifier: 1-based rule index, 0 = default; Lookup: 1-based index of the
                    ///< route in the imported table, 0 = miss; -1 for other elements
};

struct Outcome {
  bool dropped = false;
  uint32_t egress = 0;     ///< Module::portNames index of the egress port (when !dropped)
  std::vector<Step> steps; ///< filled when tracing is on
};

struct NFCounters {
  std::string nf;
  uint32_t node = 0;
  uint64_t in = 0, dropped = 0;
  std::vector<std::pair<std::string, uint64_t>> out; ///< per output port, in port order
  /// Per stateful element, its counters (ElementState::counters()), prefixed "napt." etc.
  std::vector<std::pair<std::string, uint64_t>> elements;
};

class Interpreter {
public:
  /// nullptr and \p err when a stateful element cannot be set up (a DPI pattern set Hyperscan
  /// rejects).
  static std::unique_ptr<Interpreter> create(const ir::Module &m, const ir::Chain &c, std::string &err);
  ~Interpreter();

  /// Runs one packet; p.inPort() must be an ingress port of the chain (Module::portNames index).
  /// The packet is modified in place and is the emitted packet when !dropped.
  Outcome process(pkt::Packet &p, bool trace = false);

  std::vector<NFCounters> counters() const;

private:
  Interpreter() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace metron::interp
