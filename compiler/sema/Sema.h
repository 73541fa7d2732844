//===- compiler/sema/Sema.h - Semantic analysis: AST to NF IR ---------------------*- C++ -*-===//
///
/// \file
/// The checking pipeline of `metronc check`, one pass per file, in this order:
///
///   1. resolve (Sema.cpp)         names, values, imports (loaded and parsed), NF statements
///                                 → NF IR elements; every error of the pass is reported
///   2. chain graphs (ChainGraph)  paths → DAGs; cycles, unknown/duplicate connections,
///                                 unconnected output ports, unreachable NFs; topological order
///   3. field flow (FieldFlow)     along every chain: conflicting writes, stateless reads after
///                                 a stateful write (warnings)
///   4. shadowed rules             per classifier (ShadowedRules.h) (warnings)
///
/// A pass with errors stops the pipeline (later passes would report noise).
///
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"
#include "lang/AST.h"
#include "lang/Diagnostics.h"

#include <functional>
#include <memory>

namespace metron {

struct SemaOptions {
  ReadLimits limits;
  /// Per imported rule set, how many shadowed rules get their own note in the summary warning.
  unsigned shadowNotes = 5;
  /// Report every shadowed imported rule as its own warning instead of one summary per set.
  bool listAllShadowed = false;
  /// Called after each pass with its name and wall time (--time-passes).
  std::function<void(const char *pass, double ms)> onPassTime;
};

/// Runs passes 1–4 on one parsed file. Returns the module even when there were errors (so
/// that tools can show what was understood); check diags.hasErrors().
std::unique_ptr<ir::Module> analyze(const ast::File &file, SourceManager &sm, DiagnosticEngine &diags,
                                    const SemaOptions &opts = {});

/// Pass 2. Builds the chain graphs of \p m from the AST chains; reports graph errors.
void buildChainGraphs(const ast::File &file, ir::Module &m, DiagnosticEngine &diags);
/// Pass 3.
void checkFieldFlow(const ir::Module &m, DiagnosticEngine &diags);
/// Pass 4 (reporting side of ShadowedRules.h).
void reportShadowedRules(const ir::Module &m, DiagnosticEngine &diags, const SemaOptions &opts);

/// "did you mean" helper: the candidate closest to \p name by edit distance, if close enough.
std::string closestName(const std::string &name, const std::vector<std::string> &candidates);

} // namespace metron
