//===- tests/unit/diagnostics_test.cpp - The diagnostic engine and its printers ---------------===//
#include "lang/Diagnostics.h"

#include <gtest/gtest.h>

using namespace metron;

namespace {
SourceRange rangeOf(const SourceManager &sm, FileID id, uint32_t b, uint32_t e) {
  return {sm.locFor(id, b), sm.locFor(id, e)};
}
} // namespace

TEST(Diagnostics, TextFormIsClangLike) {
  SourceManager sm;
  FileID id = sm.addBuffer("web.metron", "nf a {\n\tnapt2 -> lb;\n}\n");
  DiagnosticEngine d(sm);
  auto *x = d.report(DiagKind::UnknownName, rangeOf(sm, id, 8, 13), "unknown NF 'napt2'");
  d.note(x, rangeOf(sm, id, 3, 4), "did you mean 'a'?");
  EXPECT_EQ(d.formatText(d.diagnostics()[0]),
            "web.metron:2:2: error: unknown NF 'napt2' [unknown-name]\n"
            "     napt2 -> lb;\n"
            "     ^~~~~\n"
            "web.metron:1:4: note: did you mean 'a'?\n"
            "    nf a {\n"
            "       ^\n");
}

TEST(Diagnostics, WarningFlags) {
  SourceManager sm;
  DiagnosticEngine d(sm);
  EXPECT_TRUE(d.applyWarningOption("no-unused-nf"));
  EXPECT_TRUE(d.applyWarningOption("error=shadowed-rule"));
  EXPECT_FALSE(d.applyWarningOption("error=syntax"));   // errors are not warnings
  EXPECT_FALSE(d.applyWarningOption("no-such-thing"));
  EXPECT_EQ(d.report(DiagKind::UnusedNF, {}, "x"), nullptr);
  auto *s = d.report(DiagKind::ShadowedRule, {}, "y");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->severity, Severity::Error);
  auto *c = d.report(DiagKind::ConflictingWrite, {}, "z");
  EXPECT_EQ(c->severity, Severity::Warning);
  EXPECT_EQ(d.numErrors(), 1u);
  EXPECT_EQ(d.numWarnings(), 1u);
  EXPECT_TRUE(d.applyWarningOption("error"));
  EXPECT_EQ(d.report(DiagKind::UnusedImport, {}, "w")->severity, Severity::Error);
}

TEST(Diagnostics, ErrorLimit) {
  SourceManager sm;
  DiagnosticEngine d(sm);
  d.setErrorLimit(3);
  for (int i = 0; i < 10; ++i) d.report(DiagKind::Syntax, {}, "e" + std::to_string(i));
  EXPECT_TRUE(d.errorLimitReached());
  ASSERT_EQ(d.diagnostics().size(), 4u);
  EXPECT_EQ(d.diagnostics().back().kind, DiagKind::TooManyErrors);
  EXPECT_EQ(d.diagnostics().back().message, "too many errors emitted (limit 3), stopping now; use -ferror-limit=N to change it");
}

TEST(Diagnostics, CatalogueFlagsAreUniqueAndLowercase) {
  std::set<std::string> seen;
  for (const auto &k : diagCatalogue()) {
    EXPECT_TRUE(seen.insert(k.flag).second) << k.flag;
    for (char c : std::string(k.flag)) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') << k.flag;
    std::string desc = k.description;
    EXPECT_NE(desc.back(), '.') << k.flag;
  }
}

TEST(Diagnostics, LongLinesAreCutAroundTheCaret) {
  SourceManager sm;
  std::string line(5000, 'a');
  line[4000] = '$';
  FileID id = sm.addBuffer("long", line);
  DiagnosticEngine d(sm);
  d.report(DiagKind::Syntax, rangeOf(sm, id, 4000, 4001), "unexpected character '$'");
  std::string t = d.formatText(d.diagnostics()[0]);
  EXPECT_LT(t.size(), 500u);
  size_t src = t.find("\n    ") + 5, caret = t.find("^");
  EXPECT_EQ(t[src + (caret - t.find("\n", src) - 5)], '$'); // the caret sits under the '$'
}

TEST(Diagnostics, HugeMessagesAreCapped) {
  SourceManager sm;
  DiagnosticEngine d(sm);
  d.report(DiagKind::UnknownName, {}, "unknown NF '" + std::string(1 << 20, 'n') + "'");
  EXPECT_LE(d.diagnostics()[0].message.size(), 1027u);
  EXPECT_EQ(d.diagnostics()[0].message.substr(d.diagnostics()[0].message.size() - 3), "...");
  // Cut on a character boundary: 'é' is two bytes and must not be split.
  std::string accents;
  for (int i = 0; i < 600; ++i) accents += "\xc3\xa9";
  auto *x = d.report(DiagKind::UnknownName, {}, "y");
  d.note(x, {}, "x" + accents);
  const std::string &n = d.diagnostics()[1].notes[0].message;
  EXPECT_LE(n.size(), 1027u);
  EXPECT_FALSE(findInvalidUtf8(n)) << "note cut inside a UTF-8 character";
}
