//===- tests/fuzz/fuzz_rteflow.cpp - libFuzzer target: rte_flow rule documents, the NIC model ---===//
///
/// The input is a rules/<nic>.rte_flow.json document (what `metronc compile` writes and the data
/// plane reads), given to metron::dp::NicModel::parse. A document that parses is applied, on
/// ports 0 and 1, to a few fixed frames (TCP, UDP, ICMP, VLAN-tagged UDP, ARP, a runt), and:
///
///  * the verdict's rule index is -1 or a rule of the document (< size()); a matched packet
///    names its rule; a mark is 0 when no mark ran;
///  * a drop has no queue and no port; an unmatched packet is neither dropped nor queued nor sent
///    to a port; at most one of drop / queue / port_id;
///  * applying the model twice to copies of one frame gives the same verdict and frame (apply()
///    is const and deterministic);
///  * the frame after apply() parses to the same layout as the packet reports, with the same
///    value for every writable field the frame carries; its length changed by a multiple of 4
///    (VLAN pushes and pops) and wireLen by the same amount;
///  * an IPv4 frame whose checksums were valid (pkt::checksumsValid) before is valid after.
///
/// install() is never called (it needs DPDK's EAL). A violated property is __builtin_trap();
/// crashes and sanitizer reports are bugs too.
//===----------------------------------------------------------------------------------------===//
#include "runtime/dataplane/NicModel.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

using metron::ir::FieldId;
using metron::pkt::Packet;
using Fields = std::array<uint64_t, metron::ir::kNumFields>;

void check(bool ok, const char *what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_rteflow: property violated: %s\n", what);
    __builtin_trap();
  }
}

constexpr uint64_t ip(unsigned a, unsigned b, unsigned c, unsigned d) { return a << 24 | b << 16 | c << 8 | d; }

Packet make(std::initializer_list<std::pair<FieldId, uint64_t>> kv) {
  Fields f{};
  for (auto [k, v] : kv) f[size_t(k)] = v;
  Packet b = Packet::fromFields(f);
  return Packet(b.frame().data(), b.frame().size()); // as the wire carries it
}

/// The fixed frames, built once.
const std::vector<Packet> &frames() {
  static const std::vector<Packet> v = [] {
    std::vector<Packet> out;
    out.push_back(make({{FieldId::EthSrc, 0x020000000001}, {FieldId::EthDst, 0x020000000002},
                        {FieldId::IpSrc, ip(10, 1, 2, 3)}, {FieldId::IpDst, ip(192, 0, 2, 10)},
                        {FieldId::IpProto, 6}, {FieldId::IpTtl, 64}, {FieldId::TpSrc, 40000},
                        {FieldId::TpDst, 80}, {FieldId::TcpFlags, 0x02}}));
    out.push_back(make({{FieldId::EthSrc, 0x020000000003}, {FieldId::EthDst, 0x020000000004},
                        {FieldId::IpSrc, ip(192, 168, 0, 1)}, {FieldId::IpDst, ip(10, 0, 0, 53)},
                        {FieldId::IpProto, 17}, {FieldId::IpTtl, 1}, {FieldId::IpDscp, 46},
                        {FieldId::TpSrc, 5353}, {FieldId::TpDst, 53}}));
    out.push_back(make({{FieldId::EthSrc, 0x020000000005}, {FieldId::EthDst, 0xffffffffffff},
                        {FieldId::IpSrc, ip(10, 1, 0, 7)}, {FieldId::IpDst, ip(10, 2, 0, 8)},
                        {FieldId::IpProto, 1}, {FieldId::IpTtl, 0}, {FieldId::IcmpType, 8}}));
    out.push_back(make({{FieldId::EthSrc, 0x020000000006}, {FieldId::EthDst, 0x020000000007},
                        {FieldId::VlanId, 100}, {FieldId::VlanPcp, 5},
                        {FieldId::IpSrc, ip(172, 16, 0, 1)}, {FieldId::IpDst, ip(192, 0, 2, 1)},
                        {FieldId::IpProto, 17}, {FieldId::IpTtl, 255}, {FieldId::TpSrc, 1},
                        {FieldId::TpDst, 443}}));
    out.push_back(make({{FieldId::EthSrc, 0x020000000008}, {FieldId::EthDst, 0xffffffffffff},
                        {FieldId::EthType, 0x0806}}));
    const uint8_t runt[10] = {2, 0, 0, 0, 0, 9, 2, 0, 0, 0};
    out.emplace_back(runt, sizeof runt);
    for (const Packet &p : out) check(p.frame().size() > 0, "fixed frame built");
    return out;
  }();
  return v;
}

