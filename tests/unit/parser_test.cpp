//===- tests/unit/parser_test.cpp - From text to AST: shapes, ranges, errors ------------------===//
#include "lang/Parser.h"

#include <gtest/gtest.h>

using namespace metron;

namespace {
struct Parsed {
  SourceManager sm;
  std::unique_ptr<DiagnosticEngine> diags;
  std::optional<ast::File> file;
  std::string errors() const {
    std::string s;
    for (const auto &d : diags->diagnostics()) s += diags->formatText(d);
    return s;
  }
};
std::unique_ptr<Parsed> parse(const std::string &text) {
  auto p = std::make_unique<Parsed>();
  p->diags = std::make_unique<DiagnosticEngine>(p->sm);
  p->file = parseFile(p->sm, p->sm.addBuffer("t.metron", text), *p->diags);
  return p;
}
} // namespace

TEST(Parser, TheSketchFromTheIssue) {
  auto p = parse(R"(import classbench "fw1_1K" as campus;
nf firewall {
    rules campus action allow;
    rule deny  udp dst 10.0.0.0/8 dport 53;
    default deny;
}
nf napt stateful { napt ip.src to 203.0.113.1 ports 1024-65535; }
chain web { in port0 -> firewall -> napt -> out port1; }
)");
  ASSERT_TRUE(p->file) << p->errors();
  const ast::File &f = *p->file;
  ASSERT_EQ(f.imports.size(), 1u);
  EXPECT_EQ(f.imports[0].path.a, "fw1_1K");
  ASSERT_EQ(f.nfs.size(), 2u);
  const auto &rule = f.nfs[0].stmts[1];
  EXPECT_EQ(rule.kind, ast::Stmt::Rule);
  EXPECT_EQ(rule.action.kind, ast::Action::Deny);
  ASSERT_EQ(rule.matches.size(), 3u);
  EXPECT_EQ(rule.matches[1].kind, ast::Match::Dst);
  EXPECT_EQ(rule.matches[1].value.str(), "10.0.0.0/8");
  EXPECT_EQ(rule.matches[1].value.range.begin.line, 4u);
  EXPECT_EQ(rule.matches[1].value.range.begin.col, 24u);
  EXPECT_EQ(rule.matches[1].value.range.end.col, 34u); // one past the end
  EXPECT_EQ(f.nfs[1].name.text, "napt"); // a keyword is fine as a name
  ASSERT_EQ(f.chains[0].paths[0].steps.size(), 4u);
  EXPECT_EQ(f.chains[0].paths[0].steps[0].kind, ast::Endpoint::In);
  EXPECT_EQ(f.chains[0].paths[0].steps[3].kind, ast::Endpoint::Out);
}

TEST(Parser, ColumnsCountBytesAfterNonAscii) {
  // "é" is two bytes; the caret of a later error must land on the right byte column.
  auto p = parse("// café\nnf a { dec ip.ttl; } ;\n");
  ASSERT_FALSE(p->file);
  const auto &d = p->diags->diagnostics()[0];
  EXPECT_EQ(d.range.begin.line, 2u);
  EXPECT_EQ(d.range.begin.col, 22u);
}

TEST(Parser, ReportsEveryErrorOnce) {
  auto p = parse("nf a { rule deny udp dport 53\n default deny; }\nnf b { set ip.dscp = ; }\nnf c { $ }\n");
  ASSERT_FALSE(p->file);
  EXPECT_EQ(p->diags->numErrors(), 3u) << p->errors();
  EXPECT_EQ(p->diags->diagnostics()[0].message, "expected ';' after '53'");
  EXPECT_EQ(p->diags->diagnostics()[2].message, "unexpected character '$'");
}

TEST(Parser, EmptyFileIsValid) {
  auto p = parse("");
  ASSERT_TRUE(p->file);
  EXPECT_TRUE(p->file->order.empty());
}

TEST(Parser, StringEscapesAndComments) {
  auto p = parse("/* block\n comment */ nf bb blackbox { process \"/bin/sh -c \\\"x\\\"\"; } // tail");
  ASSERT_TRUE(p->file) << p->errors();
  EXPECT_EQ(p->file->nfs[0].stmts[0].values[0].a, "/bin/sh -c \"x\"");
}

TEST(Parser, PrintAST) {
  auto p = parse("nf r { lookup ip.dst in t ports (\"eth0\" -> east) miss allow; dec ip.ttl; }\n");
  ASSERT_TRUE(p->file) << p->errors();
  EXPECT_EQ(ast::printAST(*p->file, p->sm),
            "File t.metron\n"
            "  NF r <1:1>\n"
            "    Lookup ip.dst in t \"eth0\"->east miss allow <1:8>\n"
            "    Dec ip.ttl <1:62>\n");
}

TEST(Parser, ProtocolKeywordsAsValues) {
  // `tcp` alone is a protocol match; after proto or ip.proto it is a protocol name; with a dot
  // it starts a field; `tcp udp` is two protocol matches (sema rejects matching ip.proto twice).
  auto p = parse("nf a { rule deny proto tcp; rule deny ip.proto udp; rule deny tcp.flags syn; rule deny tcp udp; }");
  ASSERT_TRUE(p->file) << p->errors();
  const auto &s = p->file->nfs[0].stmts;
  EXPECT_EQ(s[0].matches[0].kind, ast::Match::ProtoNum);
  EXPECT_EQ(s[0].matches[0].value.a, "tcp");
  EXPECT_EQ(s[1].matches[0].kind, ast::Match::Field);
  EXPECT_EQ(s[1].matches[0].value.a, "udp");
  EXPECT_EQ(s[2].matches[0].field.name, "tcp.flags");
  ASSERT_EQ(s[3].matches.size(), 2u);
  EXPECT_EQ(s[3].matches[1].kind, ast::Match::Proto);
}

TEST(Parser, LongTokensAreCutInMessages) {
  auto p = parse("nf a { dec ip.ttl; } " + std::string(100000, 'x') + " ;");
  ASSERT_FALSE(p->file);
  const std::string &m = p->diags->diagnostics()[0].message;
  EXPECT_LT(m.size(), 200u) << m.substr(0, 200);
  EXPECT_NE(m.find("xxx..."), std::string::npos);
}
