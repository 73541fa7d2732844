//===- tests/unit/openflow_test.cpp - The OpenFlow 1.3 printer (ovs-ofctl add-flows files) ---===//
///
/// \file
/// DeviceRules are built by hand; every expected line was written from ovs-ofctl(8) (flow
/// syntax), ovs-fields(7) (field names, masks, prerequisites) and ovs-actions(7), and the same
/// lines were installed into Open vSwitch 3.1 with `ovs-ofctl -O OpenFlow13 --bundle add-flows`
/// and checked with `diff-flows` (tests/tools/ovs-trace.sh does that for whole chains on every
/// run). Covered: every field and its mask form, the protocol prerequisites, the vlan_tci
/// encoding of vlan.id/vlan.pcp, every action, cookies per role, the sort by table and
/// decreasing priority, comments, and the internal errors for what OpenFlow cannot say.
//===----------------------------------------------------------------------------------------===//
#include "targets/openflow/OpenFlow.h"
#include "tests/unit/RuleBuilders.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace metron;
using namespace metron::targets;
using ir::FieldId;

using namespace metron::targets::testing;

namespace {

DeviceRules device(std::vector<Rule> rules) {
  DeviceRules d;
  d.element = "s1";
  d.profile = "ovs";
  d.kind = split::DeviceProfile::Switch;
  d.rules = std::move(rules);
  return d;
}

/// The flow lines of the printed file (comment lines left out).
std::vector<std::string> flows(const DeviceRules &d) {
  std::vector<std::string> out;
  std::istringstream in(openflow::printFlows(d));
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}

/// The single flow of a one-rule device.
std::string flow(Rule r) {
  auto f = flows(device({std::move(r)}));
  EXPECT_EQ(f.size(), 1u);
  return f.empty() ? "" : f[0];
}

} // namespace

TEST(OpenFlow, TcpFiveTupleWithVlanTag) {
  Rule r =
      rule(0, 100,
           {masked(FieldId::IpSrc, ip(10, 0, 0, 0), 0xff000000), masked(FieldId::IpDst, ip(1, 2, 3, 4), 0xff00ff00),
            masked(FieldId::TpSrc, 0x0400, 0xfc00), exact(FieldId::TpDst, 80), masked(FieldId::TcpFlags, 0x02, 0x12)},
           {act(ActionKind::PushVlan, 1), act(ActionKind::Output, 2)}, RuleRole::Class, 12);
  r.inPort = 1;
  r.ipv4 = true;
  r.proto = 6;
  EXPECT_EQ(flow(r), "table=0,priority=100,cookie=0x10000000c,in_port=1,tcp,nw_src=10.0.0.0/8,"
                     "nw_dst=1.0.3.0/255.0.255.0,tcp_src=0x0400/0xfc00,tcp_dst=80,tcp_flags=0x02/0x12,"
                     "actions=push_vlan:0x8100,set_field:4097->vlan_vid,output:2");
}

TEST(OpenFlow, UdpWritesThenGoto) {
  Rule r = rule(0, 99, {exact(FieldId::IpTtl, 3), exact(FieldId::IpDscp, 46), exact(FieldId::TpSrc, 53)},
                {set(FieldId::EthDst, 0x020000000001ull), act(ActionKind::DecTtl), set(FieldId::IpTtl, 7),
                 set(FieldId::IpSrc, ip(1, 2, 3, 4)), set(FieldId::TpDst, 9), set(FieldId::IpDscp, 3),
                 set(FieldId::EthSrc, 0xaabbccddeeffull), act(ActionKind::Jump, 1)},
                RuleRole::Class, 13);
  r.proto = 17;
  EXPECT_EQ(flow(r), "table=0,priority=99,cookie=0x10000000d,udp,nw_ttl=3,ip_dscp=46,udp_src=53,"
                     "actions=set_field:02:00:00:00:00:01->eth_dst,dec_ttl,mod_nw_ttl:7,set_field:1.2.3.4->ip_src,"
                     "set_field:9->udp_dst,set_field:3->ip_dscp,set_field:aa:bb:cc:dd:ee:ff->eth_src,goto_table:1");
}

TEST(OpenFlow, TcpPortWrites) {
  Rule r = rule(0, 5, {}, {set(FieldId::TpSrc, 1024), set(FieldId::TpDst, 80), set(FieldId::IpDst, ip(10, 0, 0, 1))});
  r.proto = 6;
  EXPECT_EQ(flow(r), "table=0,priority=5,cookie=0x100000000,tcp,"
                     "actions=set_field:1024->tcp_src,set_field:80->tcp_dst,set_field:10.0.0.1->ip_dst");
}

