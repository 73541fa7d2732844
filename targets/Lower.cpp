//===- targets/Lower.cpp - From the split and the placement to device rules ----------------===//
///
/// \file
/// Implements lower() as documented in Lower.h. Priorities on the classifier: the class at
/// position k of a table of n classes gets 2(n - k) (or, when the split computed priority
/// levels, 2(levels - level + 1)); its mirrored return-path rules get one more, which puts them
/// above their class and below every class before it; the default rule gets 0. A table too
/// large for two slots per class uses one and has no mirrored rules (a warning says so).
//===----------------------------------------------------------------------------------------===//
#include "targets/Lower.h"

#include "lang/Diagnostics.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace metron::targets {

using ir::FieldId;
using split::ClassSplit;
using split::DeviceMatch;
using split::DeviceProfile;
using split::GroupSplit;
using split::TagKind;
using synth::WriteExpr;

namespace {

const ir::Napt *naptOf(const synth::Op &op) {
  if (op.kind != synth::Op::Stateful || !op.el || op.el->kind != ir::ElementKind::Napt) return nullptr;
  return static_cast<const ir::Napt *>(op.el);
}

bool isL4(FieldId f) {
  return f == FieldId::TpSrc || f == FieldId::TpDst || f == FieldId::TcpFlags || f == FieldId::IcmpType ||
         f == FieldId::IcmpCode;
}

bool protoHas(unsigned p, FieldId f) {
  if (f == FieldId::TpSrc || f == FieldId::TpDst) return p == 6 || p == 17;
  if (f == FieldId::TcpFlags) return p == 6;
  return p == 1;
}

/// a ∩ b on one field; false when empty. Ternary ∩ ternary stays ternary; with a range on
/// either side the result is a range (with the ternary part as its mask) or, when the ternary
/// side is a block inside the range, that block.
bool intersect(const DeviceMatch &a, const DeviceMatch &b, DeviceMatch &out) {
  const uint64_t maxv = ir::fieldInfo(a.field).maxValue();
  auto span = [&](const DeviceMatch &d, uint64_t &lo, uint64_t &hi) {
    if (d.isRange) lo = d.lo, hi = d.hi;
    else lo = d.value & d.mask, hi = (d.value & d.mask) | (~d.mask & maxv);
  };
  if ((a.value ^ b.value) & a.mask & b.mask) return false;
  out = a;
  out.value = (a.value & a.mask) | (b.value & b.mask);
  out.mask = a.mask | b.mask;
  if (!a.isRange && !b.isRange) return true;
  uint64_t alo, ahi, blo, bhi;
  span(a, alo, ahi);
  span(b, blo, bhi);
  uint64_t lo = std::max(alo, blo), hi = std::min(ahi, bhi);
  if (lo > hi) return false;
  const DeviceMatch &tern = a.isRange ? b : a, &rng = a.isRange ? a : b;
  if (!tern.isRange && lo == (tern.value & tern.mask) && hi == ((tern.value & tern.mask) | (~tern.mask & maxv)) &&
      rng.mask == 0) {
    out = tern; // the block lies inside the range
    return true;
  }
  out.isRange = true;
  out.lo = lo, out.hi = hi;
  return true;
}

/// The cross product of per-field alternatives, calling \p f with each combination.
void crossProduct(const std::vector<std::vector<DeviceMatch>> &alts, std::vector<DeviceMatch> &cur, size_t i,
                  const std::function<void(const std::vector<DeviceMatch> &)> &f) {
  if (i == alts.size()) {
    f(cur);
    return;
  }
  for (const auto &d : alts[i]) {
    cur.push_back(d);
    crossProduct(alts, cur, i + 1, f);
    cur.pop_back();
  }
}

std::string groupNote(uint32_t g) { return "group " + std::to_string(g); }

class Lowerer {
public:
  Lowerer(const ir::Module &m, const synth::ChainTables &t, const split::SplitPlan &p, const Site &s,
          const std::vector<PathElement> &before, const std::vector<PathElement> &after,
          const std::vector<ReturnPoint> &rets)
      : m_(m), t_(t), p_(p), site_(s), before_(before), after_(after), rets_(rets) {}

