//===- tests/unit/rteflow_test.cpp - The rte_flow printer (testpmd lines and JSON) ------------===//
///
/// \file
/// Device rules are built by hand; the expected lines are derived from dpdk-testpmd 22.11's
/// flow syntax (doc/guides/testpmd_app_ug/testpmd_funcs.rst, app/test-pmd/cmdline_flow.c),
/// not from the printer. Whether testpmd really accepts them is checked by
/// tests/tools/testpmd-check.sh; set RTEFLOW_TESTPMD_OUT=FILE to have the VariedRules test
/// write its rule file there for that checker.
//===----------------------------------------------------------------------------------------===//
#include "targets/rteflow/RteFlow.h"
#include "tests/unit/RuleBuilders.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace metron;
using namespace metron::targets;
using ir::FieldId;

using namespace metron::targets::testing;

namespace {

DeviceRules device(std::vector<Rule> rules, uint32_t maxPriority) {
  DeviceRules d;
  d.element = "server1.nic0";
  d.profile = "connectx-5";
  d.kind = split::DeviceProfile::Nic;
  d.maxPriority = maxPriority;
  d.rules = std::move(rules);
  for (const auto &r : d.rules) d.tables = std::max(d.tables, r.table + 1);
  return d;
}

std::vector<std::string> lines(const std::string &s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// The `flow create` lines of a printed file, comments dropped.
std::vector<std::string> flowLines(const std::string &s) {
  std::vector<std::string> out;
  for (auto &l : lines(s))
    if (l.rfind("flow create ", 0) == 0) out.push_back(l);
  return out;
}

/// The one rule line printed for `r` alone on a device whose maximum priority is `maxPrio`.
std::string one(const Rule &r, uint32_t maxPrio = 0, const rteflow::Options &o = {}) {
  auto f = flowLines(rteflow::printTestpmd(device({r}, maxPrio), o));
  EXPECT_EQ(f.size(), 1u);
  return f.empty() ? "" : f[0];
}

} // namespace

TEST(RteFlow, DropWithPrefixAndTcpPort) {
  Rule r = rule(0, 10, {masked(FieldId::IpSrc, 0x0a000000, 0xff000000), exact(FieldId::TpDst, 80)},
                {act(ActionKind::Drop)});
  r.ipv4 = true;
  r.proto = 6;
  EXPECT_EQ(one(r, 10), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 src spec 10.0.0.0 src mask "
                        "255.0.0.0 / tcp dst is 80 / end actions drop / end");
}

TEST(RteFlow, ExactAddressAndBothPorts) {
  Rule r = rule(0, 1,
                {exact(FieldId::IpSrc, 0xc0a80001), exact(FieldId::IpDst, 0x0a000001), exact(FieldId::TpSrc, 53),
                 exact(FieldId::TpDst, 1053)},
                {act(ActionKind::Queue, 1)});
  r.proto = 17; // implies ipv4
  EXPECT_EQ(one(r, 1), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 src is 192.168.0.1 dst is "
                       "10.0.0.1 / udp src is 53 dst is 1053 / end actions queue index 1 / end");
}

TEST(RteFlow, Ranges) {
  Rule r = rule(0, 4, {range(FieldId::TpSrc, 0, 1023), range(FieldId::TpDst, 1024, 65535)}, {act(ActionKind::Drop)});
  r.proto = 17;
  EXPECT_EQ(one(r, 4), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 / udp src spec 0 src last 1023 "
                       "src mask 0xffff dst spec 1024 dst last 65535 dst mask 0xffff / end actions drop / end");
  // A one-value range is exact; a full range matches everything and prints nothing.
  r.match = {range(FieldId::TpSrc, 0, 65535), range(FieldId::TpDst, 443, 443)};
  EXPECT_EQ(one(r, 4), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 / udp dst is 443 / end actions "
                       "drop / end");
  // A range on an address and on the TTL.
  r.match = {range(FieldId::IpDst, 0x0a000005, 0x0a000009), range(FieldId::IpTtl, 1, 10)};
  EXPECT_EQ(one(r, 4), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 dst spec 10.0.0.5 dst last "
                       "10.0.0.9 dst mask 255.255.255.255 ttl spec 1 ttl last 10 ttl mask 0xff / udp / end actions "
                       "drop / end");
}

TEST(RteFlow, MaskedPortAndZeroMask) {
  Rule r = rule(0, 0, {masked(FieldId::TpDst, 1024, 0xfc00), masked(FieldId::TpSrc, 0, 0)}, {act(ActionKind::Drop)});
  r.proto = 6;
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 / tcp dst spec 1024 dst mask 0xfc00 "
                    "/ end actions drop / end");
}

