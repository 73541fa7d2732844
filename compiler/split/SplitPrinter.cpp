//===- compiler/split/SplitPrinter.cpp - Printing a split plan (text and JSON) --------------===//
///
/// \file
/// The `--emit split` text form, line-oriented and stable for golden tests:
/// \code
///   split of chain 'fw' for intel-82599 (nic): 1 table of 128 rules, 7 priority levels; tags: queue 0-127; 2 cores
///   table 0 -> device table 0: 2 of 3 classes offloaded, 7 of 128 rules
///     class 0: hw, 1 rule, prio 1, to software: group 0, tag queue 0, core 0 | ip.proto=6 tp.dst=80
///     class 1: hw, 6 rules, prio 1, to software: group 1, tag queue 1, core 1 | tp.dst=1024-65535
///     class 2: sw (action): intel-82599 cannot drop packets | *
///   group 0: core 0, tag queue 0; 1 class offloaded, 0 in software; omega: ...
///   total: 2 of 3 classes offloaded, 7 device rules (about 0.8 ms to install at 0.119 ms/rule); ...
/// \endcode
//===----------------------------------------------------------------------------------------===//
#include "compiler/split/Split.h"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>

namespace metron::split {

using ir::FieldId;
using ir::ValueKind;

namespace {

std::string thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

std::string countStr(uint64_t v) { return v == kUnbounded ? "unbounded" : thousands(v); }

std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

std::string valueStr(const ir::Module &m, FieldId f, uint64_t v) {
  switch (ir::fieldInfo(f).kind) {
  case ValueKind::IPv4: return ir::ipv4Str(uint32_t(v));
  case ValueKind::Mac: return ir::macStr(v);
  case ValueKind::Port: return v < m.portNames.size() ? m.portNames[v] : std::to_string(v);
  default: return std::to_string(v);
  }
}

/// Φ in the form of `synth --emit tc`: "ip.src=10.0.0.0/8 in_port=p0,p1", "*" for everything.
std::string phiStr(const ir::Module &m, const synth::Box &b) {
  if (b.m.empty()) return "*";
  std::string s;
  for (const auto &c : b.m) {
    std::string v;
    if (ir::fieldInfo(c.field).kind == ValueKind::Port && c.kind == ir::FieldMatch::Range)
      for (uint64_t x = c.lo; x <= c.hi && x < m.portNames.size(); ++x) v += (v.empty() ? "" : ",") + m.portNames[x];
    else v = c.str();
    s += (s.empty() ? "" : " ") + std::string(ir::fieldInfo(c.field).name) + "=" + v;
  }
  return s;
}

/// ", on ipv4 tcp|udp" — the protocol prerequisites of the device rules, when any.
std::string prereqStr(const ClassSplit &cs) {
  std::string s;
  if (cs.vlan) s += " vlan";
  if (cs.ipv4) s += " ipv4";
  for (size_t i = 0; i < cs.protos.size(); ++i)
    s += std::string(i ? "|" : " ") + (cs.protos[i] == 6 ? "tcp" : cs.protos[i] == 17 ? "udp" : "icmp");
  return s.empty() ? s : ", on" + s;
}

std::string tagStr(const GroupSplit &g) {
  if (!g.tagged) return "";
  if (*g.tagKind == TagKind::Mac) {
    char b[32];
    snprintf(b, sizeof b, "02:00:00:00:%02x:%02x", unsigned(g.tag >> 8) & 0xff, unsigned(g.tag) & 0xff);
    return std::string("mac ") + b;
  }
  return std::string(tagKindName(*g.tagKind)) + " " + std::to_string(g.tag);
}

std::string writesStr(const std::vector<synth::WriteExpr> &ws) {
  std::string s;
  for (const auto &w : ws) s += (s.empty() ? "" : " ") + w.str();
  return s;
}

std::string deviceSummary(const SplitPlan &p) {
  const DeviceProfile &d = p.device;
  std::string s = d.name + " (" + (d.kind == DeviceProfile::Nic ? "nic" : "switch") + "): ";
  auto limits = [](const TableLimits &l) {
    std::string r = l.rules == kUnbounded ? "unbounded rules" : thousands(l.rules) + (l.l2Rules ? " L3/L4 rules" : " rules");
    if (l.l2Rules) r += " or " + thousands(l.l2Rules) + " L2 rules";
    r += ", " + (l.priorities == kUnbounded ? std::string("unbounded") : thousands(l.priorities)) + " priority levels";
    return r;
  };
  if (d.tableCount == 1) s += "1 table of " + limits(d.table0);
  else s += countStr(d.tableCount) + " tables: table 0 of " + limits(d.table0) + ", the others of " + limits(d.other);
  s += "; tags:";
  if (d.tagKinds.empty()) s += " none";
  for (TagKind k : d.tagKinds) {
    const TagRange &r = *d.tagRange[size_t(k)];
    s += std::string(" ") + tagKindName(k) + " " + std::to_string(r.lo) + "-" + std::to_string(r.hi);
  }
  return s;
}

} // namespace

std::string DeviceMatch::str(const ir::Module &m) const {
  const ir::FieldInfo &fi = ir::fieldInfo(field);
  std::string s = std::string(fi.name) + " ";
  const uint64_t maxv = fi.maxValue();
  if (isRange) {
    s += valueStr(m, field, lo) + "-" + valueStr(m, field, hi);
    if (mask) s += " & " + hex(value) + "/" + hex(mask);
    return s;
  }
  if (mask == maxv) return s + valueStr(m, field, value);
  uint64_t inv = ~mask & maxv;
  bool prefix = (inv & (inv + 1)) == 0; // contiguous high bits
  if (prefix && fi.kind == ValueKind::IPv4)
    return s + valueStr(m, field, value) + "/" + std::to_string(fi.bits - __builtin_popcountll(inv));
  if (fi.kind == ValueKind::Mac) return s + ir::macStr(value) + "/" + ir::macStr(mask);
  return s + hex(value) + "/" + hex(mask);
}

std::string printSplit(const ir::Module &m, const synth::ChainTables &t, const SplitPlan &p) {
  std::string out = "split of chain '" + p.chain + "' for " + deviceSummary(p) + "; " +
                    (p.cores == 1 ? std::string("1 core") : thousands(p.cores) + " cores") + "\n";
  if (p.rootJump)
    out += "device table 0: one rule jumping to device table 1 (table 0 has " + thousands(p.device.table0.priorities) +
           " priority levels, the first table needs more)\n";
  for (size_t ti = 0; ti < p.tables.size(); ++ti) {
    const TableSplit &ts = p.tables[ti];
    const synth::Table &tb = t.tables[ti];
    out += "table " + std::to_string(ts.table);
    if (ts.deviceTable < 0) {
      out += ": software (" + ts.why + "), " + std::to_string(ts.classes.size()) + " classes\n";
    } else {
      out += " -> device table " + std::to_string(ts.deviceTable) + ": " + thousands(ts.offloaded) + " of " +
             thousands(ts.classes.size()) + " classes offloaded, " + thousands(ts.rules);
      if (ts.limits.l2Rules) out += " of " + thousands(ts.limits.rules) + " L3/L4 rules and " + thousands(ts.l2Rules) + " of " + thousands(ts.limits.l2Rules) + " L2 rules";
      else out += " of " + countStr(ts.limits.rules) + " rules";
      if (ts.levels) out += ", " + std::to_string(ts.levels) + " of " + thousands(ts.limits.priorities) + " priority levels";
      out += "\n";
    }
    for (size_t k = 0; k < ts.classes.size(); ++k) {
      const ClassSplit &cs = ts.classes[k];
      out += "  class " + std::to_string(cs.classId) + ": ";
      if (cs.hw) {
        out += "hw, " + thousands(cs.rules) + (cs.rules == 1 ? " rule" : " rules");
        if (cs.priority) out += ", prio " + std::to_string(cs.priority);
        out += prereqStr(cs);
        switch (cs.action) {
        case HwAction::Drop: out += ", drop"; break;
        case HwAction::Jump: out += ", jump to table " + std::to_string(cs.jumpTable); break;
        case HwAction::ToSoftware: {
          const GroupSplit &g = p.groups[cs.group];
          out += ", to software: group " + std::to_string(g.group);
          if (g.tagged) out += ", tag " + tagStr(g);
          out += ", core " + std::to_string(g.core);
          break;
        }
        }
      } else {
        out += std::string("sw (") + reasonName(cs.reason) + ")";
        if (cs.reason != Reason::SoftwareTable && cs.reason != Reason::NoDeviceTable && cs.reason != Reason::NotEntered)
          out += ": " + cs.why;
      }
      out += " | " + phiStr(m, tb.classes[k].phi) + "\n";
    }
  }
  unsigned tagged = 0, onCores = 0;
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const GroupSplit &g = p.groups[gi];
    tagged += g.tagged;
    onCores += g.needsCore;
    out += "group " + std::to_string(g.group) + ": ";
    out += g.needsCore ? "core " + std::to_string(g.core) : std::string("no core");
    if (g.tagged) out += ", tag " + tagStr(g);
    if (!g.hwWrites.empty()) out += "; device writes " + writesStr(g.hwWrites);
    if (!g.swWrites.empty()) out += "; software writes " + writesStr(g.swWrites);
    if (!g.writesWhy.empty()) out += " (" + g.writesWhy + ")";
    out += "; " + thousands(g.hwClasses) + (g.hwClasses == 1 ? " class" : " classes") + " offloaded, " +
           thousands(g.swClasses) + " in software";
    if (t.chain) out += "; omega: " + t.groups[gi].omega.str(m, *t.chain);
    out += "\n";
  }
  uint64_t rules = p.deviceRules();
  char ms[64];
  snprintf(ms, sizeof ms, "%.1f ms", double(rules) * p.device.averageMs);
  char per[32];
  snprintf(per, sizeof per, "%g", p.device.averageMs);
  out += "total: " + thousands(p.offloadedClasses()) + " of " + thousands(p.totalClasses()) + " classes offloaded, " +
         thousands(rules) + (rules == 1 ? " device rule" : " device rules") + " (about " + ms + " to install at " + per +
         " ms/rule); " + std::to_string(onCores) + (onCores == 1 ? " group" : " groups") + " on " +
         (p.cores == 1 ? std::string("1 core") : thousands(p.cores) + " cores") + ", " + std::to_string(tagged) + " tagged\n";
  return out;
}

