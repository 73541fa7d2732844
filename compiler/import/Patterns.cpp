//===- compiler/import/Patterns.cpp - Reader for hsbench pattern sets -------------------------===//
///
/// \file
/// Reads DPI pattern sets in the hsbench form (dpi/hsbench_samples/*), one `ID:/REGEX/FLAGS` per
/// line, as Hyperscan's own tools read them (util/expressions.cpp, util/ExpressionParser.rl):
/// the line is trimmed, ID is an unsigned decimal number unique in the file, the regex runs
/// from the '/' right after the colon to the LAST '/' of the line (so it may contain '/'), and
/// FLAGS are single letters:
///   i caseless   s dotall      m multiline   H single match   O must be ordered (hsbench)
///   V allow empty  W unicode properties  8 UTF-8  P prefilter  L leftmost start of match
///   C logical combination   Q quiet
/// Extended parameters (`/abc/i{min_offset=4}`) cannot be carried by ir::Pattern and are
/// reported. An empty regex and a NUL byte inside the regex (Hyperscan takes C strings) are
/// errors too; whether the regex compiles is left to Hyperscan.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"
#include "compiler/import/ReaderUtil.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace metron {
namespace {

using import::isBlank;
using import::isDigit;
using import::shown;



constexpr const char *kFlagLetters = "ismHOVW8PLCQ";

class PatternsReader {
public:
  PatternsReader(const SourceManager &sm, FileID file, DiagnosticEngine &diags)
      : file_(file), diags_(diags), text_(sm.file(file).text) {}

  bool run(std::vector<ir::Pattern> &out);

private:
  bool parseLine(uint32_t begin, uint32_t end, std::vector<ir::Pattern> &out);

  std::string_view slice(uint32_t b, uint32_t e) const { return std::string_view(text_).substr(b, e - b); }
  SourceLoc loc(uint32_t off) const { return SourceLoc{file_, off, line_, off - lineBegin_ + 1}; }
  Diagnostic *fail(uint32_t b, uint32_t e, std::string msg) {
    if (e <= b) e = b + 1;
    return diags_.report(DiagKind::ImportMalformed, {loc(b), loc(e)}, std::move(msg));
  }

  FileID file_;
  DiagnosticEngine &diags_;
  const std::string &text_;
  uint32_t line_ = 0, lineBegin_ = 0;
  /// id -> where it was first defined (for the duplicate-id note)
  std::unordered_map<uint32_t, SourceRange> ids_;
};

bool PatternsReader::run(std::vector<ir::Pattern> &out) {
  return import::forEachEntryLine(text_, diags_, [&](uint32_t lineNo, uint32_t lineBegin, uint32_t b, uint32_t e) {
    line_ = lineNo;
    lineBegin_ = lineBegin;
    return parseLine(b, e, out);
  });
}

bool PatternsReader::parseLine(uint32_t begin, uint32_t end, std::vector<ir::Pattern> &out) {
  std::string_view line = slice(begin, end);
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    fail(begin, end, "expected a pattern of the form ID:/REGEX/FLAGS");
    return false;
  }
  std::string_view idText = line.substr(0, colon);
  uint32_t idEnd = begin + uint32_t(colon);
  bool digits = !idText.empty();
  for (char c : idText) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    fail(begin, idEnd,
         idText.empty() ? "missing the pattern id before ':'"
                        : "pattern id '" + shown(idText) + "' is not a decimal number");
    return false;
  }
  uint32_t id = 0;
  auto r = std::from_chars(idText.data(), idText.data() + idText.size(), id);
  if (r.ec == std::errc::result_out_of_range) {
    fail(begin, idEnd, "pattern id " + shown(idText) + " is beyond 4294967295");
    return false;
  }
  uint32_t open = idEnd + 1;
  if (open >= end || text_[open] != '/') {
    fail(open < end ? open : end, open < end ? open + 1 : end,
         "expected '/' to open the regular expression after '" + shown(idText) + ":'");
    return false;
  }
  size_t lastSlash = line.rfind('/');
  uint32_t close = begin + uint32_t(lastSlash);
  if (close == open) {
    fail(open, end, "missing the closing '/' of the regular expression");
    return false;
  }
  std::string_view regex = slice(open + 1, close);
  if (regex.empty()) {
    fail(open, close + 1, "empty regular expression");
    return false;
  }
  if (const void *nul = memchr(regex.data(), '\0', regex.size())) {
    uint32_t at = open + 1 + uint32_t(static_cast<const char *>(nul) - regex.data());
    fail(at, at + 1, "NUL byte in the regular expression");
    return false;
  }
  std::string_view flags = slice(close + 1, end);
  for (size_t i = 0; i < flags.size(); ++i) {
    char c = flags[i];
    uint32_t at = close + 1 + uint32_t(i);
    if (c == '{') {
      fail(at, end, "hyperscan extended parameters '" + shown(flags.substr(i)) + "' are not supported");
      return false;
    }
    if (c == '\0' || !strchr(kFlagLetters, c)) {
      fail(at, at + 1,
           "unknown pattern flag '" + shown(flags.substr(i, 1)) + "' (hsbench flags are i s m H O V W 8 P L C Q)");
      return false;
    }
  }
  SourceRange idRange{loc(begin), loc(idEnd)};
  auto [it, inserted] = ids_.emplace(id, idRange);
  if (!inserted) {
    Diagnostic *d = fail(begin, idEnd, "duplicate pattern id " + std::to_string(id));
    diags_.note(d, it->second, "pattern " + std::to_string(id) + " first defined here");
    return false;
  }
  ir::Pattern p;
  p.id = id;
  p.regex = std::string(regex);
  p.flags = std::string(flags);
  p.line = line_;
  out.push_back(std::move(p));
  return true;
}

} // namespace

bool readPatterns(const SourceManager &sm, FileID file, DiagnosticEngine &diags, std::vector<ir::Pattern> &out,
                  std::string &format, std::vector<ir::PatternRule> *rules, const RuleVariables *vars,
                  std::set<std::string> *usedVars) {
  if (isSuricataRules(sm.file(file).text)) {
    format = "suricata";
    std::vector<ir::PatternRule> ignored;
    return readSuricataRules(sm, file, diags, out, rules ? *rules : ignored, vars, usedVars) && rules;
  }
  format = "hsbench";
  PatternsReader reader(sm, file, diags);
  return reader.run(out);
}

} // namespace metron
