//===- compiler/split/Split.cpp - The stateless/stateful split -----------------------------===//
///
/// \file
/// Implements splitChain() as documented in Split.h, in four passes:
///  1. tables: which synthesized table gets which device table;
///  2. groups: the tag kind a group's software-bound packets would get, and which of its
///     leading writes the device can apply;
///  3. classes, table by table from the last to the first (a jump needs its target table to be
///     known complete), in priority order within a table; then tables that no offloaded rule
///     jumps into go back to software;
///  4. cores, tags, and the diagnostics.
//===----------------------------------------------------------------------------------------===//
#include "compiler/split/Split.h"

#include <algorithm>
#include <array>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace metron::split {

using ir::FieldId;
using ir::FieldMatch;
using synth::Box;
using synth::ChainTables;
using synth::Omega;
using synth::Terminal;
using synth::TrafficClass;
using synth::WriteExpr;

const char *reasonName(Reason r) {
  switch (r) {
  case Reason::Offloaded: return "offloaded";
  case Reason::SoftwareTable: return "software-table";
  case Reason::NoDeviceTable: return "no-device-table";
  case Reason::NotEntered: return "not-entered";
  case Reason::Match: return "match";
  case Reason::TooManyRules: return "too-many-rules";
  case Reason::Action: return "action";
  case Reason::Blocked: return "blocked";
  case Reason::Capacity: return "capacity";
  case Reason::Priorities: return "priorities";
  }
  return "?";
}

const char *hwActionName(HwAction a) {
  switch (a) {
  case HwAction::Drop: return "drop";
  case HwAction::Jump: return "jump";
  case HwAction::ToSoftware: return "software";
  }
  return "?";
}

std::vector<std::pair<uint64_t, uint64_t>> rangeToPrefixes(uint64_t lo, uint64_t hi, unsigned bits) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  METRON_INTERNAL_ASSERT(bits >= 1 && bits < 64, "rangeToPrefixes: field width out of range");
  const uint64_t maxv = (1ull << bits) - 1;
  if (lo > hi || hi > maxv) return out;
  for (;;) {
    // The largest aligned block starting at lo that stays within hi.
    unsigned k = lo ? unsigned(__builtin_ctzll(lo)) : bits;
    while (k > 0 && lo + ((1ull << k) - 1) > hi) --k;
    uint64_t size = 1ull << k;
    out.emplace_back(lo, maxv & ~(size - 1));
    if (lo + (size - 1) >= hi) break;
    lo += size;
  }
  return out;
}

const ClassSplit *SplitPlan::findClass(uint32_t id) const {
  for (const auto &t : tables)
    for (const auto &c : t.classes)
      if (c.classId == id) return &c;
  return nullptr;
}

uint64_t SplitPlan::totalClasses() const {
  uint64_t n = 0;
  for (const auto &t : tables) n += t.classes.size();
  return n;
}

uint64_t SplitPlan::offloadedClasses() const {
  uint64_t n = 0;
  for (const auto &t : tables) n += t.offloaded;
  return n;
}

uint64_t SplitPlan::deviceRules() const {
  uint64_t n = 0;
  for (const auto &t : tables) n += t.rules + t.l2Rules;
  return n;
}

namespace {

uint64_t satAdd(uint64_t a, uint64_t b) { return a > kUnbounded - b ? kUnbounded : a + b; }
uint64_t satMul(uint64_t a, uint64_t b) { return a && b > kUnbounded / a ? kUnbounded : a * b; }

std::string thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

std::string plural(uint64_t n, const char *one, const char *many) { return thousands(n) + " " + (n == 1 ? one : many); }

const char *fieldName(FieldId f) { return ir::fieldInfo(f).name; }

/// in_port, eth.* and vlan.* (the HP 5130 EI's L2 rule pool).
bool isL2Field(FieldId f) {
  return f == FieldId::InPort || f == FieldId::EthSrc || f == FieldId::EthDst || f == FieldId::EthType ||
         f == FieldId::VlanId || f == FieldId::VlanPcp;
}

/// How the device matches the constraints of a Φ on one field, before materializing.
struct FieldPlan {
  FieldId field;
  bool wildcard = false; ///< no constraint left (the field needs no match)
  bool rangeEntry = false; ///< one range(+mask) match on a range device
  uint64_t lo = 0, hi = 0, mv = 0, mm = 0; ///< the combined constraint: lo..hi and (v & mm) == mv
  std::vector<std::pair<uint64_t, uint64_t>> entries; ///< (value, mask) before per-level expansion
  uint64_t count = 0; ///< device matches needed on this field (0: the class matches nothing)
};

/// The bits of \p m that must be enumerated to turn the ternary (v, m) into matches of
/// support \p s (Exact: every free bit; Prefix: the free bits above the lowest cared-for bit).
uint64_t holesFor(MatchSupport s, uint64_t m, uint64_t maxv) {
  uint64_t free = ~m & maxv;
  if (s == MatchSupport::Exact) return free;
  if (s == MatchSupport::Prefix) {
    if (m == 0) return 0;
    uint64_t below = (m & -m) - 1; // the bits under the lowest set bit of m
    return free & ~below;
  }
  return 0;
}

/// Plans one field; false (with \p why) when the device cannot match it at all.
bool planField(const DeviceProfile &dev, FieldId f, const std::vector<const FieldMatch *> &cs, FieldPlan &out,
               std::string &why) {
  const ir::FieldInfo &fi = ir::fieldInfo(f);
  const uint64_t maxv = fi.maxValue();
  out = FieldPlan{};
  out.field = f;
  uint64_t lo = 0, hi = maxv, mv = 0, mm = 0;
  bool empty = false;
  for (const FieldMatch *c : cs) {
    if (c->kind == FieldMatch::Range) {
      lo = std::max(lo, c->lo);
      hi = std::min(hi, c->hi);
    } else {
      if ((c->value ^ mv) & c->mask & mm) empty = true;
      mv |= c->value & c->mask;
      mm |= c->mask;
    }
  }
  if (empty || lo > hi) {
    out.count = 0;
    return true;
  }
  out.lo = lo, out.hi = hi, out.mv = mv, out.mm = mm;
  bool full = lo == 0 && hi == maxv;
  if (full && mm == 0) {
    out.wildcard = true;
    out.count = 1;
    return true;
  }
  MatchSupport s = dev.supports(f);
  if (s == MatchSupport::None) {
    why = dev.name + " cannot match " + fi.name;
    return false;
  }
  if (s == MatchSupport::Range) {
    out.rangeEntry = true;
    out.count = 1;
    return true;
  }
  std::vector<std::pair<uint64_t, uint64_t>> blocks;
  if (full) blocks.emplace_back(0, 0);
  else blocks = rangeToPrefixes(lo, hi, fi.bits);
  for (auto [v, m] : blocks) {
    if (mm) {
      if ((v ^ mv) & m & mm) continue; // this block and the mask disagree on a bit
      v |= mv;
      m |= mm;
    }
    out.entries.emplace_back(v & m, m);
    uint64_t holes = holesFor(s, m, maxv);
    out.count = satAdd(out.count, 1ull << __builtin_popcountll(holes));
  }
  return true;
}

/// The device matches of a planned field (bounded by the caller through FieldPlan::count).
std::vector<DeviceMatch> materialize(const DeviceProfile &dev, const FieldPlan &fp) {
  std::vector<DeviceMatch> out;
  const uint64_t maxv = ir::fieldInfo(fp.field).maxValue();
  if (fp.rangeEntry) {
    DeviceMatch d;
    d.field = fp.field;
    d.isRange = !(fp.lo == 0 && fp.hi == maxv);
    d.lo = fp.lo, d.hi = fp.hi;
    d.value = fp.mv, d.mask = fp.mm;
    out.push_back(d);
    return out;
  }
  MatchSupport s = dev.supports(fp.field);
  for (auto [v, m] : fp.entries) {
    uint64_t holes = holesFor(s, m, maxv);
    uint64_t sub = 0;
    do { // every assignment of the hole bits, in increasing order
      DeviceMatch d;
      d.field = fp.field;
      d.value = v | sub;
      d.mask = m | holes;
      out.push_back(d);
      sub = (sub - holes) & holes;
    } while (sub != 0);
  }
  return out;
}

} // namespace

