//===- tests/unit/import_test.cpp - Readers for ClassBench, route and pattern files -----------===//
///
/// \file
/// Real files parse with the right counts, and their entries hold exactly what the text says
/// (expected values come from reading the data file here, with sscanf, not from the reader);
/// malformed lines give exactly the expected message at the right line:col; hostile buffers
/// (random bytes, NUL bytes, a 1 MB line) give errors and no crash.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

using namespace metron;
using ir::FieldId;
using ir::FieldMatch;

namespace {

std::string dataPath(const std::string &rel) { return std::string(METRON_DATA_DIR) + "/" + rel; }

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> splitLines(const std::string &text) {
  std::vector<std::string> lines;
  std::string cur;
  std::istringstream in(text);
  while (std::getline(in, cur)) lines.push_back(cur);
  return lines;
}

std::vector<std::string> splitWs(const std::string &line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string t;
  while (in >> t) out.push_back(t);
  return out;
}

uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

/// A SourceManager + engine pair; loads either a real data file or an in-memory buffer.
struct Env {
  SourceManager sm;
  DiagnosticEngine diags{sm};
  FileID load(const std::string &rel) {
    std::string err;
    FileID f = sm.readFile(dataPath(rel), ReadLimits{}.maxImportBytes, err);
    EXPECT_NE(f, 0u) << err;
    return f;
  }
  FileID buffer(std::string text) { return sm.addBuffer("mem.txt", std::move(text)); }
  std::string allDiags() const {
    std::string s;
    for (const auto &d : diags.diagnostics()) s += diags.formatText(d);
    return s;
  }
};

/// "line:col: message" of every diagnostic, for compact exact comparisons.
std::vector<std::string> brief(const DiagnosticEngine &diags) {
  std::vector<std::string> v;
  for (const auto &d : diags.diagnostics())
    v.push_back(std::to_string(d.range.begin.line) + ":" + std::to_string(d.range.begin.col) + ": " + d.message);
  return v;
}

bool sameMatch(const FieldMatch &a, const FieldMatch &b) {
  if (a.field != b.field || a.kind != b.kind) return false;
  if (a.kind == FieldMatch::Range) return a.lo == b.lo && a.hi == b.hi && a.prefixLen == b.prefixLen;
  return a.value == b.value && a.mask == b.mask;
}

std::string matchesStr(const std::vector<FieldMatch> &ms) {
  std::string s;
  for (const auto &m : ms) s += std::string(ir::fieldInfo(m.field).name) + "=" + m.str() + " ";
  return s;
}

/// The rule a ClassBench line describes, computed independently of the reader (sscanf).
/// Flags follow the documented meaning: TCP flags in the high byte; ICMP type/code.
bool expectedClassBench(const std::string &line, std::vector<FieldMatch> &out) {
  unsigned s[4], sl, d[4], dl, splo, sphi, dplo, dphi, proto, pmask, flags = 0, fmask = 0;
  int n = sscanf(line.c_str(), "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x %x/%x", &s[0], &s[1], &s[2], &s[3],
                 &sl, &d[0], &d[1], &d[2], &d[3], &dl, &splo, &sphi, &dplo, &dphi, &proto, &pmask, &flags, &fmask);
  if (n != 16 && n != 18) return false;
  out.clear();
  if (sl) out.push_back(FieldMatch::prefix(FieldId::IpSrc, ip(s[0], s[1], s[2], s[3]), sl));
  if (dl) out.push_back(FieldMatch::prefix(FieldId::IpDst, ip(d[0], d[1], d[2], d[3]), dl));
  if (pmask == 0xff) out.push_back(FieldMatch::exact(FieldId::IpProto, proto));
  if (!(splo == 0 && sphi == 65535)) out.push_back(FieldMatch::range(FieldId::TpSrc, splo, sphi));
  if (!(dplo == 0 && dphi == 65535)) out.push_back(FieldMatch::range(FieldId::TpDst, dplo, dphi));
  if (fmask && proto == 6) out.push_back(FieldMatch::masked(FieldId::TcpFlags, flags >> 8, fmask >> 8));
  if (fmask && proto == 1) {
    if (fmask >> 8) out.push_back(FieldMatch::masked(FieldId::IcmpType, flags >> 8, fmask >> 8));
    if (fmask & 0xff) out.push_back(FieldMatch::masked(FieldId::IcmpCode, flags & 0xff, fmask & 0xff));
  }
  return true;
}

/// Parses a real ClassBench file and checks every rule against the text.
void checkClassBenchFile(const std::string &rel, size_t expectedRules, const char *expectedFormat) {
  Env env;
  FileID f = env.load(rel);
  std::vector<ir::Rule> rules;
  std::string format;
  EXPECT_TRUE(readClassBench(env.sm, f, env.diags, rules, format)) << env.allDiags();
  EXPECT_EQ(env.diags.diagnostics().size(), 0u) << env.allDiags();
  EXPECT_EQ(format, expectedFormat);
  ASSERT_EQ(rules.size(), expectedRules);
  std::vector<std::string> lines = splitLines(slurp(dataPath(rel)));
  ASSERT_GE(lines.size(), expectedRules);
  for (size_t i = 0; i < rules.size(); ++i) {
    const ir::Rule &r = rules[i];
    SCOPED_TRACE(rel + " line " + std::to_string(i + 1) + ": " + lines[i]);
    std::vector<FieldMatch> want;
    ASSERT_TRUE(expectedClassBench(lines[i], want));
    ASSERT_EQ(r.matches.size(), want.size()) << matchesStr(r.matches) << " vs " << matchesStr(want);
    for (size_t k = 0; k < want.size(); ++k)
      EXPECT_TRUE(sameMatch(r.matches[k], want[k])) << matchesStr(r.matches) << " vs " << matchesStr(want);
    for (size_t k = 1; k < r.matches.size(); ++k) EXPECT_LT(r.matches[k - 1].field, r.matches[k].field);
    EXPECT_EQ(r.importIndex, int32_t(i + 1));
    EXPECT_EQ(r.range.begin.line, i + 1);
    EXPECT_EQ(r.range.begin.col, 1u);
    EXPECT_EQ(r.range.end.line, i + 1);
    // The range covers the line (tabs and all, without the newline).
    std::string_view lineText = env.sm.lineText(f, uint32_t(i + 1));
    EXPECT_EQ(r.range.end.offset - r.range.begin.offset, lineText.size());
    EXPECT_EQ(r.action.kind, ir::Action::Allow);
    EXPECT_EQ(r.action.range.begin.offset, r.range.begin.offset);
    EXPECT_EQ(r.action.range.end.offset, r.range.end.offset);
    if (::testing::Test::HasFailure()) return;
  }
}

struct ClassBenchResult {
  bool ok;
  std::string format;
  std::vector<ir::Rule> rules;
  std::vector<std::string> diags;
};
ClassBenchResult classBenchText(const std::string &text) {
  Env env;
  FileID f = env.buffer(text);
  ClassBenchResult r;
  r.ok = readClassBench(env.sm, f, env.diags, r.rules, r.format);
  r.diags = brief(env.diags);
  return r;
}

} // namespace

// ---- ClassBench: real files -------------------------------------------------------------------

