//===- compiler/driver/Driver.cpp - The metronc command line ----------------------------------===//
#include "compiler/driver/Driver.h"
#include "compiler/driver/Commands.h"

#include "compiler/sema/Sema.h"
#include "compiler/split/Split.h"
#include "lang/Parser.h"

#include <cstdlib>
#include <unistd.h>

namespace metron {

void PassTimer::add(const std::string &name, Clock::time_point start) {
  addMs(name, std::chrono::duration<double, std::milli>(Clock::now() - start).count());
}

void PassTimer::addMs(const std::string &name, double ms) {
  for (auto &[n, t] : times)
    if (n == name) { t += ms; return; }
  times.push_back({name, ms});
}

void PassTimer::print(FILE *out) const {
  double total = 0;
  for (const auto &[n, t] : times) total += t;
  fprintf(out, "===-------------------------------------------------------------------------===\n");
  fprintf(out, "                         metronc pass execution times\n");
  fprintf(out, "===-------------------------------------------------------------------------===\n");
  fprintf(out, "  %10s  %6s  %s\n", "wall (ms)", "share", "pass");
  for (const auto &[n, t] : times) fprintf(out, "  %10.3f  %5.1f%%  %s\n", t, total > 0 ? 100 * t / total : 0.0, n.c_str());
  fprintf(out, "  %10.3f  100.0%%  total\n", total);
}

bool useColor(const std::string &mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char *term = getenv("TERM");
  const char *noColor = getenv("NO_COLOR"); // no-color.org: set and non-empty
  return isatty(STDERR_FILENO) && !(noColor && *noColor) && term && std::string(term) != "dumb";
}

std::unique_ptr<LoadedModule> loadModule(const std::string &cmd, const std::string &path,
                                         const std::function<void(const std::string &, double)> &onPass, bool warnings) {
  auto lm = std::make_unique<LoadedModule>();
  lm->sm = std::make_unique<SourceManager>();
  DiagnosticEngine diags(*lm->sm);
  if (!warnings)
    for (const auto &k : diagCatalogue())
      if (k.defaultSeverity == Severity::Warning) diags.applyWarningOption(std::string("no-") + k.flag);
  SemaOptions semaOpts;
  if (onPass) semaOpts.onPassTime = [&](const char *pass, double ms) { onPass(std::string("sema: ") + pass, ms); };
  auto t0 = Clock::now();
  auto ms = [&] { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
  std::string err;
  FileID id = path == "-" ? lm->sm->readStdin("<stdin>", semaOpts.limits.maxSourceBytes, err)
                          : lm->sm->readFile(path, semaOpts.limits.maxSourceBytes, err);
  if (onPass) onPass("read", ms());
  if (!id) {
    fprintf(stderr, "metronc %s: error: cannot read '%s': %s\n", cmd.c_str(), path.c_str(), err.c_str());
    return nullptr;
  }
  t0 = Clock::now();
  auto ast = parseFile(*lm->sm, id, diags);
  if (onPass) onPass("parse", ms());
  if (ast) lm->module = analyze(*ast, *lm->sm, diags, semaOpts);
  diags.sortByLocation();
  diags.printText(stderr, useColor("auto"));
  if (!ast || diags.hasErrors() || !lm->module) return nullptr;
  return lm;
}

std::unique_ptr<split::DeviceProfile> loadDevice(const std::string &cmd, const std::string &nameOrPath) {
  split::ProfileError perr;
  auto dev = split::loadDeviceProfile(nameOrPath, perr);
  if (!dev) {
    fprintf(stderr, "metronc %s: %s\n", cmd.c_str(), perr.str().c_str());
    return nullptr;
  }
  return std::make_unique<split::DeviceProfile>(std::move(*dev));
}

const ir::Chain *selectChain(const std::string &cmd, const ir::Module &m, const std::string &name) {
  if (!name.empty()) {
    for (const auto &c : m.chains)
      if (c.name == name) return &c;
    std::string names;
    for (const auto &c : m.chains) names += (names.empty() ? "" : ", ") + c.name;
    fprintf(stderr, "metronc %s: error: no chain named '%s' (the file has: %s)\n", cmd.c_str(), name.c_str(),
            names.empty() ? "no chain" : names.c_str());
    return nullptr;
  }
  if (m.chains.size() == 1) return &m.chains[0];
  if (m.chains.empty()) {
    fprintf(stderr, "metronc %s: error: the file declares no chain\n", cmd.c_str());
    return nullptr;
  }
  std::string names;
  for (const auto &c : m.chains) names += (names.empty() ? "" : ", ") + c.name;
  fprintf(stderr, "metronc %s: error: the file declares %zu chains (%s); name one with --chain\n", cmd.c_str(),
          m.chains.size(), names.c_str());
  return nullptr;
}

} // namespace metron
