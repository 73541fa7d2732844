//===- compiler/place/PlaceSim.cpp - Placement at datacenter scale, emulated ----------------===//
#include "compiler/place/PlaceSim.h"

#include "compiler/place/Select.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

namespace metron::place {

std::string FatTree::serverName(uint64_t i) const {
  const uint64_t half = k / 2;
  return "p" + std::to_string(i / (half * half)) + "e" + std::to_string(i / half % half) + "h" + std::to_string(i % half);
}

std::string checkSimOptions(const SimOptions &o) {
  auto num = [](uint64_t v) { return std::to_string(v); };
  if (o.k < 2 || o.k > 64 || o.k % 2) return "--fat-tree must be an even number from 2 to 64: " + num(o.k);
  if (o.chains < 1 || o.chains > 10000000) return "--chains must be from 1 to 10,000,000: " + num(o.chains);
  if (o.runs < 1 || o.runs > 1000) return "--runs must be from 1 to 1,000: " + num(o.runs);
  if (o.maxChainCores < 1) return "--max-chain-cores must be at least 1";
  if (o.maxChainNics < 1) return "--max-chain-nics must be at least 1";
  if (o.nicsPerServer < 1) return "--nics-per-server must be at least 1";
  if (o.maxChainNics > o.nicsPerServer)
    return "--max-chain-nics (" + num(o.maxChainNics) + ") exceeds --nics-per-server (" + num(o.nicsPerServer) +
           "): those chains fit nowhere";
  if (!(o.utilization > 0 && o.utilization <= 1)) return "--utilization must be in (0, 1]";
  return "";
}

namespace {

struct Chain {
  unsigned nics, cores;
};

bool sameLoad(const ServerLoad &a, const ServerLoad &b) { return !lessLoaded(a, b) && !lessLoaded(b, a); }

} // namespace

int distanceFromUniform(const std::vector<ServerLoad> &servers, unsigned nbNics, unsigned nbCores, int s) {
  const ServerLoad *least = nullptr, *next = nullptr;
  for (const ServerLoad &x : servers) {
    if (!x.fits(nbNics, nbCores)) continue;
    if (!least || lessLoaded(x, *least)) {
      if (least && !sameLoad(x, *least)) next = least;
      least = &x;
    } else if (lessLoaded(*least, x) && (!next || lessLoaded(x, *next))) {
      next = &x;
    }
  }
  const ServerLoad &chosen = servers[size_t(s)];
  if (!least || !chosen.fits(nbNics, nbCores)) return 2;
  if (sameLoad(chosen, *least)) return 0;
  return next && sameLoad(chosen, *next) ? 1 : 2;
}

namespace {

unsigned spread(const std::vector<ServerLoad> &servers) {
  unsigned lo = ~0u, hi = 0;
  for (const ServerLoad &x : servers) lo = std::min(lo, x.usedCores), hi = std::max(hi, x.usedCores);
  return hi - lo;
}

} // namespace

SimResult simulatePlacement(const SimOptions &o) {
  SimResult r;
  r.options = o;
  r.tree.k = o.k;
  const uint64_t n = r.tree.servers();
  r.coresPerServer = o.coresPerServer;
  if (!r.coresPerServer) {
    const double demand = double(o.chains) * (1.0 + o.maxChainCores) / 2.0;
    r.coresPerServer = unsigned(std::max(double(o.maxChainCores), std::ceil(demand / (double(n) * o.utilization))));
  }
  std::vector<ServerLoad> fresh(n);
  for (uint64_t i = 0; i < n; ++i) fresh[i] = {r.tree.serverName(i), o.nicsPerServer, r.coresPerServer, 0};
  std::vector<int> queried;
  for (unsigned run = 0; run < o.runs; ++run) {
    // The same chains for both policies; Algorithm 1's random choices from their own stream.
    std::mt19937_64 chainRng(o.seed + run), choiceRng((o.seed + run) * 0x9e3779b97f4a7c15ull + 1);
    std::uniform_int_distribution<unsigned> cores(1, o.maxChainCores), nics(1, o.maxChainNics);
    std::vector<Chain> chains(o.chains);
    for (Chain &c : chains) c = {nics(chainRng), cores(chainRng)};

    RunResult rr;
    std::vector<ServerLoad> metron = fresh, uniform = fresh;
    for (const Chain &c : chains) {
      queried.clear();
      const int s = selectServer(metron, c.nics, c.cores, choiceRng, &queried);
      rr.metronMessages += 2 * queried.size(); // a load request and its reply per server asked
      if (s < 0) {
        ++rr.rejected;
      } else {
        switch (distanceFromUniform(metron, c.nics, c.cores, s)) {
        case 0: ++rr.uniform; break;
        case 1: ++rr.nearUniform; break;
        default: ++rr.other; break;
        }
        metron[size_t(s)].usedCores += c.cores;
        ++rr.placed;
      }
      const int u = selectUniform(uniform, c.nics, c.cores);
      rr.uniformMessages += 2 * n;
      if (u < 0) ++rr.uniformRejected;
      else uniform[size_t(u)].usedCores += c.cores;
    }
    rr.metronSpread = spread(metron);
    rr.uniformSpread = spread(uniform);
    r.runs.push_back(rr);
  }
  return r;
}

namespace {

/// The q-quantile (0..1) of \p v by nearest rank.
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  size_t i = size_t(std::ceil(q * double(v.size())));
  return v[i == 0 ? 0 : i - 1];
}

std::string pct(const std::vector<double> &v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%5.1f (%4.1f-%5.1f)", 100 * quantile(v, 0.5), 100 * quantile(v, 0.05),
                100 * quantile(v, 0.95));
  return buf;
}

