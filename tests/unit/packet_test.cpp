//===- tests/unit/packet_test.cpp - The packet model and pcap reading/writing -----------------===//
///
/// \file
/// Frames come from a builder written here (its own checksum code, anchored to frames made by
/// scapy 2.5 and to hand arithmetic), never from the code under test. Every set() of every
/// writable field, on every kind of frame and on every cut of some of them, must give exactly
/// the frame the builder makes with the new value, and checksumsValid() (a full recomputation)
/// must agree. Real captures under METRON_DATA_DIR/pcap are read with PcapReader and compared
/// with a small pcap parser written here. Hostile files give the documented errors.
///
//===----------------------------------------------------------------------------------------===//
#include "runtime/packet/Packet.h"
#include "runtime/packet/Pcap.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <unistd.h>

using namespace metron;
using namespace metron::pkt;
using ir::FieldId;

namespace {

using Bytes = std::vector<uint8_t>;

// ---- an independent frame builder -------------------------------------------------------------

void put16(Bytes &b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void put32(Bytes &b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
void put48(Bytes &b, uint64_t v) {
  put16(b, uint16_t(v >> 32));
  put32(b, uint32_t(v));
}
void set16(Bytes &b, size_t at, uint16_t v) {
  b[at] = uint8_t(v >> 8);
  b[at + 1] = uint8_t(v);
}
uint16_t get16(const Bytes &b, size_t at) { return uint16_t(b[at] << 8 | b[at + 1]); }

/// The Internet checksum of \p data (RFC 1071), byte by byte.
uint16_t inetChecksum(const Bytes &data) {
  uint64_t s = 0;
  for (size_t i = 0; i < data.size(); ++i) s += i % 2 == 0 ? uint64_t(data[i]) << 8 : data[i];
  while (s > 0xffff) s = (s >> 16) + (s & 0xffff);
  return uint16_t(~s);
}

/// A frame: Ethernet, optional tag, then IPv4 with TCP/UDP/ICMP (by proto) when type is 0x0800.
struct Spec {
  uint64_t dst = 0x001122334455, src = 0x66778899aabb;
  std::optional<uint16_t> tci;
  uint16_t type = 0x0800;
  uint8_t tos = 0xb9; // dscp 46, ECN 1
  uint16_t id = 0x1c46, frag = 0x4000;
  uint8_t ttl = 64, proto = 6;
  uint32_t ipSrc = 0x0a000001, ipDst = 0xc0a80102;
  Bytes ipOptions;
  uint16_t sport = 1234, dport = 80;
  uint32_t seq = 0x01020304, ack = 0x05060708;
  uint8_t tcpFlags = 0x12;
  uint16_t window = 0x7210;
  Bytes tcpOptions;
  uint8_t icmpType = 8, icmpCode = 0;
  uint32_t icmpRest = 0x01020304; // echo id and sequence
  bool udpChecksum = true;
  Bytes payload = {'G', 'E', 'T', ' '};
  size_t padTo = 60;
};

Bytes build(const Spec &s) {
  Bytes f;
  put48(f, s.dst);
  put48(f, s.src);
  if (s.tci) {
    put16(f, 0x8100);
    put16(f, *s.tci);
  }
  put16(f, s.type);
  if (s.type == 0x0800) {
    Bytes l4;
    bool first = (s.frag & 0x1fff) == 0;
    if (first && s.proto == 6) {
      put16(l4, s.sport);
      put16(l4, s.dport);
      put32(l4, s.seq);
      put32(l4, s.ack);
      l4.push_back(uint8_t((20 + s.tcpOptions.size()) / 4 << 4));
      l4.push_back(s.tcpFlags);
      put16(l4, s.window);
      put32(l4, 0); // checksum, urgent pointer
      l4.insert(l4.end(), s.tcpOptions.begin(), s.tcpOptions.end());
    } else if (first && s.proto == 17) {
      put16(l4, s.sport);
      put16(l4, s.dport);
      put16(l4, uint16_t(8 + s.payload.size()));
      put16(l4, 0);
    } else if (first && s.proto == 1) {
      l4.push_back(s.icmpType);
      l4.push_back(s.icmpCode);
      put16(l4, 0);
      put32(l4, s.icmpRest);
    }
    l4.insert(l4.end(), s.payload.begin(), s.payload.end());

    Bytes ip;
    ip.push_back(uint8_t(0x40 | (20 + s.ipOptions.size()) / 4));
    ip.push_back(s.tos);
    put16(ip, uint16_t(20 + s.ipOptions.size() + l4.size()));
    put16(ip, s.id);
    put16(ip, s.frag);
    ip.push_back(s.ttl);
    ip.push_back(s.proto);
    put16(ip, 0);
    put32(ip, s.ipSrc);
    put32(ip, s.ipDst);
    ip.insert(ip.end(), s.ipOptions.begin(), s.ipOptions.end());
    set16(ip, 10, inetChecksum(ip));

    Bytes pseudo;
    put32(pseudo, s.ipSrc);
    put32(pseudo, s.ipDst);
    put16(pseudo, s.proto);
    put16(pseudo, uint16_t(l4.size()));
    pseudo.insert(pseudo.end(), l4.begin(), l4.end());
    if (first && s.proto == 6) set16(l4, 16, inetChecksum(pseudo));
    if (first && s.proto == 17 && s.udpChecksum) {
      uint16_t c = inetChecksum(pseudo);
      set16(l4, 6, c == 0 ? 0xffff : c);
    }
    if (first && s.proto == 1) set16(l4, 2, inetChecksum(l4));
    f.insert(f.end(), ip.begin(), ip.end());
    f.insert(f.end(), l4.begin(), l4.end());
  } else {
    f.insert(f.end(), s.payload.begin(), s.payload.end());
  }
  if (f.size() < s.padTo) f.resize(s.padTo);
  return f;
}

Bytes cut(Bytes b, size_t n) {
  b.resize(std::min(n, b.size()));
  return b;
}

Packet packetOf(const Bytes &b, uint16_t inPort = 0) { return Packet(b.data(), b.size(), 0, inPort); }

const FieldId kWritable[] = {FieldId::EthSrc, FieldId::EthDst, FieldId::VlanId, FieldId::VlanPcp, FieldId::IpSrc,
                             FieldId::IpDst,  FieldId::IpTtl,  FieldId::IpDscp, FieldId::TpSrc,   FieldId::TpDst};
const FieldId kReadOnly[] = {FieldId::InPort,  FieldId::EthType,  FieldId::IpProto,
                             FieldId::TcpFlags, FieldId::IcmpType, FieldId::IcmpCode};

uint64_t maxOf(FieldId f) { return ir::fieldInfo(f).maxValue(); }

/// The spec with field \p f written (the builder ignores fields the frame kind does not carry).
Spec withField(Spec s, FieldId f, uint64_t v) {
  switch (f) {
  case FieldId::EthSrc: s.src = v; break;
  case FieldId::EthDst: s.dst = v; break;
  case FieldId::VlanId: s.tci = uint16_t((s.tci.value_or(0) & 0xf000) | v); break;
  case FieldId::VlanPcp: s.tci = uint16_t((s.tci.value_or(0) & 0x1fff) | v << 13); break;
  case FieldId::IpSrc: s.ipSrc = uint32_t(v); break;
  case FieldId::IpDst: s.ipDst = uint32_t(v); break;
  case FieldId::IpTtl: s.ttl = uint8_t(v); break;
  case FieldId::IpDscp: s.tos = uint8_t(v << 2 | (s.tos & 3)); break;
  case FieldId::TpSrc: s.sport = uint16_t(v); break;
  case FieldId::TpDst: s.dport = uint16_t(v); break;
  default: ADD_FAILURE() << "not writable"; break;
  }
  return s;
}

/// Which headers the first \p n bytes of build(s) hold, by the rules of Packet.cpp, derived here
/// from the spec and not from the parser.
struct Expect {
  bool eth, vlan, ip, l4;
};
Expect expectedHeaders(const Spec &s, size_t n) {
  Expect e{};
  e.eth = n >= 14;
  e.vlan = s.tci && n >= 18;
  size_t l3 = s.tci ? 18 : 14, l4 = l3 + 20 + s.ipOptions.size();
  e.ip = s.type == 0x0800 && n >= l4;
  size_t l4min = s.proto == 6 ? 20 : s.proto == 17 ? 8 : s.proto == 1 ? 4 : 0;
  e.l4 = e.ip && l4min && (s.frag & 0x1fff) == 0 && n >= l4 + l4min;
  return e;
}

bool frameHas(const Expect &e, const Spec &s, FieldId f) {
  switch (f) {
  case FieldId::EthSrc:
  case FieldId::EthDst: return e.eth;
  case FieldId::VlanId:
  case FieldId::VlanPcp: return e.eth; // a tag is pushed when missing
  case FieldId::IpSrc:
  case FieldId::IpDst:
  case FieldId::IpTtl:
  case FieldId::IpDscp: return e.ip;
  case FieldId::TpSrc:
  case FieldId::TpDst: return e.l4 && (s.proto == 6 || s.proto == 17);
  default: return false;
  }
}

/// Parsing the frame of \p p again gives its layout and, for every field the frame has, its
/// value (the others read 0: a write to them changed only the field vector).
void expectReparses(const Packet &p, const std::string &ctx) {
  Packet q = packetOf(p.frame(), p.inPort());
  EXPECT_EQ(q.layout(), p.layout()) << ctx;
  const Layout &L = p.layout();
  std::array<uint64_t, ir::kNumFields> want = p.fields();
  auto absent = [&](std::initializer_list<FieldId> fs, bool present) {
    for (FieldId f : fs)
      if (!present) want[size_t(f)] = 0;
  };
  absent({FieldId::EthSrc, FieldId::EthDst, FieldId::EthType}, p.frame().size() >= 14);
  absent({FieldId::VlanId, FieldId::VlanPcp}, L.vlan);
  absent({FieldId::IpSrc, FieldId::IpDst, FieldId::IpProto, FieldId::IpTtl, FieldId::IpDscp}, L.ipv4);
  absent({FieldId::TpSrc, FieldId::TpDst}, L.tcp || L.udp);
  absent({FieldId::TcpFlags}, L.tcp);
  absent({FieldId::IcmpType, FieldId::IcmpCode}, L.icmp);
  EXPECT_EQ(q.fields(), want) << ctx;
}

std::string hex(const Bytes &b) {
  std::string s;
  char buf[4];
  for (uint8_t c : b) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    s += buf;
  }
  return s;
}

struct Kind {
  std::string name;
  Spec spec;
};

std::vector<Kind> frameKinds() {
  std::vector<Kind> k;
  Spec tcp;
  k.push_back({"tcp", tcp});
  Spec udp;
  udp.proto = 17;
  udp.dport = 53;
  k.push_back({"udp", udp});
  Spec udp0 = udp;
  udp0.udpChecksum = false;
  k.push_back({"udp-no-checksum", udp0});
  Spec icmp;
  icmp.proto = 1;
  k.push_back({"icmp", icmp});
  Spec opts;
  opts.ipOptions = {0x94, 0x04, 0x00, 0x00}; // router alert
  opts.tcpOptions = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02}; // mss 1460, nop, nop, sackOK
  k.push_back({"ip-and-tcp-options", opts});
  Spec vlan = opts;
  vlan.tci = 0xa07b; // pcp 5, id 123
  k.push_back({"vlan-tcp", vlan});
  Spec vlanUdp = udp;
  vlanUdp.tci = 0x3fff; // pcp 1, DEI, id 4095
  k.push_back({"vlan-dei-udp", vlanUdp});
  Spec gre;
  gre.proto = 47;
  k.push_back({"gre", gre});
  Spec frag = udp;
  frag.frag = 0x2000 | 185; // MF, offset 185*8
  k.push_back({"non-first-fragment", frag});
  Spec lastFrag = tcp;
  lastFrag.frag = 7; // last fragment of a TCP datagram
  k.push_back({"last-fragment", lastFrag});
  Spec first = tcp;
  first.frag = 0x2000; // MF, offset 0: has the TCP header
  k.push_back({"first-fragment", first});
  Spec arp;
  arp.type = 0x0806;
  arp.payload = Bytes(28, 0x5a);
  k.push_back({"arp", arp});
  Spec qinq;
  qinq.type = 0x88a8; // 802.1ad: not a tag for the model
  qinq.payload = {0x00, 0x64, 0x08, 0x00};
  k.push_back({"802.1ad", qinq});
  Spec big = tcp;
  big.payload = Bytes(1400, 0xa5);
  k.push_back({"tcp-1400", big});
  return k;
}

} // namespace

