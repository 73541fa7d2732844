//===- tests/unit/sema_test.cpp - Semantic analysis: the NF IR it builds and what it rejects --===//
#include "compiler/sema/Sema.h"
#include "lang/Parser.h"

#include <gtest/gtest.h>

using namespace metron;
using namespace metron::ir;

namespace {
struct Checked {
  SourceManager sm;
  std::unique_ptr<DiagnosticEngine> diags;
  std::unique_ptr<Module> module;
  std::vector<std::string> messages() const {
    std::vector<std::string> v;
    for (const auto &d : diags->diagnostics()) v.push_back(std::string(diagInfo(d.kind).flag) + ": " + d.message);
    return v;
  }
};
std::unique_ptr<Checked> check(const std::string &text) {
  auto c = std::make_unique<Checked>();
  c->diags = std::make_unique<DiagnosticEngine>(c->sm);
  auto ast = parseFile(c->sm, c->sm.addBuffer(std::string(METRON_SOURCE_DIR) + "/tests/t.metron", text), *c->diags);
  if (ast) c->module = analyze(*ast, c->sm, *c->diags);
  return c;
}
const std::string kData = std::string(METRON_DATA_DIR) + "/";
} // namespace

TEST(Sema, RulesBecomeFieldMatches) {
  auto c = check("nf f { rule set(ip.dscp = 46, vlan.id = 7) udp dst 10.0.0.0/8 dport 5060-5061 tcp.flags syn; default deny; }\n"
                 "chain ch { in p0 -> f -> out p1; }\n");
  ASSERT_TRUE(c->module);
  EXPECT_TRUE(c->messages().empty()) << c->messages()[0];
  const auto *cl = dyn_cast<Classifier>(c->module->nfs[0]->elements[0].get());
  ASSERT_TRUE(cl);
  ASSERT_EQ(cl->rules.size(), 1u);
  const Rule &r = cl->rules[0];
  EXPECT_EQ(r.matchStr(), "ip.dst=10.0.0.0/8 ip.proto=17 tp.dst=5060-5061 tcp.flags=0x2/0x2");
  EXPECT_EQ(r.action.str(), "set(ip.dscp=46, vlan.id=7)");
  EXPECT_EQ(cl->defaultAction.kind, Action::Deny);
}

TEST(Sema, ImportsEveryNthRoute) {
  auto c = check("import routes \"" + kData + "routing/derived/internet2_atla_ipv4.txt\" as i2 every 4;\n"
                 "nf r { lookup ip.dst in i2; dec ip.ttl; }\nchain ch { in p0 -> r -> out p1; }\n");
  ASSERT_TRUE(c->module);
  EXPECT_FALSE(c->diags->hasErrors()) << c->messages()[0];
  // 14,087 lines, 1 in 4: the paper's 3,522 routes (sampling happens on lines, before
  // duplicate prefixes are resolved, as `awk 'NR % 4 == 1'` would).
  EXPECT_EQ(c->module->imports[0]->routes.size(), 3522u);
  EXPECT_EQ(c->module->imports[0]->routes[1].line, 5u);
}

TEST(Sema, ChainsAreOrderedDAGs) {
  auto c = check("nf fw { rule branch voip udp dport 5060; default allow; }\n"
                 "nf q { set ip.dscp = 46; }\nnf m stateful { monitor; }\n"
                 "chain ch { in p0 -> fw -> m -> out p1; fw.voip -> q -> m; }\n");
  ASSERT_TRUE(c->module);
  EXPECT_TRUE(c->messages().empty());
  const Chain &ch = c->module->chains[0];
  std::vector<std::string> order;
  for (uint32_t v : ch.topoOrder) order.push_back(ch.nodes[v].name);
  EXPECT_EQ(order, (std::vector<std::string>{"p0", "fw", "q", "m", "p1"}));
  EXPECT_EQ(c->module->nfs[0]->outputs, (std::vector<std::string>{"out", "voip"}));
}

TEST(Sema, FieldFlowWarnings) {
  auto c = check("nf a { set ip.dscp = 1; }\nnf b { set ip.dscp = 2; }\n"
                 "nf n stateful { napt ip.src to 1.2.3.4 ports 1024-2047; }\n"
                 "nf acl { rule deny src 1.2.3.4; default allow; }\nnf mon stateful { monitor; }\n"
                 "chain ch { in p0 -> a -> b -> n -> mon -> acl -> out p1; }\n");
  auto m = c->messages();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], "conflicting-write: ip.dscp written by 'a' is overwritten by 'b' before anything reads it");
  EXPECT_EQ(m[1], "read-after-stateful-write: 'acl' reads ip.src after stateful NF 'n' rewrote it; this check cannot be offloaded");
}

TEST(Sema, ConditionalWritesDoNotConflict) {
  // A rule's set() writes only the packets it matches: an earlier write is not dead.
  auto c = check("nf a { set ip.dscp = 1; }\nnf b { rule set(ip.dscp = 2) udp; default allow; }\n"
                 "chain ch { in p0 -> a -> b -> out p1; }\n");
  EXPECT_TRUE(c->messages().empty());
}

TEST(Sema, ShadowedInlineRules) {
  auto c = check("nf f { rule allow src 10.0.0.0/8; rule deny src 10.1.0.0/16 udp; default deny; }\n"
                 "chain ch { in p0 -> f -> out p1; }\n");
  auto m = c->messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "shadowed-rule: rule 2 in NF 'f' can never match: rule 1 matches every packet it does");
}

TEST(Sema, StatefulStatementNeedsStatefulNF) {
  auto c = check("nf n { napt ip.src to 1.2.3.4 ports 1-2; }\nchain ch { in p0 -> n -> out p1; }\n");
  auto m = c->messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "not-stateful: 'napt' keeps state, but NF 'n' is not declared stateful");
}