bool boxesOverlap(const Box &a, const Box &b) {
  size_t i = 0, j = 0;
  while (i < a.m.size() && j < b.m.size()) {
    FieldId fa = a.m[i].field, fb = b.m[j].field;
    if (fa != fb) {
      FieldId f = std::min(fa, fb);
      for (; i < a.m.size() && a.m[i].field == f; ++i) {}
      for (; j < b.m.size() && b.m[j].field == f; ++j) {}
      continue;
    }
    const uint64_t maxv = ir::fieldInfo(fa).maxValue();
    uint64_t lo = 0, hi = maxv, mv = 0, mm = 0;
    auto add = [&](const FieldMatch &c) {
      if (c.kind == FieldMatch::Range) {
        lo = std::max(lo, c.lo);
        hi = std::min(hi, c.hi);
        return lo <= hi;
      }
      if ((c.value ^ mv) & c.mask & mm) return false;
      mv |= c.value & c.mask;
      mm |= c.mask;
      return true;
    };
    for (; i < a.m.size() && a.m[i].field == fa; ++i)
      if (!add(a.m[i])) return false;
    for (; j < b.m.size() && b.m[j].field == fa; ++j)
      if (!add(b.m[j])) return false;
    if (mm && !(lo == 0 && hi == maxv)) {
      uint64_t v;
      if (!synth::minMatching(lo, mv, mm, maxv, v) || v > hi) return false;
    }
  }
  return true;
}

namespace {

/// The combined constraint of a box on one field: lo..hi and (v & mm) == mv.
struct FieldConstraint {
  bool constrained = false, empty = false;
  uint64_t lo = 0, hi = 0, mv = 0, mm = 0;
  bool admits(uint64_t v) const { return !constrained || (lo <= v && v <= hi && (v & mm) == mv); }
};

std::array<FieldConstraint, ir::kNumFields> constraintsOf(const Box &b) {
  std::array<FieldConstraint, ir::kNumFields> fc{};
  for (size_t f = 0; f < ir::kNumFields; ++f) fc[f].hi = ir::fieldInfo(FieldId(f)).maxValue();
  for (const auto &c : b.m) {
    FieldConstraint &x = fc[size_t(c.field)];
    if (c.kind == FieldMatch::Range) {
      x.lo = std::max(x.lo, c.lo);
      x.hi = std::min(x.hi, c.hi);
    } else {
      if ((c.value ^ x.mv) & c.mask & x.mm) x.empty = true;
      x.mv |= c.value & c.mask;
      x.mm |= c.mask;
    }
  }
  for (size_t f = 0; f < ir::kNumFields; ++f) {
    FieldConstraint &x = fc[f];
    const uint64_t maxv = ir::fieldInfo(FieldId(f)).maxValue();
    x.constrained = x.mm != 0 || x.lo != 0 || x.hi != maxv;
    uint64_t v;
    if (x.lo > x.hi || (x.mm && (!synth::minMatching(x.lo, x.mv, x.mm, maxv, v) || v > x.hi))) x.empty = true;
  }
  return fc;
}

/// Does protocol \p p carry L4 field \p f (tp.* in TCP and UDP, tcp.flags in TCP, icmp.* in ICMP)?
bool protoHas(unsigned p, FieldId f) {
  if (f == FieldId::TpSrc || f == FieldId::TpDst) return p == 6 || p == 17;
  if (f == FieldId::TcpFlags) return p == 6;
  return p == 1; // icmp.type, icmp.code
}

constexpr FieldId kL4Fields[] = {FieldId::TpSrc, FieldId::TpDst, FieldId::TcpFlags, FieldId::IcmpType,
                                 FieldId::IcmpCode};
constexpr FieldId kIpFields[] = {FieldId::IpSrc,    FieldId::IpDst,    FieldId::IpProto,  FieldId::IpTtl,
                                 FieldId::IpDscp,   FieldId::TpSrc,    FieldId::TpDst,    FieldId::TcpFlags,
                                 FieldId::IcmpType, FieldId::IcmpCode};

} // namespace

/// Does every packet \p phi admits carry TCP or UDP ports (so a device can write them)?
static bool onlyTcpUdp(const Box &phi, const Prerequisites &pre) {
  if (!pre.ipv4) return false;
  if (!pre.protos.empty())
    return std::all_of(pre.protos.begin(), pre.protos.end(), [](uint8_t p) { return p == 6 || p == 17; });
  const auto fc = constraintsOf(phi);
  const FieldConstraint &pr = fc[size_t(FieldId::IpProto)];
  for (unsigned v = 0; v < 256; ++v)
    if (v != 6 && v != 17 && pr.admits(v)) return false;
  return true;
}

