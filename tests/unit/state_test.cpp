//===- tests/unit/state_test.cpp - Stateful elements: NAPT, LB, monitor, conntrack, rate, DPI -===//
///
/// Every expectation is derived by hand from the rules in runtime/state/State.h.
//===----------------------------------------------------------------------------------------===//
#include "compiler/import/Import.h"
#include "lang/Source.h"
#include "runtime/state/Describe.h"
#include "runtime/state/Http.h"
#include "runtime/state/State.h"

#include <gtest/gtest.h>

using namespace metron;
using ir::FieldId;

namespace {

constexpr uint64_t kSec = 1000000000ull;
constexpr uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;

uint32_t ip(const char *s) {
  uint32_t a = 0;
  EXPECT_TRUE(ir::parseIpv4(s, a)) << s;
  return a;
}

/// An Ethernet/IPv4 packet with these header values (TCP/UDP/ICMP by \p proto).
pkt::Packet packet(uint8_t proto, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint64_t ts = 0,
                   uint8_t flags = 0) {
  std::array<uint64_t, ir::kNumFields> f{};
  f[size_t(FieldId::EthType)] = 0x0800;
  f[size_t(FieldId::IpProto)] = proto;
  f[size_t(FieldId::IpTtl)] = 64;
  f[size_t(FieldId::IpSrc)] = ip(src);
  f[size_t(FieldId::IpDst)] = ip(dst);
  if (proto == 6 || proto == 17) {
    f[size_t(FieldId::TpSrc)] = sport;
    f[size_t(FieldId::TpDst)] = dport;
  }
  if (proto == 6) f[size_t(FieldId::TcpFlags)] = flags;
  return pkt::Packet::fromFields(f, ts);
}
pkt::Packet udp(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint64_t ts = 0) {
  return packet(17, src, sport, dst, dport, ts);
}
pkt::Packet tcp(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags, uint64_t ts = 0) {
  return packet(6, src, sport, dst, dport, ts, flags);
}
pkt::Packet arp(uint64_t ts = 0) {
  std::array<uint64_t, ir::kNumFields> f{};
  f[size_t(FieldId::EthType)] = 0x0806;
  return pkt::Packet::fromFields(f, ts);
}
/// A UDP packet 10.0.0.1:1234 -> 10.0.0.2:80 carrying \p payload.
pkt::Packet withPayload(const std::string &payload) {
  std::vector<uint8_t> f(14 + 20 + 8);
  f[12] = 0x08;
  uint8_t *h = f.data() + 14;
  size_t total = 28 + payload.size();
  h[0] = 0x45, h[2] = uint8_t(total >> 8), h[3] = uint8_t(total), h[8] = 64, h[9] = 17;
  h[12] = 10, h[15] = 1, h[16] = 10, h[19] = 2;
  h[20] = 1234 >> 8, h[21] = 1234 & 255, h[23] = 80, h[24] = uint8_t((8 + payload.size()) >> 8),
  h[25] = uint8_t(8 + payload.size());
  f.insert(f.end(), payload.begin(), payload.end());
  return pkt::Packet(f.data(), f.size());
}

std::unique_ptr<state::ElementState> make(const ir::Element &e) {
  std::string err;
  auto s = state::ElementState::create(e, err);
  EXPECT_TRUE(s) << err;
  return s;
}
uint64_t counter(const state::ElementState &s, const std::string &name) {
  for (const auto &[n, v] : s.counters())
    if (n == name) return v;
  ADD_FAILURE() << "no counter " << name;
  return ~0ull;
}
std::string endpoints(const pkt::Packet &p) {
  return ir::ipv4Str(uint32_t(p.get(FieldId::IpSrc))) + ":" + std::to_string(p.get(FieldId::TpSrc)) + " > " +
         ir::ipv4Str(uint32_t(p.get(FieldId::IpDst))) + ":" + std::to_string(p.get(FieldId::TpDst));
}
/// Runs \p p; "drop" or the packet's endpoints after the element, with checksums checked.
std::string run(state::ElementState &s, pkt::Packet p) {
  state::Result r = s.process(p);
  if (r.drop) return "drop";
  std::string why;
  EXPECT_TRUE(pkt::checksumsValid(p, &why)) << why;
  return endpoints(p);
}

/// CRC-32C bit by bit, straight from the definition (the library uses a table).
uint32_t crc32cBitwise(const std::vector<uint8_t> &d) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : d) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
  }
  return ~c;
}

} // namespace

TEST(StateHash, Crc32cAndFlowHash) {
  const std::string check = "123456789";
  EXPECT_EQ(state::crc32c(reinterpret_cast<const uint8_t *>(check.data()), check.size()), 0xE3069283u);
  pkt::Packet p = udp("10.0.0.1", 5000, "8.8.8.8", 53);
  EXPECT_EQ(state::flowHash(p), crc32cBitwise({17, 10, 0, 0, 1, 8, 8, 8, 8, 0x13, 0x88, 0, 53}));
}

