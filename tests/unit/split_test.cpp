//===- tests/unit/split_test.cpp - The stateless/stateful split and device profiles ----------===//
///
/// \file
/// Synthesized tables are built by hand here (classes, groups, paths into a parsed chain), so
/// every expectation follows from Split.h's rules and the device profiles, not from synthesis.
/// Covered: the paper's rule-3/rule-4 example (§2.3.3) both ways, transitive blocking,
/// capacity (including a class that does not fit followed by one that does), range and mask
/// expansion counts, priority levels, write offload per tag kind, tag assignment and the tag
/// space error, jumps between device tables, the diagnostics, and strict profile parsing.
//===----------------------------------------------------------------------------------------===//
#include "compiler/sema/Sema.h"
#include "compiler/split/Split.h"
#include "lang/Parser.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>

using namespace metron;
using namespace metron::split;
using ir::FieldId;
using ir::FieldMatch;
using synth::Box;
using synth::Omega;
using synth::Terminal;
using synth::WriteExpr;

namespace {

FieldMatch proto(uint64_t p) { return FieldMatch::exact(FieldId::IpProto, p); }
FieldMatch dport(uint64_t lo, uint64_t hi) { return FieldMatch::range(FieldId::TpDst, lo, hi); }
FieldMatch sport(uint64_t lo, uint64_t hi) { return FieldMatch::range(FieldId::TpSrc, lo, hi); }
FieldMatch src(uint32_t a, unsigned len) { return FieldMatch::prefix(FieldId::IpSrc, a, len); }
FieldMatch synFlag() { return FieldMatch::masked(FieldId::TcpFlags, 0x02, 0x02); }
uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

Box box(std::vector<FieldMatch> ms) {
  std::stable_sort(ms.begin(), ms.end(), [](const FieldMatch &a, const FieldMatch &b) { return a.field < b.field; });
  Box b;
  b.m = std::move(ms);
  return b;
}

DeviceProfile builtin(const std::string &name) {
  ProfileError e;
  auto p = loadDeviceProfile(name, e);
  EXPECT_TRUE(p) << e.str();
  return p ? *p : DeviceProfile{};
}

/// A complete, valid profile; tests replace whole lines of it.
const char *kBase = R"(name = "test-dev"
kind = "nic"
description = "a test device"
[install]
median_ms = 1
average_ms = 0.5
[tables]
count = 1
rules = 100
priorities = "unbounded"
[match]
in_port = "exact"
eth.src = "mask"
eth.dst = "mask"
eth.type = "exact"
vlan.id = "exact"
vlan.pcp = "exact"
ip.src = "mask"
ip.dst = "mask"
ip.proto = "exact"
ip.ttl = "exact"
ip.dscp = "exact"
tp.src = "mask"
tp.dst = "mask"
tcp.flags = "mask"
icmp.type = "exact"
icmp.code = "exact"
[actions]
drop = true
dec_ttl = true
set = ["ip.dscp"]
[tags]
kinds = ["vlan"]
vlan = [1, 4094]
)";

/// kBase with each "old line" replaced by "new text" (which may hold several lines or none).
std::string profileText(std::vector<std::pair<std::string, std::string>> edits) {
  std::string s = kBase;
  for (const auto &[from, to] : edits) {
    size_t at = s.find(from + "\n");
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size() + 1, to.empty() ? "" : to + "\n");
  }
  return s;
}

DeviceProfile custom(std::vector<std::pair<std::string, std::string>> edits) {
  ProfileError e;
  auto p = parseDeviceProfile(profileText(std::move(edits)), "test.toml", e);
  EXPECT_TRUE(p) << e.str();
  return p ? *p : DeviceProfile{};
}

std::string parseError(std::vector<std::pair<std::string, std::string>> edits) {
  ProfileError e;
  auto p = parseDeviceProfile(profileText(std::move(edits)), "t.toml", e);
  EXPECT_FALSE(p);
  return e.str();
}

/// A parsed chain (for source locations) plus tables built by hand over it. The chain is
///   in p0 -> fw -> out p1
/// and fw's rules are given by the test; class paths point at them.
struct World {
  SourceManager sm;
  std::unique_ptr<DiagnosticEngine> diags;
  std::unique_ptr<ir::Module> module;
  synth::ChainTables ct;
  uint32_t egress = 0; ///< port index of p1

  explicit World(const std::string &rules) {
    diags = std::make_unique<DiagnosticEngine>(sm);
    std::string text = "nf fw {\n" + rules + "}\nnf mon stateful { monitor timeout 30; }\n" +
                       "chain c { in p0 -> fw -> mon -> out p1; }\n";
    auto ast = parseFile(sm, sm.addBuffer("t.metron", text), *diags);
    EXPECT_TRUE(ast);
    if (ast) module = analyze(*ast, sm, *diags);
    EXPECT_TRUE(module);
    EXPECT_FALSE(diags->hasErrors());
    ct.chain = &module->chains[0];
    for (uint32_t i = 0; i < module->portNames.size(); ++i)
      if (module->portNames[i] == "p1") egress = i;
    diags = std::make_unique<DiagnosticEngine>(sm); // only the split's diagnostics from here on
  }

  /// The chain node of fw (for paths).
  uint32_t fwNode() const {
    for (uint32_t i = 0; i < ct.chain->nodes.size(); ++i)
      if (ct.chain->nodes[i].name == "fw") return i;
    return 0;
  }

  uint32_t group(Omega w) {
    for (uint32_t i = 0; i < ct.groups.size(); ++i)
      if (ct.groups[i].omega == w) return i;
    synth::Group g;
    g.id = uint32_t(ct.groups.size());
    g.omega = std::move(w);
    ct.groups.push_back(std::move(g));
    return g.id;
  }
  Omega egressOmega(std::vector<WriteExpr> writes = {}) {
    Omega w;
    if (!writes.empty()) {
      synth::Op op;
      op.kind = synth::Op::Writes;
      op.writes = std::move(writes);
      w.ops.push_back(op);
    }
    w.term.kind = Terminal::Egress;
    w.term.port = egress;
    return w;
  }
  Omega dropOmega() {
    Omega w;
    w.term.kind = Terminal::Drop;
    return w;
  }
  Omega gotoOmega(uint32_t table) {
    Omega w;
    w.term.kind = Terminal::Goto;
    w.term.table = table;
    return w;
  }

