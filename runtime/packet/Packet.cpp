//===- runtime/packet/Packet.cpp - Parsing frames, writing fields, checksums -----------------===//
///
/// \file
/// The packet model of Packet.h. The parse rules, exactly (n = captured bytes of the frame):
///
///  * Ethernet: needs n >= 14; eth.dst and eth.src are the first 12 bytes as 48-bit big-endian
///    integers. A shorter frame has no field at all (everything reads 0, no payload).
///  * VLAN: only TPID 0x8100 is a tag, and only the first one: vlan.pcp = TCI >> 13, vlan.id =
///    TCI & 0xfff, eth.type = the type after the tag (0x8100 again for a double-tagged frame,
///    which is then not IPv4). 802.1ad (0x88a8) and the old QinQ 0x9100 are not tags: such a
///    frame is a non-IP frame of that eth.type, so a rule on vlan.id never matches a provider
///    tag by accident. A 0x8100 frame with fewer than 18 bytes captured has no tag: its
///    eth.type is 0x8100. eth.type is the 16-bit value as found, also when it is an 802.3
///    length (< 0x600).
///  * IPv4: eth.type 0x0800 and at least 20 bytes after L2, version 4, IHL >= 5, the whole
///    IHL*4-byte header captured, total length >= IHL*4. Anything else is "not IPv4" (ip.* read
///    0, payload after the L2 header). A total length beyond the captured bytes is still IPv4:
///    snap-length cuts are normal in real captures, and the bytes alone cannot tell a cut from
///    a lying length. The datagram ends at min(total length, captured bytes); what follows
///    (Ethernet padding) belongs to no header and is not payload. ip.dscp = TOS >> 2.
///  * Fragments: a non-zero fragment offset has no L4 header (tp.*, tcp.flags, icmp.* read 0;
///    payload right after the IP header). A first fragment (offset 0, MF set) is parsed like
///    an unfragmented datagram.
///  * L4, inside the captured datagram: TCP needs its 20-byte header and a data offset
///    5 <= doff with doff*4 within the datagram's total length (options cut by the snap length
///    are fine; the payload then starts past the capture and is empty); UDP needs 8 bytes (its
///    length field is not checked); ICMP needs 4 (type, code, checksum). An incomplete L4
///    header gives no L4 fields and no payload.
///
/// Checksum arithmetic: sums are one's-complement sums of big-endian 16-bit words. A full
/// checksum is ~fold(sum), so it is never 0xffff for a real header; the incremental update is
/// RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), which gives exactly the full recomputation when HC
/// was right (the sum it folds is never zero) and keeps the error of a wrong HC unchanged. UDP
/// is special (RFC 768): 0 means "no checksum" and stays 0; a computed 0 is sent as 0xffff.
/// Several words may go into one update (setAddressAndPort here, the generated code's writes in
/// codegen/WriteGen.h): ~HC plus all their deltas, folded once, equals the updates one after
/// the other: a folded one's-complement sum is the same however its terms are grouped, and
/// both ways fold to 0 (rather than 0xffff) exactly when every term is 0. A word written twice
/// in one update contributes both deltas (~m + m' and ~m' + m''), as the two updates would.
/// Tests compare the two on edge checksums (packet_test, codegen_test). The incremental updates
/// here add the words as they lie in the frame, without swapping them (RFC 1071 2(B): the sum of
/// byte-swapped words is the byte-swapped sum, and 0 and 0xffff are their own swaps).
//===----------------------------------------------------------------------------------------===//
#include "runtime/packet/Packet.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace metron::pkt {

