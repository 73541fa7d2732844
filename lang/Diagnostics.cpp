//===- lang/Diagnostics.cpp - Diagnostics: catalogue, engine, printers ------------------------===//
#include "lang/Diagnostics.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace metron {

const std::vector<DiagKindInfo> &diagCatalogue() {
  static const std::vector<DiagKindInfo> cat = {
#define DIAG(E, F, S, D) {DiagKind::E, F, Severity::S, D},
#include "lang/DiagnosticKinds.def"
#undef DIAG
  };
  return cat;
}

const DiagKindInfo &diagInfo(DiagKind k) { return diagCatalogue()[size_t(k)]; }

static const DiagKindInfo *findFlag(const std::string &flag) {
  for (const auto &i : diagCatalogue())
    if (flag == i.flag) return &i;
  return nullptr;
}

bool DiagnosticEngine::applyWarningOption(const std::string &opt) {
  if (opt == "error") { allWarningsAreErrors_ = true; return true; }
  if (opt == "everything" || opt == "all") { disabled_.clear(); return true; }
  if (opt.rfind("error=", 0) == 0) {
    const DiagKindInfo *i = findFlag(opt.substr(6));
    if (!i || i->defaultSeverity != Severity::Warning) return false;
    overrides_[i->kind] = Severity::Error;
    disabled_.erase(i->kind);
    return true;
  }
  if (opt.rfind("no-error=", 0) == 0) {
    const DiagKindInfo *i = findFlag(opt.substr(9));
    if (!i || i->defaultSeverity != Severity::Warning) return false;
    overrides_[i->kind] = Severity::Warning;
    return true;
  }
  if (opt.rfind("no-", 0) == 0) {
    const DiagKindInfo *i = findFlag(opt.substr(3));
    if (!i || i->defaultSeverity != Severity::Warning) return false;
    disabled_[i->kind] = true;
    return true;
  }
  const DiagKindInfo *i = findFlag(opt);
  if (!i || i->defaultSeverity != Severity::Warning) return false;
  disabled_.erase(i->kind);
  return true;
}

/// Messages quote user text (names, tokens); a hostile file can make that text huge.
static void capMessage(std::string &m) {
  const size_t maxBytes = 1024;
  if (m.size() <= maxBytes) return;
  size_t cut = maxBytes;
  while (cut > 0 && (static_cast<unsigned char>(m[cut]) & 0xC0) == 0x80) --cut; // whole UTF-8 characters
  m.resize(cut);
  m += "...";
}

void DiagnosticEngine::note(Diagnostic *d, SourceRange range, std::string message) {
  if (!d) return;
  capMessage(message);
  d->notes.push_back({range, std::move(message)});
}

Diagnostic *DiagnosticEngine::report(DiagKind kind, SourceRange range, std::string message) {
  capMessage(message);
  const DiagKindInfo &info = diagInfo(kind);
  Severity sev = info.defaultSeverity;
  if (sev == Severity::Warning) {
    if (disabled_.count(kind)) return nullptr;
    auto it = overrides_.find(kind);
    if (it != overrides_.end()) sev = it->second;
    else if (allWarningsAreErrors_) sev = Severity::Error;
  }
  if (sev == Severity::Error) {
    if (limitReached_) return nullptr;
    if (numErrors_ >= errorLimit_) {
      limitReached_ = true;
      diags_.push_back({DiagKind::TooManyErrors, Severity::Error, {},
                        "too many errors emitted (limit " + std::to_string(errorLimit_) +
                            "), stopping now; use -ferror-limit=N to change it",
                        {}});
      ++numErrors_;
      return nullptr;
    }
    ++numErrors_;
  } else {
    ++numWarnings_;
  }
  diags_.push_back({kind, sev, range, std::move(message), {}});
  return &diags_.back();
}

void DiagnosticEngine::sortByLocation() {
  // A too-many-errors marker (no location) stays last.
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic &a, const Diagnostic &b) {
    bool al = a.kind == DiagKind::TooManyErrors, bl = b.kind == DiagKind::TooManyErrors;
    if (al != bl) return bl;
    if (a.range.begin.file != b.range.begin.file) return a.range.begin.file < b.range.begin.file;
    return a.range.begin.offset < b.range.begin.offset;
  });
}

static const char *sevName(Severity s) {
  switch (s) {
  case Severity::Note: return "note";
  case Severity::Warning: return "warning";
  case Severity::Error: return "error";
  }
  return "?";
}

