//===- compiler/synth/Print.cpp - Printing traffic-class tables (text, JSON, Graphviz) --------===//
#include "compiler/synth/Synth.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace metron::synth {

using namespace ir;

namespace {

std::string valueStr(const Module &m, FieldId f, uint64_t v) {
  switch (fieldInfo(f).kind) {
  case ValueKind::IPv4: return ipv4Str(uint32_t(v));
  case ValueKind::Mac: return macStr(v);
  case ValueKind::Port: return v < m.portNames.size() ? m.portNames[v] : std::to_string(v);
  default: return std::to_string(v);
  }
}

std::string matchStr(const Module &m, const FieldMatch &c) {
  if (fieldInfo(c.field).kind == ValueKind::Port && c.kind == FieldMatch::Range) {
    std::string s;
    for (uint64_t v = c.lo; v <= c.hi && v < m.portNames.size(); ++v) s += (s.empty() ? "" : ",") + m.portNames[v];
    return s;
  }
  return c.str();
}

std::string phiStr(const Module &m, const Box &b) {
  if (b.m.empty()) return "*";
  std::string s;
  for (const auto &c : b.m) s += (s.empty() ? "" : " ") + std::string(fieldInfo(c.field).name) + "=" + matchStr(m, c);
  return s;
}

std::string nodeName(const Chain &c, uint32_t node) { return node < c.nodes.size() ? c.nodes[node].name : "?"; }

std::string stepStr(const Chain &c, const PathStep &p) {
  const NF *nf = c.nodes[p.node].nf;
  std::string s = nodeName(c, p.node);
  // Name the element only when the NF has more than one rule list.
  unsigned lists = 0;
  for (const auto &e : nf->elements) lists += e->kind == ElementKind::Classifier || e->kind == ElementKind::Lookup;
  if (lists > 1) s += "#" + std::to_string(p.element + 1);
  bool lookup = nf->elements[p.element]->kind == ElementKind::Lookup;
  if (p.rule == 0) return s + (lookup ? ":miss" : ":default");
  return s + (lookup ? ":route " : ":") + std::to_string(p.rule);
}

std::string thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

std::string entryStr(const Chain &c, const Table &t) {
  if (t.entry.node < 0) return "ingress";
  const ChainNode &n = c.nodes[size_t(t.entry.node)];
  if (n.kind == ChainNode::Egress) return "egress " + n.name;
  std::string s = n.name;
  if (n.nf->blackbox) return s + "." + t.entry.port;
  if (t.entry.element < n.nf->elements.size())
    s += " element " + std::to_string(t.entry.element + 1) + " (" + elementKindName(n.nf->elements[t.entry.element]->kind) + ")";
  else
    s += " end";
  if (t.entry.port != "out") s += ", port " + t.entry.port + " selected";
  return s;
}

std::string termStr(const Module &m, const Chain &c, const Terminal &t) {
  switch (t.kind) {
  case Terminal::Drop: return "drop";
  case Terminal::Egress: return "egress " + (t.port < m.portNames.size() ? m.portNames[t.port] : "?");
  case Terminal::Blackbox: return "blackbox " + nodeName(c, t.node) + "." + t.name + ", back in table " + std::to_string(t.table);
  case Terminal::Goto:
    if (t.tableIfMatch >= 0)
      return "goto table " + std::to_string(t.tableIfMatch) + " if the dpi matched, else table " + std::to_string(t.table);
    return "goto table " + std::to_string(t.table);
  }
  return "?";
}

} // namespace

std::string WriteExpr::str() const {
  const char *n = fieldInfo(field).name;
  switch (kind) {
  case Const: {
    std::string v;
    switch (fieldInfo(field).kind) {
    case ValueKind::IPv4: v = ipv4Str(uint32_t(value)); break;
    case ValueKind::Mac: v = macStr(value); break;
    default: v = std::to_string(value);
    }
    return std::string(n) + "=" + v;
  }
  case DecBy: return std::string(n) + "-=" + std::to_string(value);
  case MacOfIpDst: return std::string(n) + "=02:00:<ip.dst>";
  }
  return "?";
}

std::string Omega::str(const Module &m, const Chain &c) const {
  std::string s;
  for (const auto &o : ops) {
    if (o.kind == Op::Writes) {
      if (o.ttlGuard) s += "drop if ip.ttl<=" + std::to_string(o.ttlGuard) + "; ";
      std::string w;
      for (const auto &x : o.writes) w += (w.empty() ? "" : " ") + x.str();
      if (!w.empty()) s += "set(" + w + "); ";
    } else {
      s += std::string(elementKindName(o.el->kind)) + "@" + nodeName(c, o.node) + "; ";
    }
  }
  return s + termStr(m, c, term);
}