  synth::Table &table(uint32_t id, bool afterState = false) {
    while (ct.tables.size() <= id) {
      synth::Table t;
      t.id = uint32_t(ct.tables.size());
      ct.tables.push_back(t);
    }
    ct.tables[id].afterState = afterState;
    return ct.tables[id];
  }

  /// Adds a class to table \p t; \p rule is the 1-based fw rule it came from (0: none).
  uint32_t add(uint32_t t, Box phi, Omega w, int32_t rule = 0) {
    synth::TrafficClass c;
    c.id = nextId++;
    c.phi = std::move(phi);
    c.group = group(std::move(w));
    if (rule) c.path.push_back({fwNode(), 0, rule});
    table(t).classes.push_back(std::move(c));
    return nextId - 1;
  }

  SplitPlan run(const DeviceProfile &d, SplitOptions o = {}) { return splitChain(*module, ct, d, o, *diags); }

  std::vector<std::string> messages() const {
    std::vector<std::string> v;
    for (const auto &d : diags->diagnostics()) v.push_back(diags->formatText(d));
    return v;
  }
  uint32_t nextId = 0;
};

std::string verdicts(const SplitPlan &p) {
  std::string s;
  for (const auto &t : p.tables)
    for (const auto &c : t.classes)
      s += std::to_string(c.classId) + ":" + (c.hw ? "hw" : std::string("sw/") + reasonName(c.reason)) + " ";
  return s;
}

const char *kPaperRules = "  rule allow tcp dport 80;\n"
                          "  rule allow tcp dport 443;\n"
                          "  rule allow tcp dport 22 tcp.flags syn;\n"
                          "  rule allow udp dport 53;\n"
                          "  rule allow tcp dport 22;\n"
                          "  default deny;\n";

} // namespace

// ---- the paper's example (§2.3.3) -------------------------------------------------------------
//
// Four rules for the first switch (the NoviFlow 1132 of the paper's testbed); rule 3 matches
// tcp.flags, which OpenFlow 1.3 cannot match (noviflow-1132.toml: tcp.flags = "none").

TEST(SplitPaper, SamePriorityDisjointRules) {
  // "If rule 3 cannot be offloaded and all of the rules have the same priority, then Metron
  // will offload rules 1, 2, and 4": the same priority means no rule overlaps another, so the
  // 4th rule here is udp dport 53, disjoint from rule 3 (tcp dport 22 with SYN).
  World w(kPaperRules);
  w.add(0, box({proto(6), dport(80, 80)}), w.egressOmega(), 1);
  w.add(0, box({proto(6), dport(443, 443)}), w.egressOmega(), 2);
  w.add(0, box({proto(6), dport(22, 22), synFlag()}), w.egressOmega(), 3);
  w.add(0, box({proto(17), dport(53, 53)}), w.egressOmega(), 4);
  SplitPlan p = w.run(builtin("noviflow-1132"));
  EXPECT_EQ(verdicts(p), "0:hw 1:hw 2:sw/match 3:hw ");
  EXPECT_EQ(p.tables[0].classes[2].why, "noviflow-1132 cannot match tcp.flags");
  // Each offloaded class is one rule: ip.proto and tp.dst are exact values.
  EXPECT_EQ(p.tables[0].rules, 3u);
  ASSERT_EQ(w.messages().size(), 1u);
  EXPECT_EQ(w.messages()[0], "t.metron:4:3: warning: rule not offloaded to noviflow-1132: noviflow-1132 cannot match "
                             "tcp.flags [offload-unsupported]\n"
                             "      rule allow tcp dport 22 tcp.flags syn;\n"
                             "      ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n");
}

TEST(SplitPaper, DecreasingPrioritiesOverlappingRule) {
  // "if these rules have decreasing priorities (i.e., rule 3 has a higher priority than rule
  // 4), then Metron will offload only the first two rules": rule 4 (fw rule 5, tcp dport 22)
  // overlaps rule 3, so offloading it would let the switch take SYN packets to port 22 that
  // rule 3 must see first.
  World w(kPaperRules);
  w.add(0, box({proto(6), dport(80, 80)}), w.egressOmega(), 1);
  w.add(0, box({proto(6), dport(443, 443)}), w.egressOmega(), 2);
  w.add(0, box({proto(6), dport(22, 22), synFlag()}), w.egressOmega(), 3);
  w.add(0, box({proto(6), dport(22, 22)}), w.egressOmega(), 5);
  SplitPlan p = w.run(builtin("noviflow-1132"));
  EXPECT_EQ(verdicts(p), "0:hw 1:hw 2:sw/match 3:sw/blocked ");
  EXPECT_EQ(p.tables[0].classes[3].blockedBy, 2);
  EXPECT_EQ(p.tables[0].classes[3].why, "it overlaps class 2, which runs in software");
  auto msgs = w.messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1], "t.metron:6:3: warning: rule kept in software: it overlaps a higher-priority rule that runs in "
                     "software on noviflow-1132, and offloading it would reorder them [offload-priority]\n"
                     "      rule allow tcp dport 22;\n"
                     "      ^~~~~~~~~~~~~~~~~~~~~~~~\n"
                     "t.metron:4:3: note: the higher-priority rule (class 2)\n"
                     "      rule allow tcp dport 22 tcp.flags syn;\n"
                     "      ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n");
}

