//===- tests/bench/bench_targets.cpp - Time to generate device rules, per target --------------===//
///
/// For the ClassBench firewalls fw1_1K, fw1_5K and fw1_10K (parsed and synthesized once), the
/// median wall time of N runs of each step that turns the synthesized tables into a rule file:
/// the split for the target's device, the lowering to device rules (targets/Lower.h), and each
/// printer — OpenFlow 1.3 for an Open vSwitch, rte_flow (testpmd lines + JSON) for a
/// ConnectX-5, P4 (program + simple_switch_CLI + P4Runtime JSON) for an Open vSwitch-sized
/// switch. Per target: rules, total ms, µs per rule. The baseline, in the same run, is
/// formatting the same number of fixed-size text lines with snprintf — what writing any rule
/// file of that size costs at least. Installation into a real switch is timed by
/// tests/bench/bench-ovs-install.sh.
///
///   bench_targets [DATA_DIR] [RUNS]
//===----------------------------------------------------------------------------------------===//
#include "compiler/sema/Sema.h"
#include "compiler/split/Split.h"
#include "compiler/synth/Synth.h"
#include "lang/Parser.h"
#include "targets/Lower.h"
#include "targets/openflow/OpenFlow.h"
#include "targets/p4/P4.h"
#include "targets/rteflow/RteFlow.h"
#include "tests/bench/BenchUtil.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace metron;
using bench::medianMs;

namespace {

struct Target {
  const char *name;
  const char *device;
  std::function<size_t(const targets::DeviceRules &)> print; ///< bytes written
};

int runSet(const std::string &data, const char *set, int runs) {
  std::string source = "import classbench \"" + data + "/classbench/pclasseval_song/" + set +
                       "\" as fw;\nnf firewall { rules fw action allow; default deny; }\n"
                       "chain c { in port0 -> firewall -> out port1; }\n";
  SourceManager sm;
  DiagnosticEngine diags(sm);
  FileID id = sm.addBuffer("/tmp/bench.metron", source);
  auto ast = parseFile(sm, id, diags);
  auto module = ast ? analyze(*ast, sm, diags, SemaOptions{}) : nullptr;
  if (!module || diags.hasErrors()) {
    diags.printText(stderr, false);
    return 1;
  }
  synth::ChainTables t = synth::synthesize(*module, module->chains[0]);

  const Target targets[] = {
      {"openflow", "ovs", [](const targets::DeviceRules &d) { return targets::openflow::printFlows(d).size(); }},
      {"rte_flow", "connectx-5",
       [](const targets::DeviceRules &d) {
         return targets::rteflow::printTestpmd(d).size() + targets::rteflow::printJson(d).size();
       }},
      {"p4", "ovs",
       [](const targets::DeviceRules &d) {
         return targets::p4::printProgram(d).size() + targets::p4::printCli(d).size() +
                targets::p4::printP4Runtime(d).size();
       }},
  };
  for (const Target &tg : targets) {
    split::ProfileError perr;
    auto dev = split::loadDeviceProfile(tg.device, perr);
    if (!dev) {
      fprintf(stderr, "%s\n", perr.str().c_str());
      return 1;
    }
    const bool isSwitch = dev->kind == split::DeviceProfile::Switch;
    split::SplitPlan plan;
    double splitMs = medianMs(runs, [&] {
      DiagnosticEngine quiet(sm);
      plan = split::splitChain(*module, t, *dev, {.cores = 4}, quiet);
    });
    targets::Site site;
    site.element = isSwitch ? "s1" : "server1.nic0";
    site.profile = dev->name;
    site.kind = dev->kind;
    site.ingressPort.assign(module->portNames.size(), -1);
    site.ingressPort[0] = isSwitch ? 1 : 0; // port0, the chain's ingress
    if (isSwitch) site.toServer = 2, site.toServerName = "s1:2";
    targets::Lowering low;
    double lowerMs = medianMs(runs, [&] { low = targets::lower(*module, t, plan, site, {}, {}, {}); });
    const targets::DeviceRules &d = low.devices.front();
    size_t bytes = 0;
    double printMs = medianMs(runs, [&] { bytes = tg.print(d); });
    // Baseline: as many snprintf'd lines of the same average length.
    const size_t lines = d.rules.size(), avg = lines ? bytes / lines : 0;
    double baseMs = medianMs(runs, [&] {
      std::string out;
      out.reserve(bytes + 64);
      char buf[64];
      for (size_t i = 0; i < lines; ++i) {
        int n = snprintf(buf, sizeof buf, "table=0,priority=%zu,cookie=0x%zx,", i, i);
        out.append(buf, size_t(n));
        if (avg > size_t(n)) out.append(avg - size_t(n), 'x');
      }
      volatile size_t sink = out.size();
      (void)sink;
    });
    const double total = splitMs + lowerMs + printMs;
    printf("%-8s %-9s %-11s %8zu %9.2f %9.2f %9.2f %9.2f %8.2f %9.2f %7.1fx\n", set, tg.name, tg.device, lines, splitMs,
           lowerMs, printMs, total, lines ? 1000.0 * total / double(lines) : 0.0, baseMs,
           baseMs > 0 ? total / baseMs : 0.0);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string data = argc > 1 ? argv[1] : "../shared/data";
  int runs = argc > 2 ? std::max(1, atoi(argv[2])) : 5;
  printf("bench_targets: device rules from synthesized ClassBench firewalls, median of %d runs (ms)\n", runs);
  printf("%-8s %-9s %-11s %8s %9s %9s %9s %9s %8s %9s %8s\n", "set", "target", "device", "rules", "split", "lower",
         "print", "total", "us/rule", "baseline", "x base");
  int rc = 0;
  for (const char *set : {"fw1_1K", "fw1_5K", "fw1_10K"}) rc |= runSet(data, set, runs);
  printf("  split: the stateless/stateful split for the device; lower: targets/Lower.h; print: every file of the\n"
         "  target; baseline: snprintf of as many lines of the same average length (the floor of any rule writer)\n");
  return rc;
}