TEST(StateNapt, SourcePortsReturnExpiryExhaustion) {
  ir::Napt e({});
  e.field = FieldId::IpSrc;
  e.address = ip("203.0.113.1");
  e.portLo = 1000;
  e.portHi = 1002;
  e.timeoutSec = 10;
  auto s = make(e);
  // The first flow gets portLo; its later packets keep it.
  EXPECT_EQ(run(*s, udp("10.0.0.1", 5000, "8.8.8.8", 53, 0)), "203.0.113.1:1000 > 8.8.8.8:53");
  EXPECT_EQ(run(*s, udp("10.0.0.1", 5000, "8.8.8.8", 53, 1 * kSec)), "203.0.113.1:1000 > 8.8.8.8:53");
  EXPECT_EQ(run(*s, udp("10.0.0.2", 5000, "8.8.8.8", 53, 2 * kSec)), "203.0.113.1:1001 > 8.8.8.8:53");
  // The reply is translated back (and refreshes the mapping at 3 s).
  EXPECT_EQ(run(*s, udp("8.8.8.8", 53, "203.0.113.1", 1000, 3 * kSec)), "8.8.8.8:53 > 10.0.0.1:5000");
  // From another source it is not a reply: a new forward flow, given the last free port.
  EXPECT_EQ(run(*s, udp("8.8.4.4", 53, "203.0.113.1", 1000, 4 * kSec)), "203.0.113.1:1002 > 203.0.113.1:1000");
  // Three live mappings, three ports: a new flow is dropped.
  EXPECT_EQ(run(*s, tcp("10.0.0.3", 7000, "1.1.1.1", 80, kSyn, 5 * kSec)), "drop");
  EXPECT_EQ(counter(*s, "mappings"), 3u);
  // At 12.5 s the flow of 10.0.0.2 (last used at 2 s) has expired; the cursor (past 1002,
  // wrapped to 1000) skips the live 1000 and gives 1001.
  EXPECT_EQ(run(*s, tcp("10.0.0.3", 7000, "1.1.1.1", 80, kSyn, 12500000000ull)), "203.0.113.1:1001 > 1.1.1.1:80");
  // At 13 s the mapping of 10.0.0.1 (last used at 3 s) is exactly 10 s idle: expired. The
  // cursor is at 1002, which 8.8.4.4's flow holds until 14 s, so 10.0.0.2, back, gets 1000, and
  // a reply to port 1000 now reaches 10.0.0.2.
  EXPECT_EQ(run(*s, udp("10.0.0.2", 5000, "8.8.8.8", 53, 13 * kSec)), "203.0.113.1:1000 > 8.8.8.8:53");
  EXPECT_EQ(run(*s, udp("8.8.8.8", 53, "203.0.113.1", 1000, 13 * kSec)), "8.8.8.8:53 > 10.0.0.2:5000");
  EXPECT_EQ(counter(*s, "in"), 9u);
  EXPECT_EQ(counter(*s, "translated"), 6u);
  EXPECT_EQ(counter(*s, "returned"), 2u);
  EXPECT_EQ(counter(*s, "dropped"), 1u);
  EXPECT_EQ(counter(*s, "mappings"), 3u);
  EXPECT_EQ(counter(*s, "allocated"), 5u);
}

TEST(StateNapt, OtherProtocolsAndFrames) {
  ir::Napt e({});
  e.address = ip("203.0.113.1");
  e.portLo = e.portHi = 2000;
  auto s = make(e);
  // ICMP: the address only.
  pkt::Packet ping = packet(1, "10.0.0.1", 0, "8.8.8.8", 0);
  EXPECT_FALSE(s->process(ping).drop);
  EXPECT_EQ(ping.get(FieldId::IpSrc), ip("203.0.113.1"));
  // Not IPv4: untouched.
  pkt::Packet a = arp(), before = a;
  EXPECT_FALSE(s->process(a).drop);
  EXPECT_EQ(a.frame(), before.frame());
  EXPECT_EQ(counter(*s, "mappings"), 0u);
  EXPECT_EQ(counter(*s, "translated"), 1u);
  // A TCP fragment after the first has no ports: the address only, no mapping.
  pkt::Packet first = tcp("10.0.0.1", 1, "8.8.8.8", 2, kAck);
  std::vector<uint8_t> frame = first.frame();
  frame[14 + 7] = 0x10; // fragment offset 16 (x 8 bytes)
  pkt::Packet frag(frame.data(), frame.size());
  ASSERT_TRUE(frag.layout().fragment);
  EXPECT_FALSE(s->process(frag).drop);
  EXPECT_EQ(frag.get(FieldId::IpSrc), ip("203.0.113.1"));
  EXPECT_EQ(counter(*s, "mappings"), 0u);
}