TEST(RteFlow, Jump) {
  Rule r = rule(0, 2, {}, {act(ActionKind::Jump, 1)});
  // The only rule of group 0: rte_flow priority 0, whatever the device's largest priority.
  EXPECT_EQ(one(r, 7), "flow create 0 group 0 priority 0 ingress pattern eth / end actions jump group 1 / end");
}

TEST(RteFlow, VlanTagDispatch) {
  Rule r = rule(0, 3, {exact(FieldId::VlanId, 5)}, {act(ActionKind::PopVlan), act(ActionKind::Queue, 2)});
  r.vlan = true;
  r.role = RuleRole::Dispatch;
  r.group = 5;
  EXPECT_EQ(one(r, 3), "flow create 0 group 0 priority 0 ingress pattern eth / vlan tci spec 0x0005 tci mask 0x0fff / "
                       "end actions of_pop_vlan / queue index 2 / end");
  // vlan.pcp joins vlan.id in the tci (pcp << 13 | vid), the DEI bit left out of the mask.
  r.match = {exact(FieldId::VlanId, 5), exact(FieldId::VlanPcp, 3)};
  EXPECT_EQ(one(r, 3), "flow create 0 group 0 priority 0 ingress pattern eth / vlan tci spec 0x6005 tci mask 0xefff / "
                       "end actions of_pop_vlan / queue index 2 / end");
  // Any tagged frame.
  r.match = {};
  EXPECT_EQ(one(r, 3), "flow create 0 group 0 priority 0 ingress pattern eth / vlan / end actions of_pop_vlan / "
                       "queue index 2 / end");
  // A vlan match implies the item even without Rule::vlan; then IPv4 after it.
  r.vlan = false;
  r.ipv4 = true;
  r.match = {range(FieldId::VlanId, 100, 199)};
  EXPECT_EQ(one(r, 3), "flow create 0 group 0 priority 0 ingress pattern eth / vlan tci spec 0x0064 tci last 0x00c7 "
                       "tci mask 0x0fff / ipv4 / end actions of_pop_vlan / queue index 2 / end");
}

TEST(RteFlow, MarkAndQueue) {
  Rule r = rule(0, 0, {exact(FieldId::TpDst, 22)}, {act(ActionKind::Mark, 7), act(ActionKind::Queue, 3)});
  r.proto = 6;
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 / tcp dst is 22 / end actions mark "
                    "id 7 / queue index 3 / end");
}

TEST(RteFlow, SetWrites) {
  Rule r = rule(1, 0, {},
                {set(FieldId::EthSrc, 0x020000000001), set(FieldId::EthDst, 0x0200000000ff),
                 set(FieldId::IpSrc, 0x0a010203), set(FieldId::IpDst, 0x0a030201), set(FieldId::IpTtl, 9),
                 set(FieldId::IpDscp, 46), set(FieldId::TpSrc, 1000), set(FieldId::TpDst, 8080),
                 set(FieldId::VlanId, 12), set(FieldId::VlanPcp, 3), act(ActionKind::DecTtl),
                 act(ActionKind::Queue, 0)});
  r.proto = 6;
  EXPECT_EQ(one(r), "flow create 0 group 1 priority 0 ingress pattern eth / ipv4 / tcp / end actions set_mac_src "
                    "mac_addr 02:00:00:00:00:01 / set_mac_dst mac_addr 02:00:00:00:00:ff / set_ipv4_src ipv4_addr "
                    "10.1.2.3 / set_ipv4_dst ipv4_addr 10.3.2.1 / set_ttl ttl_value 9 / set_ipv4_dscp dscp_value 46 / "
                    "set_tp_src port 1000 / set_tp_dst port 8080 / of_set_vlan_vid vlan_vid 12 / of_set_vlan_pcp "
                    "vlan_pcp 3 / dec_ttl / queue index 0 / end");
}