bool classPrerequisites(const Box &phi, Prerequisites &out, std::string &why, FieldId &culprit) {
  out = Prerequisites{};
  const auto fc = constraintsOf(phi);
  auto at = [&](FieldId f) -> const FieldConstraint & { return fc[size_t(f)]; };
  for (const auto &x : fc)
    if (x.empty) {
      out.empty = true;
      return true;
    }
  auto name = [](FieldId f) { return std::string(ir::fieldInfo(f).name); };

  // 802.1Q: tagged frames only, unless Φ admits the 0 that untagged frames read.
  if (at(FieldId::VlanId).constrained || at(FieldId::VlanPcp).constrained) {
    if (at(FieldId::VlanId).admits(0) && at(FieldId::VlanPcp).admits(0)) {
      culprit = at(FieldId::VlanId).constrained ? FieldId::VlanId : FieldId::VlanPcp;
      why = "its " + name(culprit) + " constraint admits 0, which untagged frames read, and a device rule on the tag "
            "matches tagged frames only";
      return false;
    }
    out.vlan = true;
  }

  // IPv4.
  const FieldConstraint &et = at(FieldId::EthType);
  const bool etOnlyIp = et.constrained && ((et.mm == 0xffff && et.mv == 0x0800) || (et.lo == 0x0800 && et.hi == 0x0800));
  const bool etAdmitsIp = et.admits(0x0800);
  bool ipConstrained = false, allAdmitZero = true;
  FieldId firstIp = FieldId::IpSrc;
  for (FieldId f : kIpFields)
    if (at(f).constrained) {
      if (!ipConstrained) firstIp = f;
      ipConstrained = true;
      allAdmitZero = allAdmitZero && at(f).admits(0);
    }
  if (ipConstrained) {
    if (!etOnlyIp && allAdmitZero) {
      if (!etAdmitsIp) { // non-IPv4 frames only: the IPv4 constraints are vacuous
        for (FieldId f : kIpFields)
          if (at(f).constrained) out.vacuous.push_back(f);
        return true;
      }
      culprit = firstIp;
      why = "it admits non-IPv4 frames (" + name(firstIp) +
            " reads 0 on them), which a device rule on an IPv4 field does not match";
      return false;
    }
    if (!etAdmitsIp) {
      out.empty = true;
      return true;
    }
    out.ipv4 = true;
    out.dropEthType = et.constrained;
  } else if (etOnlyIp) {
    out.ipv4 = true;
    out.dropEthType = true;
  }
  if (!out.ipv4) return true;

  // L4: the protocols whose packets Φ admits, each with the L4 fields it has.
  bool l4 = false;
  for (FieldId f : kL4Fields) l4 = l4 || at(f).constrained;
  if (!l4) return true;
  const FieldConstraint &pr = at(FieldId::IpProto);
  auto feasible = [&](int p) { // -1: a protocol other than 1, 6, 17
    for (FieldId f : kL4Fields)
      if (at(f).constrained && (p < 0 || !protoHas(unsigned(p), f)) && !at(f).admits(0)) return false;
    return true;
  };
  bool otherAdmitted = false;
  for (unsigned v = 0; v < 256 && !otherAdmitted; ++v)
    otherAdmitted = v != 1 && v != 6 && v != 17 && pr.admits(v);
  if (otherAdmitted && feasible(-1)) {
    if (!pr.admits(1) && !pr.admits(6) && !pr.admits(17)) { // no protocol with these fields
      for (FieldId f : kL4Fields)
        if (at(f).constrained) out.vacuous.push_back(f);
      return true;
    }
    for (FieldId f : kL4Fields)
      if (at(f).constrained) {
        culprit = f;
        break;
      }
    why = "it admits IPv4 packets of protocols without " + name(culprit) + " (it reads 0 on them), which a device "
          "rule on " + name(culprit) + " does not match";
    return false;
  }
  for (unsigned p : {6u, 17u, 1u})
    if (pr.admits(p) && feasible(int(p))) out.protos.push_back(uint8_t(p));
  if (out.protos.empty()) {
    out.empty = true;
    return true;
  }
  out.dropIpProto = pr.constrained;
  for (FieldId f : kL4Fields) {
    if (!at(f).constrained) continue;
    bool some = false;
    for (uint8_t p : out.protos) some = some || protoHas(p, f);
    if (!some) out.vacuous.push_back(f);
  }
  return true;
}

namespace {

/// The value interval a box allows on one field (a superset for masks); false when the box
/// does not constrain it.
bool fieldInterval(const Box &b, FieldId f, uint64_t &lo, uint64_t &hi) {
  const uint64_t maxv = ir::fieldInfo(f).maxValue();
  bool any = false;
  lo = 0, hi = maxv;
  for (const auto &c : b.m) {
    if (c.field != f) continue;
    any = true;
    uint64_t l = c.kind == FieldMatch::Range ? c.lo : c.value & c.mask;
    uint64_t h = c.kind == FieldMatch::Range ? c.hi : (c.value & c.mask) | (~c.mask & maxv);
    lo = std::max(lo, l), hi = std::min(hi, h);
  }
  return any;
}

/// Boxes bucketed by their interval on one field (its top 16 bits), so that finding a box that
/// overlaps a query looks only at the buckets the query's interval touches, plus the boxes too
/// wide to bucket. A query that does not constrain the field, or is wide itself, scans all.
class BoxIndex {
public:
  static constexpr uint64_t kMaxBuckets = 64;

  explicit BoxIndex(FieldId f) : f_(f) {
    unsigned bits = ir::fieldInfo(f).bits;
    shift_ = bits > 16 ? bits - 16 : 0;
  }

  void add(const Box &b, uint32_t seq) {
    all_.push_back({&b, seq});
    uint64_t lo, hi;
    if (!fieldInterval(b, f_, lo, hi) || (hi >> shift_) - (lo >> shift_) >= kMaxBuckets) {
      wide_.push_back({&b, seq});
      return;
    }
    for (uint64_t k = lo >> shift_; k <= hi >> shift_; ++k) buckets_[k].push_back({&b, seq});
  }