TEST(SplitPaper, EveryRuleOffloadedWhenTheDeviceMatchesTcpFlags) {
  // The same four classes on OVS (tcp_flags with a mask): nothing blocks anything.
  World w(kPaperRules);
  w.add(0, box({proto(6), dport(80, 80)}), w.egressOmega(), 1);
  w.add(0, box({proto(6), dport(443, 443)}), w.egressOmega(), 2);
  w.add(0, box({proto(6), dport(22, 22), synFlag()}), w.egressOmega(), 3);
  w.add(0, box({proto(6), dport(22, 22)}), w.egressOmega(), 5);
  SplitPlan p = w.run(builtin("ovs"));
  EXPECT_EQ(verdicts(p), "0:hw 1:hw 2:hw 3:hw ");
  EXPECT_TRUE(w.messages().empty());
  // One group (all four allow to p1), tagged with the first VLAN id.
  ASSERT_EQ(p.groups.size(), 1u);
  EXPECT_TRUE(p.groups[0].tagged);
  EXPECT_EQ(*p.groups[0].tagKind, TagKind::Vlan);
  EXPECT_EQ(p.groups[0].tag, 1u);
  EXPECT_EQ(p.groups[0].core, 0);
}

// ---- blocking is transitive -------------------------------------------------------------------

TEST(SplitBlocking, Transitive) {
  // 0: SYN to port 22 - noviflow cannot match tcp.flags            -> software
  // 1: TCP 10.0.0.0/8 to ports 0-1023 - overlaps 0 (port 22)       -> blocked by 0
  // 2: TCP 10.1.0.0/16 to port 80 - disjoint from 0 (port), inside 1 -> blocked by 1
  // 3: TCP 192.168.0.0/16 to port 80 - disjoint from 0, 1 and 2     -> offloaded
  World w(kPaperRules);
  w.add(0, box({dport(22, 22), synFlag()}), w.egressOmega());
  w.add(0, box({src(ip(10, 0, 0, 0), 8), proto(6), dport(0, 1023)}), w.egressOmega());
  w.add(0, box({src(ip(10, 1, 0, 0), 16), proto(6), dport(80, 80)}), w.egressOmega());
  w.add(0, box({src(ip(192, 168, 0, 0), 16), proto(6), dport(80, 80)}), w.egressOmega());
  SplitPlan p = w.run(builtin("noviflow-1132"));
  EXPECT_EQ(verdicts(p), "0:sw/match 1:sw/blocked 2:sw/blocked 3:hw ");
  EXPECT_EQ(p.tables[0].classes[1].blockedBy, 0);
  EXPECT_EQ(p.tables[0].classes[2].blockedBy, 1);
  EXPECT_EQ(p.tables[0].classes[3].rules, 1u); // ip.src prefix (mask) × tp.dst exact
}

// ---- capacity ---------------------------------------------------------------------------------

TEST(SplitCapacity, Intel82599Holds128Rules) {
  // 130 disjoint TCP ports: the 82599 takes the first 128 (1 rule each: ip.proto and tp.dst
  // exact); the 5-tuple filter's 7 priority levels are enough, as nothing overlaps (level 1).
  World w(kPaperRules);
  for (uint64_t k = 0; k < 130; ++k) w.add(0, box({proto(6), dport(1000 + k, 1000 + k)}), w.egressOmega());
  SplitPlan p = w.run(builtin("intel-82599"));
  const TableSplit &t = p.tables[0];
  EXPECT_EQ(t.offloaded, 128u);
  EXPECT_EQ(t.rules, 128u);
  EXPECT_EQ(t.levels, 1u);
  EXPECT_EQ(t.classes[127].priority, 1u);
  EXPECT_TRUE(t.classes[127].hw);
  EXPECT_EQ(t.classes[128].reason, Reason::Capacity);
  EXPECT_EQ(t.classes[129].reason, Reason::Capacity);
  auto msgs = w.messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], "t.metron:10:7: warning: intel-82599 holds 128 rules: 128 of 130 classes of table 0 offloaded, "
                     "the rest run in software [offload-capacity]\n"
                     "    chain c { in p0 -> fw -> mon -> out p1; }\n"
                     "          ^\n");
}

TEST(SplitCapacity, ALaterSmallerClassStillFits) {
  // A device of 8 rules with masks on ports (no ranges).
  //  A tcp tp.dst 80                    1 rule                     -> 1 used
  //  B tcp tp.dst 1024-65535            6 prefixes (/6 ... /1)     -> 7 used
  //  C tcp tp.src 1000-1999             7 prefixes: 1000/13 1008/12 1024/7 1536/8 1792/9
  //                                     1920/10 1984/12           -> does not fit (1 left)
  //  D tcp tp.dst 22                    overlaps C (any tp.src)    -> blocked by C
  //  E tcp 443 from port 5000           disjoint from C (port 5000), A and B (port 443)
  //                                                                -> 1 rule, 8 used
  //  F tcp tp.dst 8080 from port 1      the table is full          -> capacity
  World w(kPaperRules);
  DeviceProfile d = custom({{"rules = 100", "rules = 8"}});
  w.add(0, box({proto(6), dport(80, 80)}), w.egressOmega());
  w.add(0, box({proto(6), dport(1024, 65535)}), w.egressOmega());
  w.add(0, box({proto(6), sport(1000, 1999)}), w.egressOmega());
  w.add(0, box({proto(6), dport(22, 22)}), w.egressOmega());
  w.add(0, box({proto(6), sport(5000, 5000), dport(443, 443)}), w.egressOmega());
  w.add(0, box({proto(6), sport(1, 1), dport(8080, 8080)}), w.egressOmega());
  SplitPlan p = w.run(d);
  EXPECT_EQ(verdicts(p), "0:hw 1:hw 2:sw/capacity 3:sw/blocked 4:hw 5:sw/capacity ");
  const TableSplit &t = p.tables[0];
  EXPECT_EQ(t.classes[0].rules, 1u);
  EXPECT_EQ(t.classes[1].rules, 6u);
  EXPECT_EQ(t.classes[2].why, "it needs 7 rules and table 0 of test-dev has room for 1 more");
  EXPECT_EQ(t.classes[3].blockedBy, 2);
  EXPECT_EQ(t.classes[4].rules, 1u);
  EXPECT_EQ(t.rules, 8u);
  // B's rules, as the target will emit them.
  ASSERT_EQ(t.classes[1].fields.size(), 1u);
  std::vector<std::string> b;
  for (const auto &dm : t.classes[1].fields[0]) b.push_back(dm.str(*w.module));
  EXPECT_EQ(b, (std::vector<std::string>{"tp.dst 0x400/0xfc00", "tp.dst 0x800/0xf800", "tp.dst 0x1000/0xf000",
                                         "tp.dst 0x2000/0xe000", "tp.dst 0x4000/0xc000", "tp.dst 0x8000/0x8000"}));
}