TEST(RteFlow, PushVlanMarkOutput) {
  Rule r = rule(0, 0, {}, {act(ActionKind::PushVlan, 100), act(ActionKind::Output, 1)});
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / end actions of_push_vlan ethertype 0x8100 "
                    "/ of_set_vlan_vid vlan_vid 100 / port_id id 1 / end");
  // Without a fate action the list is printed as given.
  r.actions = {act(ActionKind::Mark, 1)};
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / end actions mark id 1 / end");
  r.actions = {};
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / end actions end");
}

TEST(RteFlow, EthIpAndL4Fields) {
  Rule r = rule(0, 0,
                {exact(FieldId::EthSrc, 0x020000000001), masked(FieldId::EthDst, 0x020000000100, 0xffffffffff00),
                 exact(FieldId::EthType, 0x0806)},
                {act(ActionKind::Queue, 0)});
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth src is 02:00:00:00:00:01 dst spec "
                    "02:00:00:00:01:00 dst mask ff:ff:ff:ff:ff:00 type is 0x0806 / end actions queue index 0 / end");
  // ip.dscp goes into tos (<< 2, mask 0xfc); ip.proto only from the match.
  r.match = {exact(FieldId::IpProto, 47), exact(FieldId::IpTtl, 64), exact(FieldId::IpDscp, 46)};
  r.ipv4 = true;
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 tos spec 0xb8 tos mask 0xfc ttl is "
                    "64 proto is 47 / end actions queue index 0 / end");
  r.match = {range(FieldId::IpDscp, 8, 15)};
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 tos spec 0x20 tos last 0x3c tos mask "
                    "0xfc / end actions queue index 0 / end");
  // A protocol without an item of its own is matched in the ipv4 item.
  r.match = {};
  r.proto = 47;
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 proto is 47 / end actions queue index "
                    "0 / end");
  r.proto = 6;
  r.match = {masked(FieldId::TcpFlags, 0x02, 0x12)};
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 / tcp flags spec 0x02 flags mask "
                    "0x12 / end actions queue index 0 / end");
  r.proto = 1;
  r.match = {exact(FieldId::IcmpType, 8), exact(FieldId::IcmpCode, 0)};
  EXPECT_EQ(one(r), "flow create 0 group 0 priority 0 ingress pattern eth / ipv4 / icmp type is 8 code is 0 / end "
                    "actions queue index 0 / end");
}

TEST(RteFlow, PriorityConversion) {
  auto d = device({rule(0, 30, {}, {act(ActionKind::Drop)}), rule(0, 20, {}, {act(ActionKind::Drop)}),
                   rule(0, 10, {}, {act(ActionKind::Drop)}), rule(1, 0, {}, {act(ActionKind::Drop)})},
                  30);
  auto f = flowLines(rteflow::printTestpmd(d));
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], "flow create 0 group 0 priority 0 ingress pattern eth / end actions drop / end");
  EXPECT_EQ(f[1], "flow create 0 group 0 priority 10 ingress pattern eth / end actions drop / end");
  EXPECT_EQ(f[2], "flow create 0 group 0 priority 20 ingress pattern eth / end actions drop / end");
  // Each group is converted on its own: the only rule of group 1 gets 0.
  EXPECT_EQ(f[3], "flow create 0 group 1 priority 0 ingress pattern eth / end actions drop / end");
  // maxPriority does not matter: the per-group maximum does (no wrap-around either way).
  d.maxPriority = 5;
  f = flowLines(rteflow::printTestpmd(d));
  EXPECT_EQ(f[0], "flow create 0 group 0 priority 0 ingress pattern eth / end actions drop / end");
  EXPECT_EQ(f[3], "flow create 0 group 1 priority 0 ingress pattern eth / end actions drop / end");
  // DeviceRules::tableMaxPriority, when set, is the per-group maximum.
  d.tableMaxPriority = {40, 3};
  f = flowLines(rteflow::printTestpmd(d));
  EXPECT_EQ(f[0], "flow create 0 group 0 priority 10 ingress pattern eth / end actions drop / end");
  EXPECT_EQ(f[3], "flow create 0 group 1 priority 3 ingress pattern eth / end actions drop / end");
}