  /// The sequence number of the first-added box that overlaps \p q, or -1. With \p any, of
  /// some box that overlaps it (sooner).
  int64_t find(const Box &q, bool any = false) const {
    uint64_t lo, hi;
    if (!fieldInterval(q, f_, lo, hi) || (hi >> shift_) - (lo >> shift_) >= kMaxBuckets) {
      for (const Entry &e : all_) // in sequence order: the first hit is the first-added
        if (boxesOverlap(q, *e.box)) return int64_t(e.seq);
      return -1;
    }
    int64_t best = -1;
    auto scan = [&](const std::vector<Entry> &v) {
      for (const Entry &e : v) {
        if (best >= 0 && e.seq >= uint64_t(best)) break; // each list is in sequence order
        if (boxesOverlap(q, *e.box)) {
          best = int64_t(e.seq);
          break;
        }
      }
    };
    scan(wide_);
    for (uint64_t k = lo >> shift_; k <= hi >> shift_ && !(any && best >= 0); ++k) {
      auto it = buckets_.find(k);
      if (it != buckets_.end()) scan(it->second);
    }
    return best;
  }

  /// The field that spreads \p classes over the most buckets (in_port, the same for every
  /// class of a one-port chain, would put them all in one).
  static FieldId bestField(const std::vector<synth::TrafficClass> &classes) {
    std::array<std::unordered_set<uint64_t>, ir::kNumFields> spread;
    for (const auto &c : classes)
      for (const auto &fi : ir::allFields()) {
        uint64_t lo, hi;
        unsigned shift = fi.bits > 16 ? fi.bits - 16 : 0;
        if (fieldInterval(c.phi, fi.id, lo, hi) && (hi >> shift) - (lo >> shift) < kMaxBuckets)
          spread[size_t(fi.id)].insert(lo >> shift);
      }
    size_t best = 0;
    for (size_t f = 1; f < ir::kNumFields; ++f)
      if (spread[f].size() > spread[best].size()) best = f;
    return FieldId(best);
  }

private:
  struct Entry {
    const Box *box;
    uint64_t seq;
  };
  FieldId f_;
  unsigned shift_ = 0;
  std::unordered_map<uint64_t, std::vector<Entry>> buckets_;
  std::vector<Entry> wide_, all_;
};

/// A write the device can apply, or why not.
/// Can \p dev apply write \p w of a write block whose TTL expiry check is \p ttlGuard
/// (synth::Op::ttlGuard)? A decrement must also drop exactly what the check drops: OpenFlow's
/// dec_ttl drops a packet whose TTL is 0 or 1 (a guard of 1); rte_flow's DEC_TTL drops nothing
/// (a guard of 0).
bool writeSupported(const DeviceProfile &dev, const WriteExpr &w, uint8_t ttlGuard, std::string &why) {
  switch (w.kind) {
  case WriteExpr::Const:
    if (dev.set.has(w.field)) return true;
    why = dev.name + " cannot write " + fieldName(w.field);
    return false;
  case WriteExpr::DecBy:
    if (w.field == FieldId::IpTtl && w.value == 1 && dev.decTtl) {
      const uint8_t devGuard = dev.kind == DeviceProfile::Switch ? 1 : 0;
      if (ttlGuard == devGuard) return true;
      why = dev.kind == DeviceProfile::Switch
                ? "OpenFlow's dec_ttl drops packets whose TTL expires, and this decrement has no such check"
                : "the rte_flow DEC_TTL of " + dev.name + " does not drop packets whose TTL expires";
      return false;
    }
    why = w.value == 1 ? dev.name + " cannot decrement ip.ttl"
                       : "ip.ttl is decremented by " + std::to_string(w.value) + " and devices decrement by one";
    return false;
  case WriteExpr::MacOfIpDst:
    why = "eth.dst=mac(ip.dst) copies ip.dst into eth.dst, which no device profile offers";
    return false;
  }
  return false;
}

class Splitter {
public:
  Splitter(const ChainTables &ct, const DeviceProfile &dev, const SplitOptions &o, DiagnosticEngine &diags,
           SplitPlan &p)
      : ct_(ct), dev_(dev), o_(o), diags_(diags), p_(p) {}

  void run() {
    assignTables();
    planGroups();
    complete_.assign(ct_.tables.size(), false);
    for (size_t i = ct_.tables.size(); i-- > 0;) splitTable(i);
    takeBackUnentered();
    assignCores();
    assignTags();
    report();
  }

private:
  // ---- 1. tables ------------------------------------------------------------------------------

  void assignTables() {
    p_.tables.resize(ct_.tables.size());
    uint64_t next = 0;
    // A first table with more classes than table 0 has priority levels starts in device table
    // 1 when the other tables have more levels (mlx5: 4 in the root table, 21,844 in groups);
    // device table 0 then holds one rule that jumps there.
    if (!ct_.tables.empty() && !ct_.tables[0].afterState && dev_.tableCount > 1 &&
        dev_.table0.priorities != kUnbounded && dev_.table0.priorities < ct_.tables[0].classes.size() &&
        dev_.other.priorities > dev_.table0.priorities) {
      p_.rootJump = true;
      next = 1;
    }
    for (size_t i = 0; i < ct_.tables.size(); ++i) {
      const synth::Table &t = ct_.tables[i];
      TableSplit &ts = p_.tables[i];
      ts.table = t.id;
      index_[t.id] = i;
      if (t.afterState) {
        ts.why = "it comes after a stateful operation";
      } else if (next < dev_.tableCount) {
        ts.deviceTable = int64_t(next);
        ts.limits = dev_.limits(next);
        ++next;
      } else {
        ts.why = dev_.name + " has no table left (" + plural(dev_.tableCount, "table", "tables") + ")";
        noTable_.push_back(t.id);
      }
    }
  }

  // ---- 2. groups ------------------------------------------------------------------------------

  /// Does the filter admit IPv4 packets of IP protocol 0?
  static bool admitsProto0(const Box &phi) {
    Prerequisites pre;
    std::string why;
    FieldId culprit;
    if (!classPrerequisites(phi, pre, why, culprit)) return true; // cannot tell: assume so
    if (pre.empty) return false;
    if (!pre.protos.empty()) return false; // only protocols with L4 headers (6, 17, 1)
    return constraintsOf(phi)[size_t(FieldId::IpProto)].admits(0);
  }

