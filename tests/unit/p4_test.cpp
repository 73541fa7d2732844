//===- tests/unit/p4_test.cpp - The P4 target: v1model program, CLI commands, P4Runtime JSON --===//
///
/// \file
/// Device rules are built by hand here, so every expectation follows from targets/p4/P4.h and
/// the syntax references, not from the split: bmv2 docs/runtime_CLI.md (`table_add <table>
/// <action> <keys> => <params> <priority>`, ternary `v&&&m`, range `lo->hi`, smallest priority
/// wins), p4runtime.proto (TableEntry/FieldMatch/Action field names; don't-care matches omitted;
/// larger priority wins) and p4c's v1model.p4. No P4 compiler is packaged on Debian 12, so the
/// program is checked structurally: balanced brackets, each table declared once and applied
/// once, every action an entry names declared (with as many parameters) and listed by its table,
/// key lists equal to the fields the rules use. Golden files under tests/targets/p4 pin the whole
/// output of two rule sets (METRONC_REPLACE=1 rewrites them; review the diff).
//===----------------------------------------------------------------------------------------===//
#include "targets/p4/P4.h"
#include "tests/unit/RuleBuilders.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

using namespace metron;
using namespace metron::targets;
using namespace metron::targets::p4;
using ir::FieldId;
using split::DeviceMatch;

using namespace metron::targets::testing;

