//===- compiler/place/Place.h - Algorithm 2: where the stateless part runs ------*- C++ -*-===//
///
/// \file
/// Paper §2.3.3, Algorithm 2: walk the path from the chain's ingress point towards the server
/// (compiler/place/Topology.h, pathToServer) and give the stateless part (the offloadable
/// classes of the split) to the first switch whose available rule capacity C, times its
/// CAP_THR, covers the demand D — the device rules the split needs on that switch; a switch
/// that cannot offload a single class is passed over. When no switch qualifies, the server's
/// NIC is the last resort: it takes what fits in C × CAP_THR, by priority, and the rest stays
/// in software (the split's offload-capacity diagnostics say what). The server is given
/// (Algorithm 1, the choice of a server, belongs to `metronc deploy`).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/place/Topology.h"
#include "compiler/split/Split.h"

#include <optional>
#include <string>
#include <vector>

namespace metron::place {

/// One step of Algorithm 2, for plan.json and `--time-passes`-style reports.
struct Candidate {
  std::string element, profile;
  bool isSwitch = true;
  uint64_t demand = 0;     ///< device rules the split needs on it (unbounded capacity)
  uint64_t offloadable = 0; ///< classes it could take
  uint64_t capacity = 0;   ///< C (split::kUnbounded: memory-bounded)
  double capThr = 1.0;
  bool chosen = false;
  std::string why;         ///< "D = 3,307 <= C x CAP_THR = 14,745" / "... exceeds ..."
};

struct Placement {
  std::string server;
  unsigned cores = 1;
  std::vector<Hop> path;        ///< switches from the ingress, then the server's NIC
  size_t classifier = 0;        ///< index into path
  std::vector<Candidate> candidates;
  split::DeviceProfile device;  ///< the classifier's profile, its table-0 capacity set to C × CAP_THR
  split::SplitPlan plan;        ///< the split for it (diagnostics reported)
};

/// Runs Algorithm 2 for chain \p t. \p cores 0: the server's. Split diagnostics of the chosen
/// element go to \p diags; false with \p err when the topology has no path for the chain.
std::optional<Placement> placeChain(const ir::Module &m, const synth::ChainTables &t, const Topology &topo,
                                    const std::string &server, unsigned cores, DiagnosticEngine &diags,
                                    std::string &err);

} // namespace metron::place