// ---- the builder is right ----------------------------------------------------------------------

TEST(PacketBuilder, MatchesScapyAndHandArithmetic) {
  Spec tcp;
  EXPECT_EQ(hex(build(tcp)), "00112233445566778899aabb080045b9002c1c464000400652220a000001c0a8010204d20050010203"
                             "040506070850127210c1770000474554200000");
  Spec udp;
  udp.proto = 17;
  udp.dport = 53;
  EXPECT_EQ(hex(build(udp)), "00112233445566778899aabb080045b900201c464000401152230a000001c0a8010204d20035000c93be"
                             "474554200000000000000000000000000000");
  Spec icmp;
  icmp.proto = 1;
  EXPECT_EQ(hex(build(icmp)), "00112233445566778899aabb080045b900201c464000400152330a000001c0a801020800589401020304"
                              "474554200000000000000000000000000000");
  // The IPv4 header checksum by hand: 45b9+002c+1c46+4000+4006+0a00+0001+c0a8+0102 = 0x1addc,
  // folded 0xaddd, complemented 0x5222.
  EXPECT_EQ(get16(build(tcp), 24), 0x5222);
}

// ---- parse -------------------------------------------------------------------------------------

TEST(PacketParse, TcpFieldsAndLayout) {
  Packet p = packetOf(build(Spec{}), 3);
  EXPECT_EQ(p.get(FieldId::InPort), 3u);
  EXPECT_EQ(p.get(FieldId::EthDst), 0x001122334455u);
  EXPECT_EQ(p.get(FieldId::EthSrc), 0x66778899aabbu);
  EXPECT_EQ(p.get(FieldId::EthType), 0x0800u);
  EXPECT_EQ(p.get(FieldId::VlanId), 0u);
  EXPECT_EQ(p.get(FieldId::VlanPcp), 0u);
  EXPECT_EQ(p.get(FieldId::IpSrc), 0x0a000001u);
  EXPECT_EQ(p.get(FieldId::IpDst), 0xc0a80102u);
  EXPECT_EQ(p.get(FieldId::IpProto), 6u);
  EXPECT_EQ(p.get(FieldId::IpTtl), 64u);
  EXPECT_EQ(p.get(FieldId::IpDscp), 46u); // TOS 0xb9 >> 2
  EXPECT_EQ(p.get(FieldId::TpSrc), 1234u);
  EXPECT_EQ(p.get(FieldId::TpDst), 80u);
  EXPECT_EQ(p.get(FieldId::TcpFlags), 0x12u);
  EXPECT_EQ(p.get(FieldId::IcmpType), 0u);
  const Layout &L = p.layout();
  EXPECT_TRUE(L.ipv4 && L.tcp && !L.udp && !L.icmp && !L.vlan && !L.fragment);
  EXPECT_EQ(L.l3, 14);
  EXPECT_EQ(L.l4, 34);
  EXPECT_EQ(L.payload, 54);
  // 58 bytes of headers and payload, padded to 60: the padding is not payload.
  ASSERT_EQ(p.frame().size(), 60u);
  ASSERT_EQ(p.payloadLen(), 4u);
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(p.payload()), 4), "GET ");
  EXPECT_EQ(p.wireLen, 60u);
  EXPECT_TRUE(checksumsValid(p));
}

TEST(PacketParse, TcpFlagsAreTheLowEightBitsOfTheFlagsByte) {
  Spec s;
  s.tcpFlags = 0xff;
  Bytes b = build(s);
  b[46] |= 0x0f; // data offset byte: the reserved bits (and NS) are not flags
  EXPECT_EQ(packetOf(b).get(FieldId::TcpFlags), 0xffu);
}

TEST(PacketParse, UdpIcmpAndOtherProtocols) {
  Spec udp;
  udp.proto = 17;
  udp.sport = 5353;
  udp.dport = 53;
  Packet u = packetOf(build(udp));
  EXPECT_TRUE(u.layout().udp);
  EXPECT_EQ(u.get(FieldId::TpSrc), 5353u);
  EXPECT_EQ(u.get(FieldId::TpDst), 53u);
  EXPECT_EQ(u.get(FieldId::TcpFlags), 0u);
  EXPECT_EQ(u.layout().payload, 42);
  EXPECT_EQ(u.payloadLen(), 4u);

  Spec icmp;
  icmp.proto = 1;
  icmp.icmpType = 3;
  icmp.icmpCode = 13;
  Packet i = packetOf(build(icmp));
  EXPECT_TRUE(i.layout().icmp);
  EXPECT_EQ(i.get(FieldId::IcmpType), 3u);
  EXPECT_EQ(i.get(FieldId::IcmpCode), 13u);
  EXPECT_EQ(i.get(FieldId::TpSrc), 0u); // ICMP has no ports
  EXPECT_EQ(i.get(FieldId::TpDst), 0u);
  EXPECT_EQ(i.layout().payload, 38); // after type, code, checksum: id/seq are payload
  EXPECT_EQ(i.payloadLen(), 8u);
  EXPECT_TRUE(checksumsValid(i));

  Spec gre;
  gre.proto = 47;
  Packet g = packetOf(build(gre));
  EXPECT_TRUE(g.layout().ipv4);
  EXPECT_FALSE(g.layout().tcp || g.layout().udp || g.layout().icmp);
  EXPECT_EQ(g.get(FieldId::IpProto), 47u);
  EXPECT_EQ(g.get(FieldId::TpSrc), 0u);
  EXPECT_EQ(g.layout().l4, 0);
  EXPECT_EQ(g.layout().payload, 34);
  EXPECT_EQ(g.payloadLen(), 4u);
}

TEST(PacketParse, Vlan) {
  Spec s;
  s.tci = 0xb07b; // pcp 5, DEI 1, id 123
  Packet p = packetOf(build(s));
  EXPECT_TRUE(p.layout().vlan);
  EXPECT_EQ(p.get(FieldId::VlanPcp), 5u);
  EXPECT_EQ(p.get(FieldId::VlanId), 123u);
  EXPECT_EQ(p.get(FieldId::EthType), 0x0800u); // the inner type
  EXPECT_EQ(p.layout().l3, 18);
  EXPECT_EQ(p.get(FieldId::TpDst), 80u);

  // Double 802.1Q: the outer tag is the tag, the inner one makes the frame non-IP.
  Spec dbl;
  dbl.tci = 0x0064;
  dbl.type = 0x8100;
  dbl.payload = {0x00, 0xc8, 0x08, 0x00, 0x45};
  Packet d = packetOf(build(dbl));
  EXPECT_EQ(d.get(FieldId::VlanId), 100u);
  EXPECT_EQ(d.get(FieldId::EthType), 0x8100u);
  EXPECT_FALSE(d.layout().ipv4);
  EXPECT_EQ(d.layout().payload, 18);

  // 802.1ad and 0x9100 are not tags.
  for (uint16_t tpid : {0x88a8, 0x9100}) {
    Spec ad;
    ad.type = tpid;
    ad.payload = {0x00, 0x64, 0x08, 0x00};
    Packet a = packetOf(build(ad));
    EXPECT_FALSE(a.layout().vlan);
    EXPECT_EQ(a.get(FieldId::VlanId), 0u);
    EXPECT_EQ(a.get(FieldId::EthType), tpid);
    EXPECT_EQ(a.layout().payload, 14);
  }

  // A 0x8100 frame cut inside the tag has no tag: eth.type reads 0x8100.
  for (size_t n : {14u, 15u, 17u}) {
    Packet c = packetOf(cut(build(s), n));
    EXPECT_FALSE(c.layout().vlan) << n;
    EXPECT_EQ(c.get(FieldId::EthType), 0x8100u) << n;
    EXPECT_EQ(c.get(FieldId::VlanId), 0u) << n;
  }
}

