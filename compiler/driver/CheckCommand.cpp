//===- compiler/driver/CheckCommand.cpp - metronc check ---------------------------------------===//
#include "compiler/driver/Commands.h"

#include "compiler/sema/Sema.h"
#include "lang/Parser.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <unistd.h>

namespace metron {

namespace {

struct CheckOptions {
  std::vector<std::string> files;
  std::string format = "text";
  std::vector<std::string> warnings; ///< -W values
  std::vector<std::string> fflags;   ///< -f values
  std::string emit;
  std::string color = "auto";
  bool listShadowed = false;
  bool timePasses = false;
  bool listDiagnostics = false;
};

int runCheck(const CheckOptions &o) {
  if (o.listDiagnostics) {
    for (const auto &k : diagCatalogue())
      printf("%-28s %-8s %s\n", k.flag, k.defaultSeverity == Severity::Error ? "error" : "warning", k.description);
    return 0;
  }
  if (!o.emit.empty() && o.format != "text") {
    fprintf(stderr, "metronc check: error: --emit cannot be combined with --format %s (both write to standard output)\n", o.format.c_str());
    return 2;
  }
  if (o.files.empty()) {
    fprintf(stderr, "metronc check: error: no input files\nRun 'metronc check --help' for usage.\n");
    return 2;
  }
  SourceManager sm;
  DiagnosticEngine diags(sm);
  for (const auto &w : o.warnings)
    if (!diags.applyWarningOption(w)) {
      fprintf(stderr, "metronc check: error: unknown warning option '-W%s'; 'metronc check --list-diagnostics' lists the warnings\n", w.c_str());
      return 2;
    }
  SemaOptions semaOpts;
  semaOpts.listAllShadowed = o.listShadowed;
  for (const auto &f : o.fflags) {
    const std::string pre = "error-limit=";
    if (f.rfind(pre, 0) == 0) {
      char *end = nullptr;
      unsigned long n = strtoul(f.c_str() + pre.size(), &end, 10);
      if (!end || *end || f.size() == pre.size() || n > 100000) {
        fprintf(stderr, "metronc check: error: invalid -ferror-limit value '%s'; expected a number from 0 to 100000\n",
                f.c_str() + pre.size());
        return 2;
      }
      diags.setErrorLimit(n == 0 ? 100000 : unsigned(n));
    } else {
      fprintf(stderr, "metronc check: error: unknown option '-f%s'; the only -f option is -ferror-limit=N\n", f.c_str());
      return 2;
    }
  }
  PassTimer timer;
  semaOpts.onPassTime = [&](const char *pass, double ms) { timer.addMs(std::string("sema: ") + pass, ms); };
  std::string emitted;
  for (const auto &path : o.files) {
    auto t0 = Clock::now();
    std::string err;
    FileID id = path == "-" ? sm.readStdin("<stdin>", semaOpts.limits.maxSourceBytes, err)
                            : sm.readFile(path, semaOpts.limits.maxSourceBytes, err);
    timer.add("read", t0);
    if (!id) {
      bool tooLarge = err.rfind("too large", 0) == 0;
      diags.report(tooLarge ? DiagKind::FileTooLarge : DiagKind::IoError, {}, "cannot read '" + path + "': " + err);
      continue;
    }
    t0 = Clock::now();
    auto ast = parseFile(sm, id, diags);
    timer.add("parse", t0);
    if (!ast) continue;
    t0 = Clock::now();
    auto module = analyze(*ast, sm, diags, semaOpts);
    (void)t0;
    if (diags.hasErrors()) continue;
    if (o.emit == "ast") emitted += ast::printAST(*ast, sm);
    else if (o.emit == "nfir") emitted += ir::printModule(*module, sm);
  }
  auto t0 = Clock::now();
  if (o.format == "json") {
    fputs(diags.toJson().c_str(), stdout);
  } else if (o.format == "sarif") {
    fputs(diags.toSarif(METRONC_VERSION).c_str(), stdout);
  } else {
    diags.sortByLocation();
    diags.printText(stderr, useColor(o.color));
  }
  if (!diags.hasErrors()) fputs(emitted.c_str(), stdout);
  timer.add("print", t0);
  if (o.timePasses) timer.print(stderr);
  return diags.hasErrors() ? 1 : 0;
}

} // namespace

void addCheckCommand(CLI::App &app, std::vector<Command> &cmds) {
  auto co = std::make_shared<CheckOptions>();
  CLI::App *check = app.add_subcommand("check", "Parse and check .metron files; exit 0 when there are no errors, 1 when there are, 2 on usage errors");
  check->add_option("files", co->files, "Input .metron files (each is checked as its own module); - reads standard input");
  check->add_option("--format", co->format, "Diagnostic output: text on stderr, or json / sarif (SARIF 2.1.0) on stdout")
      ->check(CLI::IsMember({"text", "json", "sarif"}))
      ->capture_default_str();
  check->add_option("-W", co->warnings,
                    "Warning control: -Werror, -Werror=KIND, -Wno-KIND, -Wno-error=KIND (KIND from --list-diagnostics)")
      ->allow_extra_args(false);
  check->add_option("-f", co->fflags, "-ferror-limit=N: stop after N errors (default 50; 0 means the maximum, 100000)")->allow_extra_args(false);
  check->add_option("--emit", co->emit, "After a clean check, print a stage: ast (the syntax tree) or nfir (the NF IR)")
      ->check(CLI::IsMember({"ast", "nfir"}));
  check->add_option("--color", co->color, "Colour the text diagnostics: auto (when stderr is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  check->add_flag("--list-shadowed", co->listShadowed, "Report every shadowed imported rule on its own instead of one summary per rule set");
  check->add_flag("--time-passes", co->timePasses, "Print the time spent in each stage on stderr");
  check->add_flag("--list-diagnostics", co->listDiagnostics, "List every diagnostic kind with its default severity and exit");
  cmds.push_back({check, [co] { return runCheck(*co); }});
}

} // namespace metron