TEST(ClassBench, PclassevalFw1_1K) {
  checkClassBenchFile("classbench/pclasseval_song/fw1_1K", 791, "classbench-5tuple");
}
TEST(ClassBench, PclassevalAcl1_10K) {
  checkClassBenchFile("classbench/pclasseval_song/acl1_10K", 9603, "classbench-5tuple");
}
TEST(ClassBench, PclassevalFw1_10K) {
  checkClassBenchFile("classbench/pclasseval_song/fw1_10K", 9311, "classbench-5tuple");
}
TEST(ClassBench, PclassevalSeedLowercaseMasks) {
  checkClassBenchFile("classbench/pclasseval_song/fw1", 269, "classbench-5tuple");
}
TEST(ClassBench, NeurocutsFw1_1k) { checkClassBenchFile("classbench/neurocuts/fw1_1k", 857, "classbench-flags"); }
TEST(ClassBench, NeurocutsAcl2_1k) { checkClassBenchFile("classbench/neurocuts/acl2_1k", 961, "classbench-flags"); }

TEST(ClassBench, FirstRuleOfFw1_1KByHand) {
  // The first line of the file, as printed by `head -1`.
  std::string first = splitLines(slurp(dataPath("classbench/pclasseval_song/fw1_1K")))[0];
  ASSERT_EQ(first, "@209.161.198.176/28 209.161.198.160/28 88 : 88 80 : 80 0x11/0xFF");
  Env env;
  FileID f = env.load("classbench/pclasseval_song/fw1_1K");
  std::vector<ir::Rule> rules;
  std::string format;
  ASSERT_TRUE(readClassBench(env.sm, f, env.diags, rules, format));
  EXPECT_EQ(rules[0].matchStr(), "ip.src=209.161.198.176/28 ip.dst=209.161.198.160/28 ip.proto=17 tp.src=88 tp.dst=80");
  const FieldMatch *src = rules[0].find(FieldId::IpSrc);
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->lo, ip(209, 161, 198, 176));
  EXPECT_EQ(src->hi, ip(209, 161, 198, 191));
  EXPECT_EQ(src->prefixLen, 28);
}

TEST(ClassBench, NeurocutsFlagsByHand) {
  // Lines picked from the text: TCP SYN-without-ACK rules, ICMP echo rules, and ICMP port
  // unreachable (type 3 code 3, only in the acl2 sets).
  size_t syn = 0, echo = 0, unreach = 0;
  for (const char *rel : {"classbench/neurocuts/fw1_10k", "classbench/neurocuts/acl2_1k"}) {
    std::vector<std::string> lines = splitLines(slurp(dataPath(rel)));
    Env env;
    FileID f = env.load(rel);
    std::vector<ir::Rule> rules;
    std::string format;
    ASSERT_TRUE(readClassBench(env.sm, f, env.diags, rules, format));
    ASSERT_EQ(rules.size(), lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string &l = lines[i];
      if (l.find("\t0x06/0xFF\t0x0200/0x1200") != std::string::npos) {
        const FieldMatch *m = rules[i].find(FieldId::TcpFlags);
        ASSERT_NE(m, nullptr) << l;
        EXPECT_EQ(m->kind, FieldMatch::Mask);
        EXPECT_EQ(m->value, 0x02u);
        EXPECT_EQ(m->mask, 0x12u);
        EXPECT_EQ(m->str(), "0x2/0x12");
        ++syn;
      } else if (l.find("\t0x01/0xFF\t0x0800/0xff00") != std::string::npos) {
        const FieldMatch *t = rules[i].find(FieldId::IcmpType);
        ASSERT_NE(t, nullptr) << l;
        EXPECT_EQ(t->kind, FieldMatch::Range);
        EXPECT_EQ(t->lo, 8u);
        EXPECT_EQ(t->hi, 8u);
        EXPECT_EQ(rules[i].find(FieldId::IcmpCode), nullptr);
        ++echo;
      } else if (l.find("\t0x01/0xFF\t0x0303/0xffff") != std::string::npos) {
        ASSERT_NE(rules[i].find(FieldId::IcmpType), nullptr);
        ASSERT_NE(rules[i].find(FieldId::IcmpCode), nullptr);
        EXPECT_EQ(rules[i].find(FieldId::IcmpType)->lo, 3u);
        EXPECT_EQ(rules[i].find(FieldId::IcmpCode)->lo, 3u);
        ++unreach;
      } else if (l.find("0x0000/0x0000") != std::string::npos) {
        EXPECT_EQ(rules[i].find(FieldId::TcpFlags), nullptr);
        EXPECT_EQ(rules[i].find(FieldId::IcmpType), nullptr);
      }
    }
  }
  EXPECT_GT(syn, 100u);
  EXPECT_GT(echo, 10u);
  EXPECT_EQ(unreach, 5u); // grep -c 0x0303/0xffff acl2_1k
}

// ---- ClassBench: comments, blank lines, numbering ---------------------------------------------

TEST(ClassBench, CommentsAndBlankLinesAreSkipped) {
  auto r = classBenchText("# a comment\n"
                          "\n"
                          "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00\n"
                          "   \n"
                          "@0.0.0.0/0 0.0.0.0/0 0 : 65535 53 : 53 0x11/0xFF\r\n");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.format, "classbench-5tuple");
  ASSERT_EQ(r.rules.size(), 2u);
  EXPECT_EQ(r.rules[0].importIndex, 1);
  EXPECT_EQ(r.rules[0].range.begin.line, 3u);
  EXPECT_EQ(r.rules[0].matchStr(), "ip.src=10.0.0.0/8");
  EXPECT_EQ(r.rules[1].importIndex, 2);
  EXPECT_EQ(r.rules[1].range.begin.line, 5u);
  EXPECT_EQ(r.rules[1].matchStr(), "ip.proto=17 tp.dst=53");
  // The range stops before the carriage return.
  EXPECT_EQ(r.rules[1].range.end.col, 49u);
}

TEST(ClassBench, AllWildcardRuleHasNoMatches) {
  auto r = classBenchText("@0.0.0.0/0 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00\n");
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.rules.size(), 1u);
  EXPECT_TRUE(r.rules[0].matchesAll());
}

TEST(ClassBench, ProtocolWithZeroMaskIsWildcard) {
  auto r = classBenchText("@1.2.3.4/32 0.0.0.0/0 0 : 65535 0 : 65535 0x06/0x00\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rules[0].matchStr(), "ip.src=1.2.3.4/32");
}

TEST(ClassBench, EmptyFile) {
  auto r = classBenchText("");
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.rules.empty());
  EXPECT_TRUE(r.diags.empty());
}

// ---- ClassBench: malformed lines --------------------------------------------------------------

struct MalformedCase {
  const char *text;
  const char *expected; ///< "line:col: message"
};

std::string caseName(const ::testing::TestParamInfo<MalformedCase> &info) { return "case" + std::to_string(info.index); }

class ClassBenchMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(ClassBenchMalformed, ExactMessage) {
  const MalformedCase &c = GetParam();
  auto r = classBenchText(c.text);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.diags.size(), 1u) << ::testing::PrintToString(r.diags);
  EXPECT_EQ(r.diags[0], c.expected);
}