TEST(RteFlow, Ports) {
  Rule r = rule(0, 0, {}, {act(ActionKind::Drop)});
  EXPECT_EQ(one(r, 0, {.port = 3}), "flow create 3 group 0 priority 0 ingress pattern eth / end actions drop / end");
  r.inPort = 1; // the rule's own port wins
  EXPECT_EQ(one(r, 0, {.port = 3}), "flow create 1 group 0 priority 0 ingress pattern eth / end actions drop / end");
}

TEST(RteFlow, Comments) {
  Rule a = rule(0, 1, {exact(FieldId::TpDst, 80)}, {act(ActionKind::Queue, 1)});
  a.proto = 6;
  a.classId = 12;
  a.group = 2;
  a.note = "class 12: fw1_5K rule 33? caf\xc3\xa9\ttab";
  Rule b = rule(0, 0, {}, {act(ActionKind::Queue, 0)});
  b.role = RuleRole::Default;
  auto ls = lines(rteflow::printTestpmd(device({a, b}, 1)));
  ASSERT_EQ(ls.size(), 7u);
  EXPECT_EQ(ls[0], "# rte_flow rules for server1.nic0 (profile connectx-5, nic): 2 rules in 1 group");
  EXPECT_EQ(ls[1], "# roles: class 1, mirror 0, default 1, path 0, dispatch 0, return 0");
  EXPECT_EQ(ls[2].rfind("# rte_flow priority = (the group's largest rule priority) - rule priority (0 is the highest)", 0),
            0u);
  EXPECT_EQ(ls[3], "# rule 0 (class, class 12, group 2): class 12: fw1_5K rule 33_ caf___tab");
  EXPECT_EQ(ls[4].rfind("flow create 0 group 0 priority 0 ", 0), 0u);
  EXPECT_EQ(ls[5], "# rule 1 (default)");
  EXPECT_EQ(ls[6].rfind("flow create 0 group 0 priority 1 ", 0), 0u);
  // Every line is a comment or a rule, in printable ASCII without '?'.
  for (const auto &l : ls) {
    EXPECT_TRUE(l.rfind("# ", 0) == 0 || l.rfind("flow create ", 0) == 0) << l;
    for (unsigned char c : l) EXPECT_TRUE(c >= 0x20 && c < 0x7f && c != '?') << l;
  }
}

TEST(RteFlow, LongLineWarning) {
  std::vector<Action> acts;
  for (int i = 0; i < 40; ++i) acts.push_back(act(ActionKind::Mark, 1000000 + i));
  auto ls = lines(rteflow::printTestpmd(device({rule(0, 0, {}, acts)}, 0)));
  ASSERT_EQ(ls.size(), 6u);
  EXPECT_EQ(ls[4].rfind("# warning: the next line has ", 0), 0u);
  EXPECT_GT(ls[5].size(), 510u);
}

TEST(RteFlowDeathTest, InvariantViolations) {
  Rule r = rule(0, 0, {exact(FieldId::TpDst, 80)}, {act(ActionKind::Drop)});
  EXPECT_DEATH(rteflow::printTestpmd(device({r}, 0)), "internal compiler error.*tp.src/tp.dst match without proto");
  r.proto = 17;
  r.match.push_back(exact(FieldId::TcpFlags, 2));
  EXPECT_DEATH(rteflow::printJson(device({r}, 0)), "internal compiler error.*tcp.flags match without proto 6");
  r.match = {exact(FieldId::InPort, 1)};
  EXPECT_DEATH(rteflow::printTestpmd(device({r}, 0)), "in_port in Rule::match");
  r.match = {exact(FieldId::TpDst, 1), exact(FieldId::TpDst, 2)};
  EXPECT_DEATH(rteflow::printTestpmd(device({r}, 0)), "two matches on tp.dst");
  r.match = {};
  r.actions = {set(FieldId::EthType, 0x86dd)};
  EXPECT_DEATH(rteflow::printTestpmd(device({r}, 0)), "rte_flow has no action that sets eth.type");
}