  void planGroups() {
    p_.groups.resize(ct_.groups.size());
    allWritesHw_.assign(ct_.groups.size(), true);
    noTagWhy_.resize(ct_.groups.size());
    // Groups some class of which admits IP protocol 0 (for a device whose IPv4 writes skip it).
    std::vector<bool> proto0(ct_.groups.size(), false);
    if (dev_.ipv4WritesSkipProto0)
      for (const auto &t : ct_.tables)
        for (const auto &c : t.classes)
          if (c.group < proto0.size() && !proto0[c.group] && admitsProto0(c.phi)) proto0[c.group] = true;
    for (size_t gi = 0; gi < ct_.groups.size(); ++gi) {
      const Omega &w = ct_.groups[gi].omega;
      GroupSplit &g = p_.groups[gi];
      g.group = ct_.groups[gi].id;
      g.needsCore = w.hasStateful() || w.term.kind != Terminal::Drop;
      const synth::Op *lw = w.leadingWrites();
      std::vector<WriteExpr> writes = lw ? lw->writes : std::vector<WriteExpr>{};
      const uint8_t guard = lw ? lw->ttlGuard : 0;
      const WriteExpr *ethDst = nullptr;
      bool writesIpDst = false;
      for (const auto &x : writes) {
        if (x.field == FieldId::EthDst) ethDst = &x;
        if (x.field == FieldId::IpDst) writesIpDst = true;
      }

      // The tag kind: the first of the device's kinds that fits this group.
      for (TagKind k : dev_.tagKinds) {
        if (k == TagKind::Mac && !ethDst) continue; // it would destroy an eth.dst Ω keeps
        g.tagKind = k;
        break;
      }
      if (!g.tagKind)
        noTagWhy_[gi] = dev_.tagKinds.empty()
                            ? dev_.name + " cannot tag packets for software"
                            : dev_.name + " tags only by MAC address, which would overwrite the eth.dst this class keeps";

      // Writes the device applies: all or none (Ω's writes are one parallel block).
      std::string why;
      for (const auto &x : writes) {
        std::string w1;
        if (!writeSupported(dev_, x, guard, w1)) {
          allWritesHw_[gi] = false;
          if (why.empty()) why = w1;
        }
      }
      if (writes.empty()) continue;
      if (!g.tagKind) {
        g.swWrites = writes;
        continue;
      }
      if (*g.tagKind == TagKind::Queue) {
        g.swWrites = writes;
        g.writesWhy = "a queue tag names only the core, which re-classifies the unmodified packet";
        continue;
      }
      if (proto0[gi]) {
        const WriteExpr *ip = nullptr;
        for (const auto &x : writes)
          if (x.field == FieldId::IpSrc || x.field == FieldId::IpDst || x.field == FieldId::IpTtl ||
              x.field == FieldId::IpDscp)
            ip = ip ? ip : &x;
        if (ip) {
          allWritesHw_[gi] = false;
          g.swWrites = writes;
          g.writesWhy = dev_.name + " does not apply writes of IPv4 header fields (here " + fieldName(ip->field) +
                        ") to packets of IP protocol 0, which this group admits";
          continue;
        }
      }
      bool macTag = *g.tagKind == TagKind::Mac;
      bool rest = true; // every write but the tag's field is supported
      std::string restWhy;
      for (const auto &x : writes) {
        if (macTag && x.field == FieldId::EthDst) continue;
        std::string w1;
        if (!writeSupported(dev_, x, guard, w1)) {
          rest = false;
          if (restWhy.empty()) restWhy = w1;
        }
      }
      if (!rest) {
        g.swWrites = writes;
        g.writesWhy = restWhy;
      } else if (macTag && ethDst->kind == WriteExpr::MacOfIpDst && writesIpDst) {
        g.swWrites = writes;
        g.writesWhy = "eth.dst=mac(ip.dst) must read ip.dst before the device rewrites it";
      } else {
        for (const auto &x : writes) (macTag && x.field == FieldId::EthDst ? g.swWrites : g.hwWrites).push_back(x);
        if (macTag) g.writesWhy = "the MAC tag takes eth.dst, so software writes it";
      }
    }
  }

  // ---- 3. classes -----------------------------------------------------------------------------

  void toSoftware(ClassSplit &cs, Reason r, std::string why) {
    cs.hw = false;
    cs.reason = r;
    cs.why = std::move(why);
    cs.rules = 0;
    cs.priority = 0;
    cs.fields.clear();
    cs.ipv4 = cs.vlan = false;
    cs.protos.clear();
  }

  /// Plans the match of \p c; false with reason and why when the device cannot take it.
  bool planMatch(const TrafficClass &c, std::vector<FieldPlan> &plans, Prerequisites &pre, uint64_t &rules, Reason &r,
                 std::string &why, FieldId &culprit) {
    rules = 1;
    pre = Prerequisites{};
    if (!classPrerequisites(c.phi, pre, why, culprit)) {
      r = Reason::Match;
      return false;
    }
    if (pre.empty) {
      rules = 0;
      return true;
    }
    if (!pre.protos.empty() && dev_.supports(FieldId::IpProto) == MatchSupport::None) {
      r = Reason::Match;
      culprit = FieldId::IpProto;
      why = dev_.name + " cannot match ip.proto, which a rule on an L4 field needs";
      return false;
    }
    auto skip = [&](FieldId f) {
      if ((f == FieldId::EthType && pre.dropEthType) || (f == FieldId::IpProto && pre.dropIpProto)) return true;
      return std::find(pre.vacuous.begin(), pre.vacuous.end(), f) != pre.vacuous.end();
    };
    const auto &ms = c.phi.m;
    for (size_t i = 0; i < ms.size();) {
      FieldId f = ms[i].field;
      std::vector<const FieldMatch *> cs;
      for (; i < ms.size() && ms[i].field == f; ++i) cs.push_back(&ms[i]);
      if (skip(f)) continue;
      FieldPlan fp;
      if (!planField(dev_, f, cs, fp, why)) {
        r = Reason::Match;
        culprit = f;
        return false;
      }
      if (fp.wildcard) continue;
      plans.push_back(std::move(fp));
    }
    // The cross product of the alternatives, per protocol of the prerequisites.
    uint64_t base = 1;
    for (const auto &fp : plans)
      if (pre.protos.empty() || std::find(std::begin(kL4Fields), std::end(kL4Fields), fp.field) == std::end(kL4Fields))
        base = satMul(base, fp.count);
    if (pre.protos.empty()) {
      rules = base;
    } else {
      rules = 0;
      for (uint8_t p : pre.protos) {
        uint64_t per = base;
        for (const auto &fp : plans)
          if (protoHas(p, fp.field)) per = satMul(per, fp.count);
        rules = satAdd(rules, per);
      }
    }
    if (rules > o_.maxRulesPerClass && !plans.empty()) {
      // Name the field that multiplies the most.
      const FieldPlan *worst = &plans.front();
      for (const auto &fp : plans)
        if (fp.count > worst->count) worst = &fp;
      culprit = worst->field;
      r = Reason::TooManyRules;
      why = std::string(fieldName(worst->field)) + " needs " + thousands(worst->count) + " " +
            matchSupportName(dev_.supports(worst->field)) + " matches on " + dev_.name + ": the class would take " +
            (rules == kUnbounded ? std::string("too many") : thousands(rules)) + " rules (the limit is " +
            thousands(o_.maxRulesPerClass) + ")";
      return false;
    }
    return true;
  }