  Lowering run() {
    out_.napt = naptPartitions(t_, p_);
    for (size_t gi = 0; gi < p_.groups.size(); ++gi) {
      const GroupSplit &g = p_.groups[gi];
      if (g.tagged) {
        out_.tags.push_back({*g.tagKind, g.tag, g.group, uint32_t(std::max(g.core, 0)), false});
        nextTag_[size_t(*g.tagKind)] = std::max(nextTag_[size_t(*g.tagKind)], g.tag + 1);
      }
    }
    for (size_t k = 0; k < split::kNumTagKinds; ++k)
      if (p_.device.tagRange[k] && nextTag_[k] < p_.device.tagRange[k]->lo) nextTag_[k] = p_.device.tagRange[k]->lo;
    for (const auto &e : before_) {
      DeviceRules &d = deviceFor(e.element, e.profile, e.kind);
      Rule r;
      r.priority = 1;
      r.inPort = e.inPort;
      r.actions.push_back({ActionKind::Output, FieldId::InPort, e.outPort, e.outName});
      r.role = RuleRole::Path;
      r.note = "chain traffic on towards " + site_.element + ", which classifies it";
      d.rules.push_back(std::move(r));
    }
    DeviceRules cls;
    cls.element = site_.element;
    cls.profile = site_.profile;
    cls.kind = site_.kind;
    for (size_t ti = 0; ti < p_.tables.size(); ++ti)
      if (p_.tables[ti].deviceTable >= 0) classifierTable(ti, cls);
    // One rule per chain ingress port entering here: the root jump, then the default.
    auto perIngress = [&](uint32_t priority, Action act, RuleRole role, const std::string &what) {
      for (size_t cp = 0; cp < site_.ingressPort.size(); ++cp)
        if (site_.ingressPort[cp] >= 0) {
          Rule r;
          r.priority = priority;
          r.inPort = uint32_t(site_.ingressPort[cp]);
          r.actions.push_back(act);
          r.role = role;
          r.note = "chain port " + m_.portNames[cp] + ": " + what;
          cls.rules.push_back(std::move(r));
        }
    };
    if (p_.rootJump)
      perIngress(1, {ActionKind::Jump, FieldId::InPort, 1, ""}, RuleRole::Root,
                 "the classifier is in table 1 (more priority levels)");
    if (site_.kind == DeviceProfile::Switch)
      perIngress(0, {ActionKind::Output, FieldId::InPort, uint64_t(site_.toServer), site_.toServerName},
                 RuleRole::Default, "what no rule above takes goes to the server untagged");
    out_.devices.push_back(std::move(cls));
    for (const auto &e : after_) pathElement(e);
    for (const auto &r : rets_) returnRule(r);
    for (auto &d : out_.devices) finish(d);
    return std::move(out_);
  }

private:
  const ir::Module &m_;
  const synth::ChainTables &t_;
  const split::SplitPlan &p_;
  const Site &site_;
  const std::vector<PathElement> &before_;
  const std::vector<PathElement> &after_;
  const std::vector<ReturnPoint> &rets_;
  Lowering out_;
  std::array<uint64_t, split::kNumTagKinds> nextTag_{};
  std::map<std::pair<uint32_t, uint32_t>, size_t> mirrorTag_; ///< (group, core) → index in out_.tags

  /// The actions that write Ω's leading writes on the device.
  void writeActions(const std::vector<WriteExpr> &ws, std::vector<Action> &acts) {
    for (const auto &w : ws) {
      if (w.kind == WriteExpr::DecBy) {
        for (uint64_t i = 0; i < w.value; ++i) acts.push_back({ActionKind::DecTtl, FieldId::IpTtl, 0, ""});
        continue;
      }
      METRON_INTERNAL_ASSERT(w.kind == WriteExpr::Const, "a device write that is not a constant: " + w.str());
      acts.push_back({ActionKind::Set, w.field, w.value, ""});
    }
  }

  void tagActions(TagKind kind, uint64_t tag, uint32_t core, std::vector<Action> &acts) {
    switch (kind) {
    case TagKind::Vlan: acts.push_back({ActionKind::PushVlan, FieldId::VlanId, tag, ""}); break;
    case TagKind::Mac: acts.push_back({ActionKind::Set, FieldId::EthDst, 0x020000000000ull | (tag & 0xffff), ""}); break;
    case TagKind::Mark:
      acts.push_back({ActionKind::Mark, FieldId::InPort, tag, ""});
      acts.push_back({ActionKind::Queue, FieldId::InPort, core, ""});
      break;
    case TagKind::Queue: acts.push_back({ActionKind::Queue, FieldId::InPort, core, ""}); break;
    }
    if (site_.kind == DeviceProfile::Switch)
      acts.push_back({ActionKind::Output, FieldId::InPort, uint64_t(site_.toServer), site_.toServerName});
  }