// The good line "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00" comes first so that every
// error is on line 2 and the column is checked against a fresh line.
#define GOOD "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00\n"
INSTANTIATE_TEST_SUITE_P(
    Lines, ClassBenchMalformed,
    ::testing::Values(
        MalformedCase{GOOD "10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00\n",
                      "2:1: expected '@' at the start of a ClassBench rule"},
        MalformedCase{GOOD "@10.0.0.0/33 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00\n",
                      "2:11: prefix length 33 is out of range 0..32"},
        MalformedCase{GOOD "@10.0.0.0/8 1.2.3.0/99999999999999999999999 0 : 65535 0 : 65535 0x00/0x00\n",
                      "2:21: prefix length 99999999999999999999999 is out of range 0..32"},
        MalformedCase{GOOD "@10.0.0.1/8 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00\n",
                      "2:2: prefix 10.0.0.1/8 has host bits set (the network is 10.0.0.0/8)"},
        MalformedCase{GOOD "@10.0.0.256/32 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00\n",
                      "2:2: malformed IPv4 address '10.0.0.256'"},
        MalformedCase{GOOD "@10.0.0.0 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00\n",
                      "2:2: expected '/' and a prefix length after the source address 10.0.0.0"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/x 0 : 65535 0 : 65535 0x00/0x00\n",
                      "2:21: expected a prefix length after '/', found 'x'"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/0 70000 : 80 0 : 65535 0x00/0x00\n",
                      "2:23: port range 70000 : 80 is reversed or beyond 65535"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/0 0 : 65535 90 : 80 0x00/0x00\n",
                      "2:33: port range 90 : 80 is reversed or beyond 65535"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/0 0 - 65535 0 : 65535 0x00/0x00\n",
                      "2:25: expected ':' between the source ports"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/0 http : 80 0 : 65535 0x00/0x00\n",
                      "2:23: expected the source port range 'LO : HI', found 'http'"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x06/0x0F\n",
                      "2:48: protocol mask 0x0F is neither 0x00 nor 0xFF"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x106/0xFF\n",
                      "2:43: protocol 0x106 is beyond 0xFF"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 6/0xFF\n",
                      "2:43: expected the protocol as 0xPP/0xMM, found '6/0xFF'"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535\n",
                      "2:42: missing the protocol at the end of the rule"},
        MalformedCase{GOOD "@10.0.0.0/8\n", "2:12: missing the destination prefix at the end of the rule"},
        MalformedCase{GOOD "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00 0x0000/0x0000\n",
                      "2:53: unexpected text '0x0000/0x0000' after the protocol (this file has no flags column)"}),
    caseName);

class ClassBenchFlagsMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(ClassBenchFlagsMalformed, ExactMessage) {
  const MalformedCase &c = GetParam();
  auto r = classBenchText(c.text);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.format, "classbench-flags");
  ASSERT_EQ(r.diags.size(), 1u) << ::testing::PrintToString(r.diags);
  EXPECT_EQ(r.diags[0], c.expected);
}

#define GOODF "@1.2.3.0/24\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x06/0xFF\t0x1000/0x1000\t\n"
INSTANTIATE_TEST_SUITE_P(
    Lines, ClassBenchFlagsMalformed,
    ::testing::Values(
        MalformedCase{GOODF "@1.2.3.0/24\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x11/0xFF\t0x1000/0x1000\n",
                      "2:51: flags 0x1000/0x1000 apply to tcp (0x06) or icmp (0x01) rules only"},
        MalformedCase{
            GOODF "@1.2.3.0/24\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x06/0xFF\t0x0001/0x00ff\n",
            "2:51: flags 0x0001/0x00ff use the low byte, but tcp flags are the high byte of the flags column"},
        MalformedCase{GOODF "@1.2.3.0/24\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x06/0xFF\t0x10000/0x1000\n",
                      "2:51: flags 0x10000 is beyond 0xFFFF"},
        MalformedCase{GOODF "@1.2.3.0/24\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x06/0xFF\n",
                      "2:50: missing the flags column (0xVVVV/0xMMMM) at the end of the rule"},
        MalformedCase{GOODF "@1.2.3.0/24\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x06/0xFF\t0x1000/0x1000\tjunk\n",
                      "2:65: unexpected text 'junk' after the flags"}),
    caseName);

TEST(ClassBench, ErrorRangeCoversTheBadToken) {
  Env env;
  FileID f = env.buffer(GOOD "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x06/0x0F\n");
  std::vector<ir::Rule> rules;
  std::string format;
  EXPECT_FALSE(readClassBench(env.sm, f, env.diags, rules, format));
  ASSERT_EQ(env.diags.diagnostics().size(), 1u);
  const Diagnostic &d = env.diags.diagnostics()[0];
  EXPECT_EQ(d.kind, DiagKind::ImportMalformed);
  EXPECT_EQ(d.range.end.col - d.range.begin.col, 4u); // "0x0F"
  EXPECT_EQ(env.diags.formatText(d),
            "mem.txt:2:48: error: protocol mask 0x0F is neither 0x00 nor 0xFF [import-malformed]\n"
            "    @10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x06/0x0F\n"
            "                                                   ^~~~\n");
}

TEST(ClassBench, GoodLinesAroundBadOnesKeepTheirNumbers) {
  auto r = classBenchText(GOOD "@bad\n" GOOD "@10.0.0.0/8 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0xF0\n" GOOD);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.diags.size(), 2u);
  EXPECT_EQ(r.diags[0], "2:2: malformed source prefix 'bad'");
  EXPECT_EQ(r.diags[1], "4:48: protocol mask 0xF0 is neither 0x00 nor 0xFF");
  ASSERT_EQ(r.rules.size(), 3u);
  EXPECT_EQ(r.rules[0].importIndex, 1);
  EXPECT_EQ(r.rules[1].importIndex, 3);
  EXPECT_EQ(r.rules[2].importIndex, 5);
}

// ---- ClassBench: hostile input ----------------------------------------------------------------

TEST(ClassBench, RandomBytesStopAtTheErrorLimit) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    std::string text(64 * 1024, '\0');
    for (char &c : text) c = char(rng() & 0xff);
    Env env;
    FileID f = env.buffer(text);
    std::vector<ir::Rule> rules;
    std::string format;
    EXPECT_FALSE(readClassBench(env.sm, f, env.diags, rules, format));
    EXPECT_TRUE(env.diags.errorLimitReached());
    EXPECT_LE(env.diags.numErrors(), 51u);
    for (const auto &d : env.diags.diagnostics()) {
      EXPECT_LT(d.message.size(), 200u);
      env.diags.formatText(d); // printing must not crash either
    }
  }
}

TEST(ClassBench, NulBytes) {
  std::string text = GOOD;
  text += std::string("@10.0.0.0/8\0 0.0.0.0/0 0 : 65535 0 : 65535 0x00/0x00\n", 54);
  text += std::string(100, '\0') + "\n";
  auto r = classBenchText(text);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.diags.size(), 2u) << ::testing::PrintToString(r.diags);
  EXPECT_EQ(r.diags[0], "2:11: expected a prefix length after '/', found '8\\x00'");
  EXPECT_EQ(r.diags[1], "3:1: expected '@' at the start of a ClassBench rule");
  EXPECT_EQ(r.rules.size(), 1u);
}

TEST(ClassBench, HugeLine) {
  const size_t mb = 1 << 20;
  for (std::string line : {std::string("@") + std::string(mb, '1'), std::string(mb, 'A'),
                           "@1.2.3.0/24 0.0.0.0/0 " + std::string(mb, '7') + " : 80 0 : 65535 0x06/0xFF",
                           "@1.2.3.0/24 0.0.0.0/0 0 : 65535 0 : 65535 0x" + std::string(mb, 'f') + "/0xFF"}) {
    // A quadratic scan of the line would hang here (ctest's timeout catches that).
    auto r = classBenchText(GOOD + line + "\n" GOOD);
    EXPECT_FALSE(r.ok);
    ASSERT_EQ(r.diags.size(), 1u);
    EXPECT_EQ(r.diags[0].substr(0, 2), "2:");
    EXPECT_LT(r.diags[0].size(), 300u);
    EXPECT_EQ(r.rules.size(), 2u);
  }
}