  /// Decides the device action of \p c in table \p ti; false with why when there is none.
  bool planAction(const TrafficClass &c, size_t ti, const Prerequisites &pre, ClassSplit &cs, std::string &why) {
    const Omega &w = ct_.groups[c.group].omega;
    // A device decrements the TTL of IPv4 packets only (OpenFlow's dec_ttl needs the ip
    // prerequisite); the chain drops other frames there, which a rule cannot tell apart from
    // the ones it decrements unless Φ itself excludes them.
    // Likewise a device writes a header field only in frames that have its layer (OpenFlow's
    // set_field has the field's prerequisites), where the packet model keeps a write to an
    // absent layer in the field vector (and pushes a VLAN tag): the class must exclude them.
    auto decOk = [&](const std::vector<WriteExpr> &ws) {
      for (const auto &x : ws) {
        if (x.kind == WriteExpr::DecBy && !pre.ipv4) {
          why = "its TTL decrement would run on " + dev_.name + ", which decrements IPv4 packets only, and the class "
                "also admits other frames (which the chain drops)";
          return false;
        }
        std::string layer;
        if ((x.field == FieldId::VlanId || x.field == FieldId::VlanPcp) && !pre.vlan) layer = "802.1Q-tagged frames";
        else if ((x.field == FieldId::IpSrc || x.field == FieldId::IpDst || x.field == FieldId::IpTtl ||
                  x.field == FieldId::IpDscp) && !pre.ipv4)
          layer = "IPv4 packets";
        else if ((x.field == FieldId::TpSrc || x.field == FieldId::TpDst) && !onlyTcpUdp(c.phi, pre))
          layer = "TCP and UDP packets";
        if (!layer.empty()) {
          why = "its write of " + std::string(fieldName(x.field)) + " would run on " + dev_.name + ", which writes it in " +
                layer + " only, and the class also admits other frames";
          return false;
        }
      }
      return true;
    };
    bool stateful = w.hasStateful();
    if (!stateful && w.term.kind == Terminal::Drop) {
      if (dev_.drop) {
        cs.action = HwAction::Drop;
        return true;
      }
      why = dev_.name + " cannot drop packets";
      return false;
    }
    if (!stateful && w.term.kind == Terminal::Goto && w.term.tableIfMatch < 0 && allWritesHw_[c.group]) {
      auto it = index_.find(w.term.table);
      if (it != index_.end()) {
        const TableSplit &target = p_.tables[it->second];
        const synth::Op *lw = w.leadingWrites();
        if (target.deviceTable > p_.tables[ti].deviceTable && complete_[it->second] &&
            (!lw || decOk(lw->writes))) {
          cs.action = HwAction::Jump;
          cs.jumpTable = w.term.table;
          return true;
        }
        if (!why.empty()) return false;
      }
    }
    if (p_.groups[c.group].tagKind) {
      if (!decOk(p_.groups[c.group].hwWrites)) return false;
      cs.action = HwAction::ToSoftware;
      return true;
    }
    why = noTagWhy_[c.group];
    return false;
  }

  void splitTable(size_t ti) {
    const synth::Table &t = ct_.tables[ti];
    TableSplit &ts = p_.tables[ti];
    ts.classes.resize(t.classes.size());
    for (size_t k = 0; k < t.classes.size(); ++k) {
      ts.classes[k].classId = t.classes[k].id;
      ts.classes[k].group = t.classes[k].group;
    }
    if (ts.deviceTable < 0) {
      Reason r = t.afterState ? Reason::SoftwareTable : Reason::NoDeviceTable;
      for (auto &cs : ts.classes) toSoftware(cs, r, ts.why);
      return;
    }

    const TableLimits &lim = ts.limits;
    uint64_t left = lim.rules, leftL2 = lim.l2Rules;
    const bool levels = lim.priorities != kUnbounded && lim.priorities < t.classes.size();
    const FieldId key = BoxIndex::bestField(t.classes);
    std::vector<BoxIndex> byLevel; // offloaded classes per priority level (level 1 = [0])
    BoxIndex blockers(key);        // classes in software, by position in the table

    for (size_t k = 0; k < t.classes.size(); ++k) {
      const TrafficClass &c = t.classes[k];
      ClassSplit &cs = ts.classes[k];
      std::vector<FieldPlan> plans;
      uint64_t rules = 0;
      Reason r = Reason::Offloaded;
      std::string why;
      FieldId culprit = FieldId::InPort;
      Prerequisites pre;
      bool ok = planMatch(c, plans, pre, rules, r, why, culprit);
      if (ok && !planAction(c, ti, pre, cs, why)) {
        ok = false;
        r = Reason::Action;
      }
      if (!ok) {
        toSoftware(cs, r, why);
        if (r == Reason::Match || r == Reason::TooManyRules) culprit_[c.id] = culprit;
        blockers.add(c.phi, uint32_t(k));
        continue;
      }
      bool l2 = lim.l2Rules != 0;
      for (const auto &fp : plans) l2 = l2 && isL2Field(fp.field);
      uint64_t &pool = l2 ? leftL2 : left;
      if (left == 0 && (lim.l2Rules == 0 || leftL2 == 0)) {
        // The table is full: nothing after this can be offloaded, no need to look for overlaps.
        toSoftware(cs, Reason::Capacity, "table " + std::to_string(t.id) + " of " + dev_.name + " is full");
        continue;
      }
      if (pool != kUnbounded && rules > pool) {
        toSoftware(cs, Reason::Capacity,
                   "it needs " + plural(rules, "rule", "rules") + " and table " + std::to_string(t.id) + " of " +
                       dev_.name + " has room for " + thousands(pool) + (l2 ? " more L2 rules" : " more"));
        blockers.add(c.phi, uint32_t(k));
        continue;
      }
      if (int64_t b = blockers.find(c.phi); b >= 0) {
        const TrafficClass &blocker = t.classes[size_t(b)];
        toSoftware(cs, Reason::Blocked, "it overlaps class " + std::to_string(blocker.id) + ", which runs in software");
        cs.blockedBy = blocker.id;
        blockers.add(c.phi, uint32_t(k));
        continue;
      }
      uint32_t level = 0;
      if (levels && rules > 0) {
        // One below the lowest level holding an offloaded class it overlaps.
        level = 1;
        for (size_t L = byLevel.size(); L >= 1; --L)
          if (byLevel[L - 1].find(c.phi, true) >= 0) {
            level = uint32_t(L + 1);
            break;
          }
        if (level > lim.priorities) {
          toSoftware(cs, Reason::Priorities,
                     "it needs priority level " + std::to_string(level) + " to stay below the classes it overlaps, and " +
                         dev_.name + " has " + thousands(lim.priorities) + " in table " + std::to_string(t.id));
          blockers.add(c.phi, uint32_t(k));
          continue;
        }
        while (byLevel.size() < level) byLevel.emplace_back(key);
        byLevel[level - 1].add(c.phi, uint32_t(k));
        ts.levels = std::max(ts.levels, level);
      }
      if (pool != kUnbounded) pool -= rules;
      (l2 ? ts.l2Rules : ts.rules) += rules;
      cs.hw = true;
      cs.reason = Reason::Offloaded;
      cs.rules = rules;
      cs.priority = level;
      if (rules > 0) { // (a class that matches nothing has no rules, whatever its other fields need)
        for (const auto &fp : plans) cs.fields.push_back(materialize(dev_, fp));
        cs.ipv4 = pre.ipv4;
        cs.vlan = pre.vlan;
        cs.protos = pre.protos;
      }
      ++ts.offloaded;
    }
    complete_[ti] = ts.offloaded == ts.classes.size();
  }