std::string splitToJson(const ir::Module &m, const synth::ChainTables &t, const SplitPlan &p) {
  using nlohmann::json;
  auto count = [](uint64_t v) { return v == kUnbounded ? json("unbounded") : json(v); };
  auto limits = [&](const TableLimits &l) {
    json j = {{"rules", count(l.rules)}, {"priorities", count(l.priorities)}};
    if (l.l2Rules) j["l2_rules"] = l.l2Rules;
    return j;
  };
  const DeviceProfile &d = p.device;
  json dev = {{"name", d.name},
              {"kind", d.kind == DeviceProfile::Nic ? "nic" : "switch"},
              {"path", d.path},
              {"install_ms", {{"median", d.medianMs}, {"average", d.averageMs}}},
              {"tables", count(d.tableCount)},
              {"table0", limits(d.table0)}};
  if (d.tableCount != 1) dev["other_tables"] = limits(d.other);
  json tags = json::array();
  for (TagKind k : d.tagKinds)
    tags.push_back({{"kind", tagKindName(k)}, {"lo", d.tagRange[size_t(k)]->lo}, {"hi", d.tagRange[size_t(k)]->hi}});
  dev["tags"] = tags;

  json tables = json::array();
  for (size_t ti = 0; ti < p.tables.size(); ++ti) {
    const TableSplit &ts = p.tables[ti];
    json jt = {{"table", ts.table},
               {"device_table", ts.deviceTable < 0 ? json(nullptr) : json(ts.deviceTable)},
               {"offloaded", ts.offloaded},
               {"rules", ts.rules}};
    if (ts.deviceTable < 0) jt["why"] = ts.why;
    else jt["limits"] = limits(ts.limits);
    if (ts.limits.l2Rules) jt["l2_rules"] = ts.l2Rules;
    if (ts.levels) jt["levels"] = ts.levels;
    json classes = json::array();
    for (size_t k = 0; k < ts.classes.size(); ++k) {
      const ClassSplit &cs = ts.classes[k];
      json jc = {{"id", cs.classId}, {"group", cs.group}, {"hw", cs.hw}, {"reason", reasonName(cs.reason)}};
      jc["phi"] = phiStr(m, t.tables[ti].classes[k].phi);
      if (!cs.hw) {
        jc["why"] = cs.why;
        if (cs.blockedBy >= 0) jc["blocked_by"] = cs.blockedBy;
      } else {
        jc["rules"] = cs.rules;
        if (cs.priority) jc["priority"] = cs.priority;
        jc["action"] = hwActionName(cs.action);
        if (cs.vlan) jc["vlan"] = true;
        if (cs.ipv4) jc["ipv4"] = true;
        if (!cs.protos.empty()) jc["protos"] = cs.protos;
        if (cs.action == HwAction::Jump) jc["jump_table"] = cs.jumpTable;
        json fields = json::array();
        for (const auto &alts : cs.fields) {
          json ja = json::array();
          for (const auto &dm : alts) {
            json x = {{"field", ir::fieldInfo(dm.field).name}};
            if (dm.isRange) x["lo"] = dm.lo, x["hi"] = dm.hi;
            if (!dm.isRange || dm.mask) x["value"] = dm.value, x["mask"] = dm.mask;
            ja.push_back(x);
          }
          fields.push_back(ja);
        }
        jc["match"] = fields;
      }
      classes.push_back(jc);
    }
    jt["classes"] = classes;
    tables.push_back(jt);
  }

  json groups = json::array();
  for (size_t gi = 0; gi < p.groups.size(); ++gi) {
    const GroupSplit &g = p.groups[gi];
    json jg = {{"group", g.group},
               {"core", g.needsCore ? json(g.core) : json(nullptr)},
               {"hw_classes", g.hwClasses},
               {"sw_classes", g.swClasses}};
    jg["tag"] = g.tagged ? json{{"kind", tagKindName(*g.tagKind)}, {"value", g.tag}} : json(nullptr);
    json hw = json::array(), sw = json::array();
    for (const auto &w : g.hwWrites) hw.push_back(w.str());
    for (const auto &w : g.swWrites) sw.push_back(w.str());
    jg["device_writes"] = hw;
    jg["software_writes"] = sw;
    if (!g.writesWhy.empty()) jg["writes_why"] = g.writesWhy;
    if (t.chain) jg["omega"] = t.groups[gi].omega.str(m, *t.chain);
    groups.push_back(jg);
  }

  json j = {{"chain", p.chain},
            {"device", dev},
            {"cores", p.cores},
            {"ok", p.ok},
            {"root_jump", p.rootJump},
            {"tables", tables},
            {"groups", groups},
            {"totals",
             {{"classes", p.totalClasses()},
              {"offloaded", p.offloadedClasses()},
              {"device_rules", p.deviceRules()},
              {"install_ms", double(p.deviceRules()) * d.averageMs}}}};
  return j.dump(2) + "\n";
}

} // namespace metron::split