TEST(PacketParse, NonIpFrames) {
  Spec arp;
  arp.type = 0x0806;
  arp.payload = Bytes(28, 1);
  Packet a = packetOf(build(arp));
  EXPECT_FALSE(a.layout().ipv4);
  EXPECT_EQ(a.get(FieldId::EthType), 0x0806u);
  EXPECT_EQ(a.get(FieldId::IpSrc), 0u);
  EXPECT_EQ(a.layout().payload, 14);
  EXPECT_EQ(a.payloadLen(), 46u); // everything after the header, padding included
  EXPECT_TRUE(checksumsValid(a));

  // An 802.3 frame: the length field is reported as found.
  Spec llc;
  llc.type = 0x0026;
  llc.payload = {0x42, 0x42, 0x03};
  EXPECT_EQ(packetOf(build(llc)).get(FieldId::EthType), 0x26u);

  // Frames too short for Ethernet have no fields and no payload.
  for (size_t n : {0u, 1u, 4u, 13u}) {
    Packet p = packetOf(cut(build(Spec{}), n));
    for (size_t f = 0; f < ir::kNumFields; ++f) EXPECT_EQ(p.fields()[f], 0u) << n;
    EXPECT_EQ(p.payloadLen(), 0u);
    EXPECT_EQ(p.payload(), nullptr);
    EXPECT_EQ(p.layout(), Layout{});
  }
}

TEST(PacketParse, MalformedIpv4IsNotIpv4) {
  Bytes good = build(Spec{});
  auto notIp = [&](Bytes b, const char *what) {
    Packet p = packetOf(b);
    EXPECT_FALSE(p.layout().ipv4) << what;
    EXPECT_EQ(p.get(FieldId::IpSrc), 0u) << what;
    EXPECT_EQ(p.get(FieldId::IpProto), 0u) << what;
    EXPECT_EQ(p.get(FieldId::TpSrc), 0u) << what;
    EXPECT_EQ(p.get(FieldId::EthType), 0x0800u) << what;
    EXPECT_EQ(p.layout().payload, 14) << what;
    EXPECT_TRUE(checksumsValid(p)) << what;
  };
  Bytes v6 = good;
  v6[14] = 0x65;
  notIp(v6, "version 6");
  Bytes ihl4 = good;
  ihl4[14] = 0x44;
  notIp(ihl4, "IHL 4");
  Bytes ihl15 = good;
  ihl15[14] = 0x4f; // 60 bytes of header, 46 captured
  notIp(ihl15, "IHL 15");
  Bytes shortTotal = good;
  set16(shortTotal, 16, 19);
  notIp(shortTotal, "total length 19");
  notIp(cut(good, 33), "19 bytes after L2");
}

TEST(PacketParse, TotalLengthBeyondTheCaptureIsStillIpv4) {
  Spec s;
  s.payload = Bytes(100, 'x');
  Bytes full = build(s);
  // Cut by a snap length: ports and flags are there, the payload is what was captured.
  Packet p = packetOf(cut(full, 64));
  EXPECT_TRUE(p.layout().ipv4 && p.layout().tcp);
  EXPECT_EQ(p.get(FieldId::TpSrc), 1234u);
  EXPECT_EQ(p.payloadLen(), 10u);
  EXPECT_TRUE(checksumsValid(p)); // IP header right; TCP not checkable
  // TCP options cut: still TCP, the payload starts beyond the capture.
  Spec o;
  o.tcpOptions = Bytes(12, 1);
  Packet q = packetOf(cut(build(o), 58));
  EXPECT_TRUE(q.layout().tcp);
  EXPECT_EQ(q.layout().payload, 66);
  EXPECT_EQ(q.payloadLen(), 0u);
  EXPECT_EQ(q.payload(), nullptr);
  // A total length larger than the frame that was not cut is read the same way.
  Bytes lying = build(Spec{});
  set16(lying, 16, 1000);
  set16(lying, 24, 0);
  Packet l = packetOf(lying);
  EXPECT_TRUE(l.layout().tcp);
  EXPECT_EQ(l.payloadLen(), 6u); // to the end of the frame
}

TEST(PacketParse, TcpDataOffsetMustBeSane) {
  Bytes b = build(Spec{});
  b[46] = 0x40; // doff 4
  Packet p = packetOf(b);
  EXPECT_TRUE(p.layout().ipv4);
  EXPECT_FALSE(p.layout().tcp);
  EXPECT_EQ(p.get(FieldId::TpSrc), 0u);
  EXPECT_EQ(p.get(FieldId::TcpFlags), 0u);
  EXPECT_EQ(p.payloadLen(), 0u);
  b[46] = 0x70; // doff 7: 28 bytes, but the datagram has 24 after the IP header
  EXPECT_FALSE(packetOf(b).layout().tcp);
  b[46] = 0x60; // doff 6: 24 bytes, all of it
  Packet q = packetOf(b);
  EXPECT_TRUE(q.layout().tcp);
  EXPECT_EQ(q.payloadLen(), 0u);
}

TEST(PacketParse, Fragments) {
  Spec s;
  s.proto = 17;
  s.frag = 0x2000 | 185;
  Packet p = packetOf(build(s));
  EXPECT_TRUE(p.layout().ipv4 && p.layout().fragment);
  EXPECT_FALSE(p.layout().udp);
  EXPECT_EQ(p.get(FieldId::IpProto), 17u);
  EXPECT_EQ(p.get(FieldId::TpSrc), 0u);
  EXPECT_EQ(p.get(FieldId::TpDst), 0u);
  EXPECT_EQ(p.layout().payload, 34);
  EXPECT_EQ(p.payloadLen(), 4u);

  // A first fragment has its L4 header; its checksum covers data not in the frame, so it is
  // not checked.
  Spec f;
  f.frag = 0x2000;
  Bytes b = build(f);
  b[50] ^= 0xff;
  Packet q = packetOf(b);
  EXPECT_FALSE(q.layout().fragment);
  EXPECT_TRUE(q.layout().tcp);
  EXPECT_EQ(q.get(FieldId::TpDst), 80u);
  EXPECT_TRUE(checksumsValid(q));
}

TEST(PacketParse, EveryCutOfEveryHeader) {
  for (const Kind &k : frameKinds()) {
    Bytes full = build(k.spec);
    Packet whole = packetOf(full);
    for (size_t n = 0; n <= full.size(); ++n) {
      std::string ctx = k.name + " cut at " + std::to_string(n);
      Packet p = packetOf(cut(full, n));
      Expect e = expectedHeaders(k.spec, n);
      EXPECT_EQ(p.layout().vlan, e.vlan) << ctx;
      EXPECT_EQ(p.layout().ipv4, e.ip) << ctx;
      EXPECT_EQ(p.layout().tcp || p.layout().udp || p.layout().icmp, e.l4) << ctx;
      for (size_t f = 0; f < ir::kNumFields; ++f) {
        FieldId id = FieldId(f);
        bool present = id == FieldId::EthSrc || id == FieldId::EthDst ? e.eth
                       : id == FieldId::EthType                       ? e.eth
                       : id == FieldId::VlanId || id == FieldId::VlanPcp ? e.vlan
                       : id == FieldId::IpSrc || id == FieldId::IpDst || id == FieldId::IpProto ||
                               id == FieldId::IpTtl || id == FieldId::IpDscp
                           ? e.ip
                       : id == FieldId::InPort ? true
                                               : e.l4;
        uint64_t want = present ? whole.get(id) : 0;
        if (id == FieldId::EthType && e.eth && k.spec.tci && !e.vlan) want = 0x8100;
        EXPECT_EQ(p.get(id), want) << ctx << " field " << ir::fieldInfo(id).name;
      }
      EXPECT_TRUE(checksumsValid(p)) << ctx; // the IP header is whole or absent
      EXPECT_LE(p.payloadLen(), n);
    }
  }
}

// ---- set ---------------------------------------------------------------------------------------

TEST(PacketSet, DecrementingTtlAddsOneHundredHexToTheChecksum) {
  Packet p = packetOf(build(Spec{}));
  p.set(FieldId::IpTtl, 63);
  EXPECT_EQ(get16(p.frame(), 24), 0x5322);
  EXPECT_EQ(hex(p.frame()), "00112233445566778899aabb080045b9002c1c4640003f0653220a000001c0a8010204d20050010203"
                            "040506070850127210c1770000474554200000"); // scapy, ttl=63
}