TEST(SplitCapacity, PriorityLevels) {
  // intel-82599: 7 levels (the 5-tuple filter's priorities 1..7). Eight classes on the same
  // TCP source 10.0.0.1 (shadowed copies, which is fine here): class k overlaps every class
  // before it, so it needs level k+1; classes 0..6 take levels 1..7 and class 7 would need
  // level 8. Class 8 (another address) overlaps nothing offloaded: level 1.
  World w(kPaperRules);
  for (uint64_t k = 0; k < 8; ++k) w.add(0, box({src(ip(10, 0, 0, 1), 32), proto(6)}), w.egressOmega());
  w.add(0, box({src(ip(10, 0, 0, 2), 32), proto(6)}), w.egressOmega());
  SplitPlan p = w.run(builtin("intel-82599"));
  const TableSplit &t = p.tables[0];
  for (uint32_t k = 0; k < 7; ++k) EXPECT_EQ(t.classes[k].priority, k + 1) << k;
  EXPECT_EQ(t.classes[7].reason, Reason::Priorities);
  EXPECT_EQ(t.classes[7].why, "it needs priority level 8 to stay below the classes it overlaps, and intel-82599 has 7 in table 0");
  EXPECT_TRUE(t.classes[8].hw);
  EXPECT_EQ(t.classes[8].priority, 1u);
  EXPECT_EQ(t.levels, 7u);
  auto msgs = w.messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].find("warning: intel-82599 has 7 priority levels: 1 class of table 0 would need more and runs in "
                         "software [offload-capacity]"),
            std::string::npos)
      << msgs[0];
}

// ---- expansion counts -------------------------------------------------------------------------

TEST(SplitExpansion, RangeToPrefixes) {
  using V = std::vector<std::pair<uint64_t, uint64_t>>;
  // 1024-65535: 1024 is 2^10-aligned, and each block doubles: /6 /5 /4 /3 /2 /1.
  EXPECT_EQ(rangeToPrefixes(1024, 65535, 16),
            (V{{1024, 0xfc00}, {2048, 0xf800}, {4096, 0xf000}, {8192, 0xe000}, {16384, 0xc000}, {32768, 0x8000}}));
  // 1000-1999: 8 + 16 + 512 + 256 + 128 + 64 + 16 = 1000 values in 7 blocks.
  EXPECT_EQ(rangeToPrefixes(1000, 1999, 16), (V{{1000, 0xfff8}, {1008, 0xfff0}, {1024, 0xfe00}, {1536, 0xff00},
                                                 {1792, 0xff80}, {1920, 0xffc0}, {1984, 0xfff0}}));
  EXPECT_EQ(rangeToPrefixes(0, 65535, 16), (V{{0, 0}}));
  EXPECT_EQ(rangeToPrefixes(80, 80, 16), (V{{80, 0xffff}}));
  // The worst case of a W-bit field is 2W - 2 blocks: 1-65534 = sizes 1, 2, ..., 2^14 twice.
  EXPECT_EQ(rangeToPrefixes(1, 65534, 16).size(), 30u);
  EXPECT_TRUE(rangeToPrefixes(5, 4, 16).empty());
}

TEST(SplitExpansion, RuleCountsPerMatchLevel) {
  World w(kPaperRules);
  auto rulesOn = [&](MatchSupport s, Box phi) {
    World v(kPaperRules);
    std::string lvl = matchSupportName(s);
    DeviceProfile d = custom({{"tp.dst = \"mask\"", "tp.dst = \"" + lvl + "\""},
                              {"tcp.flags = \"mask\"", "tcp.flags = \"" + lvl + "\""},
                              {"rules = 100", "rules = \"unbounded\""}});
    v.add(0, std::move(phi), v.egressOmega());
    SplitPlan p = v.run(d, {.cores = 1, .maxRulesPerClass = 100000});
    const ClassSplit &c = p.tables[0].classes[0];
    return c.hw ? int64_t(c.rules) : -1;
  };
  // TCP 1024-65535: 1 range, 6 prefixes (mask or prefix), 64,512 exact values.
  EXPECT_EQ(rulesOn(MatchSupport::Range, box({proto(6), dport(1024, 65535)})), 1);
  EXPECT_EQ(rulesOn(MatchSupport::Mask, box({proto(6), dport(1024, 65535)})), 6);
  EXPECT_EQ(rulesOn(MatchSupport::Prefix, box({proto(6), dport(1024, 65535)})), 6);
  EXPECT_EQ(rulesOn(MatchSupport::Exact, box({proto(6), dport(1024, 65535)})), 64512);
  EXPECT_EQ(rulesOn(MatchSupport::None, box({proto(6), dport(1024, 65535)})), -1);
  // Without a protocol, the ports exclude 0, so only TCP and UDP packets match: one rule set
  // per protocol (the prerequisites), twice the rules; with 0 admitted, not offloadable.
  EXPECT_EQ(rulesOn(MatchSupport::Mask, box({dport(1024, 65535)})), 12);
  EXPECT_EQ(rulesOn(MatchSupport::Mask, box({dport(0, 1023)})), -1);
  // tcp.flags 0x02/0x12 (SYN set, ACK clear): one ternary match; as prefixes, the free bits
  // above bit 1 (bits 2, 3, 5, 6, 7) are enumerated: 32; as exact values, bit 0 too: 64.
  Box synNoAck = box({FieldMatch::masked(FieldId::TcpFlags, 0x02, 0x12)});
  EXPECT_EQ(rulesOn(MatchSupport::Mask, synNoAck), 1);
  EXPECT_EQ(rulesOn(MatchSupport::Prefix, synNoAck), 32);
  EXPECT_EQ(rulesOn(MatchSupport::Exact, synNoAck), 64);
  // A range and a mask on one field: tcp.flags 0-15 with SYN set. The range is one prefix
  // (0/0xf0); merged with the mask it is (0x02, 0xf2): 1 ternary match, or the 8 values of
  // 0..15 with bit 1 set.
  Box low = box({FieldMatch::range(FieldId::TcpFlags, 0, 15), synFlag()});
  EXPECT_EQ(rulesOn(MatchSupport::Mask, low), 1);
  EXPECT_EQ(rulesOn(MatchSupport::Exact, low), 8);
  // Two fields multiply: tp.dst 1024-65535 (6) × tp.src 1000-1999 (7) = 42.
  EXPECT_EQ(rulesOn(MatchSupport::Mask, box({proto(17), sport(1000, 1999), dport(1024, 65535)})), 42);
}