TEST(StateNapt, DestinationNapt) {
  ir::Napt e({});
  e.field = FieldId::IpDst;
  e.address = ip("10.9.9.9");
  e.portLo = 8080;
  e.portHi = 8081;
  auto s = make(e);
  EXPECT_EQ(run(*s, tcp("1.2.3.4", 40000, "198.51.100.1", 80, kSyn)), "1.2.3.4:40000 > 10.9.9.9:8080");
  EXPECT_EQ(run(*s, tcp("10.9.9.9", 8080, "1.2.3.4", 40000, kSyn | kAck)), "198.51.100.1:80 > 1.2.3.4:40000");
  // A timestamp from the past counts as the element's time: nothing expires, nothing breaks.
  EXPECT_EQ(run(*s, tcp("1.2.3.4", 40000, "198.51.100.1", 80, kAck, 0)), "1.2.3.4:40000 > 10.9.9.9:8080");
  EXPECT_EQ(counter(*s, "returned"), 1u);
}

TEST(StateBalance, RoundRobinInListOrder) {
  ir::Balance e({});
  e.field = FieldId::IpDst;
  e.backends = {ip("10.0.1.1"), ip("10.0.1.2"), ip("10.0.1.3")};
  auto s = make(e);
  EXPECT_EQ(run(*s, tcp("1.0.0.1", 1, "9.9.9.9", 80, kSyn)), "1.0.0.1:1 > 10.0.1.1:80");
  EXPECT_EQ(run(*s, tcp("1.0.0.2", 1, "9.9.9.9", 80, kSyn)), "1.0.0.2:1 > 10.0.1.2:80");
  EXPECT_EQ(run(*s, tcp("1.0.0.1", 1, "9.9.9.9", 80, kAck)), "1.0.0.1:1 > 10.0.1.1:80");
  EXPECT_EQ(run(*s, tcp("1.0.0.3", 1, "9.9.9.9", 80, kSyn)), "1.0.0.3:1 > 10.0.1.3:80");
  EXPECT_EQ(run(*s, tcp("1.0.0.4", 1, "9.9.9.9", 80, kSyn)), "1.0.0.4:1 > 10.0.1.1:80");
  EXPECT_EQ(run(*s, tcp("1.0.0.2", 1, "9.9.9.9", 80, kAck)), "1.0.0.2:1 > 10.0.1.2:80");
  auto c = s->counters();
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[1], (std::pair<std::string, uint64_t>{"flows", 4}));
  EXPECT_EQ(c[2], (std::pair<std::string, uint64_t>{"backend[1]=10.0.1.1", 3}));
  EXPECT_EQ(c[3], (std::pair<std::string, uint64_t>{"backend[2]=10.0.1.2", 2}));
  EXPECT_EQ(c[4], (std::pair<std::string, uint64_t>{"backend[3]=10.0.1.3", 1}));
}

TEST(StateBalance, HashOfTheDocumentedLayout) {
  ir::Balance e({});
  e.policy = ir::Balance::Hash;
  e.field = FieldId::TpDst;
  e.backends = {8001, 8002, 8003, 8004, 8005};
  auto s = make(e);
  for (uint16_t sport = 1000; sport < 1020; ++sport) {
    pkt::Packet p = udp("192.0.2.7", sport, "198.51.100.9", 53);
    uint32_t h = crc32cBitwise({17, 192, 0, 2, 7, 198, 51, 100, 9, uint8_t(sport >> 8), uint8_t(sport), 0, 53});
    EXPECT_FALSE(s->process(p).drop);
    EXPECT_EQ(p.get(FieldId::TpDst), 8001 + h % 5) << sport;
  }
}

TEST(StateMonitor, CountsPerFlowWithTimeout) {
  ir::Monitor e({});
  e.timeoutSec = 5;
  auto s = make(e);
  pkt::Packet a1 = udp("10.0.0.1", 1, "10.0.0.2", 2, 0), b = udp("10.0.0.3", 1, "10.0.0.2", 2, 1 * kSec);
  pkt::Packet a2 = udp("10.0.0.1", 1, "10.0.0.2", 2, 4 * kSec);
  for (pkt::Packet *p : {&a1, &b, &a2}) EXPECT_FALSE(s->process(*p).drop);
  EXPECT_EQ(counter(*s, "flows"), 2u);
  // At 6 s, b (last seen at 1 s) has expired; a (4 s) has not.
  pkt::Packet a3 = udp("10.0.0.1", 1, "10.0.0.2", 2, 6 * kSec);
  s->process(a3);
  EXPECT_EQ(counter(*s, "flows"), 1u);
  EXPECT_EQ(counter(*s, "expired"), 1u);
  EXPECT_EQ(counter(*s, "packets"), 4u);
  EXPECT_EQ(counter(*s, "bytes"), 4u * a1.wireLen);

  ir::Monitor bySrc({});
  bySrc.key = {FieldId::IpSrc};
  auto m = make(bySrc);
  for (uint16_t port = 1; port <= 10; ++port) {
    pkt::Packet p = udp("10.0.0.1", port, "10.0.0.2", port);
    m->process(p);
  }
  EXPECT_EQ(counter(*m, "flows"), 1u);
}