TEST(RteFlow, Json) {
  Rule a = rule(0, 9, {masked(FieldId::IpSrc, 0x0a000000, 0xff000000), range(FieldId::TpDst, 1024, 65535)},
                {act(ActionKind::Mark, 7), act(ActionKind::Queue, 3)});
  a.proto = 6;
  a.classId = 12;
  a.group = 2;
  a.note = "class 12";
  Rule b = rule(1, 0, {exact(FieldId::VlanId, 5)}, {act(ActionKind::PushVlan, 100), act(ActionKind::Drop)});
  b.role = RuleRole::Dispatch;
  b.inPort = 1;
  std::string text = rteflow::printJson(device({a, b}, 9));
  // One rule object per line.
  int ruleLines = 0;
  for (const auto &l : lines(text)) ruleLines += l.rfind("    {\"group\":", 0) == 0;
  EXPECT_EQ(ruleLines, 2);

  auto j = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"element", "profile", "kind", "port", "groups", "max_priority", "rules"}));
  EXPECT_EQ(j["element"], "server1.nic0");
  EXPECT_EQ(j["kind"], "nic");
  EXPECT_EQ(j["groups"], 2);
  EXPECT_EQ(j["max_priority"], 9);
  ASSERT_EQ(j["rules"].size(), 2u);

  const auto &r0 = j["rules"][0];
  keys.clear();
  for (auto it = r0.begin(); it != r0.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"group", "priority", "ingress", "port", "pattern", "actions", "role",
                                            "class", "class_group", "rule_priority", "note"}));
  EXPECT_EQ(r0.dump(), nlohmann::ordered_json::parse(R"({"group":0,"priority":0,"ingress":true,"port":0,
    "pattern":[{"type":"eth"},
               {"type":"ipv4","spec":{"src":"10.0.0.0"},"mask":{"src":"255.0.0.0"}},
               {"type":"tcp","spec":{"dst":1024},"last":{"dst":65535},"mask":{"dst":65535}}],
    "actions":[{"type":"mark","id":7},{"type":"queue","index":3}],
    "role":"class","class":12,"class_group":2,"rule_priority":9,"note":"class 12"})")
                           .dump());
  const auto &r1 = j["rules"][1];
  EXPECT_EQ(r1["group"], 1);
  EXPECT_EQ(r1["priority"], 0); // the only rule of group 1
  EXPECT_EQ(r1["port"], 1);
  EXPECT_EQ(r1["pattern"].dump(),
            R"([{"type":"eth"},{"type":"vlan","spec":{"tci":5},"mask":{"tci":4095}}])");
  EXPECT_EQ(r1["actions"].dump(),
            R"([{"type":"of_push_vlan","ethertype":33024},{"type":"of_set_vlan_vid","vlan_vid":100},{"type":"drop"}])");
  EXPECT_TRUE(r1["class"].is_null());
  EXPECT_TRUE(r1["class_group"].is_null());
  EXPECT_EQ(r1["role"], "dispatch");

  // No rules: still a valid document.
  auto e = nlohmann::json::parse(rteflow::printJson(device({}, 0)));
  EXPECT_TRUE(e["rules"].is_array());
  EXPECT_TRUE(e["rules"].empty());
}