TEST(SplitExpansion, ExactOnlyPortsOnThe82599) {
  // 1024-65535 on the 82599 would be 64,512 exact 5-tuple filters: beyond the per-class bound,
  // so the class stays in software as unsupported; a UDP /30 source (disjoint from it) is 4.
  World w(kPaperRules);
  w.add(0, box({proto(6), dport(1024, 65535)}), w.egressOmega(), 1);
  w.add(0, box({src(ip(10, 0, 0, 0), 30), proto(17)}), w.egressOmega(), 2);
  SplitPlan p = w.run(builtin("intel-82599"));
  const TableSplit &t = p.tables[0];
  EXPECT_EQ(t.classes[0].reason, Reason::TooManyRules);
  EXPECT_EQ(t.classes[0].why, "tp.dst needs 64,512 exact matches on intel-82599: the class would take 64,512 rules "
                              "(the limit is 4,096)");
  EXPECT_TRUE(t.classes[1].hw);
  EXPECT_EQ(t.classes[1].rules, 4u);
  std::vector<std::string> v;
  for (const auto &dm : t.classes[1].fields[0]) v.push_back(dm.str(*w.module));
  EXPECT_EQ(v, (std::vector<std::string>{"ip.src 10.0.0.0", "ip.src 10.0.0.1", "ip.src 10.0.0.2", "ip.src 10.0.0.3"}));
}

// ---- actions, writes, tags --------------------------------------------------------------------

TEST(SplitActions, DropNeedsADeviceThatDrops) {
  // The 82599's 5-tuple filter can only pick a queue: a drop class stays in software (and, as
  // the last class overlaps everything, it blocks nothing after it).
  World w(kPaperRules);
  w.add(0, box({proto(6), dport(80, 80)}), w.egressOmega(), 1);
  w.add(0, box({}), w.dropOmega());
  SplitPlan p = w.run(builtin("intel-82599"));
  EXPECT_EQ(verdicts(p), "0:hw 1:sw/action ");
  EXPECT_EQ(p.tables[0].classes[1].why, "intel-82599 cannot drop packets");
  // On OVS the default drop is a device drop; the drop group needs no core and no tag.
  World o(kPaperRules);
  o.add(0, box({proto(6), dport(80, 80)}), o.egressOmega(), 1);
  o.add(0, box({}), o.dropOmega());
  SplitPlan q = o.run(builtin("ovs"));
  EXPECT_EQ(verdicts(q), "0:hw 1:hw ");
  EXPECT_EQ(q.tables[0].classes[1].action, HwAction::Drop);
  EXPECT_FALSE(q.groups[1].needsCore);
  EXPECT_FALSE(q.groups[1].tagged);
}

TEST(SplitActions, WritesPerTagKind) {
  WriteExpr dscp{FieldId::IpDscp, WriteExpr::Const, 46};
  auto groupOn = [&](const DeviceProfile &d) {
    World w(kPaperRules);
    w.add(0, box({proto(6)}), w.egressOmega({dscp}));
    SplitPlan p = w.run(d);
    EXPECT_TRUE(p.tables[0].classes[0].hw) << d.name;
    return p.groups[0];
  };
  // connectx-5: mark tags leave the packet alone; SET_IPV4_DSCP runs on the NIC.
  GroupSplit g = groupOn(builtin("connectx-5"));
  EXPECT_EQ(*g.tagKind, TagKind::Mark);
  EXPECT_EQ(g.tag, 1u);
  ASSERT_EQ(g.hwWrites.size(), 1u);
  EXPECT_TRUE(g.swWrites.empty());
  // connectx-4: no modify-header actions.
  g = groupOn(builtin("connectx-4"));
  EXPECT_TRUE(g.hwWrites.empty());
  EXPECT_EQ(g.writesWhy, "connectx-4 cannot write ip.dscp");
  // intel-82599: a queue tag names only the core, which re-classifies the unmodified packet.
  g = groupOn(builtin("intel-82599"));
  EXPECT_EQ(*g.tagKind, TagKind::Queue);
  EXPECT_TRUE(g.hwWrites.empty());
  EXPECT_EQ(g.writesWhy, "a queue tag names only the core, which re-classifies the unmodified packet");
}

TEST(SplitActions, Ipv4WritesSkipProtocol0) {
  // Open vSwitch does not apply IPv4 writes to packets of IP protocol 0: a group with such a
  // write and a class that admits protocol 0 keeps its writes in software (all of them: the
  // device applies a group's writes all or none); a group whose classes exclude protocol 0
  // (here: TCP only) still has the device write. Without the quirk both run on the device.
  WriteExpr dscp{FieldId::IpDscp, WriteExpr::Const, 46}, mac{FieldId::EthDst, WriteExpr::Const, 0x020000000001};
  auto groups = [&](const DeviceProfile &d) {
    World w(kPaperRules);
    w.add(0, box({proto(6)}), w.egressOmega({dscp}));
    w.add(0, box({src(0xc0000200, 24)}), w.egressOmega({dscp, mac}));
    SplitPlan p = w.run(d);
    EXPECT_EQ(verdicts(p), "0:hw 1:hw ") << d.name;
    return p.groups;
  };
  auto quirk = groups(custom({{"set = [\"ip.dscp\"]", "set = [\"ip.dscp\", \"eth.dst\"]\nipv4_writes_skip_proto_0 = true"}}));
  EXPECT_EQ(quirk[0].hwWrites.size(), 1u);
  EXPECT_TRUE(quirk[1].hwWrites.empty());
  EXPECT_EQ(quirk[1].swWrites.size(), 2u);
  EXPECT_EQ(quirk[1].writesWhy,
            "test-dev does not apply writes of IPv4 header fields (here ip.dscp) to packets of IP protocol 0, which this "
            "group admits");
  auto plain = groups(custom({{"set = [\"ip.dscp\"]", "set = [\"ip.dscp\", \"eth.dst\"]"}}));
  EXPECT_EQ(plain[1].hwWrites.size(), 2u);
  EXPECT_TRUE(builtin("ovs").ipv4WritesSkipProto0);
  EXPECT_FALSE(builtin("connectx-5").ipv4WritesSkipProto0);
  EXPECT_NE(parseError({{"set = [\"ip.dscp\"]", "set = [\"ip.dscp\"]\nipv4_writes_skip_proto_0 = 1"}})
                .find("actions.ipv4_writes_skip_proto_0"),
            std::string::npos);
}