namespace {

DeviceRules rules(std::vector<Rule> rs) {
  DeviceRules d;
  d.element = "s1";
  d.profile = "test-switch";
  d.kind = split::DeviceProfile::Switch;
  for (const auto &r : rs) {
    d.tables = std::max(d.tables, r.table + 1);
    d.maxPriority = std::max(d.maxPriority, r.priority);
  }
  d.rules = std::move(rs);
  return d;
}

std::vector<std::string> lines(const std::string &s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> words(const std::string &s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

/// The program without comments and string literals (for bracket and name checks).
std::string code(const std::string &p) {
  std::string o;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p.compare(i, 2, "//") == 0) {
      while (i < p.size() && p[i] != '\n') ++i;
      o += '\n';
    } else if (p[i] == '"') {
      for (++i; i < p.size() && p[i] != '"'; ++i) {}
      o += "\"\"";
    } else {
      o += p[i];
    }
  }
  return o;
}

size_t count(const std::string &s, const std::string &what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

/// The body of a braced block opening at the first `{` at or after \p from.
std::string block(const std::string &s, size_t from) {
  size_t open = s.find('{', from);
  if (open == std::string::npos) return "";
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return s.substr(open + 1, i - open - 1);
  }
  return "";
}

struct TableDecl {
  std::vector<std::string> keys; ///< "hdr.ipv4.srcAddr: ternary"
  std::vector<std::string> actions;
};

/// The tables of a program: key entries and action names, by table name.
std::map<std::string, TableDecl> tables(const std::string &prog) {
  std::map<std::string, TableDecl> out;
  std::regex decl(R"(\n    table (\w+) \{)");
  for (std::sregex_iterator it(prog.begin(), prog.end(), decl), end; it != end; ++it) {
    std::string body = block(prog, size_t(it->position()));
    TableDecl t;
    std::string keys = block(body, body.find("key"));
    std::regex key(R"re(([\w.$()]+): (ternary|range|exact) @name\("([^"]+)"\);)re");
    for (std::sregex_iterator k(keys.begin(), keys.end(), key), e; k != e; ++k)
      t.keys.push_back((*k)[1].str() + ": " + (*k)[2].str());
    for (std::string l : lines(block(body, body.find("actions")))) {
      l.erase(0, l.find_first_not_of(' '));
      if (!l.empty() && l.back() == ';') t.actions.push_back(l.substr(0, l.size() - 1));
    }
    out[(*it)[1]] = t;
  }
  return out;
}

/// Action name -> parameter count, from `action NAME(...) {`.
std::map<std::string, size_t> actions(const std::string &prog) {
  std::map<std::string, size_t> out;
  std::regex decl(R"(\n    action (\w+)\(([^)]*)\) \{)");
  for (std::sregex_iterator it(prog.begin(), prog.end(), decl), end; it != end; ++it) {
    std::string ps = (*it)[2];
    out[(*it)[1]] = ps.empty() ? 0 : size_t(std::count(ps.begin(), ps.end(), ',')) + 1;
  }
  return out;
}

/// The structural checks every program and its CLI must pass.
void checkStructure(const DeviceRules &r) {
  std::string prog = printProgram(r), cli = printCli(r);
  std::string c = code(prog);
  // Balanced brackets, never closing more than opened.
  for (auto [open, close] : {std::pair{'{', '}'}, std::pair{'(', ')'}}) {
    int depth = 0;
    for (char ch : c) {
      depth += ch == open;
      depth -= ch == close;
      ASSERT_GE(depth, 0) << "unbalanced " << close;
    }
    EXPECT_EQ(depth, 0) << "unbalanced " << open;
  }
  EXPECT_EQ(count(prog, "#include <core.p4>\n#include <v1model.p4>\n"), 1u);
  EXPECT_EQ(count(c, ") main;"), 1u);
  auto ts = tables(prog);
  auto as = actions(prog);
  // Each table declared once and applied once; tables exactly those with rules.
  std::set<uint32_t> withRules;
  for (const auto &x : r.rules) withRules.insert(x.table);
  EXPECT_EQ(ts.size(), withRules.size());
  for (uint32_t t : withRules) {
    std::string name = "metron_t" + std::to_string(t);
    EXPECT_EQ(count(c, "table " + name + " {"), 1u) << name;
    EXPECT_EQ(count(c, name + ".apply();"), 1u) << name;
    if (t != 0) {
      EXPECT_EQ(count(c, "if (meta.next_table == " + std::to_string(t) + ") {"), 1u) << name;
    }
    ASSERT_TRUE(ts.count(name)) << name;
    EXPECT_FALSE(ts[name].keys.empty()) << name;
    EXPECT_EQ(ts[name].actions.back(), "@defaultonly NoAction") << name;
  }
  // Every action an entry names is declared, listed by its table, with as many parameters as
  // the entry gives; as many key values as the table has keys; a priority.
  std::vector<std::string> ls = lines(cli);
  ASSERT_FALSE(ls.empty());
  for (const auto &l : ls) {
    auto w = words(l);
    ASSERT_GE(w.size(), 5u) << l;
    EXPECT_EQ(w[0], "table_add") << l;
    ASSERT_EQ(w[1].rfind("ingress.", 0), 0u) << l;
    ASSERT_EQ(w[2].rfind("ingress.", 0), 0u) << l;
    std::string table = w[1].substr(8), action = w[2].substr(8);
    ASSERT_TRUE(ts.count(table)) << l;
    ASSERT_TRUE(as.count(action)) << l;
    const auto &tas = ts[table].actions;
    EXPECT_NE(std::find(tas.begin(), tas.end(), action), tas.end()) << l;
    auto arrow = std::find(w.begin(), w.end(), "=>");
    ASSERT_NE(arrow, w.end()) << l;
    EXPECT_EQ(size_t(arrow - w.begin()) - 3, ts[table].keys.size()) << l;
    EXPECT_EQ(size_t(w.end() - arrow) - 2, as[action]) << l;
    EXPECT_GE(std::stoll(w.back()), 1) << l;
    for (auto k = w.begin() + 3; k != arrow; ++k)
      EXPECT_TRUE(k->find("&&&") != std::string::npos || k->find("->") != std::string::npos) << l;
  }
  // The JSON has as many entries as the CLI, each naming a declared table and action.
  auto j = nlohmann::ordered_json::parse(printP4Runtime(r));
  ASSERT_EQ(j["table_entries"].size(), ls.size());
  for (const auto &e : j["table_entries"]) {
    std::string t = e["table_name"], a = e["action"]["action"]["action_name"];
    EXPECT_TRUE(ts.count(t.substr(8))) << t;
    EXPECT_TRUE(as.count(a.substr(8))) << a;
    EXPECT_EQ(e["action"]["action"]["params"].size(), as[a.substr(8)]);
    EXPECT_GE(e["priority"].get<int64_t>(), 1);
  }
}

std::vector<std::string> keysOf(const DeviceRules &r, uint32_t table) {
  return tables(printProgram(r))["metron_t" + std::to_string(table)].keys;
}

// ---- the cases ----------------------------------------------------------------------------------

/// Drop TCP from 10.0.0.0/8 to port 80; everything else out of port 1.
DeviceRules dropPrefixPort() {
  Rule drop = rule(0, 10, {prefix(FieldId::IpSrc, ip(10, 0, 0, 0), 8), exact(FieldId::TpDst, 80)},
                   {act(ActionKind::Drop)});
  drop.ipv4 = true;
  drop.proto = 6;
  drop.classId = 3;
  Rule dflt = rule(0, 1, {}, {act(ActionKind::Output, 1)});
  dflt.role = RuleRole::Default;
  return rules({drop, dflt});
}

TEST(P4, DropOnSourcePrefixAndTcpPort) {
  DeviceRules r = dropPrefixPort();
  checkStructure(r);
  EXPECT_EQ(keysOf(r, 0), (std::vector<std::string>{"hdr.ipv4.isValid(): ternary", "hdr.ipv4.srcAddr: ternary",
                                                     "hdr.ipv4.protocol: ternary", "meta.tp_dst: ternary"}));
  // bmv2: the smallest priority number wins, so 10 (highest) -> 1, 1 -> 10.
  EXPECT_EQ(printCli(r), "table_add ingress.metron_t0 ingress.a_drop 1&&&0x1 10.0.0.0&&&255.0.0.0 6&&&0xff "
                         "80&&&0xffff => 1\n"
                         "table_add ingress.metron_t0 ingress.a_output 0&&&0 0&&&0 0&&&0 0&&&0 => 1 10\n");
  auto j = nlohmann::ordered_json::parse(printP4Runtime(r));
  EXPECT_EQ(j["element"], "s1");
  ASSERT_EQ(j["table_entries"].size(), 2u);
  EXPECT_EQ(j["table_entries"][0].dump(),
            R"({"table_name":"ingress.metron_t0","match":[)"
            R"({"field_name":"hdr.ipv4.$valid$","ternary":{"value":"0x01","mask":"0x01"}},)"
            R"({"field_name":"hdr.ipv4.srcAddr","ternary":{"value":"0x0a000000","mask":"0xff000000"}},)"
            R"({"field_name":"hdr.ipv4.protocol","ternary":{"value":"0x06","mask":"0xff"}},)"
            R"({"field_name":"meta.tp_dst","ternary":{"value":"0x0050","mask":"0xffff"}}],)"
            R"("action":{"action":{"action_name":"ingress.a_drop","params":[]}},"priority":11,)"
            R"("metadata":"0x0000000100000003"})");
  // Don't-care matches are omitted (p4runtime.proto): the default rule matches nothing.
  EXPECT_EQ(j["table_entries"][1].dump(),
            R"({"table_name":"ingress.metron_t0","match":[],)"
            R"("action":{"action":{"action_name":"ingress.a_output",)"
            R"("params":[{"param_name":"port","value":"0x0001"}]}},)"
            R"("priority":2,"metadata":"0x0000000300000000"})");
  std::string prog = printProgram(r);
  EXPECT_NE(prog.find("    action a_drop() {\n        mark_to_drop(standard_metadata);\n    }\n"), std::string::npos);
  EXPECT_NE(prog.find("    action a_output(bit<9> port) {\n        standard_metadata.egress_spec = port;\n    }\n"),
            std::string::npos);
  EXPECT_NE(prog.find("        const default_action = NoAction();\n"), std::string::npos);
  EXPECT_NE(prog.find("        metron_t0.apply();\n"), std::string::npos);
}

TEST(P4, RangeKeyWhenEveryMaskIsAPrefix) {
  // 1024-65535 is six prefix blocks: a range key. 0-1023 is one block (mask 0xfc00), which a
  // range key takes as 0->1023.
  Rule hi = rule(0, 5, {range(FieldId::TpDst, 1024, 65535)}, {act(ActionKind::Output, 2)});
  hi.ipv4 = true, hi.proto = 17;
  Rule lo = rule(0, 4, {range(FieldId::TpDst, 0, 1023)}, {act(ActionKind::Drop)});
  lo.ipv4 = true, lo.proto = 17;
  DeviceRules r = rules({hi, lo});
  checkStructure(r);
  EXPECT_EQ(keysOf(r, 0), (std::vector<std::string>{"hdr.ipv4.isValid(): ternary", "hdr.ipv4.protocol: ternary",
                                                     "meta.tp_dst: range"}));
  EXPECT_EQ(printCli(r), "table_add ingress.metron_t0 ingress.a_output 1&&&0x1 17&&&0xff 1024->65535 => 2 1\n"
                         "table_add ingress.metron_t0 ingress.a_drop 1&&&0x1 17&&&0xff 0->1023 => 2\n");
  auto j = nlohmann::ordered_json::parse(printP4Runtime(r));
  EXPECT_EQ(j["table_entries"][0]["match"][2].dump(),
            R"({"field_name":"meta.tp_dst","range":{"low":"0x0400","high":"0xffff"}})");
  EXPECT_EQ(j["table_entries"][1]["match"][2].dump(),
            R"({"field_name":"meta.tp_dst","range":{"low":"0x0000","high":"0x03ff"}})");
}

TEST(P4, RangeExpandedOnATernaryKey) {
  // A non-prefix mask on tp.dst (low byte 0x50, any high byte) makes the key ternary; the
  // range 1024-65535 becomes its six prefix blocks, six entries of the same priority.
  Rule a = rule(0, 7, {masked(FieldId::TpDst, 0x50, 0xff)}, {act(ActionKind::Drop)});
  a.ipv4 = true, a.proto = 6;
  Rule b = rule(0, 6, {range(FieldId::TpDst, 1024, 65535)}, {act(ActionKind::Output, 1)});
  b.ipv4 = true, b.proto = 6;
  DeviceRules r = rules({a, b});
  checkStructure(r);
  EXPECT_EQ(keysOf(r, 0).back(), "meta.tp_dst: ternary");
  EXPECT_EQ(printCli(r), "table_add ingress.metron_t0 ingress.a_drop 1&&&0x1 6&&&0xff 80&&&0xff => 1\n"
                         "table_add ingress.metron_t0 ingress.a_output 1&&&0x1 6&&&0xff 1024&&&0xfc00 => 1 2\n"
                         "table_add ingress.metron_t0 ingress.a_output 1&&&0x1 6&&&0xff 2048&&&0xf800 => 1 2\n"
                         "table_add ingress.metron_t0 ingress.a_output 1&&&0x1 6&&&0xff 4096&&&0xf000 => 1 2\n"
                         "table_add ingress.metron_t0 ingress.a_output 1&&&0x1 6&&&0xff 8192&&&0xe000 => 1 2\n"
                         "table_add ingress.metron_t0 ingress.a_output 1&&&0x1 6&&&0xff 16384&&&0xc000 => 1 2\n"
                         "table_add ingress.metron_t0 ingress.a_output 1&&&0x1 6&&&0xff 32768&&&0x8000 => 1 2\n");
}

TEST(P4, TwoTablesWithAJump) {
  Rule t0 = rule(0, 2, {exact(FieldId::IpDst, ip(192, 0, 2, 1))}, {set(FieldId::IpDst, ip(10, 0, 0, 2)),
                                                                    act(ActionKind::Jump, 1)});
  t0.ipv4 = true;
  Rule t1 = rule(1, 1, {}, {act(ActionKind::Output, 2)});
  t1.inPort = 4;
  DeviceRules r = rules({t0, t1});
  checkStructure(r);
  EXPECT_EQ(keysOf(r, 0), (std::vector<std::string>{"hdr.ipv4.isValid(): ternary", "hdr.ipv4.dstAddr: ternary"}));
  EXPECT_EQ(keysOf(r, 1), (std::vector<std::string>{"standard_metadata.ingress_port: ternary"}));
  EXPECT_EQ(printCli(r), "table_add ingress.metron_t0 ingress.a_set_ip_dst_jump 1&&&0x1 192.0.2.1&&&255.255.255.255 "
                         "=> 10.0.0.2 1 1\n"
                         "table_add ingress.metron_t1 ingress.a_output 4&&&0x1ff => 2 1\n");
  std::string prog = printProgram(r);
  EXPECT_NE(prog.find("    action a_set_ip_dst_jump(bit<32> ip_dst, bit<8> next_table) {\n"
                      "        hdr.ipv4.dstAddr = ip_dst;\n"
                      "        meta.ip_dirty = 1;\n"
                      "        meta.l4_dirty = 1;\n"
                      "        meta.next_table = next_table;\n"
                      "    }\n"),
            std::string::npos);
  // Table 1 runs after table 0, only when a rule jumped to it.
  size_t a0 = prog.find("metron_t0.apply();");
  size_t a1 = prog.find("if (meta.next_table == 1) {\n            metron_t1.apply();");
  ASSERT_NE(a1, std::string::npos);
  EXPECT_LT(a0, a1);
  auto j = nlohmann::ordered_json::parse(printP4Runtime(r));
  EXPECT_EQ(j["table_entries"][0]["action"]["action"]["params"].dump(),
            R"([{"param_name":"ip_dst","value":"0x0a000002"},{"param_name":"next_table","value":"0x01"}])");
  EXPECT_EQ(j["table_entries"][1]["table_name"], "ingress.metron_t1");
  EXPECT_EQ(j["table_entries"][1]["match"].dump(),
            R"([{"field_name":"standard_metadata.ingress_port","ternary":{"value":"0x0004","mask":"0x01ff"}}])");
}

TEST(P4, VlanPushAndOutput) {
  Rule x = rule(0, 3, {exact(FieldId::EthType, 0x0806)}, {act(ActionKind::PushVlan, 5), act(ActionKind::Output, 3)});
  DeviceRules r = rules({x});
  checkStructure(r);
  EXPECT_EQ(keysOf(r, 0), (std::vector<std::string>{"meta.eth_type: ternary"}));
  EXPECT_EQ(printCli(r), "table_add ingress.metron_t0 ingress.a_push_vlan_output 2054&&&0xffff => 5 3 1\n");
  std::string prog = printProgram(r);
  EXPECT_NE(prog.find("    action a_push_vlan_output(bit<12> vid, bit<9> port) {\n"
                      "        meta.vlan_vid = vid;\n"
                      "        meta.vlan_vid_set = 1;\n"
                      "        standard_metadata.egress_spec = port;\n"
                      "    }\n"),
            std::string::npos);
  // The tag is pushed after the table when the frame has none.
  EXPECT_NE(prog.find("            hdr.vlan.setValid();\n"), std::string::npos);
  EXPECT_NE(prog.find("            hdr.ethernet.etherType = 0x8100;\n"), std::string::npos);
  auto j = nlohmann::ordered_json::parse(printP4Runtime(r));
  EXPECT_EQ(j["table_entries"][0]["action"]["action"]["params"].dump(),
            R"([{"param_name":"vid","value":"0x0005"},{"param_name":"port","value":"0x0003"}])");
  EXPECT_EQ(j["table_entries"][0]["priority"], 4);
}

TEST(P4, MacTagAndOutput) {
  Rule x = rule(0, 1, {exact(FieldId::VlanId, 100)}, {set(FieldId::EthDst, 0x020000000007ull),
                                                      act(ActionKind::Output, 2)});
  DeviceRules r = rules({x});
  checkStructure(r);
  // A vlan.id match requires the tag (device semantics), even without the prerequisite flag.
  EXPECT_EQ(keysOf(r, 0), (std::vector<std::string>{"hdr.vlan.isValid(): ternary", "hdr.vlan.vid: ternary"}));
  EXPECT_EQ(printCli(r), "table_add ingress.metron_t0 ingress.a_set_eth_dst_output 1&&&0x1 100&&&0xfff => "
                         "02:00:00:00:00:07 2 1\n");
  auto j = nlohmann::ordered_json::parse(printP4Runtime(r));
  EXPECT_EQ(j["table_entries"][0]["action"]["action"]["params"][0].dump(),
            R"({"param_name":"eth_dst","value":"0x020000000007"})");
  EXPECT_NE(printProgram(r).find("        hdr.ethernet.dstAddr = eth_dst;\n"), std::string::npos);
}

TEST(P4, DecTtlDropsOnExpiry) {
  Rule x = rule(0, 1, {}, {act(ActionKind::DecTtl), act(ActionKind::Output, 1)});
  x.ipv4 = true;
  DeviceRules r = rules({x});
  checkStructure(r);
  EXPECT_EQ(printCli(r), "table_add ingress.metron_t0 ingress.a_dec_ttl_output 1&&&0x1 => 1 1\n");
  std::string prog = printProgram(r);
  EXPECT_NE(prog.find("    action a_dec_ttl_output(bit<9> port) {\n"
                      "        meta.ttl_expired = (!hdr.ipv4.isValid() || hdr.ipv4.ttl <= 1) ? 1w1 : 1w0;\n"
                      "        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;\n"
                      "        meta.ip_dirty = 1;\n"
                      "        standard_metadata.egress_spec = port;\n"
                      "    }\n"),
            std::string::npos);
  EXPECT_NE(prog.find("        metron_t0.apply();\n"
                      "        if (meta.ttl_expired == 1) {\n"
                      "            mark_to_drop(standard_metadata);\n"
                      "            exit;\n"
                      "        }\n"),
            std::string::npos);
  EXPECT_NE(prog.find("update_checksum(hdr.ipv4.isValid() && !hdr.ipv4_options.isValid() && meta.ip_dirty == 1,"),
            std::string::npos);
}

TEST(P4, CatchAllTableStillTakesEntries) {
  DeviceRules r = rules({rule(0, 1, {}, {act(ActionKind::Output, 1)})});
  checkStructure(r);
  EXPECT_EQ(keysOf(r, 0), (std::vector<std::string>{"hdr.ethernet.isValid(): ternary"}));
  EXPECT_EQ(printCli(r), "table_add ingress.metron_t0 ingress.a_output 0&&&0 => 1 1\n");
}

TEST(P4, ProgramDependsOnlyOnFieldsAndActionsUsed) {
  // The same shapes with other values and more rules print the same program.
  DeviceRules a = dropPrefixPort();
  DeviceRules b = dropPrefixPort();
  b.rules[0].match = {prefix(FieldId::IpSrc, ip(172, 16, 0, 0), 12), exact(FieldId::TpDst, 443)};
  b.rules[1].actions = {act(ActionKind::Output, 7)};
  b.rules.insert(b.rules.begin() + 1, b.rules[0]);
  b.rules[1].priority = 5;
  EXPECT_EQ(printProgram(a), printProgram(b));
  EXPECT_NE(printCli(a), printCli(b));
}

TEST(P4, TableSizeRoundsEntriesUpToAPowerOfTwo) {
  std::vector<Rule> rs;
  for (uint32_t i = 0; i < 1500; ++i) {
    Rule x = rule(0, 2000 - i, {exact(FieldId::TpDst, i)}, {act(ActionKind::Drop)});
    x.ipv4 = true, x.proto = 6;
    rs.push_back(x);
  }
  DeviceRules r = rules(rs);
  EXPECT_NE(printProgram(r).find("        size = 2048;\n"), std::string::npos);
  rs.resize(3);
  EXPECT_NE(printProgram(rules(rs)).find("        size = 1024;\n"), std::string::npos);
  EXPECT_EQ(lines(printCli(r)).size(), 1500u);
}

// ---- golden files -------------------------------------------------------------------------------

/// A classifier: an ACL (prefix, protocol, range, flags mask) over a default route to the server.
DeviceRules goldenClassifier() {
  Rule deny = rule(0, 40, {prefix(FieldId::IpSrc, ip(10, 0, 0, 0), 8), range(FieldId::TpDst, 0, 1023)},
                   {act(ActionKind::Drop)});
  deny.ipv4 = true, deny.proto = 6, deny.classId = 0, deny.group = 0, deny.note = "class 0: acl rule 1";
  Rule syn = rule(0, 30, {masked(FieldId::TcpFlags, 0x02, 0x12)}, {act(ActionKind::PushVlan, 1),
                                                                    act(ActionKind::Output, 2)});
  syn.ipv4 = true, syn.proto = 6, syn.classId = 1, syn.group = 1, syn.note = "class 1: acl rule 2";
  Rule dns = rule(0, 20, {exact(FieldId::IpDst, ip(192, 0, 2, 53)), exact(FieldId::TpDst, 53)},
                  {act(ActionKind::PushVlan, 2), act(ActionKind::Output, 2)});
  dns.ipv4 = true, dns.proto = 17, dns.classId = 2, dns.group = 2, dns.note = "class 2: acl rule 3";
  Rule ret = rule(0, 10, {}, {act(ActionKind::PopVlan), act(ActionKind::Output, 1)});
  ret.inPort = 2, ret.vlan = true, ret.role = RuleRole::Return, ret.note = "return towards out";
  Rule dflt = rule(0, 1, {}, {act(ActionKind::Output, 2)});
  dflt.role = RuleRole::Default, dflt.note = "default: to the server";
  DeviceRules r = rules({deny, syn, dns, ret, dflt});
  r.element = "s1";
  return r;
}

/// Two tables: a router stage (dec_ttl, next-hop MAC, source rewrite) that jumps to a tagging
/// stage (MAC tag, QoS rewrite, port rewrite), and an ICMP rule.
DeviceRules goldenTwoTables() {
  Rule route = rule(0, 24, {prefix(FieldId::IpDst, ip(198, 51, 100, 0), 24)},
                    {act(ActionKind::DecTtl), set(FieldId::EthDst, 0x0200000000aaull),
                     set(FieldId::IpSrc, ip(203, 0, 113, 9)), act(ActionKind::Jump, 1)});
  route.ipv4 = true, route.classId = 4, route.group = 1, route.note = "class 4: route 198.51.100.0/24";
  Rule icmp = rule(0, 16, {exact(FieldId::IcmpType, 8)}, {act(ActionKind::Output, 1)});
  icmp.ipv4 = true, icmp.proto = 1, icmp.classId = 5, icmp.note = "class 5: echo requests";
  Rule web = rule(1, 3, {range(FieldId::TpDst, 8000, 8080)},
                  {set(FieldId::IpDscp, 46), set(FieldId::TpDst, 80), set(FieldId::EthDst, 0x020000000102ull),
                   act(ActionKind::Output, 3)});
  web.ipv4 = true, web.proto = 6, web.classId = 6, web.group = 2, web.note = "class 6: web";
  Rule rest = rule(1, 1, {}, {set(FieldId::EthDst, 0x020000000101ull), act(ActionKind::Output, 3)});
  rest.role = RuleRole::Path, rest.group = 1, rest.note = "path: group 1";
  DeviceRules r = rules({route, icmp, web, rest});
  r.element = "s2";
  r.maxPriority = 32;
  r.tableMaxPriority = {32, 8}; // the tables' top levels: bmv2 numbers count down from them
  return r;
}

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void golden(const std::string &name, const std::string &ext, const std::string &actual) {
  std::string path = std::string(METRON_SOURCE_DIR) + "/tests/targets/p4/" + name + "." + ext;
  const char *replace = std::getenv("METRONC_REPLACE");
  if (replace && std::string(replace) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::string expected = slurp(path);
  ASSERT_FALSE(expected.empty()) << path << " is missing (METRONC_REPLACE=1 writes it)";
  EXPECT_EQ(expected, actual) << path << " differs (METRONC_REPLACE=1 rewrites it; review the diff)";
}

TEST(P4Golden, Classifier) {
  DeviceRules r = goldenClassifier();
  checkStructure(r);
  golden("classifier", "p4", printProgram(r));
  golden("classifier", "cli", printCli(r));
  golden("classifier", "json", printP4Runtime(r));
}

TEST(P4Golden, TwoTables) {
  DeviceRules r = goldenTwoTables();
  checkStructure(r);
  golden("two-tables", "p4", printProgram(r));
  golden("two-tables", "cli", printCli(r));
  golden("two-tables", "json", printP4Runtime(r));
}

} // namespace
