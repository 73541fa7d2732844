//===- tests/unit/interp_test.cpp - The reference interpreter on small chains -----------------===//
///
/// Chains written as .metron text, packets built field by field, outcomes derived by hand from
/// man/metron-lang.7; plus two oracles: the ClassBench traces (index of the first matching
/// rule) and a brute-force longest-prefix match over a real routing table.
//===----------------------------------------------------------------------------------------===//
#include "compiler/interp/Interpreter.h"
#include "compiler/sema/Sema.h"
#include "lang/Parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

using namespace metron;
using ir::FieldId;

namespace {

const std::string kData = std::string(METRON_DATA_DIR) + "/";

struct Chain {
  SourceManager sm;
  std::unique_ptr<DiagnosticEngine> diags;
  std::unique_ptr<ir::Module> module;
  std::unique_ptr<interp::Interpreter> interp;

  uint16_t port(const std::string &name) const {
    for (size_t i = 0; i < module->portNames.size(); ++i)
      if (module->portNames[i] == name) return uint16_t(i);
    ADD_FAILURE() << "no port " << name;
    return 0;
  }
  /// Runs \p p in by ingress \p in: "drop" or the name of the egress port.
  std::string run(pkt::Packet &p, const std::string &in = "p0") {
    p.setInPort(port(in));
    interp::Outcome o = interp->process(p);
    return o.dropped ? "drop" : module->portNames[o.egress];
  }
  interp::NFCounters counters(const std::string &nf) const {
    for (auto &c : interp->counters())
      if (c.nf == nf) return c;
    ADD_FAILURE() << "no NF " << nf;
    return {};
  }
};

/// Checks \p text (which must have no errors) and sets up its only chain.
std::unique_ptr<Chain> load(const std::string &text) {
  auto c = std::make_unique<Chain>();
  c->diags = std::make_unique<DiagnosticEngine>(c->sm);
  auto ast = parseFile(c->sm, c->sm.addBuffer(std::string(METRON_SOURCE_DIR) + "/tests/t.metron", text), *c->diags);
  if (ast) c->module = analyze(*ast, c->sm, *c->diags);
  EXPECT_TRUE(c->module && !c->diags->hasErrors());
  if (c->diags->hasErrors()) {
    for (const auto &d : c->diags->diagnostics()) ADD_FAILURE() << d.message;
    return nullptr;
  }
  std::string err;
  c->interp = interp::Interpreter::create(*c->module, c->module->chains.at(0), err);
  EXPECT_TRUE(c->interp) << err;
  return c->interp ? std::move(c) : nullptr;
}

/// Writes \p text to a file of the test's temporary directory (unique per process); the
/// caller removes it once the chain is loaded.
std::string tempFile(const std::string &name, const std::string &text) {
  std::string path = testing::TempDir() + "metron_interp_test_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path) << text;
  return path;
}

uint32_t ip(const char *s) {
  uint32_t a = 0;
  EXPECT_TRUE(ir::parseIpv4(s, a)) << s;
  return a;
}

pkt::Packet packet(uint8_t proto, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t ttl = 64) {
  std::array<uint64_t, ir::kNumFields> f{};
  f[size_t(FieldId::EthType)] = 0x0800;
  f[size_t(FieldId::IpProto)] = proto;
  f[size_t(FieldId::IpTtl)] = ttl;
  f[size_t(FieldId::IpSrc)] = ip(src);
  f[size_t(FieldId::IpDst)] = ip(dst);
  if (proto == 6 || proto == 17) {
    f[size_t(FieldId::TpSrc)] = sport;
    f[size_t(FieldId::TpDst)] = dport;
  }
  if (proto == 6) f[size_t(FieldId::TcpFlags)] = 0x02;
  return pkt::Packet::fromFields(f);
}
pkt::Packet tcp(const char *src, uint16_t sport, const char *dst, uint16_t dport) {
  return packet(6, src, sport, dst, dport);
}
pkt::Packet udp(const char *src, uint16_t sport, const char *dst, uint16_t dport) {
  return packet(17, src, sport, dst, dport);
}
pkt::Packet icmp(const char *src, const char *dst) { return packet(1, src, 0, dst, 0); }

std::string endpoints(const pkt::Packet &p) {
  return ir::ipv4Str(uint32_t(p.get(FieldId::IpSrc))) + ":" + std::to_string(p.get(FieldId::TpSrc)) + " > " +
         ir::ipv4Str(uint32_t(p.get(FieldId::IpDst))) + ":" + std::to_string(p.get(FieldId::TpDst));
}

} // namespace