void DiagnosticEngine::formatLocated(std::string &out, Severity sev, const SourceRange &r,
                                     const std::string &msg, const char *flag, bool color) const {
  const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
  const char *sevColor = !color ? "" : sev == Severity::Error ? "\033[1;31m"
                                   : sev == Severity::Warning ? "\033[1;35m" : "\033[1;30m";
  const char *green = color ? "\033[1;32m" : "";
  out += bold;
  if (r.valid()) {
    const auto &f = sm_.file(r.begin.file);
    out += f.path + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.col) + ": ";
  } else if (sev != Severity::Note) {
    out += "metronc: ";
  }
  out += reset;
  out += sevColor;
  out += sevName(sev);
  out += ": ";
  out += reset;
  out += bold;
  out += msg;
  if (flag) out += std::string(" [") + flag + "]";
  out += reset;
  out += "\n";
  if (!r.valid()) return;
  std::string_view line = sm_.lineText(r.begin.file, r.begin.line);
  // Very long lines (minified garbage) are cut around the caret.
  size_t col0 = r.begin.col - 1, start = 0;
  const size_t maxShown = 160;
  if (line.size() > maxShown) {
    start = col0 > 40 ? col0 - 40 : 0;
    line = line.substr(start, maxShown);
  }
  std::string shown;
  for (char c : line) shown += (c == '\t') ? ' ' : (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  out += "    " + shown + "\n";
  size_t caret = col0 - start;
  size_t len = 1;
  if (r.end.valid() && r.end.line == r.begin.line && r.end.offset > r.begin.offset)
    len = r.end.offset - r.begin.offset;
  if (caret > shown.size()) caret = shown.size();
  if (caret + len > shown.size() + 1) len = shown.size() + 1 > caret ? shown.size() + 1 - caret : 1;
  if (len == 0) len = 1;
  out += "    " + std::string(caret, ' ') + green + "^" + std::string(len - 1, '~') + reset + "\n";
}

std::string DiagnosticEngine::formatText(const Diagnostic &d, bool color) const {
  std::string out;
  formatLocated(out, d.severity, d.range, d.message, d.kind == DiagKind::TooManyErrors ? nullptr : diagInfo(d.kind).flag, color);
  for (const auto &n : d.notes) formatLocated(out, Severity::Note, n.range, n.message, nullptr, color);
  return out;
}

void DiagnosticEngine::printText(FILE *out, bool color) const {
  for (const auto &d : diags_) fputs(formatText(d, color).c_str(), out);
  if (numErrors_ || numWarnings_) {
    std::string s;
    if (numWarnings_) s += std::to_string(numWarnings_) + (numWarnings_ == 1 ? " warning" : " warnings");
    if (numWarnings_ && numErrors_) s += " and ";
    if (numErrors_) s += std::to_string(numErrors_) + (numErrors_ == 1 ? " error" : " errors");
    fprintf(out, "%s generated.\n", s.c_str());
  }
}

using nlohmann::json;

static json rangeJson(const SourceManager &sm, const SourceRange &r) {
  json j;
  if (!r.valid()) return nullptr;
  j["file"] = sm.file(r.begin.file).path;
  j["line"] = r.begin.line;
  j["column"] = r.begin.col;
  if (r.end.valid()) {
    j["endLine"] = r.end.line;
    j["endColumn"] = r.end.col;
  }
  return j;
}

std::string DiagnosticEngine::toJson() const {
  json arr = json::array();
  for (const auto &d : diags_) {
    json j;
    j["severity"] = sevName(d.severity);
    j["kind"] = diagInfo(d.kind).flag;
    j["message"] = d.message;
    j["location"] = rangeJson(sm_, d.range);
    json notes = json::array();
    for (const auto &n : d.notes) notes.push_back({{"message", n.message}, {"location", rangeJson(sm_, n.range)}});
    j["notes"] = notes;
    arr.push_back(j);
  }
  json root = {{"diagnostics", arr}, {"errors", numErrors_}, {"warnings", numWarnings_}};
  return root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

static json sarifLocation(const SourceManager &sm, const SourceRange &r) {
  json region = {{"startLine", r.begin.line}, {"startColumn", r.begin.col}};
  if (r.end.valid()) {
    region["endLine"] = r.end.line;
    region["endColumn"] = r.end.col;
  }
  return {{"physicalLocation",
           {{"artifactLocation", {{"uri", sm.file(r.begin.file).path}}}, {"region", region}}}};
}

std::string DiagnosticEngine::toSarif(const std::string &toolVersion) const {
  json rules = json::array();
  for (const auto &i : diagCatalogue())
    rules.push_back({{"id", i.flag},
                     {"shortDescription", {{"text", i.description}}},
                     {"defaultConfiguration", {{"level", i.defaultSeverity == Severity::Error ? "error" : "warning"}}}});
  json results = json::array();
  for (const auto &d : diags_) {
    json r = {{"ruleId", diagInfo(d.kind).flag},
              {"ruleIndex", size_t(d.kind)},
              {"level", d.severity == Severity::Error ? "error" : "warning"},
              {"message", {{"text", d.message}}}};
    json locs = json::array();
    if (d.range.valid()) locs.push_back(sarifLocation(sm_, d.range));
    r["locations"] = locs;
    json related = json::array();
    int id = 0;
    for (const auto &n : d.notes) {
      json l = n.range.valid() ? sarifLocation(sm_, n.range) : json::object();
      l["id"] = id++;
      l["message"] = {{"text", n.message}};
      related.push_back(l);
    }
    if (!related.empty()) r["relatedLocations"] = related;
    results.push_back(r);
  }
  json root = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
               {"version", "2.1.0"},
               {"runs",
                {{{"tool",
                   {{"driver",
                     {{"name", "metronc"},
                      {"version", toolVersion},
                      {"informationUri", "man:metronc(1)"},
                      {"rules", rules}}}}},
                  {"results", results}}}}};
  return root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string printable(std::string_view s, size_t maxLen) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < maxLen; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  if (s.size() > maxLen) out += "...";
  return out;
}

[[noreturn]] void internalError(const char *file, int line, const char *cond, const std::string &msg) {
  fprintf(stderr, "metronc: internal compiler error: %s:%d: %s (%s)\nplease report this bug with the input that caused it\n",
          file, line, msg.c_str(), cond);
  std::abort();
}

} // namespace metron