TEST(StateConntrack, TcpOpensOnSynAndClosesOnRst) {
  ir::Conntrack e({});
  e.timeoutSec = 10;
  auto s = make(e);
  auto pass = [&](pkt::Packet p) { return !s->process(p).drop; };
  EXPECT_FALSE(pass(tcp("10.0.0.1", 1000, "10.0.0.2", 80, kAck)));       // not tracked
  EXPECT_FALSE(pass(tcp("10.0.0.1", 1000, "10.0.0.2", 80, kSyn | kAck))); // SYN-ACK does not open
  EXPECT_FALSE(pass(tcp("10.0.0.1", 1000, "10.0.0.2", 80, kRst)));       // RST of nothing
  EXPECT_TRUE(pass(tcp("10.0.0.1", 1000, "10.0.0.2", 80, kSyn)));
  EXPECT_TRUE(pass(tcp("10.0.0.2", 80, "10.0.0.1", 1000, kSyn | kAck, 1 * kSec))); // the other direction
  EXPECT_TRUE(pass(tcp("10.0.0.1", 1000, "10.0.0.2", 80, kAck, 2 * kSec)));
  EXPECT_FALSE(pass(tcp("10.0.0.1", 1001, "10.0.0.2", 80, kAck, 2 * kSec))); // another port
  EXPECT_EQ(counter(*s, "connections"), 1u);
  EXPECT_TRUE(pass(tcp("10.0.0.2", 80, "10.0.0.1", 1000, kRst | kAck, 3 * kSec)));
  EXPECT_FALSE(pass(tcp("10.0.0.1", 1000, "10.0.0.2", 80, kAck, 3 * kSec)));
  EXPECT_EQ(counter(*s, "connections"), 0u);
  // Idle timeout: open at 20 s, 10 s later it is gone.
  EXPECT_TRUE(pass(tcp("10.0.0.1", 2000, "10.0.0.2", 80, kSyn, 20 * kSec)));
  EXPECT_TRUE(pass(tcp("10.0.0.1", 2000, "10.0.0.2", 80, kAck, 29 * kSec)));
  EXPECT_FALSE(pass(tcp("10.0.0.1", 2000, "10.0.0.2", 80, kAck, 39 * kSec)));
  // Other protocols and frames pass.
  EXPECT_TRUE(pass(udp("10.0.0.1", 1, "10.0.0.2", 2)));
  EXPECT_TRUE(pass(packet(1, "10.0.0.1", 0, "10.0.0.2", 0)));
  EXPECT_TRUE(pass(arp()));
  EXPECT_EQ(counter(*s, "in"), 15u);
  EXPECT_EQ(counter(*s, "passed"), 9u);
  EXPECT_EQ(counter(*s, "dropped"), 6u);
}

TEST(StateConntrack, StrictTracksUdpAndDropsTheRest) {
  ir::Conntrack e({});
  e.strict = true;
  auto s = make(e);
  auto pass = [&](pkt::Packet p) { return !s->process(p).drop; };
  EXPECT_TRUE(pass(udp("10.0.0.1", 53000, "8.8.8.8", 53)));
  EXPECT_TRUE(pass(udp("8.8.8.8", 53, "10.0.0.1", 53000)));
  EXPECT_EQ(counter(*s, "connections"), 1u);
  EXPECT_FALSE(pass(packet(1, "10.0.0.1", 0, "8.8.8.8", 0)));
  EXPECT_FALSE(pass(arp()));
  EXPECT_TRUE(pass(tcp("10.0.0.1", 1, "8.8.8.8", 80, kSyn)));
  EXPECT_EQ(counter(*s, "connections"), 2u);
}

TEST(StateRateLimit, BitRateTokenArithmetic) {
  // 8000 bit/s = 1000 bytes/s; burst 1514 bytes = 12112 bits; the bucket starts full.
  ir::RateLimit e({});
  e.rate = 8000;
  e.burst = 1514;
  auto s = make(e);
  auto send = [&](uint32_t bytes, uint64_t ts) {
    pkt::Packet p = udp("10.0.0.1", 1, "10.0.0.2", 2, ts);
    p.wireLen = bytes;
    return !s->process(p).drop;
  };
  EXPECT_TRUE(send(1000, 0));                 // 12112 - 8000 = 4112
  EXPECT_TRUE(send(1000, kSec / 2));          // + 4000 = 8112 - 8000 = 112
  EXPECT_FALSE(send(100, kSec / 2));          // 800 > 112: dropped, unchanged
  EXPECT_TRUE(send(100, kSec / 2 + kSec / 10)); // + 800 = 912 - 800 = 112
  EXPECT_TRUE(send(15, kSec / 2 + kSec / 10 + kSec / 1000)); // + 8 = 120 - 120 = 0
  EXPECT_FALSE(send(1, kSec / 2 + kSec / 10 + kSec / 1000));  // 8 > 0
  EXPECT_EQ(counter(*s, "passed"), 4u);
  EXPECT_EQ(counter(*s, "dropped"), 2u);
  EXPECT_EQ(counter(*s, "buckets"), 1u);
}

