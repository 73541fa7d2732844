//===- compiler/place/Select.h - Algorithm 1: the server a chain's stateful part runs on --*- C++ -*-===//
///
/// \file
/// Paper §2.3.3, Algorithm 1 ("the power of two random choices"): ask two servers picked at
/// random from those not asked yet for their load, and take the less loaded of the two that
/// has the NICs and free cores the chain needs; when neither has, drop both and ask two more,
/// until a server is found or none is left. An operator may pin a server instead (`metronc
/// deploy --server`), which bypasses the choice.
///
/// The paper's pseudo-code (line 8) replaces the choice t by s when `t.load < s.load`, which
/// would keep the *more* loaded server; its text says "selects the least loaded of these two
/// servers", which is what selectServer does (and what the power of two choices is).
///
/// The uniform policy it is compared with (§5.7) asks every server and takes the least loaded
/// one that fits: one load query per server per chain.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace metron::place {

/// What a load query tells the controller about a server.
struct ServerLoad {
  std::string name;
  unsigned nics = 1;
  unsigned cores = 1;
  unsigned usedCores = 0;
  unsigned freeCores() const { return cores - usedCores; }
  /// The fraction of its cores taken (a server without cores counts as full).
  double load() const { return cores ? double(usedCores) / double(cores) : 1.0; }
  bool fits(unsigned nbNics, unsigned nbCores) const { return nics >= nbNics && freeCores() >= nbCores; }
};

/// a.load() < b.load(), exactly (by cross-multiplication, no rounding).
inline bool lessLoaded(const ServerLoad &a, const ServerLoad &b) {
  if (!a.cores || !b.cores) return a.cores && !b.cores;
  return uint64_t(a.usedCores) * b.cores < uint64_t(b.usedCores) * a.cores;
}

/// Algorithm 1 for a chain needing \p nbNics NICs and \p nbCores cores: the index of the
/// chosen server, -1 when no server fits. Every server whose load was asked is appended to
/// \p queried (in the order asked) when given; each is asked at most once.
int selectServer(const std::vector<ServerLoad> &servers, unsigned nbNics, unsigned nbCores, std::mt19937_64 &rng,
                 std::vector<int> *queried = nullptr);
/// The same over \p n servers whose load is asked only when Algorithm 1 draws them (\p query:
/// a load query to server i; one that cannot be answered is a server with no cores, which
/// fits nothing). `metronc deploy` asks the agents this way.
int selectServer(size_t n, const std::function<ServerLoad(int)> &query, unsigned nbNics, unsigned nbCores,
                 std::mt19937_64 &rng, std::vector<int> *queried = nullptr);

/// The uniform policy: every server is asked (servers.size() queries); the least loaded one
/// that fits, the first of equals; -1 when none fits.
int selectUniform(const std::vector<ServerLoad> &servers, unsigned nbNics, unsigned nbCores);

} // namespace metron::place
