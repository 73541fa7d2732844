//===- compiler/driver/Compile.h - metronc compile, also used by metronc run ----------*- C++ -*-===//
///
/// \file
/// The whole compilation of a chain for a topology (man/metronc-compile.1): synthesis,
/// Algorithm 2, the split, the device rules, and the data-plane executable (codegen/).
/// `metronc run` compiles the same way into a scratch directory and runs the executable.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace metron::ir {
struct Chain;
struct Module;
} // namespace metron::ir

namespace metron {

/// The CPU the data plane is compiled for unless --cpu names one: the instruction set Debian's
/// DPDK 22.11 is built for (`pkg-config --cflags libdpdk`: -march=corei7, i.e. Nehalem: SSE4.2,
/// POPCNT), so that an executable runs on any server its runtime runs on.
inline constexpr const char *kDefaultCpu = "corei7";

struct CompileCmdOptions {
  std::string file;
  std::string topology;
  std::string out;
  std::string chain;
  std::string server;
  unsigned cores = 0;
  uint32_t maxClasses = 16384;
  bool timePasses = false;
  std::string progress = "auto";
  std::vector<std::string> formats = {"openflow", "p4", "rte_flow", "dataplane"};
  std::string emit;   ///< "llvm": print the optimized data-plane module on stdout
  std::string cpu = kDefaultCpu; ///< the CPU the data plane is compiled for (LLVM's name, or "native")
  bool quiet = false; ///< no summary on stdout (metronc run)
  /// Also link bin/<server>.core<k> per core (the data plane's --processes secondary).
  bool coreExecutables = false;
  const char *cmd = "compile"; ///< the command named in messages
  /// Without --topology: the topology (TOML text) for the chain (metronc run's default).
  std::function<std::string(const ir::Module &, const ir::Chain &)> defaultTopology;
};

/// What a successful compile produced (for metronc run).
struct CompileResult {
  std::string server, chain, classifier, classifierKind; ///< classifierKind: "switch" or "nic"
  unsigned cores = 0;
  std::string executable;  ///< OUT/bin/<server> when the dataplane format was written
  std::string nicRules;    ///< OUT/rules/<server's nic>.rte_flow.json when written
  std::vector<std::string> ingress, egress; ///< the chain's ports, in chain order
  std::vector<std::pair<std::string, std::string>> switchRules; ///< switch → OUT/rules/<switch>.ofctl
  std::vector<std::pair<std::string, double>> times;            ///< the --time-passes stages, ms
};

/// Exit status as the command's: 0, 1 (errors), 2 (usage).
int runCompile(const CompileCmdOptions &o, CompileResult *result = nullptr);

} // namespace metron
