//===- runtime/state/Napt.cpp - Network address and port translation -------------------------===//
///
/// The behaviour is specified in State.h (Napt). Mappings are keyed on the forward 5-tuple; a
/// table indexed by port finds the mapping that owns a port, for return traffic and for the
/// allocation of free ports.
//===----------------------------------------------------------------------------------------===//
#include "runtime/state/StateImpl.h"

namespace metron::state {

namespace {

class NaptState final : public ElementState {
public:
  explicit NaptState(const ir::Napt &e)
      : e_(e), srcNat_(e.field == FieldId::IpSrc), rangeSize_(uint32_t(e.portHi) - e.portLo + 1),
        owner_(rangeSize_, nullptr), cursor_(e.portLo), mappings_(uint64_t(e.timeoutSec) * kNsPerSec) {}

  Result process(pkt::Packet &p) override {
    ++in_;
    const pkt::Layout &l = p.layout();
    if (!l.ipv4) return {};
    uint64_t now = clock_.advance(p.timestampNs);
    mappings_.expire(now, [&](Table::Entry &m) { owner_[m.value - e_.portLo] = nullptr; });
    if (!l.tcp && !l.udp) {
      p.set(addrA(), e_.address);
      ++translated_;
      return {};
    }
    if (translateBack(p, now)) {
      ++returned_;
      return {};
    }
    Tuple t = Tuple::of(p);
    Table::Entry *m = mappings_.find(t);
    if (m) {
      mappings_.touch(m, now);
    } else {
      if (mappings_.size() == rangeSize_) {
        ++dropped_;
        return {.drop = true};
      }
      uint16_t port = takeFreePort();
      m = mappings_.insert(t, port, now);
      owner_[port - e_.portLo] = m;
      ++allocated_;
    }
    p.set(addrA(), e_.address);
    p.set(portA(), m->value);
    ++translated_;
    return {};
  }

  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"in", in_},       {"translated", translated_},   {"returned", returned_},
            {"dropped", dropped_}, {"mappings", mappings_.size()}, {"allocated", allocated_}};
  }

private:
  /// Mappings: forward 5-tuple -> the port it was given.
  using Table = IdleTable<Tuple, uint16_t, TupleHash>;

  FieldId addrA() const { return srcNat_ ? FieldId::IpSrc : FieldId::IpDst; }
  FieldId portA() const { return srcNat_ ? FieldId::TpSrc : FieldId::TpDst; }
  FieldId addrB() const { return srcNat_ ? FieldId::IpDst : FieldId::IpSrc; }
  FieldId portB() const { return srcNat_ ? FieldId::TpDst : FieldId::TpSrc; }

  /// Rule 1 of State.h (Napt): return traffic of a live mapping is translated back.
  bool translateBack(pkt::Packet &p, uint64_t now) {
    uint64_t port = p.get(portB());
    if (p.get(addrB()) != e_.address || port < e_.portLo || port > e_.portHi) return false;
    Table::Entry *m = owner_[port - e_.portLo];
    if (!m) return false;
    const Tuple &o = m->key;
    uint32_t origAddrA = srcNat_ ? o.src : o.dst, origAddrB = srcNat_ ? o.dst : o.src;
    uint16_t origPortA = srcNat_ ? o.sport : o.dport, origPortB = srcNat_ ? o.dport : o.sport;
    if (p.get(FieldId::IpProto) != o.proto || p.get(addrA()) != origAddrB || p.get(portA()) != origPortB)
      return false;
    p.set(addrB(), origAddrA);
    p.set(portB(), origPortA);
    mappings_.touch(m, now);
    return true;
  }

  /// The first free port at or after the cursor (one exists: the caller checked).
  uint16_t takeFreePort() {
    uint32_t i = cursor_ - e_.portLo;
    while (owner_[i]) i = i + 1 == rangeSize_ ? 0 : i + 1;
    cursor_ = i + 1 == rangeSize_ ? e_.portLo : uint32_t(e_.portLo) + i + 1;
    return uint16_t(e_.portLo + i);
  }

  const ir::Napt &e_;
  bool srcNat_;
  uint32_t rangeSize_;
  std::vector<Table::Entry *> owner_; ///< per port of the range, its live mapping
  uint32_t cursor_;
  Clock clock_;
  Table mappings_;
  uint64_t in_ = 0, translated_ = 0, returned_ = 0, dropped_ = 0, allocated_ = 0;
};

} // namespace

std::unique_ptr<ElementState> makeNapt(const ir::Napt &e) { return std::make_unique<NaptState>(e); }

} // namespace metron::state