TEST(PacketSet, EveryWritableFieldOnEveryKindOfFrame) {
  size_t checks = 0;
  for (const Kind &k : frameKinds()) {
    Bytes full = build(k.spec);
    std::vector<size_t> cuts = {full.size()};
    if (k.name == "vlan-tcp" || k.name == "udp" || k.name == "icmp" || k.name == "tcp-1400")
      for (size_t n = 0; n < full.size() && n < 80; ++n) cuts.push_back(n);
    for (size_t n : cuts) {
      Packet orig = packetOf(cut(full, n));
      Expect e = expectedHeaders(k.spec, n);
      for (FieldId f : kWritable) {
        for (uint64_t v : {uint64_t(0), uint64_t(1), maxOf(f), uint64_t(0x5a5a5a5a5a5a) & maxOf(f)}) {
          std::string ctx = k.name + " cut at " + std::to_string(n) + ": " + ir::fieldInfo(f).name + " = " +
                            std::to_string(v);
          Packet p = orig;
          p.set(f, v);
          EXPECT_EQ(p.get(f), v) << ctx;
          bool has = frameHas(e, k.spec, f);
          bool push = has && (f == FieldId::VlanId || f == FieldId::VlanPcp) && !e.vlan;
          Bytes want = orig.frame();
          if (push) {
            uint16_t tci = uint16_t(f == FieldId::VlanId ? v : v << 13);
            want.insert(want.begin() + 12, {0x81, 0x00, uint8_t(tci >> 8), uint8_t(tci)});
          } else if (has) {
            want = cut(build(withField(k.spec, f, v)), n);
            // An L4 header cut short is not updated: keep its captured bytes.
            size_t l4 = (k.spec.tci ? 18 : 14) + 20 + k.spec.ipOptions.size();
            if (!e.l4)
              for (size_t i = l4; i < n; ++i) want[i] = orig.frame()[i];
          }
          EXPECT_EQ(hex(p.frame()), hex(want)) << ctx;
          EXPECT_EQ(p.wireLen, orig.wireLen + (push ? 4 : 0)) << ctx;
          std::string why;
          EXPECT_TRUE(checksumsValid(p, &why)) << ctx << ": " << why;
          if (has) {
            expectReparses(p, ctx);
          } else {
            Packet q = packetOf(p.frame());
            EXPECT_EQ(q.get(f), 0u) << ctx; // only the field vector changed
          }
          ++checks;
        }
      }
    }
  }
  EXPECT_GT(checks, 10000u);
}

TEST(PacketSet, SequencesOfWritesMatchTheBuilder) {
  std::mt19937_64 rng(20240601);
  for (const Kind &k : frameKinds()) {
    for (int round = 0; round < 50; ++round) {
      Spec s = k.spec;
      Packet p = packetOf(build(s));
      std::string ctx = k.name + " round " + std::to_string(round);
      for (int step = 0; step < 12; ++step) {
        FieldId f = kWritable[rng() % std::size(kWritable)];
        uint64_t v = rng() & maxOf(f);
        p.set(f, v);
        if ((f == FieldId::VlanId || f == FieldId::VlanPcp) && !s.tci) s.padTo += 4; // a push keeps the padding
        s = withField(s, f, v);
        ctx += std::string(" ") + ir::fieldInfo(f).name + "=" + std::to_string(v);
      }
      EXPECT_EQ(hex(p.frame()), hex(build(s))) << ctx;
      EXPECT_TRUE(checksumsValid(p)) << ctx;
      expectReparses(p, ctx);
    }
  }
}

TEST(PacketSet, VlanPushShiftsTheLayout) {
  Spec s;
  s.ipOptions = {1, 1, 1, 0};
  Packet p = packetOf(build(s));
  Layout before = p.layout();
  p.set(FieldId::VlanPcp, 6);
  EXPECT_EQ(p.frame().size(), 66u); // 62 + 4
  EXPECT_EQ(p.wireLen, 66u);
  EXPECT_TRUE(p.layout().vlan);
  EXPECT_EQ(p.layout().l3, before.l3 + 4);
  EXPECT_EQ(p.layout().l4, before.l4 + 4);
  EXPECT_EQ(p.layout().payload, before.payload + 4);
  EXPECT_EQ(p.get(FieldId::VlanId), 0u);
  EXPECT_EQ(p.get(FieldId::EthType), 0x0800u);
  EXPECT_EQ(hex(Bytes(p.frame().begin() + 12, p.frame().begin() + 18)), "8100c0000800");
  // Later writes land at the shifted offsets.
  p.set(FieldId::TpDst, 8080);
  p.set(FieldId::IpSrc, 0x01020304);
  s.tci = 0xc000;
  s.dport = 8080;
  s.ipSrc = 0x01020304;
  EXPECT_EQ(hex(p.frame()), hex(build(s)));
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(p.payload()), p.payloadLen()), "GET ");

  // A frame too short for Ethernet gets no tag.
  Packet tiny = packetOf(Bytes{0xaa});
  tiny.set(FieldId::VlanId, 7);
  EXPECT_EQ(tiny.frame(), Bytes{0xaa});
  EXPECT_EQ(tiny.get(FieldId::VlanId), 7u);
  EXPECT_EQ(tiny.wireLen, 1u);
}

TEST(PacketSet, ValuesAreTruncatedToTheFieldWidth) {
  Packet p = packetOf(build(Spec{}));
  p.set(FieldId::IpDscp, 0xff);
  EXPECT_EQ(p.get(FieldId::IpDscp), 0x3fu);
  EXPECT_EQ(p.frame()[15], 0xfd); // ECN bits kept
  p.set(FieldId::VlanId, 0x1234);
  EXPECT_EQ(p.get(FieldId::VlanId), 0x234u);
  p.set(FieldId::VlanPcp, 9);
  EXPECT_EQ(p.get(FieldId::VlanPcp), 1u);
  p.set(FieldId::EthSrc, ~0ull);
  EXPECT_EQ(p.get(FieldId::EthSrc), 0xffffffffffffu);
  p.set(FieldId::TpSrc, 0x12345);
  EXPECT_EQ(p.get(FieldId::TpSrc), 0x2345u);
  EXPECT_TRUE(checksumsValid(p));
  expectReparses(p, "truncated values");
}

TEST(PacketSet, ReadOnlyFieldsChangeOnlyTheVector) {
  for (const Kind &k : frameKinds()) {
    Packet orig = packetOf(build(k.spec), 2);
    for (FieldId f : kReadOnly) {
      Packet p = orig;
      p.set(f, 0x1ff);
      EXPECT_EQ(p.get(f), 0x1ffu & maxOf(f)) << k.name << " " << ir::fieldInfo(f).name;
      EXPECT_EQ(p.frame(), orig.frame()) << k.name << " " << ir::fieldInfo(f).name;
      EXPECT_EQ(p.layout(), orig.layout());
    }
  }
  Packet p = packetOf(build(Spec{}), 2);
  EXPECT_EQ(p.inPort(), 2);
  p.setInPort(9);
  EXPECT_EQ(p.get(FieldId::InPort), 9u);
  p.set(FieldId::InPort, 11);
  EXPECT_EQ(p.inPort(), 11);
}

TEST(PacketSet, UdpChecksumZeroStaysZero) {
  Spec s;
  s.proto = 17;
  s.udpChecksum = false;
  Packet p = packetOf(build(s));
  for (FieldId f : {FieldId::IpSrc, FieldId::IpDst, FieldId::TpSrc, FieldId::TpDst}) p.set(f, 0x4242);
  EXPECT_EQ(get16(p.frame(), 40), 0);
  EXPECT_TRUE(checksumsValid(p));
}

TEST(PacketSet, AComputedZeroIsZeroForTcpAndAllOnesForUdp) {
  for (uint8_t proto : {uint8_t(6), uint8_t(17)}) {
    Spec s;
    s.proto = proto;
    size_t at = proto == 6 ? 50 : 40;
    // With source port 0 the checksum is ~S (S the folded sum of the rest); source port ~S
    // makes the sum 0xffff, so the checksum computes to 0 (sent as 0xffff by UDP).
    uint16_t zeroPort = get16(build(withField(s, FieldId::TpSrc, 0)), at);
    ASSERT_NE(zeroPort, 0);
    ASSERT_EQ(get16(build(withField(s, FieldId::TpSrc, zeroPort)), at), proto == 6 ? 0x0000 : 0xffff);
    Packet p = packetOf(build(s));
    p.set(FieldId::TpSrc, zeroPort);
    EXPECT_EQ(get16(p.frame(), at), proto == 6 ? 0x0000 : 0xffff) << int(proto);
    EXPECT_TRUE(checksumsValid(p));
    // And back: from a checksum of 0 (TCP) or 0xffff (UDP) to the original one.
    p.set(FieldId::TpSrc, 1234);
    EXPECT_EQ(p.frame(), build(s)) << int(proto);
  }
}

TEST(PacketSet, AWrongChecksumStaysWrongByTheSameAmount) {
  // Adds k to a checksum in one's-complement arithmetic.
  auto skew = [](uint16_t c, uint16_t k) {
    uint32_t s = uint32_t(c) + k;
    return uint16_t((s & 0xffff) + (s >> 16));
  };
  for (uint8_t proto : {uint8_t(6), uint8_t(17)}) {
    Spec s;
    s.proto = proto;
    size_t l4c = proto == 6 ? 50 : 40;
    Bytes b = build(s);
    set16(b, 24, skew(get16(b, 24), 0x1111));
    set16(b, l4c, skew(get16(b, l4c), 0x0202));
    Packet p = packetOf(b);
    std::string why;
    EXPECT_FALSE(checksumsValid(p, &why));
    // UDP: the protocol word grows by 0x0b and the total length shrinks by 0x0c, so the right
    // header checksum is one more than TCP's 0x5222.
    EXPECT_EQ(why, proto == 6 ? "IPv4 header checksum is 0x6333, expected 0x5222"
                              : "IPv4 header checksum is 0x6334, expected 0x5223");
    p.set(FieldId::IpSrc, 0xc0000201);
    p.set(FieldId::IpTtl, 3);
    p.set(FieldId::IpDscp, 10);
    p.set(FieldId::TpDst, 443);
    s = withField(withField(withField(withField(s, FieldId::IpSrc, 0xc0000201), FieldId::IpTtl, 3),
                            FieldId::IpDscp, 10),
                  FieldId::TpDst, 443);
    Bytes want = build(s);
    EXPECT_EQ(get16(p.frame(), 24), skew(get16(want, 24), 0x1111)) << int(proto);
    EXPECT_EQ(get16(p.frame(), l4c), skew(get16(want, l4c), 0x0202)) << int(proto);
  }
}