TEST(StateRateLimit, PacketRatePerKey) {
  // 2 packets/s, burst 1: one token every 0.5 s.
  ir::RateLimit e({});
  e.packets = true;
  e.rate = 2;
  e.burst = 1;
  e.key = {FieldId::IpSrc};
  auto s = make(e);
  auto send = [&](const char *src, uint64_t ts) {
    pkt::Packet p = udp(src, 1, "10.0.0.9", 2, ts);
    return !s->process(p).drop;
  };
  EXPECT_TRUE(send("10.0.0.1", 0));
  EXPECT_FALSE(send("10.0.0.1", kSec / 10));
  EXPECT_TRUE(send("10.0.0.2", kSec / 10)); // its own bucket
  EXPECT_TRUE(send("10.0.0.1", kSec / 2));
  EXPECT_FALSE(send("10.0.0.1", kSec * 3 / 4)); // half a token
  EXPECT_TRUE(send("10.0.0.1", kSec));
  EXPECT_FALSE(send("10.0.0.1", kSec * 9 / 10)); // backwards: counts as 1 s, no refill
  EXPECT_EQ(counter(*s, "passed"), 4u);
  EXPECT_EQ(counter(*s, "dropped"), 3u);
  EXPECT_EQ(counter(*s, "buckets"), 2u);
}

namespace {
ir::Import patternSet(std::vector<ir::Pattern> patterns) {
  ir::Import imp;
  imp.kind = ir::Import::Patterns;
  imp.name = "sigs";
  imp.path = "sigs.txt";
  imp.patterns = std::move(patterns);
  return imp;
}
} // namespace

TEST(StateDpi, MatchesPayloads) {
  ir::Import imp = patternSet({{1, "evil\\s+payload", "i", 1}, {2, "^GET /admin", "s", 2}});
  ir::Dpi e({});
  e.patternSet = "sigs";
  e.patterns = &imp;
  auto s = make(e);
  auto scan = [&](const std::string &payload) {
    pkt::Packet p = withPayload(payload);
    EXPECT_EQ(p.payloadLen(), payload.size());
    return s->process(p).matched;
  };
  EXPECT_TRUE(scan("some EVIL   Payload here"));
  EXPECT_TRUE(scan("GET /admin HTTP/1.1"));
  EXPECT_FALSE(scan("POST /admin HTTP/1.1")); // ^ anchors at the payload start
  EXPECT_FALSE(scan("evilpayload"));
  EXPECT_FALSE(scan(""));
  EXPECT_EQ(counter(*s, "in"), 5u);
  EXPECT_EQ(counter(*s, "matched"), 2u);
  // A second state of the same set (the compiled database is shared) has its own counters.
  auto s2 = make(e);
  pkt::Packet p = withPayload("evil payload");
  EXPECT_TRUE(s2->process(p).matched);
  EXPECT_EQ(counter(*s2, "matched"), 1u);
  EXPECT_EQ(counter(*s, "matched"), 2u);
}

TEST(StateDpi, RejectedPatternNamesIdLineAndReason) {
  ir::Import imp = patternSet({{10, "fine", "", 1}, {42, "a(b", "", 7}});
  ir::Dpi e({});
  e.patternSet = "sigs";
  e.patterns = &imp;
  std::string err;
  EXPECT_FALSE(state::ElementState::create(e, err));
  EXPECT_NE(err.find("pattern 42"), std::string::npos) << err;
  EXPECT_NE(err.find("'sigs.txt' line 7"), std::string::npos) << err;
  EXPECT_NE(err.find("Missing close parenthesis"), std::string::npos) << err;
}