bool sameVerdict(const metron::dp::NicVerdict &a, const metron::dp::NicVerdict &b) {
  return a.matched == b.matched && a.drop == b.drop && a.queue == b.queue && a.hasMark == b.hasMark &&
         a.mark == b.mark && a.rule == b.rule && a.classId == b.classId && a.outPort == b.outPort &&
         a.jumps == b.jumps;
}

void exercise(const metron::dp::NicModel &m, const Packet &orig, uint16_t port) {
  const bool ckBefore = orig.layout().ipv4 && metron::pkt::checksumsValid(orig);
  Packet p = orig;
  const metron::dp::NicVerdict v = m.apply(p, port);

  check(v.rule >= -1 && (v.rule < 0 || size_t(v.rule) < m.size()), "rule index in range");
  check(!v.matched || v.rule >= 0, "a matched packet names its rule");
  check(v.hasMark || v.mark == 0, "no mark, mark value 0");
  check(!v.drop || (v.queue == -1 && v.outPort == -1), "a drop has no queue and no port");
  check(v.matched || (!v.drop && v.queue == -1 && v.outPort == -1), "an unmatched packet has no fate");
  check(v.queue >= -1 && v.outPort >= -1, "queue/port -1 or an index");

  Packet p2 = orig;
  const metron::dp::NicVerdict v2 = m.apply(p2, port);
  check(sameVerdict(v, v2), "apply is deterministic (verdict)");
  check(p.frame() == p2.frame() && p.fields() == p2.fields(), "apply is deterministic (packet)");

  const auto &fr = p.frame();
  const long grown = long(fr.size()) - long(orig.frame().size());
  check(grown % 4 == 0, "frame length changes by VLAN tags only");
  check(long(p.wireLen) - long(orig.wireLen) == grown, "wireLen follows the frame");

  Packet q(fr.data(), fr.size());
  check(q.layout() == p.layout(), "the frame after apply parses to the packet's layout");
  const auto &L = p.layout();
  auto same = [&](FieldId f) { return q.get(f) == p.get(f); };
  if (fr.size() >= 14) check(same(FieldId::EthSrc) && same(FieldId::EthDst), "eth fields agree with the frame");
  if (L.vlan) check(same(FieldId::VlanId) && same(FieldId::VlanPcp), "vlan fields agree with the frame");
  if (L.ipv4)
    check(same(FieldId::IpSrc) && same(FieldId::IpDst) && same(FieldId::IpTtl) && same(FieldId::IpDscp),
          "ipv4 fields agree with the frame");
  if (L.tcp || L.udp) check(same(FieldId::TpSrc) && same(FieldId::TpDst), "tp fields agree with the frame");

  if (ckBefore && L.ipv4) {
    std::string why;
    if (!metron::pkt::checksumsValid(p, &why)) {
      std::fprintf(stderr, "fuzz_rteflow: %s\n", why.c_str());
      check(false, "checksums stay valid");
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string err;
  auto m = metron::dp::NicModel::parse(std::string_view(reinterpret_cast<const char *>(data), size), "fuzz", err);
  if (!m) {
    check(!err.empty(), "a rejected document says why");
    return 0;
  }
  (void)m->shapes();
  for (const Packet &p : frames())
    for (uint16_t port : {uint16_t(0), uint16_t(1)}) exercise(*m, p, port);
  return 0;
}