  /// The tag that sends group \p g's packets to core \p core instead of its own.
  bool mirrorTag(const GroupSplit &g, uint32_t core, uint64_t &tag) {
    auto key = std::make_pair(g.group, core);
    if (auto it = mirrorTag_.find(key); it != mirrorTag_.end()) {
      tag = out_.tags[it->second].value;
      return true;
    }
    TagKind k = *g.tagKind;
    if (k == TagKind::Queue) tag = core;
    else {
      const auto &range = p_.device.tagRange[size_t(k)];
      if (!range || nextTag_[size_t(k)] > range->hi) return false;
      tag = nextTag_[size_t(k)]++;
    }
    mirrorTag_[key] = out_.tags.size();
    out_.tags.push_back({k, tag, g.group, core, true});
    return true;
  }

  /// The rules of one class (or of a mirror of it, with \p extra fields intersected in and
  /// the protocols limited to \p onlyProtos).
  void classRules(const ClassSplit &cs, uint32_t table, uint32_t priority, RuleRole role,
                  const std::vector<DeviceMatch> &extra, const std::vector<uint8_t> &onlyProtos,
                  const std::vector<Action> &acts, const std::string &note, DeviceRules &d) {
    std::vector<uint8_t> protos = cs.protos;
    if (!onlyProtos.empty()) {
      if (protos.empty()) protos = onlyProtos;
      else {
        std::vector<uint8_t> keep;
        for (uint8_t p : protos)
          if (std::find(onlyProtos.begin(), onlyProtos.end(), p) != onlyProtos.end()) keep.push_back(p);
        protos = keep;
        if (protos.empty()) return;
      }
    }
    // Per field: the class's alternatives ∩ the extra constraint on that field.
    std::vector<std::vector<DeviceMatch>> alts;
    std::vector<DeviceMatch> ports;
    bool hasPort = false;
    std::set<FieldId> seen;
    for (const auto &fieldAlts : cs.fields) {
      if (fieldAlts.empty()) return;
      FieldId f = fieldAlts.front().field;
      seen.insert(f);
      std::vector<DeviceMatch> v;
      const DeviceMatch *x = nullptr;
      for (const auto &e : extra)
        if (e.field == f) x = &e;
      for (const auto &a : fieldAlts) {
        DeviceMatch r;
        if (!x) v.push_back(a);
        else if (intersect(a, *x, r)) v.push_back(r);
      }
      if (v.empty()) return; // the mirror cannot reach this class
      if (f == FieldId::InPort) {
        hasPort = true;
        ports = v;
      } else {
        alts.push_back(std::move(v));
      }
    }
    for (const auto &e : extra)
      if (!seen.count(e.field)) alts.push_back({e});
    // in_port: the element ports of the chain ports the class admits.
    std::vector<std::optional<uint32_t>> inPorts;
    for (size_t cp = 0; cp < site_.ingressPort.size(); ++cp) {
      if (site_.ingressPort[cp] < 0) continue;
      bool ok = !hasPort;
      for (const auto &pm : ports) ok = ok || (cp & pm.mask) == (pm.value & pm.mask);
      if (ok) inPorts.push_back(uint32_t(site_.ingressPort[cp]));
    }
    if (site_.ingressPort.empty()) inPorts.push_back(std::nullopt);
    if (table > 0 && !hasPort) inPorts = {std::nullopt}; // reached by a jump: no port to match
    std::vector<int> protoList;
    if (protos.empty()) protoList.push_back(0);
    for (uint8_t p : protos) protoList.push_back(p);
    for (int proto : protoList) {
      // With a protocol prerequisite (a mirror's tcp|udp on a class that matched ip.proto or
      // eth.type as plain fields), those fields are implied: keep the alternatives that admit
      // the protocol, and drop the field.
      std::vector<std::vector<DeviceMatch>> use;
      bool dead = false;
      for (const auto &a : alts) {
        FieldId f = a.front().field;
        if (proto != 0 && (f == FieldId::IpProto || f == FieldId::EthType)) {
          uint64_t want = f == FieldId::IpProto ? uint64_t(proto) : 0x0800;
          bool admits = false;
          for (const auto &x : a)
            admits = admits || (x.isRange ? x.lo <= want && want <= x.hi && (want & x.mask) == (x.value & x.mask)
                                          : (want & x.mask) == (x.value & x.mask));
          dead = dead || !admits;
          continue;
        }
        if (proto == 0 || !isL4(f) || protoHas(unsigned(proto), f)) use.push_back(a);
      }
      if (dead) continue;
      std::vector<DeviceMatch> cur;
      crossProduct(use, cur, 0, [&](const std::vector<DeviceMatch> &ms) {
        for (const auto &ip : inPorts) {
          Rule r;
          r.table = table;
          r.priority = priority;
          r.inPort = ip;
          r.ipv4 = cs.ipv4 || proto != 0;
          r.vlan = cs.vlan;
          r.proto = uint8_t(proto);
          r.match = ms;
          std::sort(r.match.begin(), r.match.end(),
                    [](const DeviceMatch &a, const DeviceMatch &b) { return a.field < b.field; });
          r.actions = acts;
          r.role = role;
          r.classId = cs.classId;
          r.group = cs.group;
          r.note = note;
          d.rules.push_back(std::move(r));
        }
      });
    }
  }