TEST(PacketSet, AddressWritesFollowRfc1624WordByWord) {
  // An address write updates the IPv4 header checksum and the TCP/UDP one by RFC 1624 eqn. 3
  // over the address's two 16-bit words, whatever the stored checksum (0x0000 and 0xffff
  // included) and the values (equal, all zeros, all ones): the oracle folds with a loop, word
  // by word, as the RFC writes it.
  auto fold = [](uint64_t x) {
    while (x >> 16) x = (x & 0xffff) + (x >> 16);
    return uint16_t(x);
  };
  auto eqn3 = [&](uint16_t hc, uint32_t from, uint32_t to) {
    uint64_t x = uint16_t(~hc);
    x += uint16_t(~(from >> 16)) + uint64_t(to >> 16);
    x += uint16_t(~from) + uint64_t(to & 0xffff);
    return uint16_t(~fold(x));
  };
  std::mt19937_64 rng(17);
  const uint32_t edges[] = {0, 0xffffffff, 0x0000ffff, 0xffff0000, 0x00010001};
  const uint16_t checks[] = {0x0000, 0xffff, 0x0001, 0xfffe};
  for (int i = 0; i < 20000; ++i) {
    Spec s;
    s.proto = rng() % 2 ? 6 : 17;
    Bytes b = build(s);
    const size_t l4c = s.proto == 6 ? 50 : 40;
    set16(b, 24, rng() % 4 ? uint16_t(rng()) : checks[rng() % 4]);
    set16(b, l4c, rng() % 4 ? uint16_t(rng()) : checks[rng() % 4]);
    const bool src = rng() % 2;
    const uint32_t from = src ? s.ipSrc : s.ipDst;
    const uint32_t to = rng() % 4 == 0 ? from : rng() % 3 ? uint32_t(rng()) : edges[rng() % 5];
    Packet p = packetOf(b);
    p.set(src ? FieldId::IpSrc : FieldId::IpDst, to);
    std::string ctx = "frame " + hex(b) + " to " + std::to_string(to);
    ASSERT_EQ(get16(p.frame(), 24), eqn3(get16(b, 24), from, to)) << ctx;
    uint16_t l4 = get16(b, l4c), want = eqn3(l4, from, to);
    if (s.proto == 17) want = l4 == 0 ? 0 : want == 0 ? 0xffff : want; // RFC 768
    ASSERT_EQ(get16(p.frame(), l4c), want) << ctx;
  }
}

TEST(PacketSet, AddressAndPortInOneUpdateEqualsTwoWrites) {
  // setAddressAndPort (a NAPT's rewrite) against set(addr) then set(port), on every kind of
  // frame, damaged or cut, with edge checksums (0, 0xffff) and edge values: same bytes, fields
  // and layout.
  std::mt19937_64 rng(29);
  std::vector<Kind> kinds = frameKinds();
  const uint16_t checks[] = {0x0000, 0xffff, 0x0001, 0xfffe};
  const uint32_t edges[] = {0, 0xffffffff, 0x0000ffff, 0xffff0000};
  uint64_t l4Frames = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes b = build(kinds[rng() % kinds.size()].spec);
    Packet parsed = packetOf(b);
    if (parsed.layout().ipv4 && rng() % 2) set16(b, parsed.layout().l3 + 10, checks[rng() % 4]);
    if (parsed.layout().tcp && rng() % 2) set16(b, parsed.layout().l4 + 16, checks[rng() % 4]);
    if (parsed.layout().udp && rng() % 2) set16(b, parsed.layout().l4 + 6, checks[rng() % 4]);
    if (rng() % 4 == 0) b[rng() % b.size()] = uint8_t(rng());
    if (rng() % 6 == 0) b.resize(rng() % (b.size() + 1));
    const FieldId addr = rng() % 2 ? FieldId::IpSrc : FieldId::IpDst;
    const FieldId port = rng() % 2 ? FieldId::TpSrc : FieldId::TpDst;
    const uint32_t a = rng() % 4 ? uint32_t(rng()) : edges[rng() % 4];
    const uint16_t pt = rng() % 4 ? uint16_t(rng()) : uint16_t(edges[rng() % 4]);
    Packet want = packetOf(b), got = packetOf(b);
    want.set(addr, a);
    want.set(port, pt);
    got.setAddressAndPort(addr, a, port, pt);
    ASSERT_EQ(hex(got.frame()), hex(want.frame())) << "frame " << hex(b);
    ASSERT_EQ(got.fields(), want.fields()) << "frame " << hex(b);
    ASSERT_EQ(got.layout(), want.layout()) << "frame " << hex(b);
    l4Frames += got.layout().tcp || got.layout().udp;
  }
  EXPECT_GT(l4Frames, 5000u);
}

TEST(PacketChecksums, EachWrongChecksumIsNamed) {
  auto why = [](Bytes b, size_t at, uint16_t v) {
    set16(b, at, v);
    std::string w;
    EXPECT_FALSE(checksumsValid(packetOf(b), &w));
    return w;
  };
  Spec udp, icmp;
  udp.proto = 17;
  udp.dport = 53;
  icmp.proto = 1;
  EXPECT_EQ(why(build(Spec{}), 50, 0x1234), "TCP checksum is 0x1234, expected 0xc177");
  EXPECT_EQ(why(build(udp), 40, 0x1234), "UDP checksum is 0x1234, expected 0x93be");
  EXPECT_EQ(why(build(icmp), 36, 0x1234), "ICMP checksum is 0x1234, expected 0x5894");
  // The non-canonical form of a right TCP checksum is wrong too: 0xffff is never computed.
  Spec s;
  s.sport = get16(build(withField(s, FieldId::TpSrc, 0)), 50); // makes the checksum 0 (see above)
  EXPECT_EQ(why(build(s), 50, 0xffff), "TCP checksum is 0xffff, expected 0x0000");
}

TEST(PacketSet, RandomFramesNeverBreakTheModel) {
  // Random mutations of valid frames: whatever the bytes, set() stays inside the frame, the
  // parse of the written frame agrees with the vector for the fields it has, and valid
  // checksums stay valid.
  std::mt19937_64 rng(7);
  std::vector<Kind> kinds = frameKinds();
  for (int i = 0; i < 5000; ++i) {
    Bytes b = build(kinds[rng() % kinds.size()].spec);
    int flips = int(rng() % 4);
    for (int j = 0; j < flips; ++j) b[rng() % b.size()] = uint8_t(rng());
    if (rng() % 3 == 0) b.resize(rng() % (b.size() + 1));
    Packet p = packetOf(b);
    bool valid = checksumsValid(p);
    Layout before = p.layout();
    for (int j = 0; j < 6; ++j) {
      FieldId f = kWritable[rng() % std::size(kWritable)];
      p.set(f, rng() & maxOf(f));
    }
    std::string ctx = "frame " + hex(b);
    if (valid) {
      EXPECT_TRUE(checksumsValid(p)) << ctx;
    }
    Packet q = packetOf(p.frame());
    EXPECT_EQ(q.layout(), p.layout()) << ctx;
    EXPECT_EQ(p.layout().ipv4, before.ipv4) << ctx;
    for (FieldId f : kWritable) {
      bool has = f == FieldId::EthSrc || f == FieldId::EthDst ? p.frame().size() >= 14
                 : f == FieldId::VlanId || f == FieldId::VlanPcp ? p.layout().vlan
                 : f == FieldId::TpSrc || f == FieldId::TpDst    ? p.layout().tcp || p.layout().udp
                                                                 : p.layout().ipv4;
      if (has) {
        EXPECT_EQ(q.get(f), p.get(f)) << ctx << " " << ir::fieldInfo(f).name;
      }
    }
  }
}

// ---- attached packets (the data plane's view of an mbuf) ---------------------------------------

TEST(PacketAttach, AViewBehavesExactlyLikeAnOwnedCopy) {
  // The same random frames and writes on a packet that owns its frame and on a view of a
  // buffer: same fields, layout, payload and bytes after every write; the view writes the
  // buffer in place, a VLAN push moves its start into the headroom (or, without 4 bytes of
  // headroom, makes it own a copy and leaves the buffer as it was).
  std::mt19937_64 rng(11);
  std::vector<Kind> kinds = frameKinds();
  for (int i = 0; i < 3000; ++i) {
    Bytes b = build(kinds[rng() % kinds.size()].spec);
    if (rng() % 4 == 0) b[rng() % b.size()] = uint8_t(rng());
    if (rng() % 4 == 0) b.resize(rng() % (b.size() + 1));
    const uint32_t headroom = uint32_t(rng() % 3 == 0 ? rng() % 4 : 4 + rng() % 8);
    Bytes buf(headroom + b.size() + 1);
    std::copy(b.begin(), b.end(), buf.begin() + headroom);
    uint8_t *start = buf.data() + headroom;
    Packet owned(b.data(), b.size(), 5, 1), view;
    view.attach(start, uint32_t(b.size()), headroom, uint32_t(b.size()), 5, 1);
    std::string ctx = "frame " + hex(b) + " headroom " + std::to_string(headroom);
    ASSERT_TRUE(view.isView()) << ctx;
    EXPECT_EQ(view.fields(), owned.fields()) << ctx;
    EXPECT_EQ(view.layout(), owned.layout()) << ctx;
    for (int j = 0; j < 5; ++j) {
      FieldId f = kWritable[rng() % std::size(kWritable)];
      uint64_t v = rng() & maxOf(f);
      owned.set(f, v);
      view.set(f, v);
      ASSERT_EQ(hex(Bytes(view.data(), view.data() + view.size())), hex(owned.frame())) << ctx << " after " << j;
      EXPECT_EQ(view.fields(), owned.fields()) << ctx;
      EXPECT_EQ(view.layout(), owned.layout()) << ctx;
      EXPECT_EQ(view.wireLen, owned.wireLen) << ctx;
      EXPECT_EQ(view.payloadLen(), owned.payloadLen()) << ctx;
    }
    if (view.isView()) { // written in place: the buffer holds the frame, from data() on
      EXPECT_GE(view.data(), buf.data()) << ctx;
      EXPECT_EQ(view.data() + view.size(), start + b.size()) << ctx;
      EXPECT_EQ(view.data() == start, !(owned.layout().vlan && !packetOf(b).layout().vlan)) << ctx;
    } else { // a push without headroom: a copy, the buffer untouched from the start on
      EXPECT_LT(headroom, 4u) << ctx;
      EXPECT_TRUE(owned.layout().vlan) << ctx;
    }
  }
}