TEST(SplitActions, MacTagsNeedAnEthDstWrite) {
  DeviceProfile d = custom({{"kinds = [\"vlan\"]", "kinds = [\"mac\"]"}, {"vlan = [1, 4094]", "mac = [16, 31]"},
                            {"set = [\"ip.dscp\"]", "set = [\"ip.dscp\", \"eth.dst\"]"}});
  World w(kPaperRules);
  // Group 0 rewrites eth.dst (a router's next hop) and ip.dscp: the MAC tag takes eth.dst, the
  // device writes ip.dscp, software writes eth.dst. Group 1 keeps eth.dst: no tag fits it.
  w.add(0, box({proto(6)}), w.egressOmega({{FieldId::EthDst, WriteExpr::Const, 0x020000000001}, {FieldId::IpDscp, WriteExpr::Const, 10}}));
  w.add(0, box({proto(17)}), w.egressOmega());
  SplitPlan p = w.run(d);
  EXPECT_EQ(verdicts(p), "0:hw 1:sw/action ");
  const GroupSplit &g = p.groups[0];
  EXPECT_EQ(*g.tagKind, TagKind::Mac);
  EXPECT_EQ(g.tag, 16u);
  ASSERT_EQ(g.hwWrites.size(), 1u);
  EXPECT_EQ(g.hwWrites[0].field, FieldId::IpDscp);
  ASSERT_EQ(g.swWrites.size(), 1u);
  EXPECT_EQ(g.swWrites[0].field, FieldId::EthDst);
  EXPECT_EQ(p.tables[0].classes[1].why, "test-dev tags only by MAC address, which would overwrite the eth.dst this class keeps");
  EXPECT_NE(printSplit(*w.module, w.ct, p).find("tag mac 02:00:00:00:00:10"), std::string::npos);
}

TEST(SplitTags, QueuesAreCoresAndVlanIdsCount) {
  // Three egress groups (different dscp writes) and a drop group; 2 cores, round robin over
  // the groups that need one: groups 0, 1, 2 -> cores 0, 1, 0.
  auto build = [](World &w) {
    for (uint64_t k = 0; k < 3; ++k)
      w.add(0, box({proto(6), dport(k + 1, k + 1)}), w.egressOmega({{FieldId::IpDscp, WriteExpr::Const, k}}));
    w.add(0, box({proto(17)}), w.dropOmega());
  };
  World a(kPaperRules);
  build(a);
  SplitPlan p = a.run(builtin("intel-82599"), {.cores = 2});
  EXPECT_EQ(p.groups[0].core, 0);
  EXPECT_EQ(p.groups[1].core, 1);
  EXPECT_EQ(p.groups[2].core, 0);
  EXPECT_EQ(p.groups[3].core, -1);
  EXPECT_EQ(p.groups[0].tag, 0u); // queue = core
  EXPECT_EQ(p.groups[1].tag, 1u);
  EXPECT_EQ(p.groups[2].tag, 0u);
  EXPECT_TRUE(p.ok);
  // VLAN ids 1 and 2 only: the third group has none -> error.
  World b(kPaperRules);
  build(b);
  SplitPlan q = b.run(custom({{"vlan = [1, 4094]", "vlan = [1, 2]"}}), {.cores = 2});
  EXPECT_FALSE(q.ok);
  EXPECT_EQ(q.groups[0].tag, 1u);
  EXPECT_EQ(q.groups[1].tag, 2u);
  EXPECT_FALSE(q.groups[2].tagged);
  auto msgs = b.messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].substr(0, msgs[0].find('\n')),
            "t.metron:10:7: error: chain 'c' needs 3 vlan tags on test-dev, which has 2 (1-2) [offload-tags]");
  // More cores than 82599 queues.
  World c(kPaperRules);
  build(c);
  SplitPlan r = c.run(builtin("intel-82599"), {.cores = 200});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(c.messages()[0].find("error: the groups of chain 'c' run on 200 cores, but intel-82599 has 128 queues (0-127) "
                                 "to tag them with [offload-tags]"),
            std::string::npos);
}

// ---- tables -----------------------------------------------------------------------------------

TEST(SplitTables, JumpIntoACompleteDeviceTable) {
  // Table 0 jumps to table 1 (stateless); table 1's classes egress. OVS has 254 tables.
  World w(kPaperRules);
  w.add(0, box({proto(6)}), w.gotoOmega(1));
  w.add(0, box({}), w.dropOmega());
  w.add(1, box({dport(80, 80)}), w.egressOmega());
  w.add(1, box({}), w.egressOmega());
  SplitPlan p = w.run(builtin("ovs"));
  EXPECT_EQ(verdicts(p), "0:hw 1:hw 2:hw 3:hw ");
  EXPECT_EQ(p.tables[0].classes[0].action, HwAction::Jump);
  EXPECT_EQ(p.tables[0].classes[0].jumpTable, 1u);
  EXPECT_EQ(p.tables[1].deviceTable, 1);

  // Table 1 with a class noviflow cannot match (tcp.flags): table 1 is incomplete, so table
  // 0's class hands its packets to software instead of jumping, and no rule enters table 1.
  World v(kPaperRules);
  v.add(0, box({proto(6)}), v.gotoOmega(1));
  v.add(0, box({}), v.dropOmega());
  v.add(1, box({synFlag()}), v.egressOmega());
  v.add(1, box({}), v.egressOmega());
  SplitPlan q = v.run(builtin("noviflow-1132"));
  EXPECT_EQ(verdicts(q), "0:hw 1:hw 2:sw/not-entered 3:sw/not-entered ");
  EXPECT_EQ(q.tables[0].classes[0].action, HwAction::ToSoftware);
  EXPECT_EQ(q.tables[1].deviceTable, -1);
}