TEST(Interp, FirstMatchAndDefaultDeny) {
  auto c = load("nf fw { rule allow tcp dport 80; rule deny tcp; rule allow udp; }\n"
                "chain ch { in p0 -> fw -> out p1; }\n");
  ASSERT_TRUE(c);
  auto rule = [&](pkt::Packet p) {
    p.setInPort(c->port("p0"));
    interp::Outcome o = c->interp->process(p, true);
    EXPECT_EQ(o.steps.size(), 1u);
    return std::to_string(o.steps.at(0).rule) + (o.dropped ? " drop" : " pass");
  };
  EXPECT_EQ(rule(tcp("1.1.1.1", 1000, "2.2.2.2", 80)), "1 pass");
  EXPECT_EQ(rule(tcp("1.1.1.1", 1000, "2.2.2.2", 22)), "2 drop");
  EXPECT_EQ(rule(udp("1.1.1.1", 1000, "2.2.2.2", 80)), "3 pass");
  EXPECT_EQ(rule(icmp("1.1.1.1", "2.2.2.2")), "0 drop"); // no default: deny
  interp::NFCounters k = c->counters("fw");
  EXPECT_EQ(k.in, 4u);
  EXPECT_EQ(k.dropped, 2u);
  EXPECT_EQ(k.out, (std::vector<std::pair<std::string, uint64_t>>{{"out", 2}}));
}

TEST(Interp, BranchToAnotherEgress) {
  auto c = load("nf sw { rule branch voice udp dport 5060; rule allow tcp; default branch out; }\n"
                "chain ch { in p0 -> sw -> out p1; sw.voice -> out p2; }\n");
  ASSERT_TRUE(c);
  pkt::Packet a = udp("1.1.1.1", 1, "2.2.2.2", 5060), b = udp("1.1.1.1", 1, "2.2.2.2", 53), d = tcp("1.1.1.1", 1, "2.2.2.2", 80);
  EXPECT_EQ(c->run(a), "p2");
  EXPECT_EQ(c->run(b), "p1");
  EXPECT_EQ(c->run(d), "p1");
  EXPECT_EQ(c->counters("sw").out, (std::vector<std::pair<std::string, uint64_t>>{{"out", 2}, {"voice", 1}}));
}

TEST(Interp, BranchesMerge) {
  auto c = load("nf fw { rule branch voip udp dport 5060; default allow; }\n"
                "nf q { set ip.dscp = 46; }\nnf m stateful { monitor; }\n"
                "chain ch { in p0 -> fw -> m -> out p1; fw.voip -> q -> m; }\n");
  ASSERT_TRUE(c);
  pkt::Packet voip = udp("10.0.0.1", 7000, "10.0.0.2", 5060), web = tcp("10.0.0.1", 7000, "10.0.0.2", 80);
  EXPECT_EQ(c->run(voip), "p1");
  EXPECT_EQ(c->run(web), "p1");
  EXPECT_EQ(voip.get(FieldId::IpDscp), 46u);
  EXPECT_EQ(web.get(FieldId::IpDscp), 0u);
  EXPECT_TRUE(pkt::checksumsValid(voip));
  EXPECT_EQ(c->counters("q").in, 1u);
  EXPECT_EQ(c->counters("m").in, 2u);
  std::vector<std::pair<std::string, uint64_t>> m = c->counters("m").elements;
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0], (std::pair<std::string, uint64_t>{"monitor.in", 2}));
}