namespace {
/// A TCP packet with these header values and \p payload after its header.
pkt::Packet tcpWith(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags,
                    const std::string &payload, uint64_t ts) {
  pkt::Packet h = tcp(src, sport, dst, dport, flags, ts);
  std::vector<uint8_t> f = h.frame();
  f.resize(14 + (size_t(f[16]) << 8 | f[17])); // without the padding of a minimum-size frame
  f.insert(f.end(), payload.begin(), payload.end());
  size_t total = f.size() - 14;
  f[16] = uint8_t(total >> 8), f[17] = uint8_t(total);
  pkt::Packet p(f.data(), f.size());
  p.timestampNs = ts;
  return p;
}
ir::Import suricataSet(const std::string &rules) {
  SourceManager sm;
  DiagnosticEngine diags(sm);
  FileID file = sm.addBuffer("rules.txt", rules);
  ir::Import imp;
  imp.kind = ir::Import::Patterns;
  imp.name = "ids";
  imp.path = "rules.txt";
  std::string format;
  EXPECT_TRUE(readPatterns(sm, file, diags, imp.patterns, format, &imp.patternRules));
  EXPECT_EQ(format, "suricata");
  return imp;
}
/// A dpi element on the pattern set \p imp (named "ids").
ir::Dpi dpiOn(const ir::Import &imp) {
  ir::Dpi e({});
  e.patternSet = "ids";
  e.patterns = &imp;
  return e;
}
} // namespace

// Suricata rules: flow state (handshake, direction), header conditions and content combinations,
// counted as Suricata counts alerts (one per rule and packet).
TEST(StateDpi, SuricataRulesFlowAndConditions) {
  ir::Import imp = suricataSet(
      "alert tcp any any -> any 80 (content:\"GET \"; flow:established,to_server; sid:1;)\n"
      "alert tcp any any -> any any (content:\"GET \"; flow:not_established; sid:2;)\n"
      "alert tcp any 80 -> any any (content:\"HTTP/1.\"; content:!\"gzip\"; nocase; flow:to_client; sid:3;)\n"
      "alert udp 10.0.0.0/8 any <> any 53 (content:\"|03|com|00|\"; sid:4;)\n");
  ir::Dpi e = dpiOn(imp);
  auto s = make(e);
  uint64_t t = 1;
  auto send = [&](pkt::Packet p) { return s->process(p).matched; };
  const char *c = "10.0.0.1", *srv = "10.9.9.9";
  // Before the handshake: not established.
  EXPECT_TRUE(send(tcpWith(c, 1000, srv, 80, 0x18, "GET / HTTP/1.1", t++)));
  EXPECT_EQ(counter(*s, "alerts"), 1u); // sid 2 only
  // A handshake on another connection, then the request: established, to the server.
  EXPECT_FALSE(send(tcpWith(c, 1001, srv, 80, 0x02, "", t++)));
  EXPECT_FALSE(send(tcpWith(srv, 80, c, 1001, 0x12, "", t++)));
  EXPECT_FALSE(send(tcpWith(c, 1001, srv, 80, 0x10, "", t++)));
  EXPECT_TRUE(send(tcpWith(c, 1001, srv, 80, 0x18, "GET / HTTP/1.1", t++)));
  EXPECT_EQ(counter(*s, "alerts"), 2u); // sid 1, not sid 2
  // The response: to the client; a gzip'ed one (any case) does not match sid 3.
  EXPECT_TRUE(send(tcpWith(srv, 80, c, 1001, 0x18, "HTTP/1.1 200 OK", t++)));
  EXPECT_FALSE(send(tcpWith(srv, 80, c, 1001, 0x18, "HTTP/1.1 200 OK\r\nContent-Encoding: GZIP", t++)));
  // The same request bytes from the server side are not to_server.
  EXPECT_FALSE(send(tcpWith(srv, 80, c, 1001, 0x18, "GET /index", t++)));
  // After a reset the connection is no longer established.
  EXPECT_FALSE(send(tcpWith(c, 1001, srv, 80, 0x04, "", t++)));
  EXPECT_TRUE(send(tcpWith(c, 1001, srv, 80, 0x18, "GET /again", t++)));
  EXPECT_EQ(counter(*s, "alerts"), 4u); // sid 3, then sid 2 again
  EXPECT_EQ(counter(*s, "flows"), 2u);
  // UDP: addresses and ports in either direction (<>), only from 10/8 toward port 53 or back.
  pkt::Packet q = withPayload(std::string("\x07" "example" "\x03" "com", 12) + std::string(1, '\0'));
  EXPECT_FALSE(s->process(q).matched); // 10.0.0.1:1234 -> 10.0.0.2:80: not port 53
  EXPECT_EQ(counter(*s, "matched"), 4u);
  // Flows expire after 600 s idle: the connection starts again, not established.
  EXPECT_TRUE(send(tcpWith(c, 1001, srv, 80, 0x18, "GET /late", t + 601ull * 1000000000ull)));
  EXPECT_EQ(counter(*s, "alerts"), 5u);
}

namespace {
/// The alerts of a Suricata rule set over \p packets (each a fresh copy).
uint64_t alertsOver(const std::string &rules, const std::vector<pkt::Packet> &packets) {
  ir::Import imp = suricataSet(rules);
  ir::Dpi e = dpiOn(imp);
  auto s = make(e);
  for (pkt::Packet p : packets) s->process(p);
  return counter(*s, "alerts");
}
} // namespace