TEST(PacketAttach, CopiesOwnTheirFrameAndFrameIsRefusedOnAView) {
  Bytes b = build(Spec{});
  Bytes buf = b;
  Packet view;
  view.attach(buf.data(), uint32_t(buf.size()), 0, uint32_t(buf.size()), 0, 0);
  EXPECT_THROW((void)view.frame(), std::logic_error);
  Packet copy = view;
  EXPECT_FALSE(copy.isView());
  EXPECT_EQ(copy.frame(), b);
  copy.set(FieldId::IpTtl, 1); // the copy's writes do not reach the buffer
  EXPECT_EQ(buf, b);
  view.set(FieldId::IpTtl, 1);
  EXPECT_EQ(buf, copy.frame());
  // Without headroom a VLAN push copies: the view becomes an owner, the buffer is unchanged.
  view.set(FieldId::VlanId, 5);
  EXPECT_FALSE(view.isView());
  EXPECT_EQ(buf, copy.frame());
  EXPECT_EQ(view.frame().size(), b.size() + 4);
}

// ---- fromFields --------------------------------------------------------------------------------

TEST(PacketFromFields, BuildsMinimalFrames) {
  std::array<uint64_t, ir::kNumFields> v{};
  auto at = [&](FieldId f) -> uint64_t & { return v[size_t(f)]; };
  at(FieldId::InPort) = 3;
  at(FieldId::EthDst) = 0x001122334455;
  at(FieldId::EthSrc) = 0x66778899aabb;
  at(FieldId::EthType) = 0x0800;
  at(FieldId::IpSrc) = 0x0a000001;
  at(FieldId::IpDst) = 0xc0a80102;
  at(FieldId::IpProto) = 6;
  at(FieldId::IpTtl) = 64;
  at(FieldId::IpDscp) = 46;
  at(FieldId::TpSrc) = 1234;
  at(FieldId::TpDst) = 80;
  at(FieldId::TcpFlags) = 0x12;
  Spec s;
  s.tos = 46 << 2;
  s.id = 0;
  s.frag = 0;
  s.seq = 0;
  s.ack = 0;
  s.window = 0xffff;
  s.payload = {};
  s.icmpRest = 0;

  Packet tcp = Packet::fromFields(v, 99);
  EXPECT_EQ(hex(tcp.frame()), hex(build(s)));
  EXPECT_EQ(tcp.fields(), v);
  EXPECT_EQ(tcp.timestampNs, 99u);
  EXPECT_EQ(tcp.wireLen, 60u);
  EXPECT_EQ(tcp.inPort(), 3);
  EXPECT_TRUE(checksumsValid(tcp));
  expectReparses(tcp, "fromFields tcp");

  at(FieldId::IpProto) = 17;
  at(FieldId::TcpFlags) = 0;
  at(FieldId::VlanId) = 5;
  at(FieldId::VlanPcp) = 3;
  Spec u = s;
  u.proto = 17;
  u.tci = 0x6005;
  Packet udp = Packet::fromFields(v);
  EXPECT_EQ(hex(udp.frame()), hex(build(u)));
  expectReparses(udp, "fromFields udp");

  at(FieldId::IpProto) = 1;
  at(FieldId::TpSrc) = at(FieldId::TpDst) = 0;
  at(FieldId::VlanId) = at(FieldId::VlanPcp) = 0;
  at(FieldId::IcmpType) = 8;
  Spec i = s;
  i.proto = 1;
  Packet icmp = Packet::fromFields(v);
  EXPECT_EQ(hex(icmp.frame()), hex(build(i)));
  expectReparses(icmp, "fromFields icmp");

  // Fields the frame cannot carry stay in the vector: tp.src of protocol 0.
  at(FieldId::IpProto) = 0;
  at(FieldId::IcmpType) = 0;
  at(FieldId::TpSrc) = 77;
  Packet p0 = Packet::fromFields(v);
  EXPECT_EQ(p0.get(FieldId::TpSrc), 77u);
  EXPECT_TRUE(p0.layout().ipv4);
  EXPECT_EQ(packetOf(p0.frame()).get(FieldId::TpSrc), 0u);

  // eth.type 0 with IP fields: the frame is IPv4, the vector keeps eth.type 0.
  at(FieldId::EthType) = 0;
  Packet t0 = Packet::fromFields(v);
  EXPECT_EQ(get16(t0.frame(), 12), 0x0800);
  EXPECT_EQ(t0.get(FieldId::EthType), 0u);

  // No IP at all: Ethernet and padding.
  std::array<uint64_t, ir::kNumFields> arp{};
  arp[size_t(FieldId::EthType)] = 0x0806;
  arp[size_t(FieldId::EthDst)] = 0xffffffffffff;
  Packet a = Packet::fromFields(arp);
  EXPECT_EQ(hex(a.frame()), "ffffffffffff0000000000000806" + std::string(92, '0'));
  EXPECT_FALSE(a.layout().ipv4);
}

// ---- pcap files --------------------------------------------------------------------------------

namespace {

std::string dataDir() {
  const char *env = std::getenv("METRON_DATA_DIR");
  return std::string(env && *env ? env : METRON_DATA_DIR);
}

std::string tempPath(const std::string &name) {
  return testing::TempDir() + "metron_packet_test_" + std::to_string(getpid()) + "_" + name;
}

bool exists(const std::string &path) { return access(path.c_str(), F_OK) == 0; }

void writeFile(const std::string &path, const Bytes &b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(b.data()), std::streamsize(b.size()));
}

Bytes readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void putLE32(Bytes &b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
uint32_t getLE32(const Bytes &b, size_t at) {
  return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}

/// A classic little-endian microsecond pcap header.
Bytes pcapHeader(uint32_t linkType = 1, uint32_t snapLen = 262144) {
  Bytes b;
  putLE32(b, 0xa1b2c3d4);
  b.push_back(2), b.push_back(0), b.push_back(4), b.push_back(0); // version 2.4
  putLE32(b, 0);
  putLE32(b, 0);
  putLE32(b, snapLen);
  putLE32(b, linkType);
  return b;
}
void pcapRecord(Bytes &file, const Bytes &frame, uint32_t origLen, uint32_t sec = 1, uint32_t usec = 2) {
  putLE32(file, sec);
  putLE32(file, usec);
  putLE32(file, uint32_t(frame.size()));
  putLE32(file, origLen);
  file.insert(file.end(), frame.begin(), frame.end());
}

/// A record of a classic pcap file, read here without libpcap.
struct RawRecord {
  uint64_t ns;
  uint32_t origLen;
  Bytes frame;
};
std::vector<RawRecord> rawRecords(const Bytes &file) {
  std::vector<RawRecord> out;
  uint32_t magic = getLE32(file, 0);
  EXPECT_TRUE(magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) << "little-endian pcap expected";
  uint64_t unit = magic == 0xa1b2c3d4 ? 1000 : 1;
  for (size_t at = 24; at + 16 <= file.size();) {
    uint32_t caplen = getLE32(file, at + 8);
    if (at + 16 + caplen > file.size()) break;
    RawRecord r{uint64_t(getLE32(file, at)) * 1000000000u + getLE32(file, at + 4) * unit, getLE32(file, at + 12),
                Bytes(file.begin() + long(at + 16), file.begin() + long(at + 16 + caplen))};
    out.push_back(std::move(r));
    at += 16 + caplen;
  }
  return out;
}

std::vector<Packet> readAll(const std::string &path, std::string &err) {
  std::vector<Packet> out;
  auto r = PcapReader::open(path, err);
  if (!r) return out;
  Packet p;
  while (r->next(p)) out.push_back(p);
  err = r->error();
  return out;
}

} // namespace