TEST(Interp, SetThenAClassifierReadsTheWrittenField) {
  auto c = load("nf mark { rule set(ip.dscp = 10) tcp; default allow; }\n"
                "nf check { rule allow ip.dscp 10; default deny; }\n"
                "chain ch { in p0 -> mark -> check -> out p1; }\n");
  ASSERT_TRUE(c);
  pkt::Packet t = tcp("1.1.1.1", 1, "2.2.2.2", 2), u = udp("1.1.1.1", 1, "2.2.2.2", 2);
  EXPECT_EQ(c->run(t), "p1");
  EXPECT_EQ(c->run(u), "drop");
  EXPECT_EQ(c->counters("check").dropped, 1u);
}

TEST(Interp, DecTtlDropsAtOne) {
  auto c = load("nf r { dec ip.ttl; }\nchain ch { in p0 -> r -> out p1; }\n");
  ASSERT_TRUE(c);
  pkt::Packet p2 = packet(17, "1.1.1.1", 1, "2.2.2.2", 2, 2), p1 = packet(17, "1.1.1.1", 1, "2.2.2.2", 2, 1),
              p0 = packet(17, "1.1.1.1", 1, "2.2.2.2", 2, 0);
  EXPECT_EQ(c->run(p2), "p1");
  EXPECT_EQ(p2.get(FieldId::IpTtl), 1u);
  std::string why;
  EXPECT_TRUE(pkt::checksumsValid(p2, &why)) << why;
  EXPECT_EQ(c->run(p1), "drop");
  EXPECT_EQ(c->run(p0), "drop");
}

TEST(Interp, LookupLongestPrefixAndNextHopMac) {
  std::string routes = tempFile("routes.txt", "10.0.0.0/8      192.0.2.1  eth1\n"
                                              "10.1.0.0/16     192.0.2.2  eth2\n"
                                              "10.1.2.0/24     -          eth3\n"
                                              "10.1.2.128/25   -          [locl]\n"
                                              "172.16.0.0/12   -          [dscd]\n");
  auto c = load("import routes \"" + routes + "\" as t;\n"
                "nf r { lookup ip.dst in t ports (\"eth2\" -> east) miss allow; }\n"
                "chain ch { in p0 -> r -> out p1; r.east -> out p2; }\n");
  unlink(routes.c_str());
  ASSERT_TRUE(c);
  auto go = [&](const char *dst) {
    pkt::Packet p = udp("1.1.1.1", 1, dst, 2);
    p.setInPort(c->port("p0"));
    interp::Outcome o = c->interp->process(p, true);
    std::string s = "route " + std::to_string(o.steps.at(0).rule) + " ";
    if (o.dropped) return s + "drop";
    return s + c->module->portNames[o.egress] + " " + ir::macStr(p.get(FieldId::EthDst));
  };
  EXPECT_EQ(go("10.9.9.9"), "route 1 p1 02:00:c0:00:02:01");
  EXPECT_EQ(go("10.1.9.9"), "route 2 p2 02:00:c0:00:02:02");
  EXPECT_EQ(go("10.1.2.5"), "route 3 p1 02:00:0a:01:02:05"); // attached: the destination's MAC
  EXPECT_EQ(go("10.1.2.200"), "route 4 drop");                // local
  EXPECT_EQ(go("172.20.0.1"), "route 5 drop");                // discard
  EXPECT_EQ(go("8.8.8.8"), "route 0 p1 00:00:00:00:00:00");   // miss allow: eth.dst unchanged
}

