//===- compiler/sema/Sema.cpp - Pass 1: resolve names, values, imports and statements ---------===//
///
/// \file
/// Turns the AST of one file into the NF IR. Every statement is checked on its own, so one run
/// reports every error of the file (up to the error limit). Values are converted with the
/// width of the field they belong to; imports are loaded relative to the importing file.
///
//===----------------------------------------------------------------------------------------===//
#include "compiler/sema/Sema.h"

#include "compiler/import/Import.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>

namespace metron {

using namespace ir;

std::string closestName(const std::string &name, const std::vector<std::string> &candidates) {
  std::string best;
  size_t bestD = std::max<size_t>(2, name.size() / 3) + 1;
  for (const auto &c : candidates) {
    // Levenshtein distance, small strings only.
    if (c.size() > 64 || name.size() > 64) continue;
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (name[i - 1] != c[j - 1])});
      std::swap(prev, cur);
    }
    if (prev[c.size()] < bestD) {
      bestD = prev[c.size()];
      best = c;
    }
  }
  return best;
}

namespace {

const std::map<std::string, uint8_t> kProtocols = {
    {"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50}, {"ah", 51},
    {"icmpv6", 58}, {"ospf", 89}, {"sctp", 132}};
const std::map<std::string, uint8_t> kTcpFlags = {
    {"fin", 0x01}, {"syn", 0x02}, {"rst", 0x04}, {"psh", 0x08}, {"ack", 0x10}, {"urg", 0x20},
    {"ece", 0x40}, {"cwr", 0x80}};

class Resolver {
public:
  Resolver(const ast::File &f, SourceManager &sm, DiagnosticEngine &d, Module &m, const SemaOptions &o)
      : file_(f), sm_(sm), d_(d), m_(m), opts_(o) {
    const std::string &p = sm.file(f.file).path;
    size_t slash = p.rfind('/');
    baseDir_ = slash == std::string::npos ? "" : p.substr(0, slash + 1);
  }

  void loadImports() {
    for (const auto &i : file_.imports) loadImport(i);
  }
  void resolveNFs() {
    for (const auto &n : file_.nfs) resolveNF(n);
  }

  void reportUnusedImports() {
    for (const auto &i : m_.imports)
      if (!i->used && !failed_.count(i->name))
        d_.report(DiagKind::UnusedImport, nameRangeOfImport(i->name), "import '" + i->name + "' is not used");
  }

private:
  // ---- values ---------------------------------------------------------------------------------

  /// Parses a decimal or hex token; false on overflow (reported by the caller as out of range).
  static bool number(const std::string &t, uint64_t &out) {
    const char *b = t.data(), *e = t.data() + t.size();
    int base = 10;
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
      b += 2;
      base = 16;
    }
    auto r = std::from_chars(b, e, out, base);
    return r.ec == std::errc() && r.ptr == e;
  }

  std::string fieldWhat(FieldId f) const {
    if (f == FieldId::TpSrc || f == FieldId::TpDst) return "port";
    if (f == FieldId::IpProto) return "protocol number";
    return fieldInfo(f).name;
  }

  DiagKind rangeKind(FieldId f) const { return f == FieldId::IpProto ? DiagKind::BadProtocol : DiagKind::BadRange; }

  bool boundedNumber(FieldId f, const std::string &text, SourceRange r, uint64_t &out) {
    uint64_t max = fieldInfo(f).maxValue();
    if (!number(text, out) || out > max) {
      d_.report(rangeKind(f), r,
                fieldWhat(f) + " " + text + " is out of range 0.." + std::to_string(max));
      return false;
    }
    return true;
  }

  bool ipv4(const ast::Value &v, uint32_t &out) {
    if (!parseIpv4(v.a, out)) {
      d_.report(DiagKind::BadAddress, v.aRange, "'" + v.a + "' is not a valid IPv4 address");
      return false;
    }
    return true;
  }

  std::string kindWord(ValueKind k) const {
    switch (k) {
    case ValueKind::IPv4: return "an IPv4 address or prefix";
    case ValueKind::Mac: return "a MAC address";
    case ValueKind::Port: return "a chain port name";
    case ValueKind::Int: return "a number, a range lo-hi, or a hex value/mask";
    }
    return "?";
  }

  bool wrongKind(FieldId f, const ast::Value &v) {
    d_.report(DiagKind::BadValue, v.range,
              std::string(fieldInfo(f).name) + " takes " + kindWord(fieldInfo(f).kind) + ", not '" + v.str() + "'");
    return false;
  }

  /// A match value for field f.
  bool toMatch(FieldId f, const ast::Value &v, FieldMatch &out) {
    const FieldInfo &fi = fieldInfo(f);
    switch (fi.kind) {
    case ValueKind::IPv4: {
      if (v.kind != ast::Value::Ip) return wrongKind(f, v);
      uint32_t a;
      if (!ipv4(v, a)) return false;
      unsigned len = 32;
      if (v.hasB) {
        uint64_t l;
        if (!number(v.b, l) || l > 32) {
          d_.report(DiagKind::BadPrefix, v.bRange, "prefix length " + v.b + " is out of range 0..32");
          return false;
        }
        len = unsigned(l);
      }
      uint32_t mask = len == 0 ? 0 : ~uint32_t(0) << (32 - len);
      if (a & ~mask) {
        auto *diag = d_.report(DiagKind::BadPrefix, v.range, "prefix " + v.str() + " has host bits set");
        d_.note(diag, v.range, "did you mean " + ipv4Str(a & mask) + "/" + std::to_string(len) + "?");
        return false;
      }
      out = FieldMatch::prefix(f, a, len);
      return true;
    }
    case ValueKind::Mac: {
      uint64_t mac;
      if (v.kind != ast::Value::Mac) return wrongKind(f, v);
      // The lexer's MAC token is exactly six pairs of hex digits, so this cannot fail.
      METRON_INTERNAL_ASSERT(parseMac(v.a, mac), "MAC token that does not parse");
      out = FieldMatch::exact(f, mac);
      return true;
    }
    case ValueKind::Port: {
      if (v.kind != ast::Value::Name) return wrongKind(f, v);
      out = FieldMatch::exact(f, m_.internPort(v.a));
      return true;
    }
    case ValueKind::Int: break;
    }
    if (v.kind == ast::Value::Name) {
      if (f == FieldId::IpProto) {
        auto it = kProtocols.find(v.a);
        if (it == kProtocols.end()) {
          d_.report(DiagKind::BadProtocol, v.range, "unknown protocol '" + v.a + "'; use a number 0..255 or one of icmp, igmp, tcp, udp, gre, esp, ah, icmpv6, ospf, sctp");
          return false;
        }
        out = FieldMatch::exact(f, it->second);
        return true;
      }
      if (f == FieldId::TcpFlags) {
        auto it = kTcpFlags.find(v.a);
        if (it == kTcpFlags.end()) {
          d_.report(DiagKind::BadValue, v.range, "unknown TCP flag '" + v.a + "'; use fin, syn, rst, psh, ack, urg, ece, cwr or value/mask");
          return false;
        }
        out = FieldMatch::masked(f, it->second, it->second);
        return true;
      }
      return wrongKind(f, v);
    }
    if (v.kind == ast::Value::Int) {
      uint64_t lo, hi;
      if (!boundedNumber(f, v.a, v.aRange, lo)) return false;
      hi = lo;
      if (v.hasB) {
        if (!boundedNumber(f, v.b, v.bRange, hi)) return false;
        if (hi < lo) {
          d_.report(DiagKind::BadRange, v.range, "range " + v.str() + " is reversed");
          return false;
        }
      }
      out = FieldMatch::range(f, lo, hi);
      return true;
    }
    if (v.kind == ast::Value::Hex) {
      uint64_t val, mask = fieldInfo(f).maxValue();
      if (!boundedNumber(f, v.a, v.aRange, val)) return false;
      if (v.hasB && !boundedNumber(f, v.b, v.bRange, mask)) return false;
      if (val & ~mask) {
        d_.report(DiagKind::BadValue, v.range, "value " + v.a + " has bits outside mask " + v.b);
        return false;
      }
      out = FieldMatch::masked(f, val, mask);
      return true;
    }
    return wrongKind(f, v);
  }

  /// A single value to write into field f.
  bool toScalar(FieldId f, const ast::Value &v, uint64_t &out) {
    FieldMatch m;
    if (!toMatch(f, v, m)) return false;
    if (m.kind != FieldMatch::Range || m.lo != m.hi) {
      d_.report(DiagKind::BadValue, v.range, "'" + v.str() + "' is not a single value; " +
                                                 std::string(fieldInfo(f).name) + " can only be set to one value");
      return false;
    }
    out = m.lo;
    return true;
  }

  std::optional<FieldId> field(const ast::FieldRef &r) {
    if (auto f = fieldByName(r.name)) return f;
    std::vector<std::string> names;
    for (const auto &fi : allFields()) names.push_back(fi.name);
    auto *d = d_.report(DiagKind::UnknownField, r.range, "unknown packet field '" + r.name + "'");
    std::string c = closestName(r.name, names);
    if (!c.empty()) d_.note(d, r.range, "did you mean '" + c + "'?");
    return std::nullopt;
  }

  bool assign(const ast::Assign &a, Assign &out) {
    auto f = field(a.field);
    if (!f) return false;
    if (!fieldInfo(*f).writable) {
      d_.report(DiagKind::ReadOnlyField, a.field.range, std::string(fieldInfo(*f).name) + " cannot be written");
      return false;
    }
    uint64_t v;
    if (!toScalar(*f, a.value, v)) return false;
    out = {*f, v, a.range};
    return true;
  }

  bool assigns(const std::vector<ast::Assign> &in, std::vector<Assign> &out) {
    bool ok = true;
    std::map<FieldId, SourceRange> seen;
    for (const auto &a : in) {
      Assign x;
      if (!assign(a, x)) { ok = false; continue; }
      auto [it, fresh] = seen.emplace(x.field, a.range);
      if (!fresh) {
        auto *d = d_.report(DiagKind::Redefinition, a.range, std::string(fieldInfo(x.field).name) + " is set twice");
        d_.note(d, it->second, "first set here");
        ok = false;
        continue;
      }
      out.push_back(x);
    }
    return ok;
  }

  bool action(const ast::Action &a, Action &out, NF &nf) {
    out.range = a.range;
    switch (a.kind) {
    case ast::Action::Allow: out.kind = Action::Allow; return true;
    case ast::Action::Deny: out.kind = Action::Deny; return true;
    case ast::Action::Branch:
      out.kind = Action::Branch;
      out.port = a.port.text;
      if (a.port.text == "in") {
        d_.report(DiagKind::BadValue, a.port.range, "cannot branch to 'in', the NF's input");
        return false;
      }
      addOutput(nf, a.port.text);
      return true;
    case ast::Action::Set: out.kind = Action::Set; return assigns(a.assigns, out.assigns);
    }
    return false;
  }

  // ---- imports --------------------------------------------------------------------------------

  SourceRange nameRangeOfImport(const std::string &n) const {
    for (const auto &i : file_.imports)
      if (i.name.text == n) return i.name.range;
    return {};
  }

  void loadImport(const ast::ImportDecl &decl) {
    static const std::map<std::string, Import::Kind> kinds = {
        {"classbench", Import::ClassBench}, {"routes", Import::Routes}, {"patterns", Import::Patterns}};
    if (const Import *prev = m_.findImport(decl.name.text)) {
      auto *d = d_.report(DiagKind::Redefinition, decl.name.range, "import '" + decl.name.text + "' is declared twice");
      d_.note(d, prev->range, "first declared here");
      return;
    }
    auto k = kinds.find(decl.kind.text);
    if (k == kinds.end()) {
      d_.report(DiagKind::UnknownKind, decl.kind.range,
                "unknown import kind '" + decl.kind.text + "'; expected classbench, routes or patterns");
      failed_.insert(decl.name.text);
      return;
    }
    auto imp = std::make_unique<Import>();
    imp->name = decl.name.text;
    imp->kind = k->second;
    imp->range = decl.range;
    imp->nameRange = decl.name.range;
    const std::string &p = decl.path.a;
    imp->path = (!p.empty() && p[0] == '/') ? p : baseDir_ + p;
    for (const auto &o : decl.options) {
      uint64_t n;
      if (o.name.text == "every") {
        if (optionNumber(o, 1u << 30, n)) imp->every = uint32_t(n);
      } else if (imp->kind == Import::Patterns && isRuleVariableName(o.name.text)) {
        // A Suricata rule variable: HOME_NET "[10.0.0.0/8]".
        if (!o.value || o.value->kind != ast::Value::String)
          d_.report(DiagKind::BadValue, o.range,
                    "rule variable " + o.name.text + " needs its value as a string, e.g. " + o.name.text +
                        (o.name.text.find("PORT") != std::string::npos ? " \"[80,8080]\"" : " \"[10.0.0.0/8]\""));
        else if (!imp->ruleVars.emplace(o.name.text, o.value->a).second)
          d_.report(DiagKind::Redefinition, o.name.range, "rule variable " + o.name.text + " is set twice");
      } else {
        option(o, "import");
      }
    }
    std::string err;
    if (p.empty()) {
      d_.report(DiagKind::ImportMissing, decl.path.range, "empty import path");
      failed_.insert(imp->name);
    } else if (FileID id = sm_.readFile(imp->path, opts_.limits.maxImportBytes, err); id == 0) {
      d_.report(err.rfind("too large", 0) == 0 ? DiagKind::FileTooLarge : DiagKind::ImportMissing, decl.path.range,
                "cannot import '" + imp->path + "': " + err);
      failed_.insert(imp->name);
    } else {
      FileID original = id;
      if (imp->every > 1) id = sampleLines(id, imp->every, imp->kind);
      imp->file = id;
      size_t first = d_.diagnostics().size();
      bool ok = false;
      std::set<std::string> usedVars; // the rule variables of the options that a rule used
      switch (imp->kind) {
      case Import::ClassBench: ok = readClassBench(sm_, id, d_, imp->rules, imp->format); break;
      case Import::Routes: ok = readRoutes(sm_, id, d_, imp->routes, imp->format); break;
      case Import::Patterns:
        ok = readPatterns(sm_, id, d_, imp->patterns, imp->format, &imp->patternRules, &imp->ruleVars, &usedVars);
        break;
      }
      d_.noteSince(first, decl.path.range, "in the file imported here");
      for (const auto &o : decl.options) {
        if (!imp->ruleVars.count(o.name.text)) continue;
        if (imp->format != "suricata") {
          d_.report(DiagKind::UnknownKind, o.name.range,
                    "rule variable " + o.name.text + ": '" + imp->path + "' holds " + imp->format +
                        " patterns, not Suricata rules");
          ok = false;
        } else if (ok && !usedVars.count(o.name.text)) {
          d_.report(DiagKind::UnusedImport, o.name.range,
                    "rule variable " + o.name.text + " is not used by any rule of '" + imp->path + "'");
        }
      }
      if (!ok) failed_.insert(imp->name);
      if (imp->every > 1 && imp->kind == Import::ClassBench) renumberRules(original, imp->rules);
    }
    m_.addImport(std::move(imp));
  }

  /// `every N`: a copy of the file in which only entry lines 1, N+1, 2N+1… keep their text (the
  /// others are blanked, so line numbers and columns stay those of the real file). Blank lines,
  /// '#' comments and a route table's "Prefix ..." header are not entries and are always kept.
  /// In a route table a line that starts with a blank continues the entry above (Cisco ECMP
  /// next hops) and goes with it.
  FileID sampleLines(FileID id, uint32_t every, Import::Kind kind) {
    const std::string &t = sm_.file(id).text;
    std::string out;
    out.reserve(t.size() / every + t.size() / 40);
    bool keepEntry = false;
    uint64_t entry = 0;
    for (size_t b = 0; b < t.size();) {
      size_t e = t.find('\n', b);
      if (e == std::string::npos) e = t.size();
      size_t f = t.find_first_not_of(" \t\r", b);
      bool empty = f == std::string::npos || f >= e;
      bool comment = !empty && t[f] == '#';
      bool header = kind == Import::Routes && !empty && t.compare(f, 6, "Prefix") == 0;
      bool continuation = kind == Import::Routes && !empty && f > b;
      bool keep;
      if (empty || comment || header) keep = true;
      else if (continuation) keep = keepEntry;
      else keep = keepEntry = (entry++ % every == 0);
      if (keep) out.append(t, b, e - b);
      if (e < t.size()) out += '\n';
      b = e + 1;
    }
    return sm_.addBuffer(sm_.file(id).path, std::move(out));
  }

  /// After sampling, a ClassBench rule's number must still be its number in the whole file.
  void renumberRules(FileID original, std::vector<Rule> &rules) {
    const std::string &t = sm_.file(original).text;
    std::vector<int32_t> ruleOfLine{0};
    int32_t n = 0;
    for (size_t b = 0; b <= t.size();) {
      size_t e = t.find('\n', b);
      if (e == std::string::npos) e = t.size();
      size_t f = t.find_first_not_of(" \t\r", b);
      bool entry = f != std::string::npos && f < e && t[f] != '#';
      ruleOfLine.push_back(entry ? ++n : 0);
      b = e + 1;
    }
    for (Rule &r : rules)
      if (r.range.begin.line < ruleOfLine.size()) r.importIndex = ruleOfLine[r.range.begin.line];
  }

  /// Finds an import of the wanted kind for a statement (\p what: "routes table"); reports and returns nullptr otherwise.
  /// Returns nullptr silently when the import itself failed (its errors are already out).
  Import *useImport(const ast::Name &n, Import::Kind want, const char *what) {
    Import *found = const_cast<Import *>(m_.findImport(n.text));
    if (failed_.count(n.text)) {
      if (found) found->used = true;
      return nullptr;
    }
    if (!found) {
      std::vector<std::string> names;
      for (auto &i : m_.imports) names.push_back(i->name);
      auto *d = d_.report(DiagKind::UnknownName, n.range, std::string("no ") + what + " named '" + n.text + "' is imported");
      std::string c = closestName(n.text, names);
      if (!c.empty()) d_.note(d, nameRangeOfImport(c), "did you mean '" + c + "'?");
      return nullptr;
    }
    found->used = true;
    static const char *kindNames[] = {"classbench", "routes", "patterns"};
    if (found->kind != want) {
      auto *d = d_.report(DiagKind::ImportKind, n.range,
                          "'" + n.text + "' is a " + kindNames[found->kind] + " import; this statement needs a " + what);
      d_.note(d, found->nameRange, "imported here");
      return nullptr;
    }
    return found;
  }

  // ---- NFs ------------------------------------------------------------------------------------

  static void addOutput(NF &nf, const std::string &p) {
    if (!nf.hasOutput(p)) nf.outputs.push_back(p);
  }

  /// HOME_NET, HTTP_PORTS: capitals, digits and '_', starting with a capital.
  static bool isRuleVariableName(const std::string &n) {
    if (n.empty() || n[0] < 'A' || n[0] > 'Z') return false;
    for (char c : n)
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
  }

  void option(const ast::Option &o, const char *stmt) {
    d_.report(DiagKind::UnknownKind, o.name.range, "unknown option '" + o.name.text + "' for '" + stmt + "'");
  }

  bool optionNumber(const ast::Option &o, uint64_t max, uint64_t &out) {
    if (!o.value || o.value->kind != ast::Value::Int || o.value->hasB) {
      d_.report(DiagKind::BadValue, o.range, "option '" + o.name.text + "' needs a number");
      return false;
    }
    if (!number(o.value->a, out) || out > max || out == 0) {
      d_.report(DiagKind::BadRange, o.value->range,
                "'" + o.name.text + "' " + o.value->a + " is out of range 1.." + std::to_string(max));
      return false;
    }
    return true;
  }

  bool keyList(const ast::Stmt &s, std::vector<FieldId> &out) {
    bool ok = true;
    for (const auto &k : s.keys) {
      auto f = field(k);
      if (!f) { ok = false; continue; }
      if (std::find(out.begin(), out.end(), *f) != out.end()) {
        d_.report(DiagKind::Redefinition, k.range, std::string(fieldInfo(*f).name) + " appears twice in the key");
        ok = false;
        continue;
      }
      out.push_back(*f);
    }
    return ok;
  }

  void resolveNF(const ast::NfDecl &decl) {
    if (const NF *prev = m_.findNF(decl.name.text)) {
      auto *d = d_.report(DiagKind::Redefinition, decl.name.range, "NF '" + decl.name.text + "' is declared twice");
      d_.note(d, prev->nameRange, "first declared here");
      return;
    }
    auto nf = std::make_unique<NF>();
    nf->name = decl.name.text;
    nf->range = decl.range;
    nf->nameRange = decl.name.range;
    if (decl.kind) {
      if (decl.kind->text == "stateful") nf->declaredStateful = true;
      else if (decl.kind->text == "blackbox") nf->blackbox = true;
      else
        d_.report(DiagKind::UnknownKind, decl.kind->range,
                  "unknown NF kind '" + decl.kind->text + "'; expected 'stateful' or 'blackbox'");
    }
    Classifier *open = nullptr; // the rule list being filled by consecutive rule statements
    Blackbox *bb = nullptr;
    bool sawInputs = false, sawOutputs = false;
    std::set<std::string> declaredInputs, declaredOutputs; // by input / output statements
    for (const auto &s : decl.stmts) {
      bool isRuleStmt = s.kind == ast::Stmt::Rule || s.kind == ast::Stmt::Rules || s.kind == ast::Stmt::Default;
      // Port declarations do not end a rule list; every other statement does.
      if (!isRuleStmt && s.kind != ast::Stmt::Outputs && s.kind != ast::Stmt::Inputs) open = nullptr;
      bool bbStmt = s.kind == ast::Stmt::Blackbox || s.kind == ast::Stmt::Inputs || s.kind == ast::Stmt::Writes ||
                    s.kind == ast::Stmt::Strips;
      if (nf->blackbox && !bbStmt && s.kind != ast::Stmt::Outputs) {
        d_.report(DiagKind::BadStatement, s.keywordRange,
                  "a blackbox NF only declares its implementation and interface (process/vm/device, input, output, writes, strips tags)");
        continue;
      }
      if (!nf->blackbox && bbStmt) {
        auto *d = d_.report(DiagKind::BadStatement, s.keywordRange, "this statement is only allowed in a blackbox NF");
        d_.note(d, decl.name.range, "declare it as 'nf " + decl.name.text + " blackbox'");
        continue;
      }
      switch (s.kind) {
      case ast::Stmt::Rule:
      case ast::Stmt::Rules:
      case ast::Stmt::Default: {
        if (!open) {
          auto c = std::make_unique<Classifier>(s.range);
          open = c.get();
          nf->elements.push_back(std::move(c));
        }
        open->range.end = s.range.end;
        if (s.kind == ast::Stmt::Rule) ruleStmt(s, *open, *nf);
        else if (s.kind == ast::Stmt::Rules) rulesStmt(s, *open, *nf);
        else {
          Action a;
          if (action(s.action, a, *nf)) {
            open->defaultAction = a;
            open->hasExplicitDefault = true;
          }
          open = nullptr; // `default` closes the rule list
        }
        break;
      }
      case ast::Stmt::Lookup: lookupStmt(s, *nf); break;
      case ast::Stmt::Set: {
        auto e = std::make_unique<SetFields>(s.range);
        if (assigns(s.assigns, e->assigns)) nf->elements.push_back(std::move(e));
        break;
      }
      case ast::Stmt::Dec: {
        auto f = field(s.field);
        if (!f) break;
        if (*f != FieldId::IpTtl) {
          d_.report(DiagKind::BadValue, s.field.range, "only ip.ttl can be decremented");
          break;
        }
        nf->elements.push_back(std::make_unique<DecTtl>(s.range));
        break;
      }
      case ast::Stmt::Napt: naptStmt(s, *nf); break;
      case ast::Stmt::Balance: balanceStmt(s, *nf); break;
      case ast::Stmt::Monitor: {
        auto e = std::make_unique<Monitor>(s.range);
        bool ok = keyList(s, e->key);
        for (const auto &o : s.options) {
          uint64_t v;
          if (o.name.text == "timeout") { if (optionNumber(o, 86400, v)) e->timeoutSec = uint32_t(v); else ok = false; }
          else { option(o, "monitor"); ok = false; }
        }
        if (ok) push(*nf, std::move(e), s);
        break;
      }
      case ast::Stmt::Conntrack: {
        auto e = std::make_unique<Conntrack>(s.range);
        bool ok = true;
        for (const auto &o : s.options) {
          uint64_t v;
          if (o.name.text == "timeout") { if (optionNumber(o, 86400, v)) e->timeoutSec = uint32_t(v); else ok = false; }
          else if (o.name.text == "strict" && !o.value) e->strict = true;
          else { option(o, "conntrack"); ok = false; }
        }
        if (ok) push(*nf, std::move(e), s);
        break;
      }
      case ast::Stmt::RateLimit: rateStmt(s, *nf); break;
      case ast::Stmt::Dpi: {
        auto e = std::make_unique<Dpi>(s.range);
        e->patternSet = s.name.text;
        e->onMatch.kind = Action::Allow;
        e->patterns = useImport(s.name, Import::Patterns, "pattern set");
        bool ok = e->patterns != nullptr;
        if (s.hasAction && !action(s.action, e->onMatch, *nf)) ok = false;
        if (ok) push(*nf, std::move(e), s);
        break;
      }
      case ast::Stmt::Blackbox: {
        if (bb) {
          auto *d = d_.report(DiagKind::Redefinition, s.keywordRange, "blackbox '" + decl.name.text + "' already has an implementation");
          d_.note(d, bb->range, "first given here");
          break;
        }
        auto e = std::make_unique<Blackbox>(s.range);
        e->impl = s.name.text == "process" ? Blackbox::Process : s.name.text == "vm" ? Blackbox::Vm : Blackbox::Device;
        e->target = s.values[0].a;
        if (e->target.empty()) d_.report(DiagKind::BadValue, s.values[0].range, "empty " + s.name.text + " name");
        bb = e.get();
        nf->elements.push_back(std::move(e));
        break;
      }
      case ast::Stmt::Inputs:
      case ast::Stmt::Outputs: {
        std::vector<std::string> &ports = s.kind == ast::Stmt::Inputs ? nf->inputs : nf->outputs;
        // A blackbox's explicit interface replaces the default "in" / "out".
        bool &seen = s.kind == ast::Stmt::Inputs ? sawInputs : sawOutputs;
        if (!seen && (s.kind == ast::Stmt::Inputs || nf->blackbox)) ports.clear();
        seen = true;
        for (const auto &n : s.names) {
          bool isOutput = s.kind == ast::Stmt::Outputs;
          if (isOutput && n.text == "in") {
            d_.report(DiagKind::BadValue, n.range, "'in' is the NF's input; an output port needs another name");
            continue;
          }
          // Declaring a port twice is an error; declaring one that a branch or port map already
          // created is fine (`output` documents it).
          std::set<std::string> &declared = isOutput ? declaredOutputs : declaredInputs;
          if (!declared.insert(n.text).second) {
            d_.report(DiagKind::Redefinition, n.range, "port '" + n.text + "' is declared twice");
            continue;
          }
          if (std::find(ports.begin(), ports.end(), n.text) == ports.end()) ports.push_back(n.text);
        }
        break;
      }
      case ast::Stmt::Writes:
        if (bb) {
          for (const auto &fr : s.fields)
            if (auto f = field(fr)) bb->declaredWrites.add(*f);
        } else {
          pendingWrites_.insert(pendingWrites_.end(), s.fields.begin(), s.fields.end());
        }
        break;
      case ast::Stmt::Strips:
        if (bb) bb->stripsTags = true;
        else pendingStrips_ = true;
        break;
      }
    }
    if (nf->blackbox) {
      if (!bb) {
        d_.report(DiagKind::MissingStatement, decl.name.range,
                  "blackbox '" + decl.name.text + "' needs an implementation: process \"CMD\", vm \"IMAGE\" or device \"NAME\"");
      } else {
        for (const auto &fr : pendingWrites_)
          if (auto f = field(fr)) bb->declaredWrites.add(*f);
        bb->stripsTags |= pendingStrips_;
      }
    }
    pendingWrites_.clear();
    pendingStrips_ = false;
    m_.addNF(std::move(nf));
  }

  void push(NF &nf, std::unique_ptr<Element> e, const ast::Stmt &s) {
    if (e->stateful() && !nf.declaredStateful && !nf.blackbox) {
      auto *d = d_.report(DiagKind::NotStateful, s.keywordRange,
                          std::string("'") + sm_.file(s.keywordRange.begin.file).text.substr(
                                                 s.keywordRange.begin.offset, s.keywordRange.end.offset - s.keywordRange.begin.offset) +
                              "' keeps state, but NF '" + nf.name + "' is not declared stateful");
      d_.note(d, nf.nameRange, "declare it as 'nf " + nf.name + " stateful'");
      return;
    }
    nf.elements.push_back(std::move(e));
  }

  void ruleStmt(const ast::Stmt &s, Classifier &c, NF &nf) {
    Rule r;
    r.range = s.range;
    bool ok = action(s.action, r.action, nf);
    std::map<FieldId, SourceRange> seen;
    for (const auto &m : s.matches) {
      FieldId f;
      switch (m.kind) {
      case ast::Match::Proto:
      case ast::Match::ProtoNum: f = FieldId::IpProto; break;
      case ast::Match::Src: f = FieldId::IpSrc; break;
      case ast::Match::Dst: f = FieldId::IpDst; break;
      case ast::Match::Sport: f = FieldId::TpSrc; break;
      case ast::Match::Dport: f = FieldId::TpDst; break;
      case ast::Match::Field: {
        auto ff = field(m.field);
        if (!ff) { ok = false; continue; }
        f = *ff;
        break;
      }
      }
      FieldMatch fm;
      if (m.kind == ast::Match::Proto) fm = FieldMatch::exact(f, kProtocols.at(m.keyword));
      else if (!toMatch(f, m.value, fm)) { ok = false; continue; }
      auto [it, fresh] = seen.emplace(f, m.range);
      if (!fresh) {
        auto *d = d_.report(DiagKind::Redefinition, m.range, std::string(fieldInfo(f).name) + " is matched twice in one rule");
        d_.note(d, it->second, "first matched here");
        ok = false;
        continue;
      }
      if (!fm.isWildcard()) r.matches.push_back(fm);
    }
    std::sort(r.matches.begin(), r.matches.end(), [](const FieldMatch &a, const FieldMatch &b) { return a.field < b.field; });
    if (ok) c.rules.push_back(std::move(r));
  }

  void rulesStmt(const ast::Stmt &s, Classifier &c, NF &nf) {
    Action a;
    bool ok = action(s.action, a, nf);
    Import *imp = useImport(s.name, Import::ClassBench, "classbench rule set");
    if (!imp || !ok) return;
    size_t begin = c.rules.size();
    c.rules.reserve(begin + imp->rules.size());
    for (const Rule &r : imp->rules) {
      Rule x = r;
      x.action = a; // the policy of the `rules` statement, located at that statement
      c.rules.push_back(std::move(x));
    }
    c.importSpans.push_back({imp->name, begin, c.rules.size(), s.range});
  }

  void lookupStmt(const ast::Stmt &s, NF &nf) {
    auto e = std::make_unique<Lookup>(s.range);
    bool ok = true;
    if (auto f = field(s.field)) {
      if (fieldInfo(*f).kind != ValueKind::IPv4) {
        d_.report(DiagKind::BadValue, s.field.range, "lookup needs an IPv4 field (ip.dst or ip.src), not " + s.field.name);
        ok = false;
      }
      e->field = *f;
    } else {
      ok = false;
    }
    e->table = s.name.text;
    e->routes = useImport(s.name, Import::Routes, "routes table");
    if (!e->routes) ok = false;
    std::set<std::string> ifaces;
    if (e->routes)
      for (const auto &r : e->routes->routes) ifaces.insert(r.iface);
    for (const auto &pm : s.portMap) {
      if (e->routes && !ifaces.count(pm.iface.a)) {
        std::vector<std::string> cands(ifaces.begin(), ifaces.end());
        auto *d = d_.report(DiagKind::UnknownName, pm.iface.range,
                            "no route in '" + s.name.text + "' uses interface " + pm.iface.str());
        std::string c = closestName(pm.iface.a, cands);
        if (!c.empty()) d_.note(d, pm.iface.range, "did you mean \"" + c + "\"?");
        ok = false;
        continue;
      }
      if (e->portOf.count(pm.iface.a)) {
        d_.report(DiagKind::Redefinition, pm.iface.range, "interface " + pm.iface.str() + " is mapped twice");
        ok = false;
        continue;
      }
      if (pm.port.text == "in") {
        d_.report(DiagKind::BadValue, pm.port.range, "cannot send routes to 'in', the NF's input");
        ok = false;
        continue;
      }
      e->portOf[pm.iface.a] = pm.port.text;
      addOutput(nf, pm.port.text);
    }
    e->miss.kind = Action::Deny;
    if (s.hasAction && !action(s.action, e->miss, nf)) ok = false;
    if (ok) nf.elements.push_back(std::move(e));
  }

  void naptStmt(const ast::Stmt &s, NF &nf) {
    auto e = std::make_unique<Napt>(s.range);
    bool ok = true;
    if (auto f = field(s.field)) {
      if (*f != FieldId::IpSrc && *f != FieldId::IpDst) {
        d_.report(DiagKind::BadValue, s.field.range, "napt rewrites ip.src (source NAPT) or ip.dst (destination NAPT), not " + s.field.name);
        ok = false;
      }
      e->field = *f;
    } else {
      ok = false;
    }
    uint64_t addr;
    if (toScalar(FieldId::IpSrc, s.values[0], addr)) e->address = uint32_t(addr);
    else ok = false;
    FieldMatch ports;
    if (s.values[1].kind != ast::Value::Int) {
      d_.report(DiagKind::BadValue, s.values[1].range, "napt ports must be a range lo-hi, not '" + s.values[1].str() + "'");
      ok = false;
    } else if (!toMatch(FieldId::TpSrc, s.values[1], ports)) {
      ok = false;
    } else if (ports.kind != FieldMatch::Range) {
      d_.report(DiagKind::BadValue, s.values[1].range, "napt ports must be a range lo-hi, not '" + s.values[1].str() + "'");
      ok = false;
    } else {
      e->portLo = uint16_t(ports.lo);
      e->portHi = uint16_t(ports.hi);
    }
    for (const auto &o : s.options) {
      uint64_t v;
      if (o.name.text == "timeout") { if (optionNumber(o, 86400, v)) e->timeoutSec = uint32_t(v); else ok = false; }
      else { option(o, "napt"); ok = false; }
    }
    if (ok) push(nf, std::move(e), s);
  }

  void balanceStmt(const ast::Stmt &s, NF &nf) {
    auto e = std::make_unique<Balance>(s.range);
    bool ok = true;
    if (auto f = field(s.field)) {
      if (!fieldInfo(*f).writable) {
        d_.report(DiagKind::ReadOnlyField, s.field.range, s.field.name + " cannot be written");
        ok = false;
      }
      e->field = *f;
    } else {
      ok = false;
    }
    if (s.name.text == "round_robin") e->policy = Balance::RoundRobin;
    else if (s.name.text == "hash") e->policy = Balance::Hash;
    else {
      d_.report(DiagKind::UnknownKind, s.name.range, "unknown balancing policy '" + s.name.text + "'; expected round_robin or hash");
      ok = false;
    }
    if (ok)
      for (const auto &v : s.values) {
        uint64_t x;
        if (toScalar(e->field, v, x)) e->backends.push_back(x);
        else ok = false;
      }
    for (const auto &o : s.options) { option(o, "balance"); ok = false; }
    if (ok) push(nf, std::move(e), s);
  }

  void rateStmt(const ast::Stmt &s, NF &nf) {
    static const std::map<std::string, std::pair<bool, uint64_t>> units = {
        {"bps", {false, 1}}, {"kbps", {false, 1000}}, {"mbps", {false, 1000000}}, {"gbps", {false, 1000000000}},
        {"pps", {true, 1}}, {"kpps", {true, 1000}}, {"mpps", {true, 1000000}}};
    auto e = std::make_unique<RateLimit>(s.range);
    bool ok = keyList(s, e->key);
    const ast::Value &v = s.values[0];
    uint64_t n = 0;
    if (v.kind != ast::Value::Int || v.hasB || !number(v.a, n) || n == 0 || n > (1ull << 40)) {
      d_.report(DiagKind::BadValue, v.range, "rate must be a positive number, not '" + v.str() + "'");
      ok = false;
    }
    auto u = units.find(s.name.text);
    if (u == units.end()) {
      d_.report(DiagKind::UnknownKind, s.name.range, "unknown rate unit '" + s.name.text + "'; expected bps, kbps, mbps, gbps, pps, kpps or mpps");
      ok = false;
    } else if (ok && n > (u->second.first ? 10000000000ull : 10000000000000ull) / u->second.second) {
      d_.report(DiagKind::BadRange, v.range, "rate " + v.a + " " + s.name.text + " is beyond " +
                                                 (u->second.first ? "10 Gpps" : "10 Tbps"));
      ok = false;
    } else {
      e->packets = u->second.first;
      e->rate = n * u->second.second;
    }
    for (const auto &o : s.options) {
      uint64_t b;
      if (o.name.text == "burst") { if (optionNumber(o, 1ull << 40, b)) e->burst = b; else ok = false; }
      else { option(o, "ratelimit"); ok = false; }
    }
    if (ok && e->burst == 0) e->burst = e->packets ? std::max<uint64_t>(e->rate / 10, 1) : std::max<uint64_t>(e->rate / 80, 1514);
    if (ok) push(nf, std::move(e), s);
  }

  const ast::File &file_;
  SourceManager &sm_;
  DiagnosticEngine &d_;
  Module &m_;
  const SemaOptions &opts_;
  std::string baseDir_;
  std::set<std::string> failed_; ///< imports that could not be loaded (no cascading errors)
  std::vector<ast::FieldRef> pendingWrites_;
  bool pendingStrips_ = false;
};

} // namespace

std::unique_ptr<Module> analyze(const ast::File &file, SourceManager &sm, DiagnosticEngine &diags,
                                const SemaOptions &opts) {
  auto m = std::make_unique<Module>();
  unsigned errorsBefore = diags.numErrors(); // the engine may be shared by several files
  Resolver r(file, sm, diags, *m, opts);
  auto timed = [&](const char *name, auto &&pass) {
    auto t0 = std::chrono::steady_clock::now();
    pass();
    if (opts.onPassTime)
      opts.onPassTime(name, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  };
  timed("imports (read and parse data files)", [&] { r.loadImports(); });
  timed("resolve (names, values, statements)", [&] { r.resolveNFs(); });
  if (diags.errorLimitReached()) return m;
  // Chain graphs are checked even after resolve errors: they are independent of values, and
  // a user fixing a file wants both lists at once.
  timed("chain graphs", [&] { buildChainGraphs(file, *m, diags); });
  r.reportUnusedImports();
  // The warning passes assume a well-formed module.
  if (diags.numErrors() == errorsBefore) {
    timed("field flow", [&] { checkFieldFlow(*m, diags); });
    timed("shadowed rules", [&] { reportShadowedRules(*m, diags, opts); });
  }
  return m;
}

} // namespace metron