// ---- routes -----------------------------------------------------------------------------------

namespace {

struct RoutesResult {
  bool ok;
  std::string format;
  std::vector<ir::Route> routes;
  std::vector<std::string> diags;
};
RoutesResult routesText(const std::string &text) {
  Env env;
  FileID f = env.buffer(text);
  RoutesResult r;
  r.ok = readRoutes(env.sm, f, env.diags, r.routes, r.format);
  r.diags = brief(env.diags);
  return r;
}

const ir::Route *findRoute(const std::vector<ir::Route> &rs, uint32_t prefix, unsigned len) {
  for (const auto &r : rs)
    if (r.prefix == prefix && r.len == len) return &r;
  return nullptr;
}

/// 1-based number of the first line equal to \p line.
uint32_t lineOf(const std::vector<std::string> &lines, const std::string &line) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i] == line) return uint32_t(i + 1);
  return 0;
}

} // namespace

TEST(Routes, Internet2) {
  const char *rel = "routing/derived/internet2_atla_ipv4.txt";
  std::vector<std::string> lines = splitLines(slurp(dataPath(rel)));
  ASSERT_EQ(lines.size(), 14087u);
  std::set<std::string> distinct;
  for (const auto &l : lines) distinct.insert(splitWs(l)[0]);

  Env env;
  FileID f = env.load(rel);
  std::vector<ir::Route> routes;
  std::string format;
  ASSERT_TRUE(readRoutes(env.sm, f, env.diags, routes, format)) << env.allDiags();
  EXPECT_EQ(format, "prefix-nexthop-iface");
  EXPECT_EQ(env.diags.diagnostics().size(), 0u);
  EXPECT_EQ(routes.size(), distinct.size());
  EXPECT_LT(routes.size(), lines.size()); // the table has duplicate prefixes

  // Every route is the first line of its prefix, and says what that line says.
  std::set<std::string> seen;
  size_t k = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> t = splitWs(lines[i]);
    if (!seen.insert(t[0]).second) continue;
    ASSERT_LT(k, routes.size());
    const ir::Route &r = routes[k++];
    SCOPED_TRACE(lines[i]);
    EXPECT_EQ(r.line, i + 1);
    EXPECT_EQ(ir::ipv4Str(r.prefix) + "/" + std::to_string(r.len), t[0]);
    EXPECT_EQ(r.iface, t[2]);
    if (t[2] == "[rjct]" || t[2] == "[dscd]")
      EXPECT_EQ(r.kind, ir::Route::Drop);
    else if (t[2][0] == '[')
      EXPECT_EQ(r.kind, ir::Route::Local);
    else if (t[1] == "-")
      EXPECT_EQ(r.kind, ir::Route::Attached);
    else {
      EXPECT_EQ(r.kind, ir::Route::Unicast);
      EXPECT_EQ(ir::ipv4Str(r.nextHop), t[1]);
    }
  }

  // Spot checks, with the lines as they are in the file.
  const ir::Route *def = findRoute(routes, 0, 0);
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(lines[0], "0.0.0.0/0 - [rjct]");
  EXPECT_EQ(def->kind, ir::Route::Drop);
  ASSERT_EQ(lines[2], "1.8.1.0/24 64.57.28.112 ge-6/1/0.0");
  const ir::Route *r3 = findRoute(routes, ip(1, 8, 1, 0), 24);
  ASSERT_NE(r3, nullptr);
  EXPECT_EQ(r3->kind, ir::Route::Unicast);
  EXPECT_EQ(r3->nextHop, ip(64, 57, 28, 112));
  EXPECT_EQ(r3->iface, "ge-6/1/0.0");
  EXPECT_EQ(r3->line, 3u);
  uint32_t rslv = lineOf(lines, "224.0.0.0/4 - [rslv]"), unknown = lineOf(lines, "224.0.0.0/4 - [?]");
  ASSERT_TRUE(rslv && unknown && rslv < unknown);
  const ir::Route *mc = findRoute(routes, ip(224, 0, 0, 0), 4);
  ASSERT_NE(mc, nullptr);
  EXPECT_EQ(mc->line, rslv); // the first entry wins
  EXPECT_EQ(mc->iface, "[rslv]");
  EXPECT_EQ(mc->kind, ir::Route::Local);
  ASSERT_NE(lineOf(lines, "64.57.16.66/32 - xe-1/0/2.11"), 0u);
  const ir::Route *host = findRoute(routes, ip(64, 57, 16, 66), 32);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->kind, ir::Route::Attached);
  EXPECT_EQ(host->iface, "xe-1/0/2.11");
}

TEST(Routes, StanfordCisco) {
  const char *rel = "routing/stanford_backbone/bbra_rtr_route.txt";
  std::vector<std::string> lines = splitLines(slurp(dataPath(rel)));
  ASSERT_EQ(splitWs(lines[0]), (std::vector<std::string>{"Prefix", "Next", "Hop", "Interface"}));
  // Route lines start with a digit; ECMP continuation lines start with blanks.
  size_t routeLines = 0, continuation = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    if (lines[i][0] == ' ')
      ++continuation;
    else
      ++routeLines;
  }
  EXPECT_GT(continuation, 0u);

  Env env;
  FileID f = env.load(rel);
  std::vector<ir::Route> routes;
  std::string format;
  ASSERT_TRUE(readRoutes(env.sm, f, env.diags, routes, format)) << env.allDiags();
  EXPECT_EQ(format, "cisco");
  EXPECT_EQ(env.diags.diagnostics().size(), 0u);
  EXPECT_EQ(routes.size(), routeLines); // no duplicate prefixes in this file

  for (const auto &r : routes) {
    std::vector<std::string> t = splitWs(lines[r.line - 1]);
    SCOPED_TRACE(lines[r.line - 1]);
    EXPECT_EQ(ir::ipv4Str(r.prefix) + "/" + std::to_string(r.len), t[0]);
    std::string iface = t.size() > 2 ? t[2] : "";
    EXPECT_EQ(r.iface, iface);
    if (iface == "Null0")
      EXPECT_EQ(r.kind, ir::Route::Drop);
    else if (t[1] == "attached")
      EXPECT_EQ(r.kind, ir::Route::Attached);
    else if (t[1] == "receive")
      EXPECT_EQ(r.kind, ir::Route::Local);
    else if (t[1] == "drop")
      EXPECT_EQ(r.kind, ir::Route::Drop);
    else {
      EXPECT_EQ(r.kind, ir::Route::Unicast);
      EXPECT_EQ(ir::ipv4Str(r.nextHop), t[1]);
    }
  }
  ASSERT_EQ(splitWs(lines[1]), (std::vector<std::string>{"0.0.0.0/0", "172.20.4.2", "Vlan2"}));
  EXPECT_EQ(routes[0].kind, ir::Route::Unicast);
  EXPECT_EQ(routes[0].nextHop, ip(172, 20, 4, 2));
  EXPECT_EQ(routes[0].line, 2u);
  ASSERT_EQ(splitWs(lines[2]), (std::vector<std::string>{"0.0.0.0/8", "drop"}));
  EXPECT_EQ(routes[1].kind, ir::Route::Drop);
  EXPECT_EQ(routes[1].iface, "");
  ASSERT_EQ(splitWs(lines[4]), (std::vector<std::string>{"10.0.0.0/8", "attached", "Null0"}));
  EXPECT_EQ(routes[3].kind, ir::Route::Drop);
}