// `alert http` rules: the buffers of the request a packet starts, sticky buffers and the older
// content modifiers, bsize, absent and absent: or_else, negated contents and pcre, as the
// suricata-verify case detect-absent-negated-content states them (each rule alone, so that a
// wrong rule cannot hide behind a right one).
TEST(StateDpi, SuricataHttpBuffers) {
  const char *c = "192.168.244.96", *srv = "12.16.121.171";
  const std::string request = "GET /a/./b/../c%41?q=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: foo\r\n"
                              "Cookie: s=1\r\nAccept: text/*\r\n\r\n";
  std::vector<pkt::Packet> flow = {tcpWith(c, 5000, srv, 80, 0x02, "", 1), tcpWith(srv, 80, c, 5000, 0x12, "", 2),
                                   tcpWith(c, 5000, srv, 80, 0x10, "", 3),
                                   tcpWith(c, 5000, srv, 80, 0x18, request, 4)};
  auto alerts = [&](const std::string &options, const std::string &header = "http $HOME_NET any -> $EXTERNAL_NET any") {
    return alertsOver("alert " + header + " (" + options + " sid:1;)\n", flow);
  };
  EXPECT_EQ(alerts("flow:established,to_server; http.uri; content:\"/a/cA?q=1\"; bsize:9;"), 1u);
  EXPECT_EQ(alerts("http.uri; bsize:8;"), 0u);
  EXPECT_EQ(alerts("http.uri.raw; content:\"/a/./b/../c%41\";"), 1u);
  EXPECT_EQ(alerts("http.method; content:\"GET\"; bsize:3;"), 1u);
  EXPECT_EQ(alerts("http.protocol; content:\"HTTP/1.1\";"), 1u);
  EXPECT_EQ(alerts("http.request_line; content:\"GET /a/./b/../c%41?q=1 HTTP/1.1\"; bsize:31;"), 1u);
  EXPECT_EQ(alerts("http.host; content:\"example.com\"; bsize:11;"), 1u);
  EXPECT_EQ(alerts("http.host.raw; content:\"Example.COM:8080\";"), 1u);
  EXPECT_EQ(alerts("http.user_agent; content:\"foo\"; content:!\"bar\";"), 1u);
  EXPECT_EQ(alerts("http.user_agent; content:\"FOO\";"), 0u);
  EXPECT_EQ(alerts("http.user_agent; content:\"FOO\"; nocase;"), 1u);
  EXPECT_EQ(alerts("content:\"foo\"; http_user_agent;"), 1u);
  EXPECT_EQ(alerts("pcre:\"/^f.o$/V\";"), 1u);
  EXPECT_EQ(alerts("pcre:!\"/^f.o$/V\"; http.method; content:\"GET\";"), 0u);
  // Cookie is in the raw header and in http.request_header, not in the normalized http.header.
  EXPECT_EQ(alerts("http.header; content:\"Cookie\";"), 0u);
  EXPECT_EQ(alerts("http.header; content:\"User-Agent: foo|0d 0a|\";"), 1u);
  EXPECT_EQ(alerts("http.header.raw; content:\"Accept: text/*|0d 0a 0d 0a|\";"), 1u);
  EXPECT_EQ(alerts("http.request_header; content:\"Cookie: s=1\"; bsize:11;"), 1u);
  // One instance must hold every content of a multi-buffer.
  EXPECT_EQ(alerts("http.request_header; content:\"Cookie\"; content:\"foo\";"), 0u);
  EXPECT_EQ(alerts("http.header_names; content:\"|0d 0a|Host|0d 0a|User-Agent|0d 0a|\";"), 1u);
  EXPECT_EQ(alerts("http.cookie; content:\"s=1\";"), 1u);
  EXPECT_EQ(alerts("http.accept; content:\"text/*\"; bsize:6;"), 1u);
  // Absent buffers: without `absent` a negated content does not hold on a missing buffer.
  EXPECT_EQ(alerts("http.referer; content:!\"example\";"), 0u);
  EXPECT_EQ(alerts("http.referer; absent;"), 1u);
  EXPECT_EQ(alerts("http.referer; absent: or_else; content:\"example\";"), 1u);
  EXPECT_EQ(alerts("http.user_agent; absent;"), 0u);
  EXPECT_EQ(alerts("http.user_agent; absent: or_else; content:!\"bar\";"), 1u);
  EXPECT_EQ(alerts("http.user_agent; absent: or_else; content:\"bar\";"), 0u);
  // Plain contents of an http rule are matched in the payload, on the request's packet only.
  EXPECT_EQ(alerts("content:\"Host\";"), 1u);
  // Addresses: the default variables ($HOME_NET holds 192.168/16).
  EXPECT_EQ(alerts("content:\"Host\";", "http $EXTERNAL_NET any -> $HOME_NET any"), 0u);
  EXPECT_EQ(alerts("content:\"Host\";", "http any any -> any $HTTP_PORTS"), 1u);
  // A tcp rule sees every packet; a request cut before its empty line is no request.
  EXPECT_EQ(alerts("content:\"GET\";", "tcp any any -> any any"), 1u);
  std::vector<pkt::Packet> cut = {tcpWith(c, 5001, srv, 80, 0x18, "GET / HTTP/1.1\r\nHost: x\r\n", 5)};
  EXPECT_EQ(alertsOver("alert http any any -> any any (content:\"GET\"; sid:1;)\n", cut), 0u);
  EXPECT_EQ(alertsOver("alert tcp any any -> any any (content:\"GET\"; sid:1;)\n", cut), 1u);
}

