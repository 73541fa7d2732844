//===- targets/rteflow/RteFlow.cpp - rte_flow rules as testpmd lines and JSON ----------------===//
///
/// \file
/// Both printers go through one small model of an rte_flow rule (Item, ItemField, Act), built
/// from a targets::Rule by buildFlow(), so the testpmd line and the JSON object of a rule
/// always say the same thing. The syntax is dpdk-testpmd 22.11's (app/test-pmd/cmdline_flow.c),
/// checked against the real parser by tests/tools/testpmd-check.sh; see RteFlow.h for the
/// forms used.
//===----------------------------------------------------------------------------------------===//
#include "targets/rteflow/RteFlow.h"

#include "lang/Diagnostics.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace metron::targets::rteflow {

using ir::FieldId;
using Json = nlohmann::ordered_json;

namespace {

/// testpmd's line buffer holds 512 characters; `flow validate` (how tests/tools/testpmd-check.sh
/// feeds a rule) is 2 longer than `flow create`.
constexpr size_t kMaxLine = 510;

// ---- the model -----------------------------------------------------------------------------------

/// How a value is written: testpmd accepts all of these for the fields they are used on.
enum class Fmt : uint8_t { Dec, Hex2, Hex4, Ipv4, Mac };

std::string fmtText(Fmt f, uint64_t v) {
  char b[32];
  switch (f) {
  case Fmt::Dec: return std::to_string(v);
  case Fmt::Hex2: snprintf(b, sizeof b, "0x%02" PRIx64, v); return b;
  case Fmt::Hex4: snprintf(b, sizeof b, "0x%04" PRIx64, v); return b;
  case Fmt::Ipv4: return ir::ipv4Str(uint32_t(v));
  case Fmt::Mac: return ir::macStr(v);
  }
  return std::to_string(v);
}

Json fmtJson(Fmt f, uint64_t v) {
  if (f == Fmt::Ipv4 || f == Fmt::Mac) return fmtText(f, v);
  return v;
}

/// One field of a pattern item: (x & mask) == spec, or spec <= (x & mask) <= last.
struct ItemField {
  const char *name;      ///< testpmd's field name ("src", "tci", "flags")
  uint64_t full;         ///< the all-ones mask of the field (an exact match prints as `is`)
  Fmt valueFmt, maskFmt;
  uint64_t spec = 0, mask = 0;
  bool range = false;
  uint64_t last = 0;
  bool exact() const { return !range && mask == full; }
};

struct Item {
  const char *type; ///< "eth", "vlan", "ipv4", "tcp", "udp", "icmp"
  std::vector<ItemField> fields;
};

struct Param {
  const char *name;
  Fmt fmt;
  uint64_t value;
};

struct Act {
  const char *type; ///< testpmd's action name
  std::vector<Param> params;
};

struct Flow {
  uint32_t port = 0, group = 0, priority = 0;
  std::vector<Item> pattern;
  std::vector<Act> actions;
};

/// "rte_flow rule (class, class 12: fw1_5K rule 33)": where an internal error is.
std::string where(const Rule &rule) {
  return "rte_flow rule (" + std::string(ruleRoleName(rule.role)) + (rule.note.empty() ? "" : ", " + rule.note) + ")";
}

/// A field match reduced to value/mask/range within `width` bits (mask 0: no constraint).
struct Sub {
  uint64_t value = 0, mask = 0;
  bool range = false;
  uint64_t lo = 0, hi = 0;
};

Sub reduce(const DeviceMatch &m, unsigned width) {
  const uint64_t full = width >= 64 ? ~0ull : (1ull << width) - 1;
  Sub s;
  if (m.isRange) {
    uint64_t lo = std::min(m.lo, full), hi = std::min(m.hi, full);
    if (lo == 0 && hi == full) return s; // everything
    if (lo == hi) {
      s.value = lo;
      s.mask = full;
      return s;
    }
    s.range = true;
    s.lo = lo;
    s.hi = hi;
    s.mask = full;
    return s;
  }
  s.mask = m.mask & full;
  s.value = m.value & s.mask;
  return s;
}

/// Adds field `f` (a plain one: its value is the item field's value) to `it` when it constrains.
void addPlain(Item &it, const char *name, unsigned width, Fmt vf, Fmt mf, const DeviceMatch *m) {
  if (!m) return;
  Sub s = reduce(*m, width);
  if (s.mask == 0) return;
  ItemField f{name, width >= 64 ? ~0ull : (1ull << width) - 1, vf, mf};
  f.mask = s.mask;
  if (s.range) {
    f.range = true;
    f.spec = s.lo;
    f.last = s.hi;
  } else {
    f.spec = s.value;
  }
  it.fields.push_back(f);
}

/// Adds one item field made of sub-fields at bit offsets (vlan.pcp << 13 | vlan.id into tci,
/// ip.dscp << 2 into tos). A range on a sub-field becomes a range on the whole field with the
/// other sub-fields at their value: exact when the only ranged sub-field is the lowest one
/// constrained (vlan.id; ip.dscp); a range on vlan.pcp together with a vlan.id match
/// over-approximates (rte_flow compares the masked tci as one number; the lowering never
/// produces it).
void addComposite(Item &it, const char *name, unsigned width, Fmt fmt,
                  std::initializer_list<std::pair<const DeviceMatch *, std::pair<unsigned, unsigned>>> parts) {
  ItemField f{name, (1ull << width) - 1, fmt, fmt};
  bool any = false;
  for (const auto &[m, pos] : parts) {
    if (!m) continue;
    auto [shift, bits] = pos;
    Sub s = reduce(*m, bits);
    if (s.mask == 0) continue;
    any = true;
    f.mask |= s.mask << shift;
    if (s.range) {
      f.range = true;
      f.spec |= s.lo << shift;
      f.last |= s.hi << shift;
    } else {
      f.spec |= s.value << shift;
      f.last |= s.value << shift;
    }
  }
  if (!any) return;
  if (!f.range) f.last = 0;
  it.fields.push_back(f);
}

Flow buildFlow(const Rule &rule, const Options &o, uint32_t maxPriority) {
  Flow fl;
  fl.port = rule.inPort ? *rule.inPort : o.port;
  fl.group = rule.table;
  fl.priority = maxPriority - rule.priority;

  const DeviceMatch *m[ir::kNumFields] = {};
  for (const auto &dm : rule.match) {
    METRON_INTERNAL_ASSERT(size_t(dm.field) < ir::kNumFields, where(rule) + ": unknown field");
    METRON_INTERNAL_ASSERT(dm.field != FieldId::InPort, where(rule) + ": in_port in Rule::match (use Rule::inPort)");
    METRON_INTERNAL_ASSERT(!m[size_t(dm.field)], where(rule) + ": two matches on " + ir::fieldInfo(dm.field).name);
    m[size_t(dm.field)] = &dm;
  }
  auto has = [&](FieldId f) { return m[size_t(f)] != nullptr; };
  auto at = [&](FieldId f) { return m[size_t(f)]; };

  const bool tpFields = has(FieldId::TpSrc) || has(FieldId::TpDst);
  METRON_INTERNAL_ASSERT(!tpFields || rule.proto == 6 || rule.proto == 17,
                         where(rule) + ": tp.src/tp.dst match without proto 6 or 17");
  METRON_INTERNAL_ASSERT(!has(FieldId::TcpFlags) || rule.proto == 6, where(rule) + ": tcp.flags match without proto 6");
  METRON_INTERNAL_ASSERT(!(has(FieldId::IcmpType) || has(FieldId::IcmpCode)) || rule.proto == 1,
                         where(rule) + ": icmp.type/icmp.code match without proto 1");

  // eth.type is the EtherType after any VLAN tag (the packet model's); with a vlan item,
  // rte_flow reads eth's type as the TPID, so the type goes into the vlan item's inner_type.
  const bool vlanItem = rule.vlan || has(FieldId::VlanId) || has(FieldId::VlanPcp);
  Item eth{"eth", {}};
  addPlain(eth, "src", 48, Fmt::Mac, Fmt::Mac, at(FieldId::EthSrc));
  addPlain(eth, "dst", 48, Fmt::Mac, Fmt::Mac, at(FieldId::EthDst));
  if (!vlanItem) addPlain(eth, "type", 16, Fmt::Hex4, Fmt::Hex4, at(FieldId::EthType));
  fl.pattern.push_back(std::move(eth));

  if (vlanItem) {
    Item vlan{"vlan", {}};
    addComposite(vlan, "tci", 16, Fmt::Hex4, {{at(FieldId::VlanId), {0, 12}}, {at(FieldId::VlanPcp), {13, 3}}});
    addPlain(vlan, "inner_type", 16, Fmt::Hex4, Fmt::Hex4, at(FieldId::EthType));
    fl.pattern.push_back(std::move(vlan));
  }

  const bool ipFields = has(FieldId::IpSrc) || has(FieldId::IpDst) || has(FieldId::IpProto) ||
                        has(FieldId::IpTtl) || has(FieldId::IpDscp);
  const bool l4 = rule.proto == 6 || rule.proto == 17 || rule.proto == 1;
  if (rule.ipv4 || rule.proto != 0 || ipFields) {
    Item ip{"ipv4", {}};
    addPlain(ip, "src", 32, Fmt::Ipv4, Fmt::Ipv4, at(FieldId::IpSrc));
    addPlain(ip, "dst", 32, Fmt::Ipv4, Fmt::Ipv4, at(FieldId::IpDst));
    addComposite(ip, "tos", 8, Fmt::Hex2, {{at(FieldId::IpDscp), {2, 6}}});
    addPlain(ip, "ttl", 8, Fmt::Dec, Fmt::Hex2, at(FieldId::IpTtl));
    if (has(FieldId::IpProto)) {
      addPlain(ip, "proto", 8, Fmt::Dec, Fmt::Hex2, at(FieldId::IpProto));
    } else if (rule.proto != 0 && !l4) {
      // A protocol without an rte_flow item of its own (GRE, ...): match it in the ipv4 item.
      DeviceMatch p;
      p.field = FieldId::IpProto;
      p.value = rule.proto;
      p.mask = 0xff;
      addPlain(ip, "proto", 8, Fmt::Dec, Fmt::Hex2, &p);
    }
    fl.pattern.push_back(std::move(ip));
  }

  if (rule.proto == 6 || rule.proto == 17) {
    Item tp{rule.proto == 6 ? "tcp" : "udp", {}};
    addPlain(tp, "src", 16, Fmt::Dec, Fmt::Hex4, at(FieldId::TpSrc));
    addPlain(tp, "dst", 16, Fmt::Dec, Fmt::Hex4, at(FieldId::TpDst));
    if (rule.proto == 6) addPlain(tp, "flags", 8, Fmt::Hex2, Fmt::Hex2, at(FieldId::TcpFlags));
    fl.pattern.push_back(std::move(tp));
  } else if (rule.proto == 1) {
    Item icmp{"icmp", {}};
    addPlain(icmp, "type", 8, Fmt::Dec, Fmt::Hex2, at(FieldId::IcmpType));
    addPlain(icmp, "code", 8, Fmt::Dec, Fmt::Hex2, at(FieldId::IcmpCode));
    fl.pattern.push_back(std::move(icmp));
  }

  for (const auto &a : rule.actions) {
    switch (a.kind) {
    case ActionKind::Drop: fl.actions.push_back({"drop", {}}); break;
    case ActionKind::Jump: fl.actions.push_back({"jump", {{"group", Fmt::Dec, a.value}}}); break;
    case ActionKind::DecTtl: fl.actions.push_back({"dec_ttl", {}}); break;
    case ActionKind::PushVlan:
      fl.actions.push_back({"of_push_vlan", {{"ethertype", Fmt::Hex4, 0x8100}}});
      fl.actions.push_back({"of_set_vlan_vid", {{"vlan_vid", Fmt::Dec, a.value}}});
      break;
    case ActionKind::PopVlan: fl.actions.push_back({"of_pop_vlan", {}}); break;
    case ActionKind::Mark: fl.actions.push_back({"mark", {{"id", Fmt::Dec, a.value}}}); break;
    case ActionKind::Queue: fl.actions.push_back({"queue", {{"index", Fmt::Dec, a.value}}}); break;
    case ActionKind::Output: fl.actions.push_back({"port_id", {{"id", Fmt::Dec, a.value}}}); break;
    case ActionKind::Set:
      switch (a.field) {
      case FieldId::EthSrc: fl.actions.push_back({"set_mac_src", {{"mac_addr", Fmt::Mac, a.value}}}); break;
      case FieldId::EthDst: fl.actions.push_back({"set_mac_dst", {{"mac_addr", Fmt::Mac, a.value}}}); break;
      case FieldId::IpSrc: fl.actions.push_back({"set_ipv4_src", {{"ipv4_addr", Fmt::Ipv4, a.value}}}); break;
      case FieldId::IpDst: fl.actions.push_back({"set_ipv4_dst", {{"ipv4_addr", Fmt::Ipv4, a.value}}}); break;
      case FieldId::IpTtl: fl.actions.push_back({"set_ttl", {{"ttl_value", Fmt::Dec, a.value}}}); break;
      case FieldId::IpDscp: fl.actions.push_back({"set_ipv4_dscp", {{"dscp_value", Fmt::Dec, a.value}}}); break;
      case FieldId::TpSrc: fl.actions.push_back({"set_tp_src", {{"port", Fmt::Dec, a.value}}}); break;
      case FieldId::TpDst: fl.actions.push_back({"set_tp_dst", {{"port", Fmt::Dec, a.value}}}); break;
      case FieldId::VlanId: fl.actions.push_back({"of_set_vlan_vid", {{"vlan_vid", Fmt::Dec, a.value}}}); break;
      case FieldId::VlanPcp: fl.actions.push_back({"of_set_vlan_pcp", {{"vlan_pcp", Fmt::Dec, a.value}}}); break;
      default:
        internalError(__FILE__, __LINE__, "settable field",
                      where(rule) + ": rte_flow has no action that sets " + ir::fieldInfo(a.field).name);
      }
      break;
    }
  }
  return fl;
}

/// The largest priority any rule uses, at least DeviceRules::maxPriority.
uint32_t maxPriorityOf(const DeviceRules &r) {
  uint32_t mp = r.maxPriority;
  for (const auto &x : r.rules) mp = std::max(mp, x.priority);
  return mp;
}

/// The largest priority of the rules in one group (DeviceRules::tableMaxPriority, or computed):
/// each group's rte_flow priorities start at 0, whatever the other groups use (a NIC's root
/// table may have only a few levels).
uint32_t maxPriorityIn(const DeviceRules &r, uint32_t table) {
  if (table < r.tableMaxPriority.size()) return r.tableMaxPriority[table];
  uint32_t mp = 0;
  for (const auto &x : r.rules)
    if (x.table == table) mp = std::max(mp, x.priority);
  return mp;
}

/// Comment text testpmd's line editor reads verbatim: printable ASCII except '?' (its help key).
std::string commentSafe(const std::string &s) {
  std::string o;
  o.reserve(s.size());
  for (unsigned char c : s) o += (c >= 0x20 && c < 0x7f && c != '?') ? char(c) : '_';
  return o;
}

std::string flowLine(const Flow &fl) {
  std::string s = "flow create " + std::to_string(fl.port) + " group " + std::to_string(fl.group) + " priority " +
                  std::to_string(fl.priority) + " ingress pattern ";
  for (const auto &it : fl.pattern) {
    s += it.type;
    for (const auto &f : it.fields) {
      std::string n = std::string(" ") + f.name;
      if (f.exact()) {
        s += n + " is " + fmtText(f.valueFmt, f.spec);
        continue;
      }
      s += n + " spec " + fmtText(f.valueFmt, f.spec);
      if (f.range) s += n + " last " + fmtText(f.valueFmt, f.last);
      s += n + " mask " + fmtText(f.maskFmt, f.mask);
    }
    s += " / ";
  }
  s += "end actions ";
  for (const auto &a : fl.actions) {
    s += a.type;
    for (const auto &p : a.params) s += std::string(" ") + p.name + " " + fmtText(p.fmt, p.value);
    s += " / ";
  }
  s += "end";
  return s;
}

Json flowJson(const Flow &fl, const Rule &rule) {
  Json j;
  j["group"] = fl.group;
  j["priority"] = fl.priority;
  j["ingress"] = true;
  j["port"] = fl.port;
  Json pattern = Json::array();
  for (const auto &it : fl.pattern) {
    Json ji;
    ji["type"] = it.type;
    if (!it.fields.empty()) {
      Json spec = Json::object(), last = Json::object(), mask = Json::object();
      for (const auto &f : it.fields) {
        spec[f.name] = fmtJson(f.valueFmt, f.spec);
        if (f.range) last[f.name] = fmtJson(f.valueFmt, f.last);
        mask[f.name] = fmtJson(f.maskFmt, f.mask);
      }
      ji["spec"] = std::move(spec);
      if (!last.empty()) ji["last"] = std::move(last);
      ji["mask"] = std::move(mask);
    }
    pattern.push_back(std::move(ji));
  }
  j["pattern"] = std::move(pattern);
  Json actions = Json::array();
  for (const auto &a : fl.actions) {
    Json ja;
    ja["type"] = a.type;
    for (const auto &p : a.params) ja[p.name] = fmtJson(p.fmt, p.value);
    actions.push_back(std::move(ja));
  }
  j["actions"] = std::move(actions);
  j["role"] = ruleRoleName(rule.role);
  j["class"] = rule.classId < 0 ? Json(nullptr) : Json(rule.classId);
  j["class_group"] = rule.group < 0 ? Json(nullptr) : Json(rule.group);
  j["rule_priority"] = rule.priority;
  j["note"] = rule.note;
  return j;
}

std::string dumpJson(const Json &j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

/// dumpJson(flowJson(fl, rule)), written directly: the same bytes at a fraction of the cost (a
/// tree of nlohmann objects per rule was most of the printer's time). Only the note needs
/// escaping; names are identifiers and formatted values are digits, dots and colons.
std::string flowJsonText(const Flow &fl, const Rule &rule) {
  auto val = [](Fmt f, uint64_t v) {
    return f == Fmt::Ipv4 || f == Fmt::Mac ? "\"" + fmtText(f, v) + "\"" : std::to_string(v);
  };
  std::string o;
  o.reserve(256);
  o += "{\"group\":" + std::to_string(fl.group) + ",\"priority\":" + std::to_string(fl.priority) +
       ",\"ingress\":true,\"port\":" + std::to_string(fl.port) + ",\"pattern\":[";
  for (size_t i = 0; i < fl.pattern.size(); ++i) {
    const Item &it = fl.pattern[i];
    o += (i ? ",{\"type\":\"" : "{\"type\":\"") + std::string(it.type) + "\"";
    if (!it.fields.empty()) {
      std::string spec, last, mask;
      for (const auto &f : it.fields) {
        spec += (spec.empty() ? "\"" : ",\"") + std::string(f.name) + "\":" + val(f.valueFmt, f.spec);
        if (f.range) last += (last.empty() ? "\"" : ",\"") + std::string(f.name) + "\":" + val(f.valueFmt, f.last);
        mask += (mask.empty() ? "\"" : ",\"") + std::string(f.name) + "\":" + val(f.maskFmt, f.mask);
      }
      o += ",\"spec\":{" + spec + "}";
      if (!last.empty()) o += ",\"last\":{" + last + "}";
      o += ",\"mask\":{" + mask + "}";
    }
    o += "}";
  }
  o += "],\"actions\":[";
  for (size_t i = 0; i < fl.actions.size(); ++i) {
    const Act &a = fl.actions[i];
    o += (i ? ",{\"type\":\"" : "{\"type\":\"") + std::string(a.type) + "\"";
    for (const auto &p : a.params) o += ",\"" + std::string(p.name) + "\":" + val(p.fmt, p.value);
    o += "}";
  }
  o += "],\"role\":\"" + std::string(ruleRoleName(rule.role)) + "\",\"class\":" +
       (rule.classId < 0 ? std::string("null") : std::to_string(rule.classId)) +
       ",\"class_group\":" + (rule.group < 0 ? std::string("null") : std::to_string(rule.group)) +
       ",\"rule_priority\":" + std::to_string(rule.priority) + ",\"note\":" + dumpJson(Json(rule.note)) + "}";
  return o;
}

const char *kindName(const DeviceRules &r) { return r.kind == split::DeviceProfile::Switch ? "switch" : "nic"; }

} // namespace

std::string printTestpmd(const DeviceRules &r, const Options &o) {
  std::string out;
  out += "# " + commentSafe("rte_flow rules for " + r.element + " (profile " + r.profile + ", " + kindName(r) +
                            "): " + std::to_string(r.rules.size()) + " rules in " + std::to_string(r.tables) +
                            (r.tables == 1 ? " group" : " groups")) +
         "\n";
  out += "# roles:";
  for (RuleRole role : {RuleRole::Class, RuleRole::Mirror, RuleRole::Default, RuleRole::Path, RuleRole::Dispatch,
                        RuleRole::Return})
    out += std::string(" ") + ruleRoleName(role) + " " + std::to_string(r.count(role)) +
           (role == RuleRole::Return ? "" : ",");
  out += "\n";
  out += "# rte_flow priority = (the group's largest rule priority) - rule priority (0 is the highest); "
         "dpdk-testpmd: `load FILE`; check: tests/tools/testpmd-check.sh FILE\n";
  for (size_t i = 0; i < r.rules.size(); ++i) {
    const Rule &rule = r.rules[i];
    Flow fl = buildFlow(rule, o, maxPriorityIn(r, rule.table));
    std::string c = "rule " + std::to_string(i) + " (" + ruleRoleName(rule.role);
    if (rule.classId >= 0) c += ", class " + std::to_string(rule.classId);
    if (rule.group >= 0) c += ", group " + std::to_string(rule.group);
    c += ")";
    if (!rule.note.empty()) c += ": " + rule.note;
    out += "# " + commentSafe(c) + "\n";
    std::string line = flowLine(fl);
    if (line.size() > kMaxLine)
      out += "# warning: the next line has " + std::to_string(line.size()) + " characters, more than the " +
             std::to_string(kMaxLine) + " testpmd reads (and checks as `flow validate`)\n";
    out += line + "\n";
  }
  return out;
}

std::string printJson(const DeviceRules &r, const Options &o) {
  const uint32_t mp = maxPriorityOf(r);
  // The document is written by hand around the rule objects so that each rule is one line.
  std::string out = "{\n";
  auto kv = [&](const char *k, const Json &v) { out += "  " + dumpJson(Json(k)) + ": " + dumpJson(v) + ",\n"; };
  kv("element", r.element);
  kv("profile", r.profile);
  kv("kind", kindName(r));
  kv("port", o.port);
  kv("groups", r.tables);
  kv("max_priority", mp);
  out += "  \"rules\": [";
  for (size_t i = 0; i < r.rules.size(); ++i) {
    out += i ? ",\n    " : "\n    ";
    Flow fl = buildFlow(r.rules[i], o, maxPriorityIn(r, r.rules[i].table));
    std::string text = flowJsonText(fl, r.rules[i]);
    // The hand-written form must be what nlohmann prints (checked on a sample, cheaply).
    if (i % 1024 == 0)
      METRON_INTERNAL_ASSERT(text == dumpJson(flowJson(fl, r.rules[i])), "rte_flow JSON: the fast form differs: " + text);
    out += text;
  }
  out += r.rules.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

} // namespace metron::targets::rteflow