TEST(Routes, AllStanfordFilesAndMulticast) {
  for (const char *name :
       {"bbra", "bbrb", "boza", "bozb", "goza", "gozb", "poza", "pozb", "roza", "rozb", "yoza", "yozb"}) {
    Env env;
    FileID f = env.load(std::string("routing/stanford_backbone/") + name + "_rtr_route.txt");
    std::vector<ir::Route> routes;
    std::string format;
    EXPECT_TRUE(readRoutes(env.sm, f, env.diags, routes, format)) << name << "\n" << env.allDiags();
    EXPECT_EQ(format, "cisco");
    EXPECT_GT(routes.size(), 1000u);
    if (std::string(name) == "bozb") {
      const ir::Route *mc = findRoute(routes, ip(224, 0, 0, 0), 4);
      ASSERT_NE(mc, nullptr);
      EXPECT_EQ(mc->kind, ir::Route::Local);
      EXPECT_EQ(mc->line, 1452u); // `224.0.0.0/4          multicast` (grep -n)
    }
  }
}

TEST(Routes, Malformed) {
  struct Case {
    std::string text, expected;
  } cases[] = {
      {"1.2.3.0/24 1.1.1.1 eth0\n10.0.0.1/8 1.1.1.1 eth0\n",
       "2:1: prefix 10.0.0.1/8 has host bits set (the network is 10.0.0.0/8)"},
      {"10.0.0.0/40 1.1.1.1 eth0\n", "1:10: prefix length 40 is out of range 0..32"},
      {"10.0.0.0/8 foo eth0\n", "1:12: malformed next hop 'foo' (expected an IPv4 address or '-')"},
      {"10.0.0.0/8 - \n", "1:13: missing the interface after the next hop"},
      {"10.0.0.0/8\n", "1:11: missing the next hop after the prefix"},
      {"10.0.0.0/8 1.1.1.1 eth0 extra stuff\n", "1:25: unexpected text 'extra' after the interface"},
      {"10.0.0/8 1.1.1.1 eth0\n", "1:1: malformed IPv4 address '10.0.0'"},
      {"Prefix  Next Hop  Interface\n10.0.0.0/8  somewhere  Vlan2\n",
       "2:13: unknown next hop 'somewhere' (expected an IPv4 address, attached, glean, receive, punt, multicast or "
       "drop)"},
      {"Prefix  Next Hop  Interface\n   172.20.10.6   Vlan11\n",
       "2:4: next-hop line without a prefix (no route above it)"},
      {"Prefix  Next Hop  Interface\n10.0.0.0/8  1.1.1.1  Vlan2\n   attached   Vlan11\n",
       "3:4: malformed next hop 'attached' on a continuation line (expected an IPv4 address)"},
  };
  for (const auto &c : cases) {
    auto r = routesText(c.text);
    EXPECT_FALSE(r.ok) << c.text;
    ASSERT_EQ(r.diags.size(), 1u) << c.text << ::testing::PrintToString(r.diags);
    EXPECT_EQ(r.diags[0], c.expected);
  }
}

TEST(Routes, CiscoContinuationAndDuplicates) {
  auto r = routesText("Prefix               Next Hop             Interface\n"
                      "10.1.0.0/16          172.20.10.3          Vlan11\n"
                      "                     172.20.10.6          Vlan11\n"
                      "10.1.0.0/16          172.20.10.9          Vlan12\n"
                      "10.2.0.0/16          glean                Vlan12\n"
                      "10.3.0.0/16          172.20.10.1          Null0\n");
  EXPECT_TRUE(r.ok) << ::testing::PrintToString(r.diags);
  EXPECT_EQ(r.format, "cisco");
  ASSERT_EQ(r.routes.size(), 3u);
  EXPECT_EQ(r.routes[0].nextHop, ip(172, 20, 10, 3));
  EXPECT_EQ(r.routes[0].line, 2u);
  EXPECT_EQ(r.routes[1].kind, ir::Route::Attached);
  EXPECT_EQ(r.routes[2].kind, ir::Route::Drop);
}

TEST(Routes, HostileInput) {
  std::mt19937 rng(777);
  for (int round = 0; round < 20; ++round) {
    std::string text(64 * 1024, '\0');
    for (char &c : text) c = char(rng() & 0xff);
    if (round % 2) text = "Prefix Next Hop Interface\n" + text;
    auto r = routesText(text);
    EXPECT_FALSE(r.ok);
    for (const auto &d : r.diags) EXPECT_LT(d.size(), 300u);
  }
  auto big = routesText(std::string(1 << 20, '9') + " 1.1.1.1 eth0\n" + std::string(1 << 20, ' ') + "x\n");
  ASSERT_EQ(big.diags.size(), 2u);
  EXPECT_EQ(big.diags[0].substr(0, 24), "1:1: malformed prefix '9");
  auto nul = routesText(std::string("10.0.0.0/8 1.1.1.1 e\0th0\n", 25));
  EXPECT_FALSE(nul.ok);
  ASSERT_EQ(nul.diags.size(), 1u);
  EXPECT_EQ(nul.diags[0], "1:21: control character '\\x00' in the interface name");
}

// ---- patterns ---------------------------------------------------------------------------------

namespace {

struct PatternsResult {
  bool ok;
  std::vector<ir::Pattern> patterns;
  std::vector<ir::PatternRule> rules; ///< the Suricata format's
  std::vector<std::string> diags;
  std::string text;
};
/// Reads file \p f as a pattern set, expecting it to be detected as \p format.
PatternsResult patternsOf(Env &env, FileID f, const char *expectedFormat) {
  PatternsResult r;
  std::string format;
  r.ok = readPatterns(env.sm, f, env.diags, r.patterns, format, &r.rules);
  EXPECT_EQ(format, expectedFormat);
  r.diags = brief(env.diags);
  for (const auto &d : env.diags.diagnostics()) r.text += env.diags.formatText(d);
  return r;
}
PatternsResult patternsText(const std::string &text, const char *expectedFormat = "hsbench") {
  Env env;
  return patternsOf(env, env.buffer(text), expectedFormat);
}
PatternsResult suricataText(const std::string &text) { return patternsText(text, "suricata"); }
/// The data file \p rel (Env::load) as Suricata rules.
PatternsResult suricataFile(const std::string &rel) {
  Env env;
  return patternsOf(env, env.load(rel), "suricata");
}

} // namespace

TEST(Patterns, HsbenchSamples) {
  struct File {
    const char *rel;
    size_t count;
  } files[] = {{"dpi/hsbench_samples/snort_literals", 3116},
               {"dpi/hsbench_samples/snort_pcres", 847},
               {"dpi/hsbench_samples/teakettle_2500", 2500}};
  for (const auto &file : files) {
    Env env;
    FileID f = env.load(file.rel);
    std::vector<ir::Pattern> patterns;
    std::string format;
    ASSERT_TRUE(readPatterns(env.sm, f, env.diags, patterns, format)) << env.allDiags();
    EXPECT_EQ(format, "hsbench");
    ASSERT_EQ(patterns.size(), file.count) << file.rel;
    // Every pattern is exactly its line: ID, then the text between ":/" and the last '/'.
    std::vector<std::string> lines = splitLines(slurp(dataPath(file.rel)));
    for (const auto &p : patterns) {
      const std::string &l = lines[p.line - 1];
      size_t colon = l.find(':'), last = l.rfind('/');
      EXPECT_EQ(std::to_string(p.id), l.substr(0, colon));
      EXPECT_EQ(p.regex, l.substr(colon + 2, last - colon - 2));
      EXPECT_EQ(p.flags, l.substr(last + 1));
    }
  }
}