TEST(SplitTables, AfterStateAndTableCount) {
  // Table 1 comes after a stateful operation: software. Table 2 does not, but the 82599 has
  // one table: software, with a capacity warning.
  World w(kPaperRules);
  w.add(0, box({proto(6)}), w.gotoOmega(1));
  w.add(1, box({}), w.egressOmega());
  w.add(2, box({}), w.egressOmega());
  w.table(1, true);
  SplitPlan p = w.run(builtin("intel-82599"));
  EXPECT_EQ(verdicts(p), "0:hw 1:sw/software-table 2:sw/no-device-table ");
  EXPECT_EQ(p.tables[1].why, "it comes after a stateful operation");
  auto msgs = w.messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].substr(0, msgs[0].find('\n')),
            "t.metron:10:7: warning: intel-82599 has 1 table: table 2 of chain 'c' runs in software [offload-capacity]");
}

TEST(SplitPrint, TextAndJson) {
  World w(kPaperRules);
  w.add(0, box({proto(6), dport(80, 80)}), w.egressOmega(), 1);
  w.add(0, box({proto(6), dport(22, 22), synFlag()}), w.egressOmega(), 3);
  w.add(0, box({}), w.dropOmega());
  SplitPlan p = w.run(builtin("noviflow-1132"), {.cores = 2});
  std::string s = printSplit(*w.module, w.ct, p);
  EXPECT_EQ(s.substr(0, s.find('\n')),
            "split of chain 'c' for noviflow-1132 (switch): 55 tables: table 0 of 4,096 rules, 65,536 priority levels, "
            "the others of 4,096 rules, 65,536 priority levels; tags: vlan 1-4094 mac 1-65535; 2 cores");
  EXPECT_NE(s.find("table 0 -> device table 0: 1 of 3 classes offloaded, 1 of 4,096 rules\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  class 0: hw, 1 rule, on ipv4 tcp, to software: group 0, tag vlan 1, core 0 | ip.proto=6 tp.dst=80\n"),
            std::string::npos) << s;
  EXPECT_NE(s.find("  class 1: sw (match): noviflow-1132 cannot match tcp.flags | ip.proto=6 tp.dst=22 tcp.flags=0x2/0x2\n"),
            std::string::npos) << s;
  EXPECT_NE(s.find("  class 2: sw (blocked): it overlaps class 1, which runs in software | *\n"), std::string::npos) << s;
  EXPECT_NE(s.find("total: 1 of 3 classes offloaded, 1 device rule (about 0.5 ms to install at 0.459 ms/rule); 1 group "
                   "on 2 cores, 1 tagged\n"),
            std::string::npos) << s;
  auto j = nlohmann::json::parse(splitToJson(*w.module, w.ct, p));
  EXPECT_EQ(j["device"]["name"], "noviflow-1132");
  // ip.proto is the prerequisite (protos), not a field match.
  EXPECT_EQ(j["tables"][0]["classes"][0]["protos"], nlohmann::json::array({6}));
  EXPECT_EQ(j["tables"][0]["classes"][0]["match"][0][0]["field"], "tp.dst");
  EXPECT_EQ(j["tables"][0]["classes"][0]["match"][0][0]["value"], 80);
  EXPECT_EQ(j["tables"][0]["classes"][2]["blocked_by"], 1);
  EXPECT_EQ(j["groups"][0]["tag"]["kind"], "vlan");
  EXPECT_EQ(j["totals"]["offloaded"], 1);
}

TEST(SplitOverlap, AgreesWithBoxOverlaps) {
  // boxesOverlap (the split's allocation-free test) against synthesis's Box::overlaps, on
  // random boxes over two small fields with ranges, prefixes and masks, and on ranges combined
  // with masks in one box (where the interval alone is not enough).
  std::mt19937 rng(12345);
  auto randomMatch = [&](FieldId f) {
    unsigned r = rng() % 3;
    uint64_t a = rng() % 256, b = rng() % 256;
    if (r == 0) return FieldMatch::range(f, std::min(a, b), std::max(a, b));
    if (r == 1) return FieldMatch::masked(f, a, b); // may normalise to a prefix range
    unsigned len = rng() % 9;
    uint64_t mask = len ? (0xffull << (8 - len)) & 0xff : 0;
    return FieldMatch::range(f, a & mask, (a & mask) | (~mask & 0xff));
  };
  auto randomBox = [&]() {
    for (;;) {
      std::vector<FieldMatch> ms;
      for (FieldId f : {FieldId::IpProto, FieldId::TcpFlags})
        for (unsigned k = rng() % 3; k-- > 0;) ms.push_back(randomMatch(f));
      Box raw = box(ms), clean;
      if (raw.intersect(Box{}, clean)) return clean; // non-empty, in synthesis's normal form
    }
  };
  unsigned agree = 0, overlapping = 0;
  for (int i = 0; i < 20000; ++i) {
    Box a = randomBox(), b = randomBox();
    bool want = a.overlaps(b);
    EXPECT_EQ(boxesOverlap(a, b), want) << a.str() << " vs " << b.str();
    agree += boxesOverlap(a, b) == want;
    overlapping += want;
  }
  EXPECT_EQ(agree, 20000u);
  EXPECT_GT(overlapping, 2000u); // both outcomes are exercised
  EXPECT_LT(overlapping, 18000u);
  // Hand case: tcp.flags 0x10-0x1f with SYN set (0x12 is the smallest) vs 0x00-0x11: disjoint.
  EXPECT_FALSE(boxesOverlap(box({FieldMatch::range(FieldId::TcpFlags, 0x10, 0x1f), synFlag()}),
                            box({FieldMatch::range(FieldId::TcpFlags, 0x00, 0x11)})));
  EXPECT_TRUE(boxesOverlap(box({FieldMatch::range(FieldId::TcpFlags, 0x10, 0x1f), synFlag()}),
                           box({FieldMatch::range(FieldId::TcpFlags, 0x00, 0x12)})));
}

