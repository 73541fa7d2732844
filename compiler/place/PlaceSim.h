//===- compiler/place/PlaceSim.h - Placement at datacenter scale, emulated (paper §5.7) --*- C++ -*-===//
///
/// \file
/// `metronc place-sim`: places N service chains, one after the other, on the servers of a
/// k-ary fat tree (k pods of k/2 edge switches with k/2 servers each: k³/4 servers; 16, 128
/// and 1,024 for k = 4, 8, 16) with Algorithm 1 (Select.h), and compares every decision with
/// the uniform policy's on the same state (paper Fig. 19):
///
///  * uniform: the chosen server is among the least loaded servers that fit the chain (the
///    uniform policy, which asks every server, could have made the same choice);
///  * near-uniform: it is among those at the next load level up (no server that fits has a load
///    strictly between the least and the chosen one's): the least distance from uniform;
///  * other: farther.
///
/// Messages are the protocol's load queries, a request and a reply each (GLOBAL_STATS_REQ /
/// REP of Table 4): Algorithm 1 asks two servers per round, the uniform policy every server
/// for every chain. The uniform policy is also run on its own, on the same chains, to report
/// how evenly each policy ends up loading the servers.
///
/// A chain needs 1..max-chain-cores cores and 1..max-chain-nics NICs (uniformly at random, per
/// run); every server has the same cores and NICs. Unless given, the cores per server are
/// chosen so that the chains' expected demand takes \p utilization of all cores: then nearly
/// every chain fits and the decisions, not the capacity, are what is compared. A chain that
/// fits nowhere is rejected and counted.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/place/Select.h"

#include <cstdint>
#include <string>
#include <vector>

namespace metron::place {

struct SimOptions {
  unsigned k = 4;          ///< fat-tree arity (even, >= 2)
  uint64_t chains = 200;
  unsigned runs = 20;      ///< independent runs (seeds seed, seed+1, ...)
  uint64_t seed = 1;
  unsigned coresPerServer = 0; ///< 0: from utilization
  unsigned nicsPerServer = 2;
  unsigned maxChainCores = 4;
  unsigned maxChainNics = 2;
  double utilization = 0.9;
};

/// A k-ary fat tree's size.
struct FatTree {
  unsigned k = 4;
  uint64_t servers() const { return uint64_t(k) * k * k / 4; }
  uint64_t coreSwitches() const { return uint64_t(k / 2) * (k / 2); }
  uint64_t aggregationSwitches() const { return uint64_t(k) * (k / 2); }
  uint64_t edgeSwitches() const { return uint64_t(k) * (k / 2); }
  /// Server i's name: pod, edge switch and host, "p0e1h0".
  std::string serverName(uint64_t i) const;
};

struct RunResult {
  uint64_t placed = 0, rejected = 0;
  uint64_t uniform = 0, nearUniform = 0, other = 0; ///< Metron's decisions
  uint64_t metronMessages = 0, uniformMessages = 0;
  uint64_t uniformRejected = 0;
  /// Max - min used cores over the servers once every chain is placed.
  unsigned metronSpread = 0, uniformSpread = 0;
};

struct SimResult {
  SimOptions options;
  FatTree tree;
  unsigned coresPerServer = 0;
  std::vector<RunResult> runs;
};

/// How far choosing server \p chosen (which fits) for a chain of \p nbNics NICs and \p nbCores
/// cores is from the uniform policy on \p servers: 0 uniform, 1 near-uniform, 2 farther (see
/// the file comment).
int distanceFromUniform(const std::vector<ServerLoad> &servers, unsigned nbNics, unsigned nbCores, int chosen);

/// Checks the options; empty when they are fine, else what is wrong ("--fat-tree must be an
/// even number from 2 to 64: 3").
std::string checkSimOptions(const SimOptions &o);

/// Runs o.runs placements of o.chains chains (the options must pass checkSimOptions).
SimResult simulatePlacement(const SimOptions &o);

/// The table of `metronc place-sim` for several results: per fat tree and chain count, the
/// fractions of uniform / near-uniform decisions (median and 5th-95th percentile over the runs)
/// and the messages of each policy.
std::string placementTable(const std::vector<SimResult> &results);

/// The same as JSON (every run).
std::string placementJson(const std::vector<SimResult> &results);

} // namespace metron::place