TEST(OpenFlow, IcmpAndMacs) {
  Rule r = rule(0, 98,
                {masked(FieldId::EthSrc, 0x020000000000ull, 0xffff00000000ull),
                 exact(FieldId::EthDst, 0xaabbccddeeffull), exact(FieldId::IcmpType, 8), exact(FieldId::IcmpCode, 0)},
                {act(ActionKind::Drop)}, RuleRole::Class, 14);
  r.proto = 1;
  EXPECT_EQ(flow(r), "table=0,priority=98,cookie=0x10000000e,icmp,dl_src=02:00:00:00:00:00/ff:ff:00:00:00:00,"
                     "dl_dst=aa:bb:cc:dd:ee:ff,icmp_type=8,icmp_code=0,actions=drop");
}

TEST(OpenFlow, VlanMatchesAsTci) {
  // Tagged frames, any VID: the present bit only.
  Rule tagged = rule(0, 97, {}, {act(ActionKind::PopVlan), act(ActionKind::Output, 2)}, RuleRole::Path);
  tagged.vlan = true;
  EXPECT_EQ(flow(tagged), "table=0,priority=97,cookie=0x400000000,vlan_tci=0x1000/0x1000,actions=pop_vlan,output:2");
  // A non-zero VID implies a tag even without Rule::vlan.
  EXPECT_EQ(flow(rule(0, 96, {exact(FieldId::VlanId, 5)}, {act(ActionKind::Queue, 3), act(ActionKind::Output, 2)},
                      RuleRole::Dispatch, 7)),
            "table=0,priority=96,cookie=0x500000007,vlan_tci=0x1005/0x1fff,actions=set_queue:3,output:2");
  // PCP 3 with a tag: set_field on vlan_vid/vlan_pcp is valid because the match has the tag.
  EXPECT_EQ(flow(rule(0, 95, {exact(FieldId::VlanPcp, 3)}, {set(FieldId::VlanId, 3), set(FieldId::VlanPcp, 5)})),
            "table=0,priority=95,cookie=0x100000000,vlan_tci=0x7000/0xf000,"
            "actions=set_field:4099->vlan_vid,set_field:5->vlan_pcp");
  // vlan.id == 0 is true of untagged frames too (the packet model reads 0): no present bit.
  EXPECT_EQ(flow(rule(0, 94, {exact(FieldId::VlanId, 0)}, {act(ActionKind::Output, 2)})),
            "table=0,priority=94,cookie=0x100000000,vlan_tci=0x0000/0x0fff,actions=output:2");
  // VID and PCP together, VID masked, on tagged frames.
  Rule both = rule(0, 93, {masked(FieldId::VlanId, 0x010, 0xff0), exact(FieldId::VlanPcp, 0)}, {act(ActionKind::Drop)});
  both.vlan = true;
  EXPECT_EQ(flow(both), "table=0,priority=93,cookie=0x100000000,vlan_tci=0x1010/0xfff0,actions=drop");
}

TEST(OpenFlow, PushedTagCanBeRewritten) {
  EXPECT_EQ(
      flow(rule(0, 1, {}, {act(ActionKind::PushVlan, 4094), set(FieldId::VlanPcp, 4), act(ActionKind::Output, 3)})),
      "table=0,priority=1,cookie=0x100000000,actions=push_vlan:0x8100,set_field:8190->vlan_vid,"
      "set_field:4->vlan_pcp,output:3");
}

TEST(OpenFlow, ProtocolFromFieldMatches) {
  Rule gre = rule(0, 94, {exact(FieldId::IpProto, 47), masked(FieldId::IpSrc, ip(209, 0, 0, 0), 0xff000000)},
                  {act(ActionKind::Output, 2)});
  gre.ipv4 = true;
  EXPECT_EQ(flow(gre), "table=0,priority=94,cookie=0x100000000,ip,nw_proto=47,nw_src=209.0.0.0/8,actions=output:2");
  // ip.proto == 6 on an `ip` rule makes the L4 names tcp_*.
  Rule tcp = rule(0, 3, {exact(FieldId::IpProto, 6), exact(FieldId::TpDst, 22)}, {act(ActionKind::Output, 2)});
  tcp.ipv4 = true;
  EXPECT_EQ(flow(tcp), "table=0,priority=3,cookie=0x100000000,ip,nw_proto=6,tcp_dst=22,actions=output:2");
  EXPECT_EQ(flow(rule(0, 93, {exact(FieldId::EthType, 0x0806)}, {act(ActionKind::Output, 2)})),
            "table=0,priority=93,cookie=0x100000000,dl_type=0x0806,actions=output:2");
  // dl_type=0x0800 is `ip`: address matches are allowed.
  EXPECT_EQ(flow(rule(0, 2, {exact(FieldId::EthType, 0x0800), exact(FieldId::IpSrc, ip(1, 2, 3, 4))},
                      {act(ActionKind::Drop)})),
            "table=0,priority=2,cookie=0x100000000,dl_type=0x0800,nw_src=1.2.3.4,actions=drop");
}