// ---- profiles ---------------------------------------------------------------------------------

TEST(Profiles, BuiltinsMatchThePaper) {
  // Every built-in parses and is named after its file.
  ASSERT_EQ(builtinProfiles().size(), 9u);
  for (const auto &b : builtinProfiles()) {
    ProfileError e;
    auto p = loadDeviceProfile(b.name, e);
    ASSERT_TRUE(p) << e.str();
    EXPECT_EQ(p->name, b.name);
  }
  // Table 3 of the paper.
  DeviceProfile i = builtin("intel-82599");
  EXPECT_EQ(i.table0.rules, 128u);
  EXPECT_EQ(i.tableCount, 1u);
  EXPECT_DOUBLE_EQ(i.averageMs, 0.119);
  EXPECT_FALSE(i.drop);
  EXPECT_EQ(i.tagRange[size_t(TagKind::Queue)]->hi, 127u);
  DeviceProfile c4 = builtin("connectx-4");
  EXPECT_EQ(c4.tableCount, 1u);
  EXPECT_EQ(c4.table0.rules, 65536u);
  DeviceProfile bf = builtin("bluefield");
  EXPECT_EQ(bf.tableCount, kUnbounded);
  EXPECT_EQ(bf.table0.rules, 65536u);
  EXPECT_EQ(bf.other.rules, kUnbounded);
  DeviceProfile n = builtin("noviflow-1132");
  EXPECT_EQ(n.tableCount * n.table0.rules, 225280u);
  DeviceProfile hp = builtin("hp-5130ei");
  EXPECT_EQ(hp.table0.rules, 512u);
  EXPECT_EQ(hp.table0.l2Rules, 16384u);
  EXPECT_DOUBLE_EQ(hp.medianMs, 9.93);
  DeviceProfile o = builtin("ovs");
  EXPECT_EQ(o.tableCount, 254u); // OVS 3.1 refuses table 254 (ids 0..253)
  EXPECT_EQ(o.supports(FieldId::TpDst), MatchSupport::Mask);
  EXPECT_EQ(builtin("software-nic").supports(FieldId::TpDst), MatchSupport::Range);
}

TEST(Profiles, StrictParsing) {
  EXPECT_EQ(parseError({{"kind = \"nic\"", "kind = \"nic\"\ncolour = 1"}}),
            "t.toml:3:1: error: unknown key 'colour' at the top level");
  EXPECT_EQ(parseError({{"median_ms = 1", "median_ms = \"fast\""}}),
            "t.toml:5:13: error: 'install.median_ms' must be a number of milliseconds, not a string");
  EXPECT_EQ(parseError({{"kind = \"nic\"", ""}}), "t.toml:1:1: error: missing required key 'kind'");
  EXPECT_EQ(parseError({{"rules = 100", "rules = 0"}}),
            "t.toml:9:9: error: 'tables.rules' must be an integer from 1 to 1099511627776 or \"unbounded\", not 0");
  EXPECT_EQ(parseError({{"vlan = [1, 4094]", "vlan = [0, 4094]"}}),
            "t.toml:34:8: error: 'tags.vlan' must be an array [lo, hi] of integers with 1 <= lo <= hi <= 4094, not [0, 4094]");
  EXPECT_EQ(parseError({{"ip.ttl = \"exact\"", "ip.tll = \"exact\""}}),
            "t.toml:21:4: error: unknown field 'ip.tll' in [match]; the fields are those of metron-lang(7)");
  EXPECT_EQ(parseError({{"ip.ttl = \"exact\"", ""}}),
            "t.toml:11:1: error: missing required key 'ip.ttl' in [match]: every field of the packet model must be listed");
  EXPECT_EQ(parseError({{"ip.ttl = \"exact\"", "ip.ttl = \"ranges\""}}),
            "t.toml:21:10: error: 'match.ip.ttl' must be one of \"none\", \"exact\", \"prefix\", \"mask\", \"range\", not \"ranges\"");
  EXPECT_EQ(parseError({{"set = [\"ip.dscp\"]", "set = [\"ip.dscp\", \"ip.proto\"]"}}),
            "t.toml:31:19: error: field 'ip.proto' cannot be written (metron-lang(7)); remove it from 'actions.set'");
  EXPECT_EQ(parseError({{"vlan = [1, 4094]", "vlan = [1, 4094]\nmark = [1, 2]"}}),
            "t.toml:35:8: error: 'tags.mark' is given but 'mark' is not in 'tags.kinds'");
  EXPECT_EQ(parseError({{"count = 1", "count = 2"}}),
            "t.toml:7:1: error: missing required table [tables.other] ('tables.count' is more than 1)");
  EXPECT_EQ(parseError({{"drop = true", "drop = 1"}}), "t.toml:29:8: error: 'actions.drop' must be true or false, not an integer");
  EXPECT_EQ(parseError({{"name = \"test-dev\"", "name = \"Test Dev\""}}),
            "t.toml:1:8: error: 'name' must be 1 to 64 characters of a-z, 0-9, '-', '.', '_', starting with a letter or "
            "digit, not \"Test Dev\"");
  EXPECT_EQ(parseError({{"[actions]", "[actions"}}).substr(0, 34), "t.toml:28:9: error: not valid TOML");

  ProfileError e;
  EXPECT_FALSE(loadDeviceProfile("connectx-9", e));
  EXPECT_EQ(e.str(), "error: unknown device 'connectx-9'; the built-in devices are bluefield, connectx-4, connectx-5, "
                     "connectx-6, hp-5130ei, intel-82599, noviflow-1132, ovs, software-nic, or give the path of a "
                     "profile file (metron-device(5))");
  EXPECT_FALSE(loadDeviceProfile("/nonexistent/dev.toml", e));
  EXPECT_EQ(e.str(), "error: cannot read device profile '/nonexistent/dev.toml': No such file or directory");
}