  std::string classNote(uint32_t classId) {
    const synth::TrafficClass *c = t_.findClass(classId);
    std::string s = "class " + std::to_string(classId);
    if (!c) return s;
    for (const auto &st : c->path) {
      const auto &node = t_.chain->nodes[st.node];
      s += (st.node == c->path.front().node && &st == &c->path.front() ? ": " : ", ") + node.name + " " +
           (st.rule ? "rule " + std::to_string(st.rule) : std::string("default"));
    }
    return s;
  }

  void classifierTable(size_t ti, DeviceRules &d) {
    const split::TableSplit &ts = p_.tables[ti];
    const uint32_t dt = uint32_t(ts.deviceTable);
    d.tables = std::max(d.tables, dt + 1);
    const uint64_t n = ts.classes.size();
    const uint64_t limit = p_.device.limits(dt).priorities;
    const bool levels = ts.levels > 0;
    const uint64_t span = levels ? ts.levels : n;
    // Two priority slots per class only where mirrored NAPT rules may need the second.
    bool mirrors = false;
    for (const auto &np : out_.napt) mirrors = mirrors || np.parts.size() > 1;
    const bool twoSlots = mirrors && (limit == split::kUnbounded || 2 * span + 1 <= limit);
    bool mirrorsDropped = false;
    for (size_t k = 0; k < n; ++k) {
      const ClassSplit &cs = ts.classes[k];
      if (!cs.hw || cs.rules == 0) continue; // (a class that matches no packet has no rules)
      uint64_t pos = levels ? span - cs.priority + 1 : n - k;
      uint32_t prio = uint32_t(twoSlots ? 2 * pos : pos);
      const GroupSplit &g = p_.groups[cs.group];
      const synth::Omega &w = t_.groups[cs.group].omega;
      std::vector<Action> acts;
      std::string note = classNote(cs.classId);
      switch (cs.action) {
      case split::HwAction::Drop: acts.push_back({ActionKind::Drop, FieldId::InPort, 0, ""}); break;
      case split::HwAction::Jump: {
        if (const synth::Op *lw = w.leadingWrites()) writeActions(lw->writes, acts);
        int64_t target = -1;
        for (const auto &x : p_.tables)
          if (x.table == cs.jumpTable) target = x.deviceTable;
        METRON_INTERNAL_ASSERT(target > int64_t(dt), "a jump to a table that is not on the device after this one");
        acts.push_back({ActionKind::Jump, FieldId::InPort, uint64_t(target), ""});
        break;
      }
      case split::HwAction::ToSoftware:
        writeActions(g.hwWrites, acts);
        tagActions(*g.tagKind, g.tag, uint32_t(std::max(g.core, 0)), acts);
        note += ", " + groupNote(g.group) + " on core " + std::to_string(g.core);
        break;
      }
      classRules(cs, dt, prio, RuleRole::Class, {}, {}, acts, note, d);

      // Mirrored rules: the return path of flows NAPT'ed by this class's group.
      if (cs.action != split::HwAction::ToSoftware) continue;
      for (const auto &op : w.ops) {
        const ir::Napt *nat = naptOf(op);
        if (!nat) continue;
        const NaptPartition *part = nullptr;
        for (const auto &np : out_.napt)
          if (np.node == op.node && np.element == op.element) part = &np;
        if (!part) continue;
        for (const auto &pp : part->parts) {
          if (int32_t(pp.core) == g.core) continue;
          if (!twoSlots) {
            mirrorsDropped = true; // (only reached when mirrors exist)
            continue;
          }
          // The rules first (with the actions filled in below): a class whose Φ cannot hold a
          // return packet for this part gets none, and then no tag is spent on it.
          const bool srcNat = nat->field == FieldId::IpSrc;
          DeviceMatch a;
          a.field = srcNat ? FieldId::IpDst : FieldId::IpSrc;
          a.value = nat->address;
          a.mask = 0xffffffffu;
          DeviceRules mirrors;
          for (auto [v, msk] : split::rangeToPrefixes(pp.lo, pp.hi, 16)) {
            DeviceMatch tp;
            tp.field = srcNat ? FieldId::TpDst : FieldId::TpSrc;
            tp.value = v, tp.mask = msk;
            classRules(cs, dt, prio + 1, RuleRole::Mirror, {a, tp}, {6, 17}, {},
                       "return path of " + part->nf + " ports " + std::to_string(pp.lo) + "-" +
                           std::to_string(pp.hi) + " (core " + std::to_string(pp.core) + ") in class " +
                           std::to_string(cs.classId),
                       mirrors);
          }
          if (mirrors.rules.empty()) continue;
          uint64_t tag;
          if (!mirrorTag(g, pp.core, tag)) {
            out_.warnings.push_back("no " + std::string(split::tagKindName(*g.tagKind)) + " tag left on " +
                                    p_.device.name + " for the return path of group " + std::to_string(g.group) +
                                    " to core " + std::to_string(pp.core) + ": those packets reach core " +
                                    std::to_string(g.core) + ", which has no mapping for them");
            continue;
          }
          std::vector<Action> macts;
          writeActions(g.hwWrites, macts);
          tagActions(*g.tagKind, tag, pp.core, macts);
          for (auto &r : mirrors.rules) {
            r.actions = macts;
            d.rules.push_back(std::move(r));
          }
        }
      }
    }
    if (mirrorsDropped)
      out_.warnings.push_back("table " + std::to_string(ts.table) + " of " + p_.device.name +
                              " has too few priority levels for mirrored NAPT return rules: return traffic of other "
                              "cores' flows is not steered by the device");
  }