TEST(Patterns, RegexWithSlashes) {
  std::vector<std::string> lines = splitLines(slurp(dataPath("dpi/hsbench_samples/snort_pcres")));
  ASSERT_EQ(lines[34], "35:/(sIda\\/sId|urua\\/uru)[abcd]\\.classPK/ims");
  Env env;
  FileID f = env.load("dpi/hsbench_samples/snort_pcres");
  std::vector<ir::Pattern> patterns;
  std::string format;
  ASSERT_TRUE(readPatterns(env.sm, f, env.diags, patterns, format));
  EXPECT_EQ(patterns[34].id, 35u);
  EXPECT_EQ(patterns[34].regex, "(sIda\\/sId|urua\\/uru)[abcd]\\.classPK");
  EXPECT_EQ(patterns[34].flags, "ims");
  EXPECT_EQ(patterns[34].line, 35u);
}

TEST(Patterns, Malformed) {
  struct Case {
    std::string text, expected;
  } cases[] = {
      {"1:/abc/i\n2:/def/x\n", "2:8: unknown pattern flag 'x' (hsbench flags are i s m H O V W 8 P L C Q)"},
      {"1:/abc/i\nabc\n", "2:1: expected a pattern of the form ID:/REGEX/FLAGS"},
      {"x1:/abc/\n", "1:1: pattern id 'x1' is not a decimal number"},
      {":/abc/\n", "1:1: missing the pattern id before ':'"},
      {"99999999999:/abc/\n", "1:1: pattern id 99999999999 is beyond 4294967295"},
      {"1:abc/\n", "1:3: expected '/' to open the regular expression after '1:'"},
      {"1:/abc\n", "1:3: missing the closing '/' of the regular expression"},
      {"1://i\n", "1:3: empty regular expression"},
      {"1:/abc/i{min_offset=4}\n", "1:9: hyperscan extended parameters '{min_offset=4}' are not supported"},
      {std::string("1:/a\0b/\n", 8), "1:5: NUL byte in the regular expression"},
  };
  for (const auto &c : cases) {
    auto r = patternsText(c.text);
    EXPECT_FALSE(r.ok);
    ASSERT_EQ(r.diags.size(), 1u) << ::testing::PrintToString(r.diags);
    EXPECT_EQ(r.diags[0], c.expected);
  }
}

TEST(Patterns, DuplicateIdHasANote) {
  auto r = patternsText("# set\n7:/abc/\n  \n007:/def/H\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text, "mem.txt:4:1: error: duplicate pattern id 7 [import-malformed]\n"
                    "    007:/def/H\n"
                    "    ^~~\n"
                    "mem.txt:2:1: note: pattern 7 first defined here\n"
                    "    7:/abc/\n"
                    "    ^\n");
  ASSERT_EQ(r.patterns.size(), 1u);
}

TEST(Patterns, AllFlagsAndTrimming) {
  auto r = patternsText("  10:/a/ismHOVW8PLCQ  \r\n");
  EXPECT_TRUE(r.ok) << r.text;
  ASSERT_EQ(r.patterns.size(), 1u);
  EXPECT_EQ(r.patterns[0].flags, "ismHOVW8PLCQ");
  EXPECT_EQ(r.patterns[0].regex, "a");
}

TEST(Patterns, HostileInput) {
  std::mt19937 rng(99);
  for (int round = 0; round < 20; ++round) {
    std::string text(64 * 1024, '\0');
    for (char &c : text) c = char(rng() & 0xff);
    auto r = patternsText(text);
    EXPECT_FALSE(r.ok);
    for (const auto &d : r.diags) EXPECT_LT(d.size(), 300u);
  }
  // A 1 MB regex is fine (Hyperscan decides); a 1 MB id is not.
  auto big = patternsText("1:/" + std::string(1 << 20, 'a') + "/i\n" + std::string(1 << 20, '5') + ":/x/\n");
  ASSERT_EQ(big.patterns.size(), 1u);
  ASSERT_EQ(big.diags.size(), 1u);
  EXPECT_EQ(big.diags[0].substr(0, 15), "2:1: pattern id");
  EXPECT_LT(big.diags[0].size(), 100u);
}

// ---- Suricata rules (import patterns, "suricata" format) ----------------------------------------

namespace {

/// The bytes a pattern of the importer matches: its regex is \xHH per byte.
std::string bytesOf(const std::string &regex) {
  std::string s;
  for (size_t i = 0; i + 3 < regex.size() + 1; i += 4) {
    EXPECT_EQ(regex.substr(i, 2), "\\x");
    s += char(std::stoi(regex.substr(i + 2, 2), nullptr, 16));
  }
  return s;
}

} // namespace

TEST(Suricata, SuricataVerifyCases) {
  {
    PatternsResult r = suricataFile("dpi/suricata_verify/alert-testmyids-not-established/test.rules");
    ASSERT_TRUE(r.ok) << r.text;
    const auto &patterns = r.patterns;
    const auto &rules = r.rules;
    ASSERT_EQ(patterns.size(), 2u);
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_EQ(patterns[0].id, 0u);
    EXPECT_EQ(patterns[0].line, 2u);
    EXPECT_EQ(bytesOf(patterns[0].regex), "uid=0(root)");
    EXPECT_EQ(patterns[0].flags, "");
    EXPECT_EQ(rules[0].sid, 1u);
    EXPECT_EQ(rules[0].line, 2u);
    EXPECT_EQ(rules[0].flow, ir::PatternRule::Established);
    EXPECT_EQ(rules[0].proto, 0);
    EXPECT_EQ(rules[0].msg, "GPL ATTACK_RESPONSE id check returned root");
    ASSERT_EQ(rules[0].contents.size(), 1u);
    EXPECT_EQ(rules[0].contents[0].pattern, 0u);
    EXPECT_EQ(rules[1].sid, 2u);
    EXPECT_EQ(rules[1].flow, ir::PatternRule::NotEstablished);
    EXPECT_EQ(rules[1].contents[0].pattern, 1u);
  }
  // The HTTP cases: http rules, their buffers, the default variables.
  {
    PatternsResult r = suricataFile("dpi/suricata_verify/http-chunked/test.rules");
    ASSERT_TRUE(r.ok) << r.text;
    const auto &patterns = r.patterns;
    const auto &rules = r.rules;
    ASSERT_EQ(rules.size(), 24u);
    EXPECT_TRUE(rules[0].http);
    EXPECT_EQ(patterns[rules[0].contents[0].pattern].buffer, ir::PatternRule::Payload);
    EXPECT_EQ(rules[6].sid, 21u);
    EXPECT_EQ(patterns[rules[6].contents[0].pattern].buffer, ir::PatternRule::HttpHeader);
    EXPECT_EQ(patterns[rules[18].contents[0].pattern].buffer, ir::PatternRule::HttpRequestHeader);
  }
  PatternsResult r = suricataFile("dpi/suricata_verify/detect-absent-negated-content/test.rules");
  ASSERT_TRUE(r.ok) << r.text;
  const auto &patterns = r.patterns;
  const auto &rules = r.rules;
  ASSERT_EQ(rules.size(), 11u);
  const ir::PatternRule &r7 = rules[3]; // sid 7: http.uri; bsize:1; content:"/"; http.referer; absent: or_else; pcre:!"/example/"
  EXPECT_EQ(r7.sid, 7u);
  EXPECT_TRUE(r7.src.contains(0xc0a80001));  // $HOME_NET
  EXPECT_FALSE(r7.dst.contains(0xc0a80001)); // $EXTERNAL_NET
  EXPECT_TRUE(r7.dst.contains(0x0c1079ab));
  ASSERT_EQ(r7.checks.size(), 2u);
  EXPECT_EQ(r7.checks[0].buffer, ir::PatternRule::HttpUri);
  EXPECT_EQ(r7.checks[0].bsizeLo, 1u);
  EXPECT_EQ(r7.checks[0].bsizeHi, 1u);
  EXPECT_EQ(r7.checks[1].buffer, ir::PatternRule::HttpReferer);
  EXPECT_EQ(r7.checks[1].absent, ir::PatternRule::BufferCheck::OrElse);
  ASSERT_EQ(r7.contents.size(), 2u);
  EXPECT_TRUE(r7.contents[1].negated);
  EXPECT_EQ(patterns[r7.contents[1].pattern].regex, "example");
  EXPECT_EQ(patterns[r7.contents[1].pattern].buffer, ir::PatternRule::HttpReferer);
}