TEST(Sema, ImportErrorsPointIntoTheDataFile) {
  auto c = check("import classbench \"" + kData + "routing/derived/internet2_atla_ipv4.txt\" as wrong;\n"
                 "nf f { rules wrong action allow; }\nchain ch { in p0 -> f -> out p1; }\n");
  ASSERT_TRUE(c->diags->hasErrors());
  const Diagnostic &d = c->diags->diagnostics()[0];
  EXPECT_EQ(d.kind, DiagKind::ImportMalformed);
  EXPECT_NE(c->sm.file(d.range.begin.file).path.find("internet2_atla_ipv4.txt"), std::string::npos);
  EXPECT_EQ(d.range.begin.line, 1u);
  ASSERT_FALSE(d.notes.empty());
  EXPECT_EQ(d.notes.back().message, "in the file imported here");
}

TEST(Sema, EveryNthKeepsTheSameRulesAsTheFullImport) {
  // Regression: thinning once self-moved entry 0 and turned rule 1 into a match-all.
  const std::string path = kData + "classbench/pclasseval_song/fw1_100";
  auto full = check("import classbench \"" + path + "\" as a;\nnf f { rules a action allow; }\nchain c { in p -> f -> out q; }\n");
  auto thin = check("import classbench \"" + path + "\" as a every 4;\nnf f { rules a action allow; }\nchain c { in p -> f -> out q; }\n");
  const auto &all = full->module->imports[0]->rules, &some = thin->module->imports[0]->rules;
  ASSERT_EQ(some.size(), (all.size() + 3) / 4);
  for (size_t i = 0; i < some.size(); ++i) {
    EXPECT_EQ(some[i].matchStr(), all[4 * i].matchStr()) << i;
    EXPECT_EQ(some[i].importIndex, all[4 * i].importIndex);
  }
  EXPECT_FALSE(some[0].matches.empty());
}

TEST(Sema, FieldFlowFollowsOutputPorts) {
  // Rule 1's write leaves by `out`; the `slow` branch never carries it, so slowpath's write
  // does not kill it.
  auto c = check("nf acl { rule set(ip.dscp = 46) udp; rule branch slow tcp; default allow; }\n"
                 "nf slowpath { set ip.dscp = 8; }\nnf after { set ip.dscp = 1; }\n"
                 "chain ch { in p0 -> acl -> out p1; acl.slow -> slowpath -> after -> out p2; }\n");
  auto m = c->messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "conflicting-write: ip.dscp written by 'slowpath' is overwritten by 'after' before anything reads it");
}

TEST(Sema, EveryNKeepsACiscoHeaderAndComments) {
  // The header line is not an entry: sampling must keep it, or the file reads as another format.
  auto full = check("import routes \"" + kData + "routing/stanford_backbone/bbra_rtr_route.txt\" as r;\n"
                    "nf f { lookup ip.dst in r; }\nchain c { in p -> f -> out q; }\n");
  auto half = check("import routes \"" + kData + "routing/stanford_backbone/bbra_rtr_route.txt\" as r every 2;\n"
                    "nf f { lookup ip.dst in r; }\nchain c { in p -> f -> out q; }\n");
  ASSERT_FALSE(full->diags->hasErrors());
  ASSERT_FALSE(half->diags->hasErrors()) << half->messages()[0];
  EXPECT_EQ(half->module->imports[0]->format, full->module->imports[0]->format);
  const auto &all = full->module->imports[0]->routes, &some = half->module->imports[0]->routes;
  EXPECT_NEAR(double(some.size()), all.size() / 2.0, all.size() * 0.05);
  EXPECT_EQ(some[0].line, all[0].line);
}

TEST(Sema, ValueLimitsOfStatements) {
  auto c = check("nf a stateful { ratelimit 1099511627776 gbps; napt ip.src to 1.2.3.4 ports 0x0400/0xfc00; }\n"
                 "nf b { rule branch x tcp; default allow; output in, x; }\n"
                 "chain ch { in p0 -> a -> b -> out p1; b.x -> out p2; }\n");
  auto m = c->messages();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0], "bad-range: rate 1099511627776 gbps is beyond 10 Tbps");
  EXPECT_EQ(m[1], "bad-value: napt ports must be a range lo-hi, not '0x0400/0xfc00'");
  EXPECT_EQ(m[2], "bad-value: 'in' is the NF's input; an output port needs another name"); // `output x` after `branch x` is fine
}

TEST(Sema, OneOutputCannotFeedTwoInputsOfABlackbox) {
  auto c = check("nf a { dec ip.ttl; }\nnf bb blackbox { device \"mbox\"; input i1, i2; output o; }\n"
                 "chain ch { in p0 -> a -> bb.i1; a -> bb.i2; bb.o -> out p1; }\n");
  auto m = c->messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "duplicate-connection: output 'out' of 'a' is already connected to 'bb.i1'");
}

TEST(Sema, StatelessOverwriteEndsTheStatefulDependency) {
  auto c = check("nf n stateful { napt ip.src to 1.2.3.4 ports 1024-2047; }\nnf s { set ip.src = 9.9.9.9; }\n"
                 "nf acl { rule deny src 9.9.9.9; default allow; }\n"
                 "chain ch { in p0 -> n -> s -> acl -> out p1; }\n");
  auto m = c->messages();
  ASSERT_EQ(m.size(), 1u); // napt's write is dead, but acl no longer depends on napt
  EXPECT_EQ(m[0], "conflicting-write: ip.src written by 'n' is overwritten by 's' before anything reads it");
}