TEST(PcapReal, EveryCaptureReads) {
  struct Capture {
    const char *file;
    uint64_t records, truncated;
    const char *error; // the documented error at the end, or ""
  };
  const Capture captures[] = {
      {"debian-dpkt/dns_icmp.pcap", 32, 0, ""},
      {"debian-dpkt/http.pcap", 43, 0, ""},
      {"debian-dpkt/nb6-http.pcap", 62, 0, ""},
      {"debian-dpkt/truncated_dns.pcap", 1, 1, ""},
      // 7 bytes of a second record header end the file.
      {"debian-dpkt/truncated_dns_2.pcap", 1, 1, "record 2: truncated dump file; tried to read 16 header bytes, only got 7"},
      {"ndpi/1kxun.pcap", 1723, 0, ""},
      {"ndpi/WebattackRCE.pcap", 797, 0, ""},
      {"ndpi/alexa-app.pcapng", 3103, 0, ""},
      {"ndpi/android.pcap", 500, 0, ""},
      {"ndpi/gnutella.pcap", 3905, 1, ""},
      {"ndpi/iphone.pcap", 500, 0, ""},
      {"ndpi/netflix.pcap", 1793, 0, ""},
      {"ndpi/synscan.pcap", 2011, 0, ""},
      {"ndpi/teams.pcap", 1540, 0, ""},
      {"tcpreplay/test.pcap", 179, 0, ""},
      {"zeek/bro.org.pcap", 751, 0, ""},
      {"zeek/wikipedia.pcap", 136, 0, ""},
  };
  uint64_t total = 0, valid = 0, rewritten = 0;
  for (const Capture &c : captures) {
    std::string path = dataDir() + "/pcap/" + c.file, err;
    auto r = PcapReader::open(path, err);
    ASSERT_TRUE(r) << err;
    std::vector<Packet> pkts;
    Packet p;
    while (r->next(p)) pkts.push_back(p);
    if (*c.error)
      EXPECT_EQ(r->error(), "'" + path + "': " + c.error);
    else
      EXPECT_EQ(r->error(), "") << c.file;
    EXPECT_EQ(pkts.size(), c.records) << c.file;
    EXPECT_EQ(r->recordsRead(), c.records) << c.file;
    EXPECT_EQ(r->truncatedRecords(), c.truncated) << c.file;
    EXPECT_EQ(r->skippedRecords(), 0u) << c.file;
    EXPECT_FALSE(r->next(p)) << c.file; // stays at the end (or the error)

    if (std::string(c.file).ends_with(".pcap")) {
      std::vector<RawRecord> raw = rawRecords(readFile(path));
      ASSERT_EQ(raw.size(), pkts.size()) << c.file;
      for (size_t i = 0; i < raw.size(); ++i) {
        ASSERT_EQ(pkts[i].frame(), raw[i].frame) << c.file << " #" << i + 1;
        EXPECT_EQ(pkts[i].timestampNs, raw[i].ns) << c.file << " #" << i + 1;
        EXPECT_EQ(pkts[i].wireLen, std::max<uint32_t>(raw[i].origLen, uint32_t(raw[i].frame.size())));
      }
    }

    std::mt19937_64 rng(total);
    for (size_t i = 0; i < pkts.size(); ++i) {
      const Packet &orig = pkts[i];
      std::string ctx = std::string(c.file) + " #" + std::to_string(i + 1);
      expectReparses(orig, ctx);
      ++total;
      if (!checksumsValid(orig) || orig.frame().size() < 14) continue;
      ++valid;
      // Every writable field to a new value, then back: valid throughout, and the frame ends
      // as it began. Then a VLAN push (or tag rewrite).
      Packet p = orig;
      std::vector<FieldId> fields;
      for (FieldId f : kWritable)
        if (orig.layout().vlan || (f != FieldId::VlanId && f != FieldId::VlanPcp)) fields.push_back(f);
      for (FieldId f : fields) {
        p.set(f, rng() & maxOf(f));
        std::string why;
        ASSERT_TRUE(checksumsValid(p, &why)) << ctx << " " << ir::fieldInfo(f).name << ": " << why;
      }
      expectReparses(p, ctx);
      for (FieldId f : fields) p.set(f, orig.get(f));
      EXPECT_EQ(p.frame(), orig.frame()) << ctx;
      if (!orig.layout().vlan) {
        p.set(FieldId::VlanPcp, 0);
        Bytes untagged(p.frame());
        untagged.erase(untagged.begin() + 12, untagged.begin() + 16);
        EXPECT_EQ(untagged, orig.frame()) << ctx;
        EXPECT_EQ(p.wireLen, orig.wireLen + 4) << ctx;
        EXPECT_EQ(p.fields(), orig.fields()) << ctx;
        EXPECT_TRUE(checksumsValid(p)) << ctx;
        expectReparses(p, ctx);
      }
      ++rewritten;
    }
  }
  EXPECT_EQ(total, 17077u);
  EXPECT_GT(valid, total / 2); // the rest carry checksum-offload artefacts
  EXPECT_EQ(rewritten, valid);
}

TEST(PcapReal, HandCheckedPackets) {
  std::string err;
  // tcpdump -nn -vv -e: 00:00:01:00:00:00 > fe:ff:20:00:01:00, ttl 128, proto TCP, length 48,
  // 145.254.160.237.3372 > 65.208.228.223.80: Flags [S], cksum 0xc30c (correct).
  std::vector<Packet> http = readAll(dataDir() + "/pcap/debian-dpkt/http.pcap", err);
  ASSERT_FALSE(http.empty()) << err;
  const Packet &syn = http[0];
  EXPECT_EQ(syn.get(FieldId::EthSrc), 0x000001000000u);
  EXPECT_EQ(syn.get(FieldId::EthDst), 0xfeff20000100u);
  EXPECT_EQ(syn.get(FieldId::IpTtl), 128u);
  EXPECT_EQ(syn.get(FieldId::IpProto), 6u);
  EXPECT_EQ(syn.get(FieldId::IpSrc), (145u << 24) | (254u << 16) | (160u << 8) | 237u);
  EXPECT_EQ(syn.get(FieldId::IpDst), (65u << 24) | (208u << 16) | (228u << 8) | 223u);
  EXPECT_EQ(syn.get(FieldId::TpSrc), 3372u);
  EXPECT_EQ(syn.get(FieldId::TpDst), 80u);
  EXPECT_EQ(syn.get(FieldId::TcpFlags), 0x02u);
  EXPECT_EQ(syn.wireLen, 62u);
  EXPECT_EQ(syn.layout().payload, 62); // mss, nop, nop, sackOK: 28 bytes of TCP header
  EXPECT_EQ(syn.payloadLen(), 0u);
  EXPECT_TRUE(checksumsValid(syn));
  EXPECT_EQ(syn.timestampNs, 1084443427311224000u); // 2004-05-13 10:17:07.311224 UTC

  // 192.168.43.9 > 8.8.8.8: ICMP echo request (the third record), ttl 64.
  std::vector<Packet> dns = readAll(dataDir() + "/pcap/debian-dpkt/dns_icmp.pcap", err);
  ASSERT_GE(dns.size(), 3u) << err;
  EXPECT_EQ(dns[2].get(FieldId::IcmpType), 8u);
  EXPECT_EQ(dns[2].get(FieldId::IcmpCode), 0u);
  EXPECT_EQ(dns[2].get(FieldId::IpDst), 0x08080808u);
  EXPECT_EQ(dns[2].get(FieldId::IpTtl), 64u);
  EXPECT_EQ(dns[2].payloadLen(), 60u); // 64 bytes of ICMP after type, code, checksum
  EXPECT_TRUE(checksumsValid(dns[2]));

  // 200 of 238 bytes captured; tcpdump: "bad cksum 2ad7 (->72b8)!".
  std::vector<Packet> tr = readAll(dataDir() + "/pcap/debian-dpkt/truncated_dns.pcap", err);
  ASSERT_EQ(tr.size(), 1u) << err;
  EXPECT_EQ(tr[0].frame().size(), 200u);
  EXPECT_EQ(tr[0].wireLen, 238u);
  EXPECT_TRUE(tr[0].layout().udp);
  EXPECT_EQ(tr[0].get(FieldId::TpSrc), 53u);
  EXPECT_EQ(tr[0].get(FieldId::TpDst), 18741u);
  std::string why;
  EXPECT_FALSE(checksumsValid(tr[0], &why));
  EXPECT_EQ(why, "IPv4 header checksum is 0x2ad7, expected 0x72b8");

  // tcpreplay/test.pcap: exactly the checksums tcpdump -vv calls bad, with the values it computes.
  std::vector<Packet> mixed = readAll(dataDir() + "/pcap/tcpreplay/test.pcap", err);
  ASSERT_EQ(mixed.size(), 179u) << err;
  std::map<size_t, std::string> bad;
  for (size_t i = 0; i < mixed.size(); ++i)
    if (std::string w; !checksumsValid(mixed[i], &w)) bad[i + 1] = w;
  EXPECT_EQ(bad, (std::map<size_t, std::string>{{12, "IPv4 header checksum is 0xa905, expected 0xa915"},
                                                {14, "IPv4 header checksum is 0x2fb4, expected 0x2eb4"},
                                                {19, "TCP checksum is 0x1a7f, expected 0x1a7e"},
                                                {27, "UDP checksum is 0x4682, expected 0x4582"}}));

  // gnutella.pcap starts with a record of 4 of 60 bytes: no fields at all.
  std::vector<Packet> gn = readAll(dataDir() + "/pcap/ndpi/gnutella.pcap", err);
  ASSERT_FALSE(gn.empty()) << err;
  EXPECT_EQ(gn[0].frame().size(), 4u);
  EXPECT_EQ(gn[0].wireLen, 60u);
  EXPECT_EQ(gn[0].fields(), (std::array<uint64_t, ir::kNumFields>{}));
  EXPECT_EQ(gn[0].timestampNs, 22000u);
}

