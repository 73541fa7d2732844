//===- compiler/NFIRPrinter.cpp - Printing the NF IR (--emit=nfir) ----------------------------===//
///
/// \file
/// A stable, line-oriented dump of the NF IR for golden tests and for users who want to see
/// what the checker understood: imports with what was loaded, each NF with its ports, read and
/// write sets and elements, each chain as its edges in topological order.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/NFIR.h"

namespace metron::ir {

namespace {

std::string fieldSetStr(FieldSet s) {
  std::string out = "{";
  bool first = true;
  for (FieldId f : s.list()) {
    out += (first ? "" : ", ") + std::string(fieldInfo(f).name);
    first = false;
  }
  return out + "}";
}

std::string keyStr(const std::vector<FieldId> &k) {
  std::string out = "(";
  for (size_t i = 0; i < k.size(); ++i) out += (i ? ", " : "") + std::string(fieldInfo(k[i]).name);
  return out + ")";
}

std::string loc(const SourceRange &r) {
  return r.valid() ? " @" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.col) : "";
}

const char *importKind(Import::Kind k) {
  switch (k) {
  case Import::ClassBench: return "classbench";
  case Import::Routes: return "routes";
  case Import::Patterns: return "patterns";
  }
  return "?";
}

void printElement(std::string &o, const Element &e, const Module &m) {
  o += "    " + std::string(elementKindName(e.kind)) + loc(e.range);
  switch (e.kind) {
  case ElementKind::Classifier: {
    const auto &c = static_cast<const Classifier &>(e);
    o += " rules=" + std::to_string(c.rules.size()) + " default=" + c.defaultAction.str() + "\n";
    for (size_t i = 0; i < c.rules.size(); ++i) {
      const Rule &r = c.rules[i];
      std::string where = r.importIndex >= 0 ? " (import #" + std::to_string(r.importIndex) + ")" : loc(r.range);
      std::string match;
      for (const auto &fm : r.matches) {
        match += " " + std::string(fieldInfo(fm.field).name) + "=";
        match += fm.field == FieldId::InPort && fm.lo < m.portNames.size() ? m.portNames[fm.lo] : fm.str();
      }
      o += "      " + std::to_string(i + 1) + ": " + r.action.str() + (match.empty() ? " *" : match) + where + "\n";
    }
    return;
  }
  case ElementKind::Lookup: {
    const auto &l = static_cast<const Lookup &>(e);
    o += " " + std::string(fieldInfo(l.field).name) + " in " + l.table + " routes=" +
         std::to_string(l.routes ? l.routes->routes.size() : 0) + " miss=" + l.miss.str();
    for (const auto &[iface, port] : l.portOf) o += " \"" + iface + "\"->" + port;
    break;
  }
  case ElementKind::SetFields: {
    Action a;
    a.kind = Action::Set;
    a.assigns = static_cast<const SetFields &>(e).assigns;
    o += " " + a.str().substr(3);
    break;
  }
  case ElementKind::DecTtl: o += " ip.ttl"; break;
  case ElementKind::Napt: {
    const auto &n = static_cast<const Napt &>(e);
    o += " " + std::string(fieldInfo(n.field).name) + " to " + ipv4Str(n.address) + " ports " + std::to_string(n.portLo) +
         "-" + std::to_string(n.portHi) + " timeout=" + std::to_string(n.timeoutSec);
    break;
  }
  case ElementKind::Balance: {
    const auto &b = static_cast<const Balance &>(e);
    o += " " + std::string(fieldInfo(b.field).name) + (b.policy == Balance::RoundRobin ? " round_robin" : " hash") + " [";
    for (size_t i = 0; i < b.backends.size(); ++i) {
      FieldMatch v = FieldMatch::exact(b.field, b.backends[i]);
      o += (i ? ", " : "") + v.str();
    }
    o += "]";
    break;
  }
  case ElementKind::Monitor: {
    const auto &mo = static_cast<const Monitor &>(e);
    o += " key=" + (mo.key.empty() ? std::string("5-tuple") : keyStr(mo.key)) + " timeout=" + std::to_string(mo.timeoutSec);
    break;
  }
  case ElementKind::Conntrack: {
    const auto &c = static_cast<const Conntrack &>(e);
    o += " timeout=" + std::to_string(c.timeoutSec) + (c.strict ? " strict" : "");
    break;
  }
  case ElementKind::RateLimit: {
    const auto &r = static_cast<const RateLimit &>(e);
    o += " rate=" + std::to_string(r.rate) + (r.packets ? "pps" : "bps") + " burst=" + std::to_string(r.burst) +
         (r.packets ? "pkts" : "bytes") + " key=" + (r.key.empty() ? std::string("global") : keyStr(r.key));
    break;
  }
  case ElementKind::Dpi: {
    const auto &d = static_cast<const Dpi &>(e);
    o += " " + d.patternSet + " patterns=" + std::to_string(d.patterns ? d.patterns->patterns.size() : 0) +
         " on-match=" + d.onMatch.str();
    break;
  }
  case ElementKind::Blackbox: {
    const auto &b = static_cast<const Blackbox &>(e);
    static const char *impl[] = {"process", "vm", "device"};
    o += std::string(" ") + impl[b.impl] + " \"" + b.target + "\" writes=" + fieldSetStr(b.declaredWrites) +
         (b.stripsTags ? " strips-tags" : "");
    break;
  }
  }
  o += "\n";
}

} // namespace

std::string printModule(const Module &m, const SourceManager &sm) {
  std::string o;
  for (const auto &i : m.imports) {
    size_t n = i->kind == Import::ClassBench ? i->rules.size() : i->kind == Import::Routes ? i->routes.size() : i->patterns.size();
    o += "import " + i->name + " " + importKind(i->kind) + " \"" + i->path + "\" format=" + i->format +
         (i->every > 1 ? " every=" + std::to_string(i->every) : std::string()) + " entries=" + std::to_string(n) + "\n";
  }
  for (const auto &nf : m.nfs) {
    o += "nf " + nf->name + (nf->blackbox ? " blackbox" : nf->stateful() ? " stateful" : " stateless") + loc(nf->nameRange) + "\n";
    o += "  inputs:";
    for (const auto &p : nf->inputs) o += " " + p;
    o += "\n  outputs:";
    for (const auto &p : nf->outputs) o += " " + p;
    o += "\n  reads: " + fieldSetStr(nf->reads()) + "\n  writes: " + fieldSetStr(nf->writes()) + "\n";
    for (const auto &e : nf->elements) printElement(o, *e, m);
  }
  for (const auto &c : m.chains) {
    o += "chain " + c.name + loc(c.nameRange) + "\n";
    auto nodeName = [&](uint32_t i) {
      const ChainNode &n = c.nodes[i];
      return n.kind == ChainNode::Ingress ? "in " + n.name : n.kind == ChainNode::Egress ? "out " + n.name : n.name;
    };
    o += "  order:";
    for (uint32_t v : c.topoOrder) o += " [" + nodeName(v) + "]";
    o += "\n";
    for (const auto &e : c.edges) {
      o += "  edge " + nodeName(e.from) + (e.fromPort.empty() ? "" : "." + e.fromPort) + " -> " + nodeName(e.to) +
           (e.toPort.empty() ? "" : "." + e.toPort) + "\n";
    }
  }
  (void)sm;
  return o;
}

} // namespace metron::ir