TEST(Suricata, HeadersAndContents) {
  auto r = suricataText("# local rules\n"
                        "alert tcp [10.0.0.0/8, 192.168.1.1] [1024:,80] <> !172.16.0.0/12 ![22,443] "
                        "(msg:\"two; contents\"; content:\"GET \"; content:!\"Mozilla\"; nocase; "
                        "content:\"a|3b 22|b\\\"c\"; flow:established,to_server; sid:7; rev:2;)\n"
                        "alert udp any any -> 10.1.2.3 :1023 (content:\"|00|\"; nocase; sid:4000000000;)\n");
  ASSERT_TRUE(r.ok) << r.text;
  ASSERT_EQ(r.patterns.size(), 4u);
  ASSERT_EQ(r.rules.size(), 2u);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(r.patterns[i].id, i);
  EXPECT_EQ(bytesOf(r.patterns[0].regex), "GET ");
  EXPECT_EQ(r.patterns[0].flags, "");
  EXPECT_EQ(bytesOf(r.patterns[1].regex), "Mozilla");
  EXPECT_EQ(r.patterns[1].flags, "i");
  EXPECT_EQ(bytesOf(r.patterns[2].regex), "a;\"b\"c");
  const ir::PatternRule &k = r.rules[0];
  EXPECT_EQ(k.sid, 7u);
  ASSERT_EQ(k.contents.size(), 3u);
  EXPECT_FALSE(k.contents[0].negated);
  EXPECT_TRUE(k.contents[1].negated);
  EXPECT_EQ(k.contents[2].pattern, 2u);
  EXPECT_EQ(k.proto, 6);
  EXPECT_TRUE(k.bidirectional);
  EXPECT_EQ(k.flow, ir::PatternRule::Established | ir::PatternRule::ToServer);
  EXPECT_EQ(k.msg, "two; contents");
  EXPECT_TRUE(k.src.contains(0x0a010203));
  EXPECT_TRUE(k.src.contains(0xc0a80101));
  EXPECT_FALSE(k.src.contains(0xc0a80102));
  EXPECT_FALSE(k.dst.contains(0xac100001));
  EXPECT_TRUE(k.dst.contains(0xac200001));
  EXPECT_TRUE(k.sport.contains(80) && k.sport.contains(1024) && k.sport.contains(65535));
  EXPECT_FALSE(k.sport.contains(81));
  EXPECT_FALSE(k.dport.contains(22) || k.dport.contains(443));
  EXPECT_TRUE(k.dport.contains(80));
  const ir::PatternRule &u = r.rules[1];
  EXPECT_EQ(u.sid, 4000000000u);
  EXPECT_EQ(r.patterns[3].flags, "i");
  EXPECT_EQ(u.proto, 17);
  EXPECT_TRUE(u.dport.contains(1023));
  EXPECT_FALSE(u.dport.contains(1024));
  EXPECT_TRUE(u.dst.contains(0x0a010203));
  EXPECT_FALSE(u.dst.contains(0x0a010204));
}

