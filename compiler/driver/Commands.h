//===- compiler/driver/Commands.h - metronc subcommands and what they share ---------*- C++ -*-===//
///
/// \file
/// Each subcommand lives in its own file and registers itself with add<Name>Command(); the
/// driver parses the command line and runs the one that was given. Commands that work on a
/// chain load it with loadModule(), which runs the same checks as `metronc check` and prints
/// their diagnostics (a file with errors is refused).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"
#include "lang/Diagnostics.h"
#include "lang/Source.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace metron {

namespace split {
struct DeviceProfile;
}

struct Command {
  CLI::App *app = nullptr;
  std::function<int()> run;
};

void addCheckCommand(CLI::App &app, std::vector<Command> &cmds);
void addSynthCommand(CLI::App &app, std::vector<Command> &cmds);
void addExplainCommand(CLI::App &app, std::vector<Command> &cmds);
void addRunCommand(CLI::App &app, std::vector<Command> &cmds);
void addCompileCommand(CLI::App &app, std::vector<Command> &cmds);
void addPlaceSimCommand(CLI::App &app, std::vector<Command> &cmds);
/// deploy, status, undeploy (DeployCommand.cpp).
void addDeployCommands(CLI::App &app, std::vector<Command> &cmds);

/// A checked module with the source manager that owns its text.
struct LoadedModule {
  std::unique_ptr<SourceManager> sm;
  std::unique_ptr<ir::Module> module;
};

/// Reads and checks FILE ("-" = stdin) like `metronc check`; diagnostics go to stderr (text,
/// colour when stderr is a terminal). nullptr when the file has errors or cannot be read.
/// \p onPass, when set, receives the time of each stage (read, parse, sema passes).
/// \p warnings false prints errors only.
std::unique_ptr<LoadedModule> loadModule(const std::string &cmd, const std::string &path,
                                         const std::function<void(const std::string &, double)> &onPass = {},
                                         bool warnings = true);

/// The chain a command works on: \p name, or the only chain of the module. nullptr after
/// printing "metronc CMD: error: ..." (no chain, unknown name, several chains and no --chain).
const ir::Chain *selectChain(const std::string &cmd, const ir::Module &m, const std::string &name);

/// Per-stage wall times for --time-passes, printed in LLVM's -time-passes style.
using Clock = std::chrono::steady_clock;
struct PassTimer {
  std::vector<std::pair<std::string, double>> times;
  void add(const std::string &name, Clock::time_point start);
  void addMs(const std::string &name, double ms);
  void print(FILE *out) const;
};

bool useColor(const std::string &mode);

/// A device profile by built-in name or file (--device); nullptr after printing
/// "metronc CMD: FILE:LINE:COL: error: ..." (the caller exits 2).
std::unique_ptr<split::DeviceProfile> loadDevice(const std::string &cmd, const std::string &nameOrPath);

} // namespace metron