TEST(OpenFlow, WildcardMasksAreLeftOut) {
  Rule r =
      rule(0, 7, {masked(FieldId::IpSrc, 0, 0), exact(FieldId::IpDst, ip(192, 168, 1, 1))}, {act(ActionKind::Drop)});
  r.ipv4 = true;
  EXPECT_EQ(flow(r), "table=0,priority=7,cookie=0x100000000,ip,nw_dst=192.168.1.1,actions=drop");
}

TEST(OpenFlow, CookiesPerRole) {
  EXPECT_EQ(flow(rule(0, 0, {}, {act(ActionKind::Output, 2)}, RuleRole::Default, -1)),
            "table=0,priority=0,cookie=0x300000000,actions=output:2");
  EXPECT_EQ(flow(rule(0, 0, {}, {act(ActionKind::Output, 2)}, RuleRole::Mirror, 4653)),
            "table=0,priority=0,cookie=0x20000122d,actions=output:2");
  EXPECT_EQ(flow(rule(0, 0, {}, {act(ActionKind::Output, 1)}, RuleRole::Return, -1)),
            "table=0,priority=0,cookie=0x600000000,actions=output:1");
  // No actions is a drop.
  EXPECT_EQ(flow(rule(0, 0, {}, {})), "table=0,priority=0,cookie=0x100000000,actions=drop");
}

TEST(OpenFlow, SortedByTableThenDecreasingPriorityWithComments) {
  DeviceRules d = device({rule(1, 5, {}, {act(ActionKind::Drop)}, RuleRole::Class, 3),
                          rule(0, 1, {}, {act(ActionKind::Jump, 1)}, RuleRole::Class, 1),
                          rule(0, 0, {}, {act(ActionKind::Output, 2)}, RuleRole::Default, -1),
                          rule(1, 9, {}, {act(ActionKind::Drop)}, RuleRole::Class, 2),
                          rule(0, 1, {}, {act(ActionKind::Jump, 1)}, RuleRole::Class, 0)});
  d.rules[1].note = "class 1: fw rule 2";
  d.rules[3].note = "class 2:\nrouter";
  EXPECT_EQ(
      openflow::printFlows(d),
      "# OpenFlow 1.3 flows for s1 (profile ovs): 5 flows in 2 tables\n"
      "# install: ovs-ofctl -O OpenFlow13 --bundle add-flows BRIDGE FILE\n"
      "# cookie = (role + 1) << 32 | class id; roles: 1 class, 2 mirror, 3 default, 4 path, 5 dispatch, 6 return\n"
      "# class 1: fw rule 2\n"
      "table=0,priority=1,cookie=0x100000001,actions=goto_table:1\n"
      "table=0,priority=1,cookie=0x100000000,actions=goto_table:1\n"
      "table=0,priority=0,cookie=0x300000000,actions=output:2\n"
      "# class 2: router\n"
      "table=1,priority=9,cookie=0x100000002,actions=drop\n"
      "table=1,priority=5,cookie=0x100000003,actions=drop\n");
}

TEST(OpenFlow, EmptyDevice) {
  EXPECT_EQ(
      openflow::printFlows(device({})),
      "# OpenFlow 1.3 flows for s1 (profile ovs): 0 flows in 0 tables\n"
      "# install: ovs-ofctl -O OpenFlow13 --bundle add-flows BRIDGE FILE\n"
      "# cookie = (role + 1) << 32 | class id; roles: 1 class, 2 mirror, 3 default, 4 path, 5 dispatch, 6 return\n");
}

// ---- what OpenFlow 1.3 / OVS cannot say: internal errors ------------------------------------

namespace {
std::string printOne(Rule r) { return openflow::printFlows(device({std::move(r)})); }
Rule tcpRule(std::vector<DeviceMatch> m, std::vector<Action> a) {
  Rule r = rule(0, 1, std::move(m), std::move(a));
  r.proto = 6;
  return r;
}
} // namespace

TEST(OpenFlowDeathTest, RangeMatch) {
  EXPECT_DEATH(printOne(tcpRule({range(FieldId::TpDst, 1024, 65535)}, {act(ActionKind::Drop)})),
               "internal compiler error.*range match on tp.dst");
}