std::string printTables(const Module &m, const ChainTables &t) {
  const Chain &c = *t.chain;
  std::string s = "chain " + c.name + ": " + std::to_string(t.tables.size()) + (t.tables.size() == 1 ? " table, " : " tables, ") +
                  thousands(t.stats.classes) + " classes, " + thousands(t.groups.size()) + " groups\n";
  for (const auto &tab : t.tables) {
    s += "\ntable " + std::to_string(tab.id) + " (" + tableReasonName(tab.reason) + ", at " + entryStr(c, tab) + ")" +
         (tab.afterState ? " software only" : "") + ": " + tab.why + "\n";
    for (const auto &tc : tab.classes) {
      s += "  class " + std::to_string(tc.id) + "  group " + std::to_string(tc.group) + "  " + phiStr(m, tc.phi);
      if (!tc.path.empty()) {
        s += "  [";
        for (size_t i = 0; i < tc.path.size(); ++i) s += (i ? " " : "") + stepStr(c, tc.path[i]);
        s += "]";
      }
      s += "\n";
    }
  }
  s += "\ngroups (classes with equal operations):\n";
  for (const auto &g : t.groups)
    s += "  group " + std::to_string(g.id) + "  " + thousands(g.classes.size()) + (g.classes.size() == 1 ? " class   " : " classes ") +
         g.omega.str(m, c) + "\n";
  return s;
}

static nlohmann::json omegaJson(const Module &m, const Chain &c, const Omega &w) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto &o : w.ops) {
    if (o.kind == Op::Writes) {
      nlohmann::json ws = nlohmann::json::array();
      for (const auto &x : o.writes) {
        nlohmann::json j = {{"field", fieldInfo(x.field).name}};
        if (x.kind == WriteExpr::Const) j["value"] = valueStr(m, x.field, x.value);
        else if (x.kind == WriteExpr::DecBy) j["decrement"] = x.value;
        else j["mac_of"] = "ip.dst";
        ws.push_back(j);
      }
      nlohmann::json op = {{"op", "writes"}, {"writes", ws}};
      if (o.ttlGuard) op["drop_if_ttl_at_most"] = o.ttlGuard;
      ops.push_back(op);
    } else {
      ops.push_back({{"op", elementKindName(o.el->kind)}, {"nf", nodeName(c, o.node)}, {"element", o.element + 1}});
    }
  }
  const Terminal &t = w.term;
  nlohmann::json term;
  switch (t.kind) {
  case Terminal::Drop: term = {{"kind", "drop"}}; break;
  case Terminal::Egress: term = {{"kind", "egress"}, {"port", m.portNames[t.port]}}; break;
  case Terminal::Blackbox: term = {{"kind", "blackbox"}, {"nf", nodeName(c, t.node)}, {"input", t.name}, {"returns_to", t.table}}; break;
  case Terminal::Goto:
    term = {{"kind", "goto"}, {"table", t.table}};
    if (t.tableIfMatch >= 0) term["table_if_dpi_match"] = t.tableIfMatch;
    break;
  }
  return {{"ops", ops}, {"terminal", term}};
}

std::string tablesToJson(const Module &m, const ChainTables &t) {
  const Chain &c = *t.chain;
  nlohmann::json tables = nlohmann::json::array();
  for (const auto &tab : t.tables) {
    nlohmann::json classes = nlohmann::json::array();
    for (const auto &tc : tab.classes) {
      nlohmann::json phi = nlohmann::json::object();
      for (const auto &fm : tc.phi.m) {
        std::string k = fieldInfo(fm.field).name;
        std::string v = matchStr(m, fm);
        if (phi.contains(k)) phi[k] = phi[k].get<std::string>() + " & " + v;
        else phi[k] = v;
      }
      nlohmann::json path = nlohmann::json::array();
      for (const auto &p : tc.path) path.push_back({{"nf", nodeName(c, p.node)}, {"element", p.element + 1}, {"rule", p.rule}});
      classes.push_back({{"id", tc.id}, {"group", tc.group}, {"phi", phi}, {"path", path}});
    }
    nlohmann::json entry = {{"at", entryStr(c, tab)}};
    tables.push_back({{"id", tab.id},
                      {"reason", tableReasonName(tab.reason)},
                      {"why", tab.why},
                      {"entry", entry},
                      {"software_only", tab.afterState},
                      {"classes", classes}});
  }
  nlohmann::json groups = nlohmann::json::array();
  for (const auto &g : t.groups) groups.push_back({{"id", g.id}, {"omega", omegaJson(m, c, g.omega)}, {"classes", g.classes}});
  nlohmann::json j = {{"chain", c.name},
                      {"tables", tables},
                      {"groups", groups},
                      {"stats", {{"classes", t.stats.classes}, {"intersections", t.stats.intersections}, {"restarts", t.stats.restarts}}}};
  return j.dump(1) + "\n";
}