TEST(Interp, LookupAgreesWithBruteForceOnARealTable) {
  auto c = load("import routes \"" + kData + "routing/derived/internet2_atla_ipv4.txt\" as i2 every 4;\n"
                "nf r { lookup ip.dst in i2 miss allow; }\nchain ch { in p0 -> r -> out p1; }\n");
  ASSERT_TRUE(c);
  const auto &routes = c->module->imports[0]->routes;
  // The expected route: the longest prefix containing the address, the first in file order.
  auto brute = [&](uint32_t a) {
    int best = -1;
    for (size_t i = 0; i < routes.size(); ++i) {
      uint32_t mask = routes[i].len ? ~0u << (32 - routes[i].len) : 0;
      if ((a & mask) == routes[i].prefix && (best < 0 || routes[i].len > routes[size_t(best)].len)) best = int(i);
    }
    return best + 1;
  };
  std::mt19937 rng(7);
  std::vector<uint32_t> addrs;
  for (const auto &r : routes) {
    addrs.push_back(r.prefix);
    addrs.push_back(r.prefix | (r.len < 32 ? rng() >> r.len : 0));
  }
  for (int i = 0; i < 2000; ++i) addrs.push_back(rng());
  for (uint32_t a : addrs) {
    std::array<uint64_t, ir::kNumFields> f{};
    f[size_t(FieldId::EthType)] = 0x0800;
    f[size_t(FieldId::IpDst)] = a;
    pkt::Packet p = pkt::Packet::fromFields(f);
    p.setInPort(c->port("p0"));
    ASSERT_EQ(c->interp->process(p, true).steps.at(0).rule, brute(a)) << ir::ipv4Str(a);
  }
}

TEST(Interp, ClassBenchTraceOracle) {
  for (const char *set : {"fw1_1K", "acl1_100", "ipc1_100"}) {
    auto c = load("import classbench \"" + kData + "classbench/pclasseval_song/" + set + "\" as s;\n"
                  "nf fw { rules s action allow; default deny; }\nchain ch { in p0 -> fw -> out p1; }\n");
    ASSERT_TRUE(c);
    std::ifstream trace(kData + "classbench/pclasseval_song/" + set + "_trace");
    std::string line;
    size_t n = 0;
    while (std::getline(trace, line)) {
      std::istringstream in(line);
      uint64_t src, dst, sport, dport, proto, want;
      ASSERT_TRUE(in >> src >> dst >> sport >> dport >> proto >> want) << line;
      std::array<uint64_t, ir::kNumFields> f{};
      f[size_t(FieldId::EthType)] = 0x0800;
      f[size_t(FieldId::IpSrc)] = src;
      f[size_t(FieldId::IpDst)] = dst;
      f[size_t(FieldId::TpSrc)] = sport;
      f[size_t(FieldId::TpDst)] = dport;
      f[size_t(FieldId::IpProto)] = proto;
      pkt::Packet p = pkt::Packet::fromFields(f);
      p.setInPort(c->port("p0"));
      interp::Outcome o = c->interp->process(p, true);
      ASSERT_EQ(uint64_t(o.steps.at(0).rule), want) << set << ": " << line;
      ASSERT_EQ(o.dropped, want == 0) << line;
      ++n;
    }
    EXPECT_GT(n, 900u) << set;
  }
}

TEST(Interp, NaptThenReturnTraffic) {
  auto c = load("nf napt stateful { napt ip.src to 203.0.113.1 ports 5000-5001; }\n"
                "nf split { rule branch lan dst 10.0.0.0/8; default allow; }\n"
                "chain ch { in lan -> napt -> split -> out wan; in wan -> napt; split.lan -> out lan_out; }\n");
  ASSERT_TRUE(c);
  pkt::Packet out = udp("10.0.0.1", 1234, "8.8.8.8", 53);
  EXPECT_EQ(c->run(out, "lan"), "wan");
  EXPECT_EQ(endpoints(out), "203.0.113.1:5000 > 8.8.8.8:53");
  pkt::Packet back = udp("8.8.8.8", 53, "203.0.113.1", 5000);
  EXPECT_EQ(c->run(back, "wan"), "lan_out");
  EXPECT_EQ(endpoints(back), "8.8.8.8:53 > 10.0.0.1:1234");
  std::string why;
  EXPECT_TRUE(pkt::checksumsValid(back, &why)) << why;
  interp::NFCounters k = c->counters("napt");
  EXPECT_EQ(k.in, 2u);
  std::vector<std::pair<std::string, uint64_t>> want = {{"napt.in", 2},      {"napt.translated", 1},
                                                        {"napt.returned", 1}, {"napt.dropped", 0},
                                                        {"napt.mappings", 1}, {"napt.allocated", 1}};
  EXPECT_EQ(k.elements, want);
}

