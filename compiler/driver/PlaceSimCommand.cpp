//===- compiler/driver/PlaceSimCommand.cpp - metronc place-sim ------------------------------===//
#include "compiler/driver/Commands.h"

#include "compiler/place/PlaceSim.h"

#include <cstdio>
#include <unistd.h>

namespace metron {

namespace {

struct PlaceSimOptions {
  std::vector<unsigned> k;
  std::vector<uint64_t> chains;
  place::SimOptions sim;
  bool json = false;
};

int runPlaceSim(const PlaceSimOptions &o) {
  std::vector<place::SimOptions> configs;
  for (unsigned k : o.k)
    for (uint64_t n : o.chains) {
      place::SimOptions s = o.sim;
      s.k = k;
      s.chains = n;
      if (std::string why = place::checkSimOptions(s); !why.empty()) {
        fprintf(stderr, "metronc place-sim: error: %s\n", why.c_str());
        return 2;
      }
      configs.push_back(s);
    }
  std::vector<place::SimResult> results;
  const bool progress = isatty(2);
  for (size_t i = 0; i < configs.size(); ++i) {
    const place::SimOptions &s = configs[i];
    if (progress)
      fprintf(stderr, "\r[%zu/%zu] %u-ary fat tree, %llu chains, %u runs...", i + 1, configs.size(), s.k,
              static_cast<unsigned long long>(s.chains), s.runs);
    results.push_back(place::simulatePlacement(s));
  }
  if (progress) fprintf(stderr, "\r\033[K");
  fputs((o.json ? place::placementJson(results) : place::placementTable(results)).c_str(), stdout);
  return 0;
}

} // namespace

void addPlaceSimCommand(CLI::App &app, std::vector<Command> &cmds) {
  auto o = std::make_shared<PlaceSimOptions>();
  CLI::App *cmd = app.add_subcommand(
      "place-sim", "Emulate chain placement on fat-tree datacenters: Algorithm 1 against the uniform policy (paper §5.7)");
  cmd->add_option("--fat-tree", o->k, "Fat-tree arity k (k³/4 servers: 4 → 16, 8 → 128, 16 → 1,024); repeat for several")
      ->required();
  cmd->add_option("--chains", o->chains, "Service chains to place, one after the other; repeat for several")->required();
  cmd->add_option("--runs", o->sim.runs, "Independent runs per fat tree and chain count (percentiles are over them)")
      ->capture_default_str();
  cmd->add_option("--seed", o->sim.seed, "Seed of the first run (run i uses seed + i)")->capture_default_str();
  cmd->add_option("--cores-per-server", o->sim.coresPerServer,
                  "Cores of every server (default: enough for the chains' expected demand at --utilization)");
  cmd->add_option("--utilization", o->sim.utilization,
                  "Without --cores-per-server: the fraction of all cores the chains are expected to take")
      ->capture_default_str();
  cmd->add_option("--nics-per-server", o->sim.nicsPerServer, "NICs of every server")->capture_default_str();
  cmd->add_option("--max-chain-cores", o->sim.maxChainCores, "A chain needs 1 to this many cores")->capture_default_str();
  cmd->add_option("--max-chain-nics", o->sim.maxChainNics, "A chain needs 1 to this many NICs")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print every run as JSON instead of the table");
  cmds.push_back({cmd, [o] { return runPlaceSim(*o); }});
}

} // namespace metron