TEST(Suricata, Malformed) {
  struct Case {
    std::string text, expected;
  } cases[] = {
      {"alert ip any any -> any any (content:\"x\"; sid:1;)\ndrop ip any any -> any any (content:\"x\"; sid:2;)\n",
       "2:1: only alert rules are supported, not 'drop' (the dpi element's action says what a match does)"},
      {"alert dns any any -> any any (content:\"x\"; sid:1;)\n",
       "1:7: protocol 'dns' is not supported: the dpi element matches IPv4 payloads (ip, tcp, udp, icmp) and HTTP "
       "requests (http)"},
      {"alert ip $HOME_NETWORK any -> any any (content:\"x\"; sid:1;)\n",
       "1:10: rule variable '$HOME_NETWORK' is not one of Suricata's default address-groups (HOME_NET, EXTERNAL_NET, "
       "...) and the import does not set it (import patterns \"FILE\" as NAME HOME_NETWORK \"VALUE\";)"},
      {"alert tcp any [$HTTP_PORTS,8080] -> any any (content:\"x\"; sid:1;)\n",
       "1:16: rule variable '$HTTP_PORTS' inside a list: not supported (write the ports)"},
      {"alert ip 10.0.0.300 any -> any any (content:\"x\"; sid:1;)\n",
       "1:10: '10.0.0.300' is not an IPv4 address or network (IPv6 is not supported)"},
      {"alert ip any 80 -> any any (content:\"x\"; sid:1;)\n", "1:14: ports other than any need a tcp or udp rule"},
      {"alert tcp any 99999 -> any any (content:\"x\"; sid:1;)\n",
       "1:15: '99999' is not a port or port range (N, N:M, N:, :M; 0 to 65535)"},
      {"alert ip 10.0.0.0/99999999999 any -> any any (content:\"x\"; sid:1;)\n",
       "1:10: '10.0.0.0/99999999999': the prefix length must be 0 to 32"},
      {"alert tcp any 99999999999 -> any any (content:\"x\"; sid:1;)\n",
       "1:15: '99999999999' is not a port or port range (N, N:M, N:, :M; 0 to 65535)"},
      {"alert tcp !any any -> any any (content:\"x\"; sid:1;)\n", "1:11: '!any' matches no address"},
      {"alert tcp any any -> any !any (content:\"x\"; sid:1;)\n", "1:26: '!any' matches no port"},
      {"alert tcp any any => any any (content:\"x\"; sid:1;)\n",
       "1:19: expected '->' or '<>' between source and destination"},
      {"alert tcp any any -> any any (content:\"x\"; http.uri; sid:1;)\n",
       "1:44: 'http.uri' is a buffer of HTTP requests: the rule's protocol must be http"},
      {"alert http any any -> any any (http.response_body; content:\"x\"; sid:1;)\n",
       "1:32: keyword 'http.response_body' is not supported (the HTTP buffers of requests are: http.uri, http.uri.raw, "
       "http.method, http.protocol, http.request_line, http.header, http.header.raw, http.request_header, "
       "http.header_names, http.host, http.host.raw, http.user_agent, http.referer, http.cookie, http.content_type, "
       "http.content_len, http.accept, http.accept_lang, http.accept_enc, http.connection)"},
      {"alert http any any -> any any (http_uri; content:\"x\"; sid:1;)\n", "1:32: http_uri must follow a content"},
      {"alert http any any -> any any (content:\"x\"; bsize:3; sid:1;)\n",
       "1:45: bsize needs a buffer before it (e.g. http.uri;)"},
      {"alert http any any -> any any (http.uri; bsize:5<>6; sid:1;)\n",
       "1:48: bsize wants N, <N, >N, <=N, >=N or N<>M (a range with a size strictly between N and M)"},
      {"alert http any any -> any any (http.uri; absent; content:\"x\"; sid:1;)\n",
       "1:42: absent: the rule also matches contents in http.uri (write 'absent: or_else;' for \"not there, or its "
       "contents hold\")"},
      {"alert http any any -> any any (http.uri; absent: maybe; sid:1;)\n", "1:50: absent takes no value or or_else"},
      {"alert http any any -> any any (pcre:\"/x/R\"; sid:1;)\n",
       "1:41: pcre flag 'R' is not supported (i s m, and the buffers U I M H D C V W Z, are; offsets and relative "
       "matches are not)"},
      {"alert http any any -> any any (pcre:\"/x/UV\"; sid:1;)\n", "1:42: pcre names two buffers"},
      {"alert http any any -> any any (pcre:\"x\"; sid:1;)\n",
       "1:37: pcre wants a quoted /regex/flags, e.g. pcre:\"/^GET /i\""},
      {"alert tcp any any -> any any (pcre:\"/x/U\"; sid:1;)\n",
       "1:36: 'http.uri' is a buffer of HTTP requests: the rule's protocol must be http"},
      {"alert tcp any any -> any any (content:\"x\"; depth:4; sid:1;)\n",
       "1:44: keyword 'depth' is not supported (supported: content, pcre, nocase, fast_pattern, pkt_data, the HTTP "
       "request buffers, bsize, absent, flow, sid, msg, rev, classtype, gid, priority, metadata, reference, target)"},
      {"alert tcp any any -> any any (content:\"x\"; flow:only_stream; sid:1;)\n",
       "1:49: flow option 'only_stream' is not supported (established, not_established, to_server, from_client, "
       "to_client, from_server, stateless are)"},
      {"alert tcp any any -> any any (content:\"x\"; flow:established,not_established; sid:1;)\n",
       "1:49: flow is both established and not_established"},
      {"alert tcp any any -> any any (content:\"x\"; sid:1;)\nalert tcp any any -> any any (content:\"y\"; sid:1;)\n",
       "2:44: duplicate sid 1"},
      {"alert tcp any any -> any any (content:\"x\";)\n", "1:1: the rule has no sid"},
      {"alert tcp any any -> any any (msg:\"m\"; sid:3;)\n",
       "1:1: the rule has no content, pcre, bsize or absent (nothing to match)"},
      {"alert tcp any any -> any any (fast_pattern; content:\"x\"; sid:3;)\n", "1:31: fast_pattern before any content"},
      {"alert http any any -> any any (pcre:\"//\"; sid:3;)\n", "1:37: empty pcre"},
      {"alert http any any -> any any (pcre:\"/a;b/\"; sid:3;)\n", "1:40: ';' inside a pcre must be escaped"},
      {"alert http any any -> any any (content:\"x\"; pcre:\"/y/\"; nocase; sid:3;)\n",
       "1:57: nocase must follow a content (a pcre says /i)"},
      {"alert tcp any any -> any any (content:\"|4|\"; sid:3;)\n", "1:41: a |hex| run wants pairs of hex digits"},
      {"alert tcp any any -> any any (content:\"\"; sid:3;)\n", "1:39: empty content"},
      {"alert tcp any any -> any any (content:x; sid:3;)\n",
       "1:39: content wants a quoted string, e.g. content:\"uid=0|28|root|29|\""},
      {"alert tcp any any -> any any (nocase; content:\"x\"; sid:3;)\n",
       "1:31: nocase must follow a content (a pcre says /i)"},
      {"alert tcp any any -> any any (content:\"x\"; sid:3)\n", "1:44: option 'sid' is not ended by ';'"},
      {"alert tcp any any -> any any (content:\"x\"; sid:4294967296;)\n", "1:48: sid wants a number from 0 to 4294967295"},
      {"alert tcp any any -> any any content:\"x\"; sid:3;)\n", "1:30: expected '(' and the rule's options"},
      {"alert tcp any any -> any any (content:\"x\"; \\\n sid:3;)\n",
       "1:44: a rule continued on the next line ('\\' at the end) is not supported"},
  };
  for (const auto &c : cases) {
    auto r = suricataText(c.text);
    EXPECT_FALSE(r.ok) << c.text;
    ASSERT_GE(r.diags.size(), 1u) << c.text;
    EXPECT_EQ(r.diags[0], c.expected) << c.text;
  }
}

// Variables the import sets replace Suricata's defaults, also inside other defaults
// ($EXTERNAL_NET is !$HOME_NET), and may refer to each other.
TEST(Suricata, ImportVariables) {
  Env env;
  FileID f = env.buffer("alert tcp $HOME_NET any -> $EXTERNAL_NET $WEB (content:\"x\"; sid:1;)\n"
                        "alert tcp $INSIDE $HIGH -> any any (content:\"y\"; sid:2;)\n");
  RuleVariables vars = {{"HOME_NET", "[10.1.0.0/16, 10.2.0.0/16]"}, {"WEB", "[80,8000:8080]"},
                        {"INSIDE", "$HOME_NET"}, {"HIGH", "!:1023"}, {"UNUSED", "[1.2.3.4]"}};
  std::set<std::string> used;
  std::vector<ir::Pattern> patterns;
  std::vector<ir::PatternRule> rules;
  std::string format;
  ASSERT_TRUE(readPatterns(env.sm, f, env.diags, patterns, format, &rules, &vars, &used)) << env.allDiags();
  ASSERT_EQ(rules.size(), 2u);
  const ir::PatternRule &a = rules[0], &b = rules[1];
  EXPECT_TRUE(a.src.contains(0x0a020304));
  EXPECT_FALSE(a.src.contains(0x0a030304));
  EXPECT_FALSE(a.src.contains(0xc0a80001)); // the default HOME_NET's 192.168/16 is gone
  EXPECT_TRUE(a.dst.contains(0xc0a80001));  // $EXTERNAL_NET follows the import's HOME_NET
  EXPECT_FALSE(a.dst.contains(0x0a010001));
  EXPECT_TRUE(a.dport.contains(8000));
  EXPECT_FALSE(a.dport.contains(443));
  EXPECT_TRUE(b.src.contains(0x0a010001));
  EXPECT_TRUE(b.sport.contains(1024));
  EXPECT_FALSE(b.sport.contains(1023));
  EXPECT_EQ(used, (std::set<std::string>{"HIGH", "HOME_NET", "INSIDE", "WEB"}));
}

TEST(Suricata, HostileInput) {
  std::mt19937 rng(7);
  const std::string alphabet =
      "alert tcp http any -> <> ! [ ] , : ; ( ) \" | \\ / content pcre sid flow nocase http.uri bsize absent or_else "
      "$HOME_NET 0123456789 abc";
  for (int round = 0; round < 200; ++round) {
    std::string text = "alert ";
    size_t n = rng() % 300;
    for (size_t i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
    text += "\n";
    Env env;
    FileID f = env.buffer(text);
    std::vector<ir::Pattern> patterns;
    std::vector<ir::PatternRule> rules;
    std::string format;
    readPatterns(env.sm, f, env.diags, patterns, format, &rules);
    for (const auto &d : brief(env.diags)) EXPECT_LT(d.size(), 400u);
  }
}