std::string tablesToDot(const Module &m, const ChainTables &t) {
  const Chain &c = *t.chain;
  auto esc = [](std::string s) {
    std::string o;
    for (char ch : s) {
      if (ch == '"' || ch == '\\' || ch == '{' || ch == '}' || ch == '|' || ch == '<' || ch == '>') o += '\\';
      o += ch;
    }
    return o;
  };
  std::string s = "digraph \"" + esc(c.name) + "\" {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  for (const auto &tab : t.tables)
    s += "  t" + std::to_string(tab.id) + " [shape=record, style=filled, fillcolor=\"" + (tab.afterState ? "#f4d6a0" : "#bcd7f5") +
         "\", label=\"{table " + std::to_string(tab.id) + " (" + tableReasonName(tab.reason) + ")|" + esc(entryStr(c, tab)) + "|" +
         thousands(tab.classes.size()) + " classes}\"];\n";
  std::set<std::string> sinks;
  for (const auto &g : t.groups) {
    std::string ops;
    for (const auto &o : g.omega.ops) {
      if (o.kind == Op::Writes) {
        if (o.ttlGuard) ops += esc("drop if ip.ttl<=" + std::to_string(o.ttlGuard)) + "\\l";
        for (const auto &x : o.writes) ops += esc(x.str()) + "\\l";
      } else {
        ops += esc(std::string(elementKindName(o.el->kind)) + "@" + nodeName(c, o.node)) + "\\l";
      }
    }
    s += "  g" + std::to_string(g.id) + " [shape=record, label=\"{group " + std::to_string(g.id) + "|" + (ops.empty() ? "no operation" : ops) +
         "}\"];\n";
    const Terminal &tm = g.omega.term;
    std::string sink;
    switch (tm.kind) {
    case Terminal::Drop: sink = "drop"; break;
    case Terminal::Egress: sink = "egress_" + std::to_string(tm.port); break;
    case Terminal::Blackbox: sink = "bb_" + std::to_string(tm.node); break;
    case Terminal::Goto: break;
    }
    if (!sink.empty() && sinks.insert(sink).second) {
      std::string label = tm.kind == Terminal::Drop ? "drop" : tm.kind == Terminal::Egress ? "egress " + m.portNames[tm.port] : "blackbox " + nodeName(c, tm.node);
      s += "  " + sink + " [shape=" + (tm.kind == Terminal::Blackbox ? "box3d" : "oval") + ", label=\"" + esc(label) + "\"];\n";
    }
    if (!sink.empty()) s += "  g" + std::to_string(g.id) + " -> " + sink + ";\n";
    if (tm.kind == Terminal::Blackbox) s += "  " + sink + " -> t" + std::to_string(tm.table) + " [style=dashed];\n";
    if (tm.kind == Terminal::Goto) {
      s += "  g" + std::to_string(g.id) + " -> t" + std::to_string(tm.table) + ";\n";
      if (tm.tableIfMatch >= 0) s += "  g" + std::to_string(g.id) + " -> t" + std::to_string(tm.tableIfMatch) + " [label=\"dpi match\"];\n";
    }
  }
  // Table -> group edges, labelled with the number of classes.
  for (const auto &tab : t.tables) {
    std::map<uint32_t, size_t> n;
    for (const auto &tc : tab.classes) ++n[tc.group];
    for (const auto &[g, k] : n)
      s += "  t" + std::to_string(tab.id) + " -> g" + std::to_string(g) + " [label=\"" + thousands(k) + "\"];\n";
  }
  return s + "}\n";
}

std::string printStats(const Module &m, const ChainTables &t) {
  (void)m;
  const Chain &c = *t.chain;
  char buf[256];
  std::string s = "chain " + c.name + ":\n";
  snprintf(buf, sizeof buf, "  %5s  %-13s  %9s  %-8s  %s\n", "table", "reason", "classes", "runs on", "why");
  s += buf;
  for (const auto &tab : t.tables) {
    snprintf(buf, sizeof buf, "  %5u  %-13s  %9s  %-8s  ", tab.id, tableReasonName(tab.reason), thousands(tab.classes.size()).c_str(),
             tab.afterState ? "software" : "any");
    s += buf + tab.why + "\n";
  }
  size_t rules = 0;
  for (const auto &tab : t.tables) rules += tab.classes.size();
  s += "  " + std::to_string(t.tables.size()) + (t.tables.size() == 1 ? " table, " : " tables, ") + thousands(rules) + " classes, " +
       thousands(t.groups.size()) + " groups (classes with equal operations); " + thousands(t.stats.intersections) +
       " box intersections, " + std::to_string(t.stats.restarts) + " restarts after the bound; " ;
  snprintf(buf, sizeof buf, "%.1f ms\n", t.stats.ms);
  return s + buf;
}

} // namespace metron::synth