// http.uri's normalization against RFC 3986's own examples of remove_dot_segments (5.2.4) and
// the rules of Http.h: the absolute form's authority removed, %XX decoded, the query untouched.
TEST(StateDpi, HttpUriNormalization) {
  EXPECT_EQ(state::normalizeHttpUri("/a/b/c/./../../g"), "/a/g");
  EXPECT_EQ(state::normalizeHttpUri("mid/content=5/../6"), "mid/6");
  EXPECT_EQ(state::normalizeHttpUri("/.."), "/");
  EXPECT_EQ(state::normalizeHttpUri("/a/%2e%2e/b%20c"), "/b c");
  EXPECT_EQ(state::normalizeHttpUri("/%zz%4"), "/%zz%4");
  EXPECT_EQ(state::normalizeHttpUri("http://example.com:8080/x/./y?q=/../z"), "/x/y?q=/../z");
  EXPECT_EQ(state::normalizeHttpUri("http://example.com"), "/");
  EXPECT_EQ(state::normalizeHttpUri("*"), "*");
}

// The data plane rebuilds a dpi element from its description (Describe.h): the HTTP parts of the
// rules (buffers, `http`, bsize and absent checks) come back as they were imported.
TEST(StateDpi, SuricataHttpRulesDescribed) {
  ir::Import imp = suricataSet(
      "alert http any any -> any any (http.uri; bsize:<5; content:\"/\"; http.referer; absent: or_else; "
      "pcre:!\"/x/i\"; sid:7;)\n"
      "alert http any any -> any any (http.user_agent; absent; sid:8;)\n"
      "alert tcp any any -> any 80 (content:\"GET\"; sid:9;)\n");
  ir::Dpi e = dpiOn(imp);
  std::string err;
  state::DescribedElement back = state::elementFromJson(state::describeElement(e), err);
  ASSERT_TRUE(back.patterns) << err;
  const ir::Import &b = *back.patterns;
  ASSERT_EQ(b.patterns.size(), imp.patterns.size());
  for (size_t i = 0; i < b.patterns.size(); ++i) {
    EXPECT_EQ(b.patterns[i].regex, imp.patterns[i].regex);
    EXPECT_EQ(b.patterns[i].flags, imp.patterns[i].flags);
    EXPECT_EQ(b.patterns[i].buffer, imp.patterns[i].buffer);
  }
  EXPECT_EQ(b.patterns[1].buffer, ir::PatternRule::HttpReferer);
  ASSERT_EQ(b.patternRules.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const ir::PatternRule &x = b.patternRules[i], &y = imp.patternRules[i];
    EXPECT_EQ(x.http, y.http);
    ASSERT_EQ(x.checks.size(), y.checks.size());
    for (size_t k = 0; k < x.checks.size(); ++k) {
      EXPECT_EQ(x.checks[k].buffer, y.checks[k].buffer);
      EXPECT_EQ(x.checks[k].absent, y.checks[k].absent);
      EXPECT_EQ(x.checks[k].bsizeLo, y.checks[k].bsizeLo);
      EXPECT_EQ(x.checks[k].bsizeHi, y.checks[k].bsizeHi);
    }
  }
  // As imported: sid 7 checks http.uri's size (0 to 4) and lets http.referer be absent.
  const ir::PatternRule &r7 = b.patternRules[0];
  EXPECT_TRUE(r7.http);
  ASSERT_EQ(r7.checks.size(), 2u);
  EXPECT_EQ(r7.checks[0].bsizeHi, 4u);
  EXPECT_EQ(r7.checks[1].absent, ir::PatternRule::BufferCheck::OrElse);
  EXPECT_EQ(b.patternRules[1].checks[0].absent, ir::PatternRule::BufferCheck::Only);
  EXPECT_FALSE(b.patternRules[2].http);
  // A description with an unknown absent value is refused, naming it.
  nlohmann::json j = state::describeElement(e);
  j["rules"][0]["checks"][0]["absent"] = "maybe";
  err.clear();
  EXPECT_FALSE(state::elementFromJson(j, err).patterns);
  EXPECT_NE(err.find("absent 'maybe'"), std::string::npos) << err;
}
