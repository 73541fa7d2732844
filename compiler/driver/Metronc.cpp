//===- compiler/driver/Metronc.cpp - The metronc command line ---------------------------------===//
///
/// \file
/// Parses the command line and runs the subcommand. It lives with the commands that generate
/// code (run, compile) in the metronc executable rather than in metronc_lib, which the code
/// generator (codegen/) itself links.
//===----------------------------------------------------------------------------------------===//
#include "compiler/driver/Commands.h"
#include "compiler/driver/Driver.h"

namespace metron {

int runMetronc(int argc, char **argv) {
  CLI::App app{"metronc — compile declarative NFV service chains (Metron) into NIC/switch rules and per-core DPDK code.\n"
               "See metronc(1) and metron-lang(7).",
               "metronc"};
  app.set_version_flag("--version", std::string("metronc ") + METRONC_VERSION + " (LLVM " + METRONC_LLVM_VERSION + ", DPDK " +
                                        METRONC_DPDK_VERSION + ")");
  app.require_subcommand(1);
  app.fallthrough(false);

  std::vector<Command> cmds;
  addCheckCommand(app, cmds);
  addSynthCommand(app, cmds);
  addExplainCommand(app, cmds);
  addRunCommand(app, cmds);
  addCompileCommand(app, cmds);
  addPlaceSimCommand(app, cmds);
  addDeployCommands(app, cmds);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    app.exit(e);
    return 2;
  }
  for (const auto &c : cmds)
    if (c.app->parsed()) return c.run();
  return 2;
}

} // namespace metron