namespace {

constexpr size_t kEthLen = 14, kVlanLen = 4, kIpMinLen = 20, kTcpMinLen = 20, kUdpLen = 8,
                 kIcmpLen = 4, kMinFrame = 60;
constexpr uint16_t kTpidVlan = 0x8100, kTypeIPv4 = 0x0800;
constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;

constexpr unsigned kFieldBits[] = {
#define FIELD(E, N, B, K, W, D) B,
#include "compiler/Fields.def"
#undef FIELD
};
static_assert(std::size(kFieldBits) == ir::kNumFields);

uint64_t widthMask(FieldId f) { return (1ull << kFieldBits[size_t(f)]) - 1; } // all fields < 64 bits

uint16_t rd16(const uint8_t *p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
uint64_t rd48(const uint8_t *p) { return uint64_t(rd16(p)) << 32 | rd32(p + 2); }
void wr16(uint8_t *p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
void wr32(uint8_t *p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
void wr48(uint8_t *p, uint64_t v) {
  wr16(p, uint16_t(v >> 32));
  wr32(p + 2, uint32_t(v));
}

/// Zeroes the field vector with 16-byte stores: g++ turns `fields = {}` (and any loop of
/// stores) into `rep stosq`, whose start-up costs more cycles than the stores, on every packet
/// parsed. The stores are written out, so there is no loop to recognize.
#ifdef __SSE2__
template <size_t... I> inline void clearPairs(uint64_t *f, std::index_sequence<I...>) {
  (_mm_storeu_si128(reinterpret_cast<__m128i *>(f + 2 * I), _mm_setzero_si128()), ...);
}
inline void clearFields(std::array<uint64_t, ir::kNumFields> &f) {
  static_assert(ir::kNumFields % 2 == 0);
  clearPairs(f.data(), std::make_index_sequence<ir::kNumFields / 2>());
}
#else
inline void clearFields(std::array<uint64_t, ir::kNumFields> &f) { f = {}; }
#endif

/// Folds an accumulator of 16-bit words to 16 bits with end-around carry.
uint16_t fold(uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

/// Adds the big-endian 16-bit words of [p, p+n) to \p s (an odd last byte is padded with 0).
uint64_t sumBytes(const uint8_t *p, size_t n, uint64_t s = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) s += rd16(p + i);
  if (n & 1) s += uint64_t(p[n - 1]) << 8;
  return s;
}

/// The sum of the TCP/UDP pseudo-header of the IPv4 header at \p ip.
uint64_t pseudoSum(const uint8_t *ip, uint8_t proto, size_t l4len) {
  return sumBytes(ip + 12, 8) + proto + l4len;
}

/// Loads and stores of the frame's bytes as they are (network order). Checksum updates work on
/// these raw words: a one's-complement sum of byte-swapped words is the byte-swapped sum, also
/// after folding (RFC 1071, section 2 (B)), so no word needs a swap on the way in or out; and 0
/// and 0xffff, the two values UDP treats specially, are their own swaps.
uint16_t ld16(const uint8_t *p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t ld32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
void st16(uint8_t *p, uint16_t v) { std::memcpy(p, &v, 2); }
void st32(uint8_t *p, uint32_t v) { std::memcpy(p, &v, 4); }

/// The change of a one's-complement sum when the 16-bit word \p from becomes \p to: ~from + to.
/// Words are raw (ld16, ld32).
struct Delta {
  uint64_t s = 0;
  void word(uint16_t from, uint16_t to) { s += uint16_t(~from) + uint64_t(to); }
  void word32(uint32_t from, uint32_t to) {
    word(uint16_t(from >> 16), uint16_t(to >> 16));
    word(uint16_t(from), uint16_t(to));
  }
};

/// Folds a sum below 2^32 (an incremental update: a 16-bit value plus at most four word
/// deltas) without a loop: the first step leaves at most 0x1fffe, the second at most 0xffff.
inline uint16_t fold32(uint64_t s) {
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

/// RFC 1624 eqn. 3 on the checksum stored at \p c.
void applyDelta(uint8_t *c, const Delta &d) { st16(c, uint16_t(~fold32(uint16_t(~ld16(c)) + d.s))); }

/// The same for a UDP checksum: 0 (none) stays 0, a result of 0 is sent as 0xffff. A stored
/// 0xffff (a computed 0) needs no special case: ~0xffff is 0, and adding 0 or 0xffff to a sum
/// that is not zero folds to the same value.
void applyDeltaUdp(uint8_t *c, const Delta &d) {
  uint16_t hc = ld16(c);
  if (hc == 0) return;
  uint16_t n = uint16_t(~fold32(uint16_t(~hc) + d.s));
  st16(c, n == 0 ? 0xffff : n);
}

} // namespace

Packet::Packet(const uint8_t *data, size_t len, uint64_t timestampNs, uint16_t inPort)
    : timestampNs(timestampNs), wireLen(uint32_t(len)), own_(data, data + len) {
  h_.data = own_.data();
  h_.len = uint32_t(len);
  setInPort(inPort);
  parse();
}

Packet &Packet::operator=(const Packet &o) {
  if (this == &o) return *this;
  timestampNs = o.timestampNs;
  wireLen = o.wireLen;
  h_.fields = o.h_.fields;
  h_.layout = o.h_.layout;
  own_.assign(o.h_.data, o.h_.data + o.h_.len);
  h_.data = own_.data();
  h_.len = o.h_.len;
  headroom_ = 0;
  view_ = false;
  return *this;
}

Packet &Packet::operator=(Packet &&o) noexcept {
  if (this == &o) return *this;
  timestampNs = o.timestampNs;
  wireLen = o.wireLen;
  h_.fields = o.h_.fields;
  h_.layout = o.h_.layout;
  own_ = std::move(o.own_);
  view_ = o.view_;
  h_.data = view_ ? o.h_.data : own_.data();
  h_.len = o.h_.len;
  headroom_ = o.headroom_;
  o.h_.data = nullptr;
  o.h_.len = 0;
  o.view_ = false;
  return *this;
}

void Packet::assign(const uint8_t *data, size_t len, uint32_t wire, uint64_t ts, uint16_t inPort) {
  own_.assign(data, data + len);
  start(own_.data(), uint32_t(len), 0, false, wire, ts, inPort);
}

void Packet::attach(uint8_t *data, uint32_t len, uint32_t headroom, uint32_t wire, uint64_t ts, uint16_t inPort) {
  start(data, len, headroom, true, wire, ts, inPort);
}

void Packet::start(uint8_t *data, uint32_t len, uint32_t headroom, bool view, uint32_t wire, uint64_t ts,
                   uint16_t inPort) {
  h_.data = data;
  h_.len = len;
  headroom_ = headroom;
  view_ = view;
  clearFields(h_.fields);
  h_.layout = {};
  timestampNs = ts;
  wireLen = wire;
  setInPort(inPort);
  parse();
}

void Packet::own() {
  own_.assign(h_.data, h_.data + h_.len);
  h_.data = own_.data();
  headroom_ = 0;
  view_ = false;
}

const std::vector<uint8_t> &Packet::frame() const {
  if (view_) throw std::logic_error("Packet::frame() of an attached packet (use data() and size())");
  return own_;
}

/// Fills the field vector (all 0 but in_port) and the layout of a new packet from its frame.
void Packet::parse() {
  auto put = [&](FieldId f, uint64_t v) { h_.fields[size_t(f)] = v; };

  const uint8_t *b = h_.data;
  const size_t n = h_.len;
  if (n < kEthLen) return;
  put(FieldId::EthDst, rd48(b));
  put(FieldId::EthSrc, rd48(b + 6));
  uint16_t type = rd16(b + 12);
  size_t l3 = kEthLen;
  if (type == kTpidVlan && n >= kEthLen + kVlanLen) {
    uint16_t tci = rd16(b + 14);
    h_.layout.vlan = true;
    put(FieldId::VlanPcp, tci >> 13);
    put(FieldId::VlanId, tci & 0xfff);
    type = rd16(b + 16);
    l3 += kVlanLen;
  }
  put(FieldId::EthType, type);
  h_.layout.payload = uint16_t(l3);

  if (type != kTypeIPv4 || n - l3 < kIpMinLen) return;
  const uint8_t *ip = b + l3;
  size_t ihl = size_t(ip[0] & 0xf) * 4, totalLen = rd16(ip + 2);
  if (ip[0] >> 4 != 4 || ihl < kIpMinLen || ihl > n - l3 || totalLen < ihl) return;
  h_.layout.ipv4 = true;
  h_.layout.l3 = uint16_t(l3);
  put(FieldId::IpDscp, ip[1] >> 2);
  put(FieldId::IpTtl, ip[8]);
  put(FieldId::IpProto, ip[9]);
  put(FieldId::IpSrc, rd32(ip + 12));
  put(FieldId::IpDst, rd32(ip + 16));

  const size_t l4 = l3 + ihl;
  h_.layout.payload = uint16_t(l4);
  if ((rd16(ip + 6) & 0x1fff) != 0) {
    h_.layout.fragment = true;
    return;
  }
  const size_t avail = std::min(totalLen, n - l3) - ihl; // captured bytes of the IP payload
  const uint8_t *t = b + l4;
  switch (ip[9]) {
  case kProtoTcp: {
    size_t doff = avail < kTcpMinLen ? 0 : size_t(t[12] >> 4) * 4;
    if (doff < kTcpMinLen || doff > totalLen - ihl) {
      h_.layout.payload = 0;
      return;
    }
    h_.layout.tcp = true;
    h_.layout.payload = uint16_t(l4 + doff);
    put(FieldId::TcpFlags, t[13]);
    break;
  }
  case kProtoUdp:
    if (avail < kUdpLen) {
      h_.layout.payload = 0;
      return;
    }
    h_.layout.udp = true;
    h_.layout.payload = uint16_t(l4 + kUdpLen);
    break;
  case kProtoIcmp:
    if (avail < kIcmpLen) {
      h_.layout.payload = 0;
      return;
    }
    h_.layout.icmp = true;
    h_.layout.payload = uint16_t(l4 + kIcmpLen);
    put(FieldId::IcmpType, t[0]);
    put(FieldId::IcmpCode, t[1]);
    break;
  default:
    return;
  }
  h_.layout.l4 = uint16_t(l4);
  if (h_.layout.tcp || h_.layout.udp) {
    put(FieldId::TpSrc, rd16(t));
    put(FieldId::TpDst, rd16(t + 2));
  }
}

void Packet::pushVlanTag() {
  uint16_t tci = uint16_t(h_.fields[size_t(FieldId::VlanPcp)] << 13 | h_.fields[size_t(FieldId::VlanId)]);
  const uint8_t tag[kVlanLen] = {uint8_t(kTpidVlan >> 8), uint8_t(kTpidVlan & 0xff), uint8_t(tci >> 8),
                                 uint8_t(tci)};
  if (view_ && headroom_ < kVlanLen) own();
  if (view_) {
    h_.data -= kVlanLen;
    headroom_ -= uint32_t(kVlanLen);
    std::memmove(h_.data, h_.data + kVlanLen, 12);
    std::memcpy(h_.data + 12, tag, kVlanLen);
  } else {
    own_.insert(own_.begin() + 12, tag, tag + kVlanLen);
    h_.data = own_.data();
  }
  h_.len += uint32_t(kVlanLen);
  wireLen += kVlanLen;
  h_.layout.vlan = true;
  for (uint16_t *off : {&h_.layout.l3, &h_.layout.l4, &h_.layout.payload})
    if (*off) *off += kVlanLen;
}

void Packet::set(FieldId f, uint64_t v) {
  v &= widthMask(f);
  h_.fields[size_t(f)] = v;
  uint8_t *b = h_.data;
  // The L4 checksum that covers the pseudo-header and the ports, when the frame has one.
  auto l4Checksum = [&](const Delta &d) {
    if (h_.layout.tcp) applyDelta(b + h_.layout.l4 + 16, d);
    if (h_.layout.udp) applyDeltaUdp(b + h_.layout.l4 + 6, d);
  };
  switch (f) {
  case FieldId::EthDst:
  case FieldId::EthSrc:
    if (h_.len >= kEthLen) wr48(b + (f == FieldId::EthDst ? 0 : 6), v);
    break;
  case FieldId::VlanId:
  case FieldId::VlanPcp:
    if (h_.layout.vlan) {
      uint16_t tci = rd16(b + 14);
      tci = f == FieldId::VlanId ? uint16_t((tci & 0xf000) | v) : uint16_t((tci & 0x1fff) | v << 13);
      wr16(b + 14, tci);
    } else if (h_.len >= kEthLen) {
      pushVlanTag(); // the other field of the tag reads 0 on an untagged frame
    }
    break;
  case FieldId::IpSrc:
  case FieldId::IpDst:
    setAddress(f, uint32_t(v));
    break;
  case FieldId::IpTtl:
  case FieldId::IpDscp:
    if (h_.layout.ipv4) {
      uint8_t *ip = b + h_.layout.l3;
      size_t w = f == FieldId::IpTtl ? 8 : 0; // the word holding ttl|proto or version/ihl|tos
      uint16_t old = rd16(ip + w);
      uint16_t now = f == FieldId::IpTtl ? uint16_t(v << 8 | (old & 0xff))
                                         : uint16_t((old & 0xff03) | v << 2);
      Delta d;
      d.word(__builtin_bswap16(old), __builtin_bswap16(now));
      wr16(ip + w, now);
      applyDelta(ip + 10, d);
    }
    break;
  case FieldId::TpSrc:
  case FieldId::TpDst:
    if (h_.layout.tcp || h_.layout.udp) {
      uint8_t *p = b + h_.layout.l4 + (f == FieldId::TpSrc ? 0 : 2);
      Delta d;
      const uint16_t raw = __builtin_bswap16(uint16_t(v));
      d.word(ld16(p), raw);
      st16(p, raw);
      l4Checksum(d);
    }
    break;
  case FieldId::InPort:
  case FieldId::EthType:
  case FieldId::IpProto:
  case FieldId::TcpFlags:
  case FieldId::IcmpType:
  case FieldId::IcmpCode:
  case FieldId::NumFields:
    break; // read-only or metadata: the field vector only (see Packet.h)
  }
}

namespace {
/// The address part of a write of ip.src / ip.dst: the field vector, and for an IPv4 frame the
/// address and the header checksum; \p d gets the words' delta for the TCP/UDP checksum. False
/// when the frame is not IPv4.
bool writeAddress(PacketHeader &h, FieldId addr, uint32_t a, Delta &d) {
  h.fields[size_t(addr)] = a;
  if (!h.layout.ipv4) return false;
  uint8_t *ip = h.data + h.layout.l3, *at = ip + (addr == FieldId::IpSrc ? 12 : 16);
  const uint32_t raw = __builtin_bswap32(a);
  d.word32(ld32(at), raw);
  st32(at, raw);
  applyDelta(ip + 10, d);
  return true;
}
} // namespace

void Packet::setAddress(FieldId addr, uint32_t a) {
  assert(addr == FieldId::IpSrc || addr == FieldId::IpDst);
  Delta d;
  if (!writeAddress(h_, addr, a, d)) return;
  if (h_.layout.tcp) applyDelta(h_.data + h_.layout.l4 + 16, d);
  if (h_.layout.udp) applyDeltaUdp(h_.data + h_.layout.l4 + 6, d);
}

void Packet::setAddressAndPort(FieldId addr, uint32_t a, FieldId port, uint16_t pt) {
  assert((addr == FieldId::IpSrc || addr == FieldId::IpDst) && (port == FieldId::TpSrc || port == FieldId::TpDst));
  h_.fields[size_t(port)] = pt;
  Delta d;
  if (!writeAddress(h_, addr, a, d) || (!h_.layout.tcp && !h_.layout.udp)) return;
  // One update for the address (pseudo-header) and the port: the sum folds the same as two
  // updates in a row (see the file comment).
  uint8_t *t = h_.data + h_.layout.l4, *pp = t + (port == FieldId::TpSrc ? 0 : 2);
  const uint16_t raw = __builtin_bswap16(pt);
  d.word(ld16(pp), raw);
  st16(pp, raw);
  if (h_.layout.tcp)
    applyDelta(t + 16, d);
  else
    applyDeltaUdp(t + 6, d);
}

const uint8_t *Packet::payload() const { return payloadLen() ? h_.data + h_.layout.payload : nullptr; }

size_t Packet::payloadLen() const {
  if (!h_.layout.payload) return 0;
  size_t end = h_.len;
  if (h_.layout.ipv4) end = std::min(end, size_t(h_.layout.l3) + rd16(h_.data + h_.layout.l3 + 2));
  return h_.layout.payload < end ? end - h_.layout.payload : 0;
}

Packet Packet::fromFields(const std::array<uint64_t, ir::kNumFields> &fields, uint64_t timestampNs) {
  auto val = [&](FieldId f) { return fields[size_t(f)] & widthMask(f); };
  bool anyIp = val(FieldId::IpSrc) || val(FieldId::IpDst) || val(FieldId::IpProto) || val(FieldId::IpTtl) ||
               val(FieldId::IpDscp);
  uint16_t type = uint16_t(val(FieldId::EthType));
  if (type == 0 && anyIp) type = kTypeIPv4;
  const uint8_t proto = uint8_t(val(FieldId::IpProto));

  std::vector<uint8_t> f(kEthLen);
  wr48(f.data(), val(FieldId::EthDst));
  wr48(f.data() + 6, val(FieldId::EthSrc));
  if (val(FieldId::VlanId) || val(FieldId::VlanPcp)) {
    wr16(f.data() + 12, kTpidVlan);
    f.resize(f.size() + kVlanLen);
    wr16(f.data() + 14, uint16_t(val(FieldId::VlanPcp) << 13 | val(FieldId::VlanId)));
  }
  wr16(f.data() + f.size() - 2, type);
  if (type == kTypeIPv4) {
    size_t l4len = proto == kProtoTcp ? kTcpMinLen : proto == kProtoUdp ? kUdpLen : proto == kProtoIcmp ? 8 : 0;
    size_t l3 = f.size(), l4 = l3 + kIpMinLen;
    f.resize(l4 + l4len);
    uint8_t *ip = f.data() + l3, *t = f.data() + l4;
    ip[0] = 0x45;
    ip[1] = uint8_t(val(FieldId::IpDscp) << 2);
    wr16(ip + 2, uint16_t(kIpMinLen + l4len));
    ip[8] = uint8_t(val(FieldId::IpTtl));
    ip[9] = proto;
    wr32(ip + 12, uint32_t(val(FieldId::IpSrc)));
    wr32(ip + 16, uint32_t(val(FieldId::IpDst)));
    wr16(ip + 10, uint16_t(~fold(sumBytes(ip, kIpMinLen))));
    if (proto == kProtoTcp || proto == kProtoUdp) {
      wr16(t, uint16_t(val(FieldId::TpSrc)));
      wr16(t + 2, uint16_t(val(FieldId::TpDst)));
    }
    if (proto == kProtoTcp) {
      t[12] = 5 << 4;
      t[13] = uint8_t(val(FieldId::TcpFlags));
      wr16(t + 14, 0xffff); // window
      wr16(t + 16, uint16_t(~fold(sumBytes(t, l4len, pseudoSum(ip, proto, l4len)))));
    } else if (proto == kProtoUdp) {
      wr16(t + 4, uint16_t(l4len));
      uint16_t c = uint16_t(~fold(sumBytes(t, l4len, pseudoSum(ip, proto, l4len))));
      wr16(t + 6, c == 0 ? 0xffff : c);
    } else if (proto == kProtoIcmp) {
      t[0] = uint8_t(val(FieldId::IcmpType));
      t[1] = uint8_t(val(FieldId::IcmpCode));
      wr16(t + 2, uint16_t(~fold(sumBytes(t, l4len))));
    }
  }
  if (f.size() < kMinFrame) f.resize(kMinFrame);

  Packet p(f.data(), f.size(), timestampNs);
  p.h_.fields = fields;
  return p;
}

bool checksumsValid(const Packet &p, std::string *why) {
  const Layout &L = p.layout();
  if (!L.ipv4) return true;
  const uint8_t *b = p.data(), *ip = b + L.l3;
  auto fail = [&](const char *what, uint16_t found, uint16_t expected) {
    if (why) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s checksum is 0x%04x, expected 0x%04x", what, found, expected);
      *why = buf;
    }
    return false;
  };
  // Full recomputation with the checksum field counted as 0.
  auto compute = [](const uint8_t *p, size_t n, size_t csumAt, uint64_t s) {
    s = sumBytes(p, n, s) - rd16(p + csumAt);
    return uint16_t(~fold(s));
  };
  size_t ihl = size_t(ip[0] & 0xf) * 4, totalLen = rd16(ip + 2);
  if (uint16_t c = compute(ip, ihl, 10, 0); c != rd16(ip + 10)) return fail("IPv4 header", rd16(ip + 10), c);

  bool whole = (rd16(ip + 6) & 0x3fff) == 0 && L.l3 + totalLen <= p.size(); // MF or offset
  if (!whole) return true;
  const uint8_t *t = b + L.l4;
  size_t l4len = totalLen - ihl; // UDP too: its length field is not trusted over the IP one
  if (L.tcp) {
    uint16_t c = compute(t, l4len, 16, pseudoSum(ip, kProtoTcp, l4len));
    if (c != rd16(t + 16)) return fail("TCP", rd16(t + 16), c);
  } else if (L.udp && rd16(t + 6) != 0) {
    uint16_t c = compute(t, l4len, 6, pseudoSum(ip, kProtoUdp, l4len));
    if (c == 0) c = 0xffff;
    if (c != rd16(t + 6)) return fail("UDP", rd16(t + 6), c);
  } else if (L.icmp) {
    uint16_t c = compute(t, l4len, 2, 0);
    if (c != rd16(t + 2)) return fail("ICMP", rd16(t + 2), c);
  }
  return true;
}

} // namespace metron::pkt