  /// A device table after the first that no offloaded rule jumps into goes back to software.
  void takeBackUnentered() {
    std::vector<bool> entered(p_.tables.size(), false);
    for (size_t i = 0; i < p_.tables.size(); ++i) {
      TableSplit &ts = p_.tables[i];
      if (ts.deviceTable < 0) continue;
      // (With the root jump, the first table is entered from device table 0.)
      if (ts.deviceTable > (p_.rootJump ? 1 : 0) && !entered[i]) {
        ts.why = "no offloaded rule jumps into it";
        for (auto &cs : ts.classes) toSoftware(cs, Reason::NotEntered, ts.why);
        ts.deviceTable = -1;
        ts.rules = ts.l2Rules = 0;
        ts.offloaded = 0;
        ts.levels = 0;
        continue;
      }
      for (const auto &cs : ts.classes)
        if (cs.hw && cs.action == HwAction::Jump) entered[index_.at(cs.jumpTable)] = true;
    }
  }

  // ---- 4. cores, tags -------------------------------------------------------------------------

  void assignCores() {
    unsigned next = 0;
    for (auto &g : p_.groups)
      if (g.needsCore) g.core = int32_t(next++ % p_.cores);
    for (const auto &ts : p_.tables)
      for (const auto &cs : ts.classes) {
        GroupSplit &g = p_.groups[cs.group];
        ++(cs.hw ? g.hwClasses : g.swClasses);
        if (cs.hw && cs.action == HwAction::ToSoftware) g.tagged = true;
      }
  }

  void assignTags() {
    std::array<uint64_t, kNumTagKinds> need{}, next{};
    for (const auto &g : p_.groups)
      if (g.tagged) ++need[size_t(*g.tagKind)];
    for (auto &g : p_.groups) {
      if (!g.tagged) continue;
      size_t k = size_t(*g.tagKind);
      const TagRange &r = *dev_.tagRange[k];
      uint64_t n = *g.tagKind == TagKind::Queue ? uint64_t(g.core) : next[k]++;
      if (n < r.size()) g.tag = r.lo + n;
      else g.tagged = false, g.tag = 0;
    }
    for (size_t k = 0; k < kNumTagKinds; ++k) {
      if (!need[k]) continue;
      const TagRange &r = *dev_.tagRange[k];
      std::string span = std::to_string(r.lo) + "-" + std::to_string(r.hi);
      if (TagKind(k) == TagKind::Queue) {
        if (p_.cores <= r.size()) continue;
        diags_.report(DiagKind::OffloadTags, chainRange(),
                      "the groups of chain '" + p_.chain + "' run on " + thousands(p_.cores) + " cores, but " + dev_.name +
                          " has " + thousands(r.size()) + " queues (" + span + ") to tag them with");
      } else {
        if (need[k] <= r.size()) continue;
        diags_.report(DiagKind::OffloadTags, chainRange(),
                      "chain '" + p_.chain + "' needs " + thousands(need[k]) + " " + tagKindName(TagKind(k)) + " tags on " +
                          dev_.name + ", which has " + thousands(r.size()) + " (" + span + ")");
      }
      p_.ok = false;
    }
  }

  // ---- diagnostics ----------------------------------------------------------------------------

  SourceRange chainRange() const {
    if (!ct_.chain) return {};
    return ct_.chain->nameRange.valid() ? ct_.chain->nameRange : ct_.chain->range;
  }

  /// The rule a class came from: the first rule on its path that constrains \p field (when
  /// given), else the first rule on its path, else the first lookup, else the chain.
  SourceRange classRange(const TrafficClass &c, std::optional<FieldId> field) const {
    if (!ct_.chain) return {};
    const ir::Chain &ch = *ct_.chain;
    SourceRange first, lookup;
    for (const auto &st : c.path) {
      if (st.node >= ch.nodes.size() || !ch.nodes[st.node].nf) continue;
      const ir::NF &nf = *ch.nodes[st.node].nf;
      if (st.element >= nf.elements.size()) continue;
      const ir::Element *el = nf.elements[st.element].get();
      if (const auto *cl = ir::dyn_cast<ir::Classifier>(el)) {
        SourceRange r;
        if (st.rule > 0 && size_t(st.rule) <= cl->rules.size()) {
          const ir::Rule &rule = cl->rules[size_t(st.rule) - 1];
          r = rule.range;
          if (field && rule.find(*field) && r.valid()) return r;
        } else if (st.rule == 0) {
          r = cl->defaultAction.range;
        }
        if (!first.valid() && r.valid()) first = r;
      } else if (el->kind == ir::ElementKind::Lookup && !lookup.valid()) {
        lookup = el->range;
      }
    }
    if (first.valid()) return first;
    if (lookup.valid()) return lookup;
    return chainRange();
  }

