//===- compiler/place/Select.cpp - Algorithm 1 and the uniform policy ----------------------===//
#include "compiler/place/Select.h"

#include <utility>

namespace metron::place {

int selectServer(const std::vector<ServerLoad> &servers, unsigned nbNics, unsigned nbCores, std::mt19937_64 &rng,
                 std::vector<int> *queried) {
  return selectServer(
      servers.size(), [&](int s) { return servers[size_t(s)]; }, nbNics, nbCores, rng, queried);
}

int selectServer(size_t nServers, const std::function<ServerLoad(int)> &query, unsigned nbNics, unsigned nbCores,
                 std::mt19937_64 &rng, std::vector<int> *queried) {
  std::vector<int> list(nServers); // serversList: those not asked yet
  for (size_t i = 0; i < list.size(); ++i) list[i] = int(i);
  while (!list.empty()) {
    // twoRandomChoices: two distinct servers of the list (the last one alone), removed from it
    // as they are drawn (line 16 removes them when neither fits; when one fits we return).
    int choices[2];
    int n = 0;
    for (; n < 2 && !list.empty(); ++n) {
      size_t at = std::uniform_int_distribution<size_t>(0, list.size() - 1)(rng);
      choices[n] = list[at];
      list[at] = list.back();
      list.pop_back();
    }
    int t = -1;
    ServerLoad best;
    for (int k = 0; k < n; ++k) {
      const int s = choices[k];
      if (queried) queried->push_back(s);
      const ServerLoad l = query(s);
      if (!l.fits(nbNics, nbCores)) continue;
      if (t < 0 || lessLoaded(l, best)) t = s, best = l; // the less loaded
    }
    if (t >= 0) return t;
  }
  return -1;
}

int selectUniform(const std::vector<ServerLoad> &servers, unsigned nbNics, unsigned nbCores) {
  int t = -1;
  for (size_t s = 0; s < servers.size(); ++s)
    if (servers[s].fits(nbNics, nbCores) && (t < 0 || lessLoaded(servers[s], servers[size_t(t)]))) t = int(s);
  return t;
}

} // namespace metron::place