TEST(Interp, BlackboxIsAWireToItsFirstOutput) {
  auto c = load("nf bb blackbox { process \"/bin/cat\"; input a, b; output x, y; writes ip.dscp; }\n"
                "nf mark { set ip.ttl = 9; }\n"
                "chain ch { in p0 -> bb.b; bb.x -> mark -> out p1; bb.y -> out p2; }\n");
  ASSERT_TRUE(c);
  pkt::Packet p = tcp("1.1.1.1", 1, "2.2.2.2", 2), before = p;
  EXPECT_EQ(c->run(p), "p1");
  EXPECT_EQ(p.get(FieldId::IpTtl), 9u);
  p.set(FieldId::IpTtl, 64);
  EXPECT_EQ(p.frame(), before.frame()); // nothing else changed
  EXPECT_EQ(c->counters("bb").out, (std::vector<std::pair<std::string, uint64_t>>{{"x", 1}, {"y", 0}}));
}

TEST(Interp, DpiMatchAppliesTheAction) {
  std::string sigs = tempFile("sigs.txt", "1:/attack/i\n");
  auto c = load("import patterns \"" + sigs + "\" as sigs;\n"
                "nf ids stateful { dpi sigs action branch alert; }\n"
                "chain ch { in p0 -> ids -> out p1; ids.alert -> out p2; }\n");
  unlink(sigs.c_str());
  ASSERT_TRUE(c);
  auto withPayload = [](const std::string &payload) {
    pkt::Packet base = udp("10.0.0.1", 1, "10.0.0.2", 2);
    std::vector<uint8_t> f(base.frame().begin(), base.frame().begin() + 14 + 28);
    f.insert(f.end(), payload.begin(), payload.end());
    f[14 + 2] = uint8_t((28 + payload.size()) >> 8), f[14 + 3] = uint8_t(28 + payload.size());
    f[14 + 20 + 6] = f[14 + 20 + 7] = 0; // no UDP checksum
    return pkt::Packet(f.data(), f.size());
  };
  pkt::Packet bad = withPayload("an ATTACK!"), good = withPayload("hello");
  EXPECT_EQ(c->run(bad), "p2");
  EXPECT_EQ(c->run(good), "p1");
  EXPECT_EQ(c->counters("ids").elements,
            (std::vector<std::pair<std::string, uint64_t>>{{"dpi.in", 2}, {"dpi.matched", 1}}));
}

TEST(Interp, DpiPatternHyperscanRejects) {
  std::string sigs = tempFile("bad-sigs.txt", "1:/fine/\n2:/(a)\\1/\n");
  SourceManager sm;
  DiagnosticEngine diags(sm);
  auto ast = parseFile(sm,
                       sm.addBuffer(std::string(METRON_SOURCE_DIR) + "/tests/t.metron",
                                    "import patterns \"" + sigs + "\" as sigs;\nnf ids stateful { dpi sigs; }\n"
                                    "chain ch { in p0 -> ids -> out p1; }\n"),
                       diags);
  ASSERT_TRUE(ast);
  auto m = analyze(*ast, sm, diags);
  unlink(sigs.c_str());
  ASSERT_FALSE(diags.hasErrors());
  std::string err;
  EXPECT_FALSE(interp::Interpreter::create(*m, m->chains[0], err));
  EXPECT_NE(err.find("NF 'ids': dpi sigs: Hyperscan rejects pattern 2"), std::string::npos) << err;
  EXPECT_NE(err.find("line 2"), std::string::npos) << err;
}
