//===- lang/Diagnostics.h - Diagnostics: catalogue, engine, printers --------------*- C++ -*-===//
///
/// \file
/// User-facing diagnostics in the clang/p4c form:
/// \code
///   web.metron:12:9: error: unknown NF 'napt2' [unknown-name]
///       napt2 -> lb;
///       ^~~~~
///   web.metron:4:3: note: did you mean 'napt'?
/// \endcode
/// Every kind is listed once in DiagnosticKinds.def. The engine collects diagnostics (so that
/// every error of a pass is reported), applies -W flags, and prints them as text, JSON or SARIF.
/// Compiler bugs are not diagnostics: they use METRON_INTERNAL_ASSERT.
///
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "lang/Source.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace metron {

enum class Severity { Note, Warning, Error };

enum class DiagKind {
#define DIAG(E, F, S, D) E,
#include "lang/DiagnosticKinds.def"
#undef DIAG
};

struct DiagKindInfo {
  DiagKind kind;
  const char *flag;
  Severity defaultSeverity;
  const char *description;
};
/// The whole catalogue, in declaration order.
const std::vector<DiagKindInfo> &diagCatalogue();
const DiagKindInfo &diagInfo(DiagKind k);

struct DiagNote {
  SourceRange range; ///< may be invalid (a note without a location)
  std::string message;
};

struct Diagnostic {
  DiagKind kind;
  Severity severity;
  SourceRange range; ///< may be invalid (command-line level problems)
  std::string message;
  std::vector<DiagNote> notes;
};

enum class OutputFormat { Text, Json, Sarif };

class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceManager &sm) : sm_(sm) {}

  /// Applies a -W option given without the leading "-W": "error", "error=shadowed-rule",
  /// "no-unused-nf", "shadowed-rule", "everything". Returns false for an unknown flag name.
  bool applyWarningOption(const std::string &opt);
  /// After this many errors, further errors are dropped and one too-many-errors is recorded.
  void setErrorLimit(unsigned n) { errorLimit_ = n; }

  /// Reports a diagnostic; returns it so that notes can be attached, or nullptr when it was
  /// suppressed (disabled warning, or past the error limit).
  Diagnostic *report(DiagKind kind, SourceRange range, std::string message);
  void note(Diagnostic *d, SourceRange range, std::string message);
  /// Attaches a note to every diagnostic reported since index \p first (e.g. "imported here"
  /// on every error a data-file reader reported).
  void noteSince(size_t first, SourceRange range, const std::string &message) {
    for (size_t i = first; i < diags_.size(); ++i)
      if (diags_[i].kind != DiagKind::TooManyErrors) diags_[i].notes.push_back({range, message});
  }

  unsigned numErrors() const { return numErrors_; }
  unsigned numWarnings() const { return numWarnings_; }
  bool hasErrors() const { return numErrors_ > 0; }
  bool errorLimitReached() const { return limitReached_; }
  const std::vector<Diagnostic> &diagnostics() const { return diags_; }

  /// Sorts by file, then position (stable), so output is deterministic across passes.
  void sortByLocation();

  void printText(FILE *out, bool color) const;
  std::string toJson() const;
  std::string toSarif(const std::string &toolVersion) const;

  /// One diagnostic in text form (used by tests).
  std::string formatText(const Diagnostic &d, bool color = false) const;

private:
  void formatLocated(std::string &out, Severity sev, const SourceRange &r, const std::string &msg,
                     const char *flag, bool color) const;
  const SourceManager &sm_;
  std::vector<Diagnostic> diags_;
  std::map<DiagKind, Severity> overrides_; ///< per-kind severity from -W flags
  std::map<DiagKind, bool> disabled_;
  bool allWarningsAreErrors_ = false;
  unsigned errorLimit_ = 50;
  unsigned numErrors_ = 0, numWarnings_ = 0;
  bool limitReached_ = false;
};

/// A copy of \p s that is safe inside a message: control and non-ASCII bytes become \xNN, and
/// text beyond \p maxLen bytes is cut and marked with "...".
std::string printable(std::string_view s, size_t maxLen = 40);

/// Thrown by METRON_INTERNAL_ASSERT: a compiler bug, never a user error.
[[noreturn]] void internalError(const char *file, int line, const char *cond, const std::string &msg);
#define METRON_INTERNAL_ASSERT(c, msg)                                                            \
  do {                                                                                            \
    if (!(c)) ::metron::internalError(__FILE__, __LINE__, #c, (msg));                             \
  } while (0)

} // namespace metron