  DeviceRules &deviceFor(const std::string &element, const std::string &profile, DeviceProfile::Kind kind) {
    for (auto &d : out_.devices)
      if (d.element == element) return d;
    DeviceRules d;
    d.element = element;
    d.profile = profile;
    d.kind = kind;
    out_.devices.push_back(std::move(d));
    return out_.devices.back();
  }

  void pathElement(const PathElement &e) {
    DeviceRules &d = deviceFor(e.element, e.profile, e.kind);
    if (e.kind == DeviceProfile::Switch) {
      // Tagged chain traffic, by its tag alone (paper §2.3.3), then the rest of it.
      for (const auto &tu : out_.tags) {
        Rule r;
        r.priority = 2;
        r.inPort = e.inPort;
        if (!tagMatch(tu, r)) continue;
        r.actions.push_back({ActionKind::Output, FieldId::InPort, e.outPort, e.outName});
        r.role = RuleRole::Path;
        r.group = tu.group;
        r.note = "tag of " + groupNote(tu.group) + " towards the server";
        d.rules.push_back(std::move(r));
      }
      Rule r;
      r.priority = 1;
      r.inPort = e.inPort;
      r.actions.push_back({ActionKind::Output, FieldId::InPort, e.outPort, e.outName});
      r.role = RuleRole::Path;
      r.note = "untagged chain traffic towards the server";
      d.rules.push_back(std::move(r));
      return;
    }
    // The server's NIC behind a tagging switch: tag → the queue of its core. A VLAN tag is
    // popped and given to the data plane as the packet's mark (the value the generated code
    // dispatches on), so that the core sees the frame as the switch left it, untagged, exactly
    // as behind a NIC that classified it itself. A MAC tag replaced eth.dst and cannot be undone:
    // only its queue is set.
    for (const auto &tu : out_.tags) {
      Rule r;
      r.priority = 1;
      r.inPort = e.inPort;
      if (!tagMatch(tu, r)) continue;
      FieldId f = tu.kind == TagKind::Vlan ? FieldId::VlanId : FieldId::EthDst;
      if (!e.device || e.device->supports(f) == split::MatchSupport::None) {
        out_.warnings.push_back(e.element + " (" + e.profile + ") cannot match " + ir::fieldInfo(f).name +
                                ", the tag " + site_.element + " puts on packets: the server dispatches them in software");
        d.rules.clear();
        return;
      }
      if (tu.kind == TagKind::Vlan) {
        r.actions.push_back({ActionKind::PopVlan, FieldId::VlanId, 0, ""});
        r.actions.push_back({ActionKind::Mark, FieldId::InPort, tu.value, ""});
      }
      r.actions.push_back({ActionKind::Queue, FieldId::InPort, tu.core, ""});
      r.role = RuleRole::Dispatch;
      r.group = tu.group;
      r.note = groupNote(tu.group) + " to core " + std::to_string(tu.core);
      d.rules.push_back(std::move(r));
    }
  }