std::string group(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

} // namespace

std::string placementTable(const std::vector<SimResult> &results) {
  std::string out;
  char line[512];
  if (results.empty()) return out;
  const SimOptions &o = results.front().options;
  std::snprintf(line, sizeof line,
                "placement on k-ary fat trees: Algorithm 1 (two random choices) against the uniform policy (asks every "
                "server); %u runs per row;\nchains need 1-%u cores and 1-%u NICs; servers have %u NICs; percentages are "
                "Metron's decisions: median (5th-95th percentile)\n",
                o.runs, o.maxChainCores, o.maxChainNics, o.nicsPerServer);
  out += line;
  std::snprintf(line, sizeof line, "%7s %3s %7s %6s  %-19s %-19s %-19s %13s %13s %7s %9s %8s\n", "servers", "k", "chains",
                "cores", "uniform %", "near-uniform %", "uniform+near %", "msgs Metron", "msgs uniform", "ratio",
                "spread M/U", "rejected");
  out += line;
  for (const SimResult &r : results) {
    std::vector<double> uni, near, both, mm, um, ms, us, rej;
    for (const RunResult &x : r.runs) {
      const double placed = x.placed ? double(x.placed) : 1.0;
      uni.push_back(double(x.uniform) / placed);
      near.push_back(double(x.nearUniform) / placed);
      both.push_back(double(x.uniform + x.nearUniform) / placed);
      mm.push_back(double(x.metronMessages));
      um.push_back(double(x.uniformMessages));
      ms.push_back(x.metronSpread);
      us.push_back(x.uniformSpread);
      rej.push_back(double(x.rejected));
    }
    const double m = quantile(mm, 0.5), u = quantile(um, 0.5);
    char spreadStr[32];
    std::snprintf(spreadStr, sizeof spreadStr, "%.0f/%.0f", quantile(ms, 0.5), quantile(us, 0.5));
    std::snprintf(line, sizeof line, "%7s %3u %7s %6u  %-19s %-19s %-19s %13s %13s %6.0fx %9s %8s\n",
                  group(r.tree.servers()).c_str(), r.tree.k, group(r.options.chains).c_str(), r.coresPerServer,
                  pct(uni).c_str(), pct(near).c_str(), pct(both).c_str(), group(uint64_t(m)).c_str(),
                  group(uint64_t(u)).c_str(), m > 0 ? u / m : 0.0, spreadStr, group(uint64_t(quantile(rej, 0.5))).c_str());
    out += line;
  }
  out += "cores: per server; msgs: load queries and replies over all chains (median run); ratio: uniform / Metron;\n"
         "spread: max - min used cores over the servers at the end (median run), Metron / uniform; rejected: chains "
         "that fit on no server (median run)\n";
  return out;
}

std::string placementJson(const std::vector<SimResult> &results) {
  nlohmann::json j = nlohmann::json::array();
  for (const SimResult &r : results) {
    const SimOptions &o = r.options;
    nlohmann::json runs = nlohmann::json::array();
    for (const RunResult &x : r.runs)
      runs.push_back({{"placed", x.placed},
                      {"rejected", x.rejected},
                      {"uniform", x.uniform},
                      {"near_uniform", x.nearUniform},
                      {"other", x.other},
                      {"messages_metron", x.metronMessages},
                      {"messages_uniform", x.uniformMessages},
                      {"uniform_policy_rejected", x.uniformRejected},
                      {"spread_metron", x.metronSpread},
                      {"spread_uniform", x.uniformSpread}});
    j.push_back({{"fat_tree_k", o.k},
                 {"servers", r.tree.servers()},
                 {"switches",
                  {{"core", r.tree.coreSwitches()}, {"aggregation", r.tree.aggregationSwitches()}, {"edge", r.tree.edgeSwitches()}}},
                 {"chains", o.chains},
                 {"cores_per_server", r.coresPerServer},
                 {"nics_per_server", o.nicsPerServer},
                 {"max_chain_cores", o.maxChainCores},
                 {"max_chain_nics", o.maxChainNics},
                 {"seed", o.seed},
                 {"runs", runs}});
  }
  return j.dump(2) + "\n";
}

} // namespace metron::place