TEST(OpenFlowDeathTest, MarkHasNoOpenFlowForm) {
  EXPECT_DEATH(printOne(rule(0, 1, {}, {act(ActionKind::Mark, 3), act(ActionKind::Output, 2)})),
               "internal compiler error.*mark");
}

TEST(OpenFlowDeathTest, GotoMustBeLastAndForward) {
  EXPECT_DEATH(printOne(rule(0, 1, {}, {act(ActionKind::Jump, 1), act(ActionKind::Output, 2)})), "must be the last");
  EXPECT_DEATH(printOne(rule(2, 1, {}, {act(ActionKind::Jump, 1)})), "must go to a later table");
  EXPECT_DEATH(printOne(rule(0, 1, {}, {act(ActionKind::Jump, 254)})), "must go to a later table");
}

TEST(OpenFlowDeathTest, DropAlone) {
  EXPECT_DEATH(printOne(rule(0, 1, {}, {act(ActionKind::Output, 2), act(ActionKind::Drop)})), "drop with other");
}

TEST(OpenFlowDeathTest, Prerequisites) {
  Rule udp = rule(0, 1, {masked(FieldId::TcpFlags, 2, 2)}, {act(ActionKind::Drop)});
  udp.proto = 17; // OVS would install `udp` alone, silently
  EXPECT_DEATH(printOne(udp), "tcp.flags match without the tcp prerequisite");
  EXPECT_DEATH(printOne(rule(0, 1, {exact(FieldId::TpDst, 80)}, {act(ActionKind::Drop)})),
               "tp.dst match without the tcp or udp prerequisite");
  EXPECT_DEATH(printOne(rule(0, 1, {exact(FieldId::IpSrc, 1)}, {act(ActionKind::Drop)})),
               "ip.src match without the ipv4 prerequisite");
  EXPECT_DEATH(printOne(tcpRule({exact(FieldId::IcmpType, 8)}, {act(ActionKind::Drop)})), "icmp prerequisite");
  EXPECT_DEATH(printOne(rule(0, 1, {}, {act(ActionKind::DecTtl)})), "dec_ttl without the ipv4 prerequisite");
  EXPECT_DEATH(printOne(rule(0, 1, {}, {set(FieldId::TpSrc, 1)})), "set tp.src 1: without the tcp or udp");
  EXPECT_DEATH(printOne(tcpRule({exact(FieldId::IpProto, 6)}, {act(ActionKind::Drop)})),
               "ip.proto match on a rule whose prerequisites set it");
}

TEST(OpenFlowDeathTest, VlanWritesNeedATag) {
  EXPECT_DEATH(printOne(rule(0, 1, {}, {set(FieldId::VlanId, 5)})), "not know to be tagged");
  EXPECT_DEATH(printOne(rule(0, 1, {exact(FieldId::VlanId, 0)}, {set(FieldId::VlanPcp, 5)})), "not know to be tagged");
  EXPECT_DEATH(printOne(rule(0, 1, {}, {act(ActionKind::PopVlan)})), "pop_vlan on a rule that does not match tagged");
  // After a pop the tag is gone.
  Rule r = rule(0, 1, {}, {act(ActionKind::PopVlan), set(FieldId::VlanId, 5)});
  r.vlan = true;
  EXPECT_DEATH(printOne(r), "not know to be tagged");
}

TEST(OpenFlowDeathTest, MasksOnExactFields) {
  Rule r = tcpRule({masked(FieldId::IpTtl, 0, 0xf0)}, {act(ActionKind::Drop)});
  EXPECT_DEATH(printOne(r), "ip.ttl takes no mask");
  Rule e = rule(0, 1, {masked(FieldId::EthType, 0x0800, 0xff00)}, {act(ActionKind::Drop)});
  EXPECT_DEATH(printOne(e), "eth.type takes no mask");
}

TEST(OpenFlowDeathTest, Limits) {
  EXPECT_DEATH(printOne(rule(0, 65536, {}, {act(ActionKind::Drop)})), "priorities are 16-bit");
  EXPECT_DEATH(printOne(rule(254, 1, {}, {act(ActionKind::Drop)})), "OVS has tables 0..253");
  EXPECT_DEATH(printOne(rule(0, 1, {exact(FieldId::InPort, 1)}, {act(ActionKind::Drop)})), "in_port in the field");
  EXPECT_DEATH(printOne(rule(0, 1, {}, {act(ActionKind::PushVlan, 4096)})), "out of 12 bits");
  EXPECT_DEATH(printOne(rule(0, 1, {}, {set(FieldId::IpProto, 6)})), "is not an OpenFlow write");
}