  /// The match on a tag a switch put on packets.
  static bool tagMatch(const TagUse &tu, Rule &r) {
    DeviceMatch dm;
    if (tu.kind == TagKind::Vlan) {
      dm.field = FieldId::VlanId;
      dm.value = tu.value, dm.mask = 0xfff;
      r.vlan = true;
    } else if (tu.kind == TagKind::Mac) {
      dm.field = FieldId::EthDst;
      dm.value = 0x020000000000ull | (tu.value & 0xffff), dm.mask = 0xffffffffffffull;
    } else {
      return false; // queue and mark tags exist only inside a NIC
    }
    r.match.push_back(dm);
    return true;
  }

  void returnRule(const ReturnPoint &rp) {
    DeviceRules *d = nullptr;
    for (auto &x : out_.devices)
      if (x.element == rp.element) d = &x;
    METRON_INTERNAL_ASSERT(d, "a return point on " + rp.element + ", which has no rules (only path switches do)");
    Rule r;
    r.priority = 1;
    r.inPort = rp.fromServer;
    r.actions.push_back({ActionKind::Output, FieldId::InPort, rp.port, rp.portName});
    r.role = RuleRole::Return;
    r.note = "from the server out of " + rp.portName;
    d->rules.push_back(std::move(r));
  }

  static void finish(DeviceRules &d) {
    std::stable_sort(d.rules.begin(), d.rules.end(), [](const Rule &a, const Rule &b) {
      return a.table != b.table ? a.table < b.table : a.priority > b.priority;
    });
    d.maxPriority = 0;
    for (const auto &r : d.rules) {
      d.maxPriority = std::max(d.maxPriority, r.priority);
      d.tables = std::max(d.tables, r.table + 1);
    }
    d.tableMaxPriority.assign(d.tables, 0);
    for (const auto &r : d.rules) d.tableMaxPriority[r.table] = std::max(d.tableMaxPriority[r.table], r.priority);
  }
};

} // namespace

std::vector<NaptPartition> naptPartitions(const synth::ChainTables &t, const split::SplitPlan &p) {
  std::map<std::pair<uint32_t, uint32_t>, NaptPartition> byEl;
  std::map<std::pair<uint32_t, uint32_t>, std::set<uint32_t>> cores;
  for (size_t gi = 0; gi < t.groups.size(); ++gi) {
    const GroupSplit &g = p.groups[gi];
    if (g.core < 0) continue;
    for (const auto &op : t.groups[gi].omega.ops)
      if (const ir::Napt *nat = naptOf(op)) {
        auto key = std::make_pair(op.node, op.element);
        NaptPartition &np = byEl[key];
        np.node = op.node, np.element = op.element;
        np.nf = t.chain->nodes[op.node].name;
        np.field = nat->field;
        np.address = nat->address;
        np.portLo = nat->portLo, np.portHi = nat->portHi;
        cores[key].insert(uint32_t(g.core));
      }
  }
  std::vector<NaptPartition> out;
  for (auto &[key, np] : byEl) {
    const auto &cs = cores[key];
    const uint64_t n = uint64_t(np.portHi) - np.portLo + 1, k = cs.size();
    uint64_t i = 0;
    for (uint32_t c : cs) {
      uint64_t lo = np.portLo + i * n / k, hi = np.portLo + (i + 1) * n / k - 1;
      if (lo <= hi) np.parts.push_back({c, uint16_t(lo), uint16_t(hi)});
      ++i;
    }
    out.push_back(np);
  }
  return out;
}

Lowering lower(const ir::Module &m, const synth::ChainTables &t, const split::SplitPlan &p, const Site &classifier,
               const std::vector<PathElement> &before, const std::vector<PathElement> &after,
               const std::vector<ReturnPoint> &returns) {
  return Lowerer(m, t, p, classifier, before, after, returns).run();
}

} // namespace metron::targets