  struct Agg {
    SourceRange range;
    std::string why;
    uint64_t classes = 0;
    SourceRange blockerRange; ///< offload-priority: where the blocking class came from
    uint32_t blocker = 0;
  };

  void report() {
    // Per rule: offload-unsupported and offload-priority, aggregated by (location, reason).
    std::map<std::tuple<FileID, uint32_t, std::string>, size_t> unsupIdx, prioIdx;
    std::vector<Agg> unsup, prio;
    for (size_t ti = 0; ti < ct_.tables.size(); ++ti) {
      const TableSplit &ts = p_.tables[ti];
      for (size_t k = 0; k < ts.classes.size(); ++k) {
        const ClassSplit &cs = ts.classes[k];
        const TrafficClass &c = ct_.tables[ti].classes[k];
        if (cs.reason == Reason::Match || cs.reason == Reason::TooManyRules || cs.reason == Reason::Action) {
          auto it = culprit_.find(c.id);
          SourceRange r = classRange(c, it == culprit_.end() ? std::nullopt : std::optional<FieldId>(it->second));
          auto key = std::make_tuple(r.begin.file, r.begin.offset, cs.why);
          auto [pos, fresh] = unsupIdx.emplace(key, unsup.size());
          if (fresh) unsup.push_back({r, cs.why, 0, {}, 0});
          ++unsup[pos->second].classes;
        } else if (cs.reason == Reason::Blocked) {
          SourceRange r = classRange(c, std::nullopt);
          auto key = std::make_tuple(r.begin.file, r.begin.offset, std::string());
          auto [pos, fresh] = prioIdx.emplace(key, prio.size());
          if (fresh) {
            const TrafficClass *b = ct_.findClass(uint32_t(cs.blockedBy));
            prio.push_back({r, "", 0, b ? classRange(*b, std::nullopt) : SourceRange{}, uint32_t(cs.blockedBy)});
          }
          ++prio[pos->second].classes;
        }
      }
    }
    auto classesSuffix = [](uint64_t n) { return n > 1 ? " (" + thousands(n) + " classes)" : std::string(); };
    Diagnostic *last = nullptr;
    for (size_t i = 0; i < unsup.size() && i < o_.maxClassWarnings; ++i)
      last = diags_.report(DiagKind::OffloadUnsupported, unsup[i].range,
                           "rule not offloaded to " + dev_.name + ": " + unsup[i].why + classesSuffix(unsup[i].classes));
    if (unsup.size() > o_.maxClassWarnings && last)
      diags_.note(last, {}, thousands(unsup.size() - o_.maxClassWarnings) +
                                " more rules cannot be offloaded; `metronc synth --emit split` lists every class");
    last = nullptr;
    for (size_t i = 0; i < prio.size() && i < o_.maxClassWarnings; ++i) {
      last = diags_.report(DiagKind::OffloadPriority, prio[i].range,
                           "rule kept in software: it overlaps a higher-priority rule that runs in software on " + dev_.name +
                               ", and offloading it would reorder them" + classesSuffix(prio[i].classes));
      if (last) diags_.note(last, prio[i].blockerRange, "the higher-priority rule (class " + std::to_string(prio[i].blocker) + ")");
    }
    if (prio.size() > o_.maxClassWarnings && last)
      diags_.note(last, {}, thousands(prio.size() - o_.maxClassWarnings) +
                                " more rules are kept in software for the same reason; `metronc synth --emit split` lists every class");

    // Per table: offload-capacity.
    for (size_t ti = 0; ti < ct_.tables.size(); ++ti) {
      const TableSplit &ts = p_.tables[ti];
      uint64_t cap = 0, lev = 0;
      for (const auto &cs : ts.classes) {
        cap += cs.reason == Reason::Capacity;
        lev += cs.reason == Reason::Priorities;
      }
      std::string of = thousands(ts.offloaded) + " of " + plural(ts.classes.size(), "class", "classes") + " of table " +
                       std::to_string(ts.table) + " offloaded";
      if (cap) {
        std::string holds = ts.limits.l2Rules ? thousands(ts.limits.rules) + " L3/L4 rules and " + thousands(ts.limits.l2Rules) + " L2 rules"
                                              : plural(ts.limits.rules, "rule", "rules");
        std::string in = ts.deviceTable > 0 ? " in table " + std::to_string(ts.deviceTable) : "";
        diags_.report(DiagKind::OffloadCapacity, chainRange(),
                      dev_.name + " holds " + holds + in + ": " + of + ", the rest run in software");
      }
      if (lev)
        diags_.report(DiagKind::OffloadCapacity, chainRange(),
                      dev_.name + " has " + plural(ts.limits.priorities, "priority level", "priority levels") + ": " +
                          plural(lev, "class", "classes") + " of table " + std::to_string(ts.table) + " would need more and " +
                          (lev == 1 ? "runs" : "run") + " in software");
    }
    if (!noTable_.empty()) {
      std::string list;
      for (uint32_t t : noTable_) list += (list.empty() ? "" : ", ") + std::to_string(t);
      diags_.report(DiagKind::OffloadCapacity, chainRange(),
                    dev_.name + " has " + plural(dev_.tableCount, "table", "tables") + ": " +
                        (noTable_.size() == 1 ? "table " : "tables ") + list + " of chain '" + p_.chain + "' " +
                        (noTable_.size() == 1 ? "runs" : "run") + " in software");
    }
  }

  const ChainTables &ct_;
  const DeviceProfile &dev_;
  const SplitOptions &o_;
  DiagnosticEngine &diags_;
  SplitPlan &p_;
  std::map<uint32_t, size_t> index_;          ///< table id -> index
  std::vector<bool> complete_;                ///< per table index: every class offloaded
  std::vector<bool> allWritesHw_;             ///< per group: the device supports every leading write
  std::vector<std::string> noTagWhy_;         ///< per group without a tag kind
  std::map<uint32_t, FieldId> culprit_;       ///< class id -> the field it failed on
  std::vector<uint32_t> noTable_;             ///< tables left without a device table
};

} // namespace

SplitPlan splitChain(const ir::Module &, const ChainTables &t, const DeviceProfile &dev, const SplitOptions &o,
                     DiagnosticEngine &diags) {
  SplitPlan p;
  p.device = dev;
  p.cores = std::max(1u, o.cores);
  p.chain = t.chain ? t.chain->name : "";
  Splitter(t, dev, o, diags, p).run();
  return p;
}

} // namespace metron::split
