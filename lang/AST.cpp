//===- lang/AST.cpp - Printing the AST --------------------------------------------------------===//
#include "lang/AST.h"

namespace metron::ast {

std::string Value::str() const {
  switch (kind) {
  case Ip: return hasB ? a + "/" + b : a;
  case Int: return hasB ? a + "-" + b : a;
  case Hex: return hasB ? a + "/" + b : a;
  case String: {
    std::string s = "\"";
    for (char c : a) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    return s + "\"";
  }
  case Mac:
  case Name: return a;
  }
  return a;
}

namespace {

class Printer {
public:
  explicit Printer(const SourceManager &) {}
  std::string out;

  void line(int depth, const std::string &text, const SourceRange &r) {
    out.append(size_t(depth) * 2, ' ');
    out += text;
    if (r.valid()) out += " <" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.col) + ">";
    out += "\n";
  }

  static std::string action(const Action &a) {
    switch (a.kind) {
    case Action::Allow: return "allow";
    case Action::Deny: return "deny";
    case Action::Branch: return "branch " + a.port.text;
    case Action::Set: {
      std::string s = "set(";
      for (size_t i = 0; i < a.assigns.size(); ++i)
        s += (i ? ", " : "") + a.assigns[i].field.name + "=" + a.assigns[i].value.str();
      return s + ")";
    }
    }
    return "?";
  }

  static std::string match(const Match &m) {
    switch (m.kind) {
    case Match::Proto: return m.keyword;
    case Match::ProtoNum: return "proto " + m.value.str();
    case Match::Src: return "src " + m.value.str();
    case Match::Dst: return "dst " + m.value.str();
    case Match::Sport: return "sport " + m.value.str();
    case Match::Dport: return "dport " + m.value.str();
    case Match::Field: return m.field.name + " " + m.value.str();
    }
    return "?";
  }

  static std::string options(const std::vector<Option> &os) {
    std::string s;
    for (const auto &o : os) s += " " + o.name.text + (o.value ? " " + o.value->str() : "");
    return s;
  }

  static std::string keys(const Stmt &s) {
    if (!s.hasKeys) return "";
    std::string k = " key(";
    for (size_t i = 0; i < s.keys.size(); ++i) k += (i ? ", " : "") + s.keys[i].name;
    return k + ")";
  }

  void stmt(const Stmt &s) {
    std::string t;
    switch (s.kind) {
    case Stmt::Rule: {
      t = "Rule " + action(s.action);
      for (const auto &m : s.matches) t += " | " + match(m);
      break;
    }
    case Stmt::Rules: t = "Rules " + s.name.text + " action " + action(s.action); break;
    case Stmt::Default: t = "Default " + action(s.action); break;
    case Stmt::Lookup: {
      t = "Lookup " + s.field.name + " in " + s.name.text;
      for (const auto &p : s.portMap) t += " " + p.iface.str() + "->" + p.port.text;
      if (s.hasAction) t += " miss " + action(s.action);
      break;
    }
    case Stmt::Set: {
      t = "Set";
      for (const auto &a : s.assigns) t += " " + a.field.name + "=" + a.value.str();
      break;
    }
    case Stmt::Dec: t = "Dec " + s.field.name; break;
    case Stmt::Napt: t = "Napt " + s.field.name + " to " + s.values[0].str() + " ports " + s.values[1].str() + options(s.options); break;
    case Stmt::Balance: {
      t = "Balance " + s.field.name + " " + s.name.text + " [";
      for (size_t i = 0; i < s.values.size(); ++i) t += (i ? ", " : "") + s.values[i].str();
      t += "]" + options(s.options);
      break;
    }
    case Stmt::Monitor: t = "Monitor" + keys(s) + options(s.options); break;
    case Stmt::Conntrack: t = "Conntrack" + options(s.options); break;
    case Stmt::RateLimit: t = "RateLimit " + s.values[0].str() + " " + s.name.text + keys(s) + options(s.options); break;
    case Stmt::Dpi: t = "Dpi " + s.name.text + (s.hasAction ? " action " + action(s.action) : ""); break;
    case Stmt::Blackbox: t = "Blackbox " + s.name.text + " " + s.values[0].str(); break;
    case Stmt::Inputs:
    case Stmt::Outputs: {
      t = s.kind == Stmt::Inputs ? "Inputs" : "Outputs";
      for (const auto &n : s.names) t += " " + n.text;
      break;
    }
    case Stmt::Writes: {
      t = "Writes";
      for (const auto &f : s.fields) t += " " + f.name;
      break;
    }
    case Stmt::Strips: t = "StripsTags"; break;
    }
    line(2, t, s.range);
  }
};

} // namespace

std::string printAST(const File &f, const SourceManager &sm) {
  Printer p(sm);
  p.line(0, "File " + sm.file(f.file).path, {});
  for (const auto &d : f.order) {
    switch (d.kind) {
    case Decl::Import: {
      const auto &i = f.imports[d.index];
      p.line(1, "Import " + i.kind.text + " " + i.path.str() + " as " + i.name.text + Printer::options(i.options), i.range);
      break;
    }
    case Decl::Nf: {
      const auto &n = f.nfs[d.index];
      p.line(1, "NF " + n.name.text + (n.kind ? " " + n.kind->text : ""), n.range);
      for (const auto &s : n.stmts) p.stmt(s);
      break;
    }
    case Decl::Chain: {
      const auto &c = f.chains[d.index];
      p.line(1, "Chain " + c.name.text, c.range);
      for (const auto &path : c.paths) {
        std::string t = "Path";
        for (size_t i = 0; i < path.steps.size(); ++i) {
          const auto &e = path.steps[i];
          t += i ? " -> " : " ";
          if (e.kind == Endpoint::In) t += "in " + e.name.text;
          else if (e.kind == Endpoint::Out) t += "out " + e.name.text;
          else t += e.name.text + (e.port ? "." + e.port->text : "");
        }
        p.line(2, t, path.range);
      }
      break;
    }
    }
  }
  return p.out;
}

} // namespace metron::ast