/// About twenty rules covering every item, field form and action; the file for
/// tests/tools/testpmd-check.sh when RTEFLOW_TESTPMD_OUT is set.
TEST(RteFlow, VariedRules) {
  std::vector<Rule> rs;
  auto add = [&](Rule r, uint8_t proto = 0, bool ipv4 = false, bool vlan = false) {
    r.proto = proto;
    r.ipv4 = ipv4;
    r.vlan = vlan;
    r.note = "varied rule " + std::to_string(rs.size());
    rs.push_back(std::move(r));
  };
  const uint32_t P = 100;
  add(rule(0, P, {masked(FieldId::IpSrc, 0x0a000000, 0xff000000), exact(FieldId::TpDst, 80)},
           {act(ActionKind::Drop)}),
      6);
  add(rule(0, P - 1, {range(FieldId::TpDst, 1024, 65535)}, {act(ActionKind::Mark, 1), act(ActionKind::Queue, 1)}), 17);
  add(rule(0, P - 2, {range(FieldId::TpSrc, 0, 1023), exact(FieldId::IpDst, 0xc0a80101)},
           {act(ActionKind::PushVlan, 10), act(ActionKind::Queue, 2)}),
      6);
  add(rule(0, P - 3, {masked(FieldId::TpDst, 1024, 0xfc00)}, {act(ActionKind::Jump, 1)}), 6);
  add(rule(0, P - 4, {masked(FieldId::TcpFlags, 0x02, 0x12)}, {act(ActionKind::Drop)}), 6);
  add(rule(0, P - 5, {exact(FieldId::IcmpType, 8), exact(FieldId::IcmpCode, 0)}, {act(ActionKind::Queue, 0)}), 1);
  add(rule(0, P - 6, {exact(FieldId::IpProto, 47)}, {act(ActionKind::Queue, 3)}), 0, true);
  add(rule(0, P - 7, {exact(FieldId::IpDscp, 46), exact(FieldId::IpTtl, 1)}, {act(ActionKind::Drop)}), 0, true);
  add(rule(0, P - 8, {range(FieldId::IpDscp, 8, 15), range(FieldId::IpTtl, 2, 5)},
           {act(ActionKind::DecTtl), act(ActionKind::Queue, 1)}),
      0, true);
  add(rule(0, P - 9, {exact(FieldId::EthSrc, 0x020000000001), masked(FieldId::EthDst, 0x020000000100, 0xffffffffff00),
                      exact(FieldId::EthType, 0x0806)},
           {act(ActionKind::Queue, 0)}));
  add(rule(0, P - 10, {exact(FieldId::VlanId, 5)}, {act(ActionKind::PopVlan), act(ActionKind::Queue, 5)}), 0, false,
      true);
  add(rule(0, P - 11, {exact(FieldId::VlanId, 6), exact(FieldId::VlanPcp, 3)}, {act(ActionKind::Queue, 6)}), 0,
      false, true);
  add(rule(0, P - 12, {range(FieldId::VlanId, 100, 199)}, {act(ActionKind::Mark, 100), act(ActionKind::Queue, 7)}),
      6, false, true);
  add(rule(0, P - 13, {range(FieldId::IpSrc, 0x0a000005, 0x0a000009)}, {act(ActionKind::Drop)}), 17);
  add(rule(1, P, {exact(FieldId::TpDst, 53)},
           {set(FieldId::EthSrc, 0x020000000001), set(FieldId::EthDst, 0x0200000000ff), set(FieldId::IpSrc, 0x0a010203),
            set(FieldId::IpDst, 0x0a030201), act(ActionKind::Queue, 0)}),
      17);
  add(rule(1, P - 1, {},
           {set(FieldId::IpTtl, 9), set(FieldId::IpDscp, 46), set(FieldId::TpSrc, 1000), set(FieldId::TpDst, 8080),
            act(ActionKind::Queue, 0)}),
      6);
  add(rule(1, P - 2, {}, {set(FieldId::VlanId, 12), set(FieldId::VlanPcp, 3), act(ActionKind::Output, 1)}), 0,
      false, true);
  add(rule(1, P - 3, {}, {act(ActionKind::Mark, 4294967295u)}));
  Rule onPort1 = rule(1, 0, {}, {act(ActionKind::Queue, 65535)});
  onPort1.inPort = 1;
  add(onPort1);
  add(rule(0, 0, {}, {act(ActionKind::Queue, 0)}));
  rs.back().role = RuleRole::Default;
  rs[10].role = RuleRole::Dispatch;

  auto d = device(rs, P);
  std::string text = rteflow::printTestpmd(d);
  auto f = flowLines(text);
  ASSERT_EQ(f.size(), rs.size());
  for (const auto &l : f) {
    EXPECT_LE(l.size(), 510u) << l;
    EXPECT_EQ(l.substr(l.size() - 6), " / end") << l;
  }
  auto j = nlohmann::json::parse(rteflow::printJson(d));
  EXPECT_EQ(j["rules"].size(), rs.size());
  if (const char *out = std::getenv("RTEFLOW_TESTPMD_OUT")) {
    std::ofstream(out) << text;
    std::ofstream(std::string(out) + ".json") << rteflow::printJson(d);
  }
}
