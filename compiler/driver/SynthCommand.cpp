//===- compiler/driver/SynthCommand.cpp - metronc synth ----------------------------------------===//
#include "compiler/driver/Commands.h"

#include "compiler/split/Split.h"
#include "compiler/synth/Synth.h"

namespace metron {

namespace {

struct SynthCmdOptions {
  std::string file;
  std::string chain;
  std::string emit = "tc";
  bool stats = false;
  bool timePasses = false;
  std::string device;
  unsigned cores = 1;
  uint32_t maxClasses = synth::SynthOptions{}.maxClasses;
};

int runSynth(const SynthCmdOptions &o) {
  bool splitting = o.emit == "split" || o.emit == "split-json";
  if (splitting != !o.device.empty()) {
    fprintf(stderr, splitting ? "metronc synth: error: --emit %s needs --device (a built-in profile or a .toml file)\n"
                              : "metronc synth: error: --device is only used with --emit split or split-json\n",
            o.emit.c_str());
    return 2;
  }
  std::unique_ptr<split::DeviceProfile> device;
  if (splitting && !(device = loadDevice("synth", o.device))) return 2;
  PassTimer timer;
  auto lm = loadModule("synth", o.file, [&](const std::string &n, double ms) { timer.addMs(n, ms); });
  if (!lm) return 1;
  const ir::Module &m = *lm->module;
  std::vector<const ir::Chain *> chains;
  if (o.chain.empty() && m.chains.size() > 1) {
    for (const auto &c : m.chains) chains.push_back(&c);
  } else {
    const ir::Chain *c = selectChain("synth", m, o.chain);
    if (!c) return 1;
    chains.push_back(c);
  }
  synth::SynthOptions so;
  so.maxClasses = o.maxClasses;
  bool failed = false;
  // Several chains as JSON: one array of the per-chain documents, so the output stays one
  // JSON document.
  const bool jsonArray = (o.emit == "json" || o.emit == "split-json") && chains.size() > 1;
  if (jsonArray) fputs("[\n", stdout);
  for (const ir::Chain *c : chains) {
    if (jsonArray && c != chains.front()) fputs(",\n", stdout);
    auto t0 = Clock::now();
    synth::ChainTables t = synth::synthesize(m, *c, so);
    timer.add("synth: " + c->name, t0);
    t0 = Clock::now();
    if (o.emit == "tc") fputs(synth::printTables(m, t).c_str(), stdout);
    else if (o.emit == "json") fputs(synth::tablesToJson(m, t).c_str(), stdout);
    else if (o.emit == "dot") fputs(synth::tablesToDot(m, t).c_str(), stdout);
    if (o.stats) fputs(synth::printStats(m, t).c_str(), stderr);
    timer.add("print", t0);
    if (device) {
      t0 = Clock::now();
      DiagnosticEngine diags(*lm->sm);
      split::SplitOptions splitOpts;
      splitOpts.cores = o.cores;
      split::SplitPlan plan = split::splitChain(m, t, *device, splitOpts, diags);
      timer.add("split: " + c->name, t0);
      fputs((o.emit == "split" ? split::printSplit(m, t, plan) : split::splitToJson(m, t, plan)).c_str(), stdout);
      diags.sortByLocation();
      diags.printText(stderr, useColor("auto"));
      if (diags.hasErrors()) failed = true;
    }
  }
  if (jsonArray) fputs("]\n", stdout);
  if (o.timePasses) timer.print(stderr);
  return failed ? 1 : 0;
}

} // namespace

void addSynthCommand(CLI::App &app, std::vector<Command> &cmds) {
  auto o = std::make_shared<SynthCmdOptions>();
  CLI::App *cmd = app.add_subcommand("synth", "Synthesize a chain into traffic classes (Φ → Ω tables) and print them");
  cmd->add_option("file", o->file, "Input .metron file; - reads standard input")->required();
  cmd->add_option("--chain", o->chain, "The chain to synthesize (default: every chain of the file)");
  cmd->add_option("--emit", o->emit,
                  "What to print on standard output: tc (the tables as text), json, dot (Graphviz), split / split-json (the "
                  "offload plan for --device), none")
      ->check(CLI::IsMember({"tc", "json", "dot", "split", "split-json", "none"}))
      ->capture_default_str();
  cmd->add_option("--device", o->device,
                  "The device for --emit split: a built-in profile (intel-82599, connectx-4, connectx-5, connectx-6, bluefield, ovs, "
                  "noviflow-1132, hp-5130ei, software-nic) or a profile .toml file (metron-device(5))");
  cmd->add_option("--cores", o->cores, "Cores the groups are spread over in the split plan")->check(CLI::Range(1u, 4096u))->capture_default_str();
  cmd->add_flag("--stats", o->stats, "Print per chain how many tables and classes synthesis produced, and why, on stderr");
  cmd->add_option("--max-classes", o->maxClasses,
                  "Largest table a composition may produce; beyond it the next classification becomes its own table")
      ->check(CLI::Range(1u, 10000000u))
      ->capture_default_str();
  cmd->add_flag("--time-passes", o->timePasses, "Print the time spent in each stage on stderr");
  cmds.push_back({cmd, [o] { return runSynth(*o); }});
}

} // namespace metron