TEST(PcapReader, RefusesWhatItCannotRead) {
  std::string err;
  std::string missing = tempPath("missing.pcap");
  EXPECT_EQ(PcapReader::open(missing, err), nullptr);
  EXPECT_EQ(err, "cannot open '" + missing + "': " + missing + ": No such file or directory");

  std::string text = tempPath("text.pcap");
  writeFile(text, Bytes{'n', 'o', 't', ' ', 'a', ' ', 'p', 'c', 'a', 'p', '\n'});
  EXPECT_EQ(PcapReader::open(text, err), nullptr);
  EXPECT_EQ(err, "cannot open '" + text + "': unknown file format");

  std::string hdr = tempPath("hdr.pcap");
  writeFile(hdr, cut(pcapHeader(), 10));
  EXPECT_EQ(PcapReader::open(hdr, err), nullptr);
  EXPECT_EQ(err, "cannot open '" + hdr + "': truncated dump file; tried to read 24 file header bytes, only got 6");

  std::string empty = tempPath("empty.pcap");
  writeFile(empty, {});
  EXPECT_EQ(PcapReader::open(empty, err), nullptr);
  EXPECT_EQ(err, "cannot open '" + empty + "': truncated dump file; tried to read 4 file header bytes, only got 0");

  std::string sll = tempPath("sll.pcap");
  writeFile(sll, pcapHeader(113));
  EXPECT_EQ(PcapReader::open(sll, err), nullptr);
  EXPECT_EQ(err, "'" + sll + "': link type LINUX_SLL (113) is not supported; metronc reads Ethernet captures");

  std::string raw = tempPath("raw.pcap");
  writeFile(raw, pcapHeader(4000));
  EXPECT_EQ(PcapReader::open(raw, err), nullptr);
  EXPECT_EQ(err, "'" + raw + "': link type unknown (4000) is not supported; metronc reads Ethernet captures");

  for (const std::string &p : {text, hdr, empty, sll, raw}) std::remove(p.c_str());
}

TEST(PcapReader, CorruptRecordsNameTheRecord) {
  Bytes frame = build(Spec{});
  struct Case {
    const char *name;
    Bytes file;
    uint64_t good;
    std::string error;
  };
  std::vector<Case> cases;
  {
    Bytes f = pcapHeader();
    pcapRecord(f, frame, 60);
    pcapRecord(f, frame, 60);
    f.resize(f.size() - 20); // the second record ends 20 bytes early
    cases.push_back({"beyond.pcap", f, 1, "record 2: truncated dump file; tried to read 60 captured bytes, only got 40"});
  }
  {
    Bytes f = pcapHeader();
    pcapRecord(f, frame, 60);
    f.insert(f.end(), {1, 2, 3});
    cases.push_back({"partial-header.pcap", f, 1, "record 2: truncated dump file; tried to read 16 header bytes, only got 3"});
  }
  {
    Bytes f = pcapHeader(1, 65535);
    for (uint32_t v : {1u, 2u, 300000u, 300000u}) putLE32(f, v); // a record header claiming 300000 bytes
    f.resize(f.size() + 10);
    cases.push_back({"huge.pcap", f, 0, "record 1: invalid packet capture length 300000, bigger than snaplen of 65535"});
  }
  {
    Bytes f = pcapHeader();
    pcapRecord(f, frame, 60);
    pcapRecord(f, Bytes(70000, 0), 70000);
    cases.push_back({"oversized.pcap", f, 1,
                     "record 2: captured length 70000 exceeds 65553 bytes (Ethernet, one VLAN tag and the largest "
                     "IPv4 datagram)"});
  }
  for (const Case &c : cases) {
    std::string path = tempPath(c.name), err;
    writeFile(path, c.file);
    auto r = PcapReader::open(path, err);
    ASSERT_TRUE(r) << err;
    Packet p;
    uint64_t n = 0;
    while (r->next(p)) ++n;
    EXPECT_EQ(n, c.good) << c.name;
    EXPECT_EQ(r->error(), "'" + path + "': " + c.error) << c.name;
    EXPECT_FALSE(r->next(p));
    EXPECT_EQ(r->error(), "'" + path + "': " + c.error) << c.name; // unchanged
    std::remove(path.c_str());
  }
}

TEST(PcapReader, OddButReadableRecords) {
  Bytes f = pcapHeader();
  pcapRecord(f, {}, 0);              // zero-length: skipped
  pcapRecord(f, {0x42}, 1, 5, 6);    // a 1-byte frame
  pcapRecord(f, {}, 60);             // nothing captured of 60 bytes: skipped
  pcapRecord(f, build(Spec{}), 30);  // original length below the captured one
  pcapRecord(f, cut(build(Spec{}), 20), 60);
  std::string path = tempPath("odd.pcap"), err;
  writeFile(path, f);
  auto r = PcapReader::open(path, err);
  ASSERT_TRUE(r) << err;
  Packet p;
  ASSERT_TRUE(r->next(p));
  EXPECT_EQ(p.frame(), Bytes{0x42});
  EXPECT_EQ(p.timestampNs, 5000006000u);
  EXPECT_EQ(p.fields(), (std::array<uint64_t, ir::kNumFields>{}));
  for (FieldId fid : kWritable) p.set(fid, 1);
  EXPECT_EQ(p.frame(), Bytes{0x42});
  ASSERT_TRUE(r->next(p));
  EXPECT_EQ(p.wireLen, 60u);
  EXPECT_EQ(p.get(FieldId::TpDst), 80u);
  ASSERT_TRUE(r->next(p));
  EXPECT_EQ(p.frame().size(), 20u);
  EXPECT_EQ(p.get(FieldId::EthType), 0x0800u);
  EXPECT_FALSE(p.layout().ipv4);
  EXPECT_FALSE(r->next(p));
  EXPECT_EQ(r->error(), "");
  EXPECT_EQ(r->recordsRead(), 3u);
  EXPECT_EQ(r->skippedRecords(), 2u);
  EXPECT_EQ(r->truncatedRecords(), 1u);
  std::remove(path.c_str());
}

TEST(PcapReader, RecordNumbersCountSkippedRecords) {
  Bytes f = pcapHeader();
  pcapRecord(f, {}, 0);
  pcapRecord(f, build(Spec{}), 60);
  pcapRecord(f, build(Spec{}), 60);
  f.resize(f.size() - 1);
  std::string path = tempPath("skipcount.pcap"), err;
  writeFile(path, f);
  std::vector<Packet> pkts = readAll(path, err);
  EXPECT_EQ(pkts.size(), 1u);
  EXPECT_EQ(err, "'" + path + "': record 3: truncated dump file; tried to read 60 captured bytes, only got 59");
  std::remove(path.c_str());
}

TEST(PcapWriter, RoundTripWithNanoseconds) {
  std::string err;
  std::vector<Packet> in = readAll(dataDir() + "/pcap/tcpreplay/test.pcap", err);
  ASSERT_EQ(in.size(), 179u) << err;
  Packet nano = packetOf(build(Spec{}));
  nano.timestampNs = 1234567890123456789u;
  nano.set(FieldId::VlanId, 12); // grown by a push
  in.push_back(nano);
  Packet cutOne = packetOf(cut(build(Spec{}), 40));
  cutOne.wireLen = 60;
  in.push_back(cutOne);

  std::string path = tempPath("out.pcap");
  auto w = PcapWriter::create(path, err);
  ASSERT_TRUE(w) << err;
  for (const Packet &p : in) EXPECT_TRUE(w->write(p));
  EXPECT_EQ(w->written(), in.size());
  EXPECT_TRUE(exists(path + ".tmp"));
  EXPECT_FALSE(exists(path));
  ASSERT_TRUE(w->commit(err)) << err;
  EXPECT_FALSE(exists(path + ".tmp"));
  EXPECT_FALSE(w->write(in[0]));
  EXPECT_FALSE(w->commit(err));
  EXPECT_EQ(err, "'" + path + "': commit() was already called");
  w.reset();
  ASSERT_TRUE(exists(path)); // a committed file survives its writer

  Bytes file = readFile(path);
  EXPECT_EQ(getLE32(file, 0), 0xa1b23c4du); // nanosecond magic
  EXPECT_EQ(getLE32(file, 20), 1u);         // LINKTYPE_ETHERNET
  std::vector<RawRecord> raw = rawRecords(file);
  std::vector<Packet> back = readAll(path, err);
  EXPECT_EQ(err, "");
  ASSERT_EQ(back.size(), in.size());
  ASSERT_EQ(raw.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(back[i].frame(), in[i].frame()) << i;
    EXPECT_EQ(back[i].timestampNs, in[i].timestampNs) << i;
    EXPECT_EQ(raw[i].ns, in[i].timestampNs) << i;
    EXPECT_EQ(back[i].wireLen, in[i].wireLen) << i;
  }
  EXPECT_EQ(back.back().wireLen, 60u);
  EXPECT_EQ(back[179].get(FieldId::VlanId), 12u);
  std::remove(path.c_str());
}

TEST(PcapWriter, NoHalfWrittenFiles) {
  std::string err;
  std::string path = tempPath("half.pcap");
  {
    auto w = PcapWriter::create(path, err);
    ASSERT_TRUE(w) << err;
    EXPECT_TRUE(w->write(packetOf(build(Spec{}))));
    EXPECT_TRUE(exists(path + ".tmp"));
  }
  EXPECT_FALSE(exists(path + ".tmp"));
  EXPECT_FALSE(exists(path));

  // An existing output is untouched by a writer that does not commit, replaced by one that does.
  writeFile(path, Bytes{'o', 'l', 'd'});
  {
    auto w = PcapWriter::create(path, err);
    ASSERT_TRUE(w) << err;
    EXPECT_TRUE(w->write(packetOf(build(Spec{}))));
  }
  EXPECT_EQ(readFile(path), (Bytes{'o', 'l', 'd'}));
  EXPECT_FALSE(exists(path + ".tmp"));
  {
    auto w = PcapWriter::create(path, err);
    ASSERT_TRUE(w) << err;
    ASSERT_TRUE(w->commit(err)) << err;
  }
  EXPECT_EQ(readFile(path).size(), 24u); // just the file header
  std::remove(path.c_str());

  std::string nowhere = tempPath("no-such-dir") + "/x.pcap";
  EXPECT_EQ(PcapWriter::create(nowhere, err), nullptr);
  EXPECT_EQ(err, "cannot create '" + nowhere + ".tmp': " + nowhere + ".tmp: No such file or directory");
}
