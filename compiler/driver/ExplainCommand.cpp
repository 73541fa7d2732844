//===- compiler/driver/ExplainCommand.cpp - metronc explain ------------------------------------===//
///
/// Shows what the synthesized chain does with one packet (`--packet`), or with every header of
/// a ClassBench-style trace (`--headers`, one JSON object per line). Everything is computed
/// from the synthesized tables, executed with fresh state for the stateful elements: a packet
/// is explained as the first packet of its flow.
//===----------------------------------------------------------------------------------------===//
#include "compiler/driver/Commands.h"

#include "compiler/split/Split.h"
#include "compiler/synth/Execute.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace metron {

using namespace ir;

namespace {

struct ExplainOptions {
  std::string file, chain, packet, headers, in, device;
  unsigned cores = 1;
  uint32_t maxClasses = synth::SynthOptions{}.maxClasses;
};

using Fields = std::array<uint64_t, kNumFields>;

bool parseNumber(const std::string &s, uint64_t max, uint64_t &out) {
  if (s.empty()) return false;
  errno = 0;
  char *end = nullptr;
  unsigned long long v = strtoull(s.c_str(), &end, 0);
  if (errno || *end || s[0] == '-' || v > max) return false;
  out = v;
  return true;
}

/// Parses a field value in the language's notation for the field's kind.
bool parseValue(const Module &m, FieldId f, const std::string &s, uint64_t &out) {
  const FieldInfo &fi = fieldInfo(f);
  switch (fi.kind) {
  case ValueKind::IPv4: {
    uint32_t a;
    if (!parseIpv4(s, a)) return false;
    out = a;
    return true;
  }
  case ValueKind::Mac: return parseMac(s, out);
  case ValueKind::Port:
    for (uint32_t i = 0; i < m.portNames.size(); ++i)
      if (m.portNames[i] == s) { out = i; return true; }
    return false;
  default: return parseNumber(s, fi.maxValue(), out);
  }
}

/// The blank-separated words of \p s.
std::vector<std::string> words(const std::string &s) {
  std::vector<std::string> w;
  for (size_t i = 0; i < s.size();) {
    while (i < s.size() && isspace((unsigned char)s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !isspace((unsigned char)s[j])) ++j;
    if (j > i) w.push_back(s.substr(i, j - i));
    i = j;
  }
  return w;
}

/// "tcp 10.0.0.1:1234 -> 8.8.8.8:80 [field=value]..."; empty string on success, else the
/// reason.
std::string parsePacketSpec(const Module &m, const std::string &spec, Fields &v) {
  std::vector<std::string> w = words(spec);
  const char *form = "expected 'PROTO SRC[:PORT] -> DST[:PORT] [FIELD=VALUE]...', e.g. 'tcp 10.0.0.1:1234 -> 8.8.8.8:80 ip.ttl=1'";
  if (w.size() < 4 || w[2] != "->") return form;
  v.fill(0);
  v[size_t(FieldId::EthType)] = 0x0800;
  v[size_t(FieldId::IpTtl)] = 64;
  v[size_t(FieldId::EthSrc)] = 0x020000000001ull;
  v[size_t(FieldId::EthDst)] = 0x020000000002ull;
  uint64_t proto;
  if (w[0] == "tcp") proto = 6;
  else if (w[0] == "udp") proto = 17;
  else if (w[0] == "icmp") proto = 1;
  else if (!parseNumber(w[0], 255, proto)) return "unknown protocol '" + printable(w[0]) + "' (tcp, udp, icmp or a number 0-255)";
  v[size_t(FieldId::IpProto)] = proto;
  if (proto == 6) v[size_t(FieldId::TcpFlags)] = 0x02; // a SYN: the first packet of a connection
  auto endpoint = [&](const std::string &s, FieldId addr, FieldId port) -> std::string {
    size_t colon = s.find(':');
    uint32_t a;
    if (!parseIpv4(s.substr(0, colon), a)) return "'" + printable(s.substr(0, colon)) + "' is not an IPv4 address";
    v[size_t(addr)] = a;
    if (colon != std::string::npos) {
      uint64_t p;
      if (!parseNumber(s.substr(colon + 1), 65535, p)) return "'" + printable(s.substr(colon + 1)) + "' is not a port (0-65535)";
      v[size_t(port)] = p;
    }
    return "";
  };
  if (auto e = endpoint(w[1], FieldId::IpSrc, FieldId::TpSrc); !e.empty()) return e;
  if (auto e = endpoint(w[3], FieldId::IpDst, FieldId::TpDst); !e.empty()) return e;
  for (size_t i = 4; i < w.size(); ++i) {
    size_t eq = w[i].find('=');
    if (eq == std::string::npos) return "'" + printable(w[i]) + "': expected FIELD=VALUE";
    std::string name = w[i].substr(0, eq);
    auto f = fieldByName(name);
    if (!f) return "unknown field '" + printable(name) + "' (see metron-lang(7), PACKET MODEL)";
    if (!parseValue(m, *f, w[i].substr(eq + 1), v[size_t(*f)]))
      return "'" + printable(w[i].substr(eq + 1)) + "' is not a valid value for " + name;
  }
  return "";
}

std::string verdictStr(const Module &m, const synth::ExecOutcome &o) {
  return o.dropped ? "drop" : "egress " + m.portNames[o.egress];
}

/// "nf" or "nf#k" (the k-th rule list of an NF with several) -> rule index.
std::vector<std::pair<std::string, int32_t>> ruleMap(const Chain &c, const synth::ChainTables &t, const synth::ExecOutcome &o) {
  std::vector<std::pair<std::string, int32_t>> r;
  for (auto [tab, cls] : o.classes) {
    (void)tab;
    for (const auto &p : t.findClass(cls)->path) {
      const NF &nf = *c.nodes[p.node].nf;
      unsigned lists = 0, ord = 0;
      for (uint32_t k = 0; k < nf.elements.size(); ++k) {
        bool isList = nf.elements[k]->kind == ElementKind::Classifier || nf.elements[k]->kind == ElementKind::Lookup;
        lists += isList;
        if (k == p.element) ord = lists;
      }
      std::string key = c.nodes[p.node].name + (lists > 1 ? "#" + std::to_string(ord) : "");
      r.push_back({key, p.rule});
    }
  }
  return r;
}

int explainOne(const Module &m, const Chain &c, const SourceManager &sm, const synth::ChainTables &t, synth::Executor &x,
               const Fields &v, const split::SplitPlan *plan) {
  pkt::Packet p = pkt::Packet::fromFields(v);
  synth::ExecOutcome o = x.process(p);
  auto fieldStr = [&](FieldId f, uint64_t val) {
    switch (fieldInfo(f).kind) {
    case ValueKind::IPv4: return ipv4Str(uint32_t(val));
    case ValueKind::Mac: return macStr(val);
    case ValueKind::Port: return val < m.portNames.size() ? m.portNames[val] : std::to_string(val);
    default: return std::to_string(val);
    }
  };
  printf("packet:");
  for (size_t f = 0; f < kNumFields; ++f)
    if (v[f] || FieldId(f) == FieldId::InPort) printf(" %s=%s", fieldInfo(FieldId(f)).name, fieldStr(FieldId(f), v[f]).c_str());
  printf("\n");
  bool inSoftware = false; // once a table hands the packet to a core, the rest runs there
  for (auto [tab, cls] : o.classes) {
    const synth::TrafficClass *tc = t.findClass(cls);
    const synth::Table &table = t.tables[tab];
    printf("\ntable %u (%s%s): class %u, group %u\n", tab, synth::tableReasonName(table.reason),
           table.afterState ? ", software only" : "", cls, tc->group);
    std::string phi;
    for (const auto &fm : tc->phi.m) phi += (phi.empty() ? "" : " ") + std::string(fieldInfo(fm.field).name) + "=" +
                                            (fm.field == FieldId::InPort ? fieldStr(fm.field, fm.lo) : fm.str());
    printf("  match: %s\n", phi.empty() ? "*" : phi.c_str());
    for (const auto &s : tc->path) {
      const NF &nf = *c.nodes[s.node].nf;
      const Element &el = *nf.elements[s.element];
      std::string where;
      if (const auto *cl = dyn_cast<Classifier>(&el)) {
        if (s.rule == 0) where = "default " + cl->defaultAction.str();
        else {
          const Rule &r = cl->rules[size_t(s.rule - 1)];
          const SourceLoc &loc = r.range.begin;
          where = "rule " + std::to_string(s.rule) + " (" + (loc.valid() ? sm.file(loc.file).path : "?") + ":" +
                  std::to_string(loc.line) + ") " + r.action.str();
        }
      } else if (const auto *lk = dyn_cast<Lookup>(&el)) {
        if (s.rule == 0) where = "no route: " + lk->miss.str();
        else {
          const Route &r = lk->routes->routes[size_t(s.rule - 1)];
          where = "route " + ipv4Str(r.prefix) + "/" + std::to_string(r.len) + " (" + lk->routes->path + " line " + std::to_string(r.line) + ")";
        }
      }
      printf("  %s: %s\n", c.nodes[s.node].name.c_str(), where.c_str());
    }
    printf("  operations: %s\n", t.groups[tc->group].omega.str(m, c).c_str());
    if (plan) {
      const split::ClassSplit *cs = plan->findClass(cls);
      const split::GroupSplit &g = plan->groups[tc->group];
      if (inSoftware) {
        printf("  offload: in software (an earlier table already handed the packet to software)\n");
      } else if (cs && cs->hw) {
        inSoftware = cs->action == split::HwAction::ToSoftware;
        std::string what = cs->action == split::HwAction::Drop   ? "dropped there"
                           : cs->action == split::HwAction::Jump ? "continues in its table of table " + std::to_string(cs->jumpTable)
                                                                  : "handed to core " + std::to_string(g.core);
        if (cs->action == split::HwAction::ToSoftware && g.tagged)
          what += " with tag " + std::string(split::tagKindName(*g.tagKind)) + " " + std::to_string(g.tag);
        printf("  offload: on %s (%llu rule%s), %s\n", plan->device.name.c_str(), (unsigned long long)cs->rules,
               cs->rules == 1 ? "" : "s", what.c_str());
      } else if (cs) {
        inSoftware = true;
        printf("  offload: in software (%s)%s%s\n", split::reasonName(cs->reason), cs->why.empty() ? "" : ": ", cs->why.c_str());
      }
    }
  }
  printf("\nverdict: %s\n", verdictStr(m, o).c_str());
  if (!o.dropped) {
    std::string changed;
    for (size_t f = 0; f < kNumFields; ++f)
      if (p.fields()[f] != v[f])
        changed += (changed.empty() ? "" : " ") + std::string(fieldInfo(FieldId(f)).name) + "=" + fieldStr(FieldId(f), p.fields()[f]);
    printf("leaves as: %s\n", changed.empty() ? "unchanged" : changed.c_str());
  }
  return 0;
}

int explainTrace(const Module &m, const Chain &c, const synth::ChainTables &t, synth::Executor &x, const std::string &path,
                 uint64_t inPort) {
  std::ifstream in(path == "-" ? "/dev/stdin" : path);
  if (!in) {
    fprintf(stderr, "metronc explain: error: cannot read '%s': %s\n", path.c_str(), strerror(errno));
    return 1;
  }
  std::string line, out;
  uint64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.size() > 4096) {
      fprintf(stderr, "%s:%llu: error: line longer than 4096 bytes\n", path.c_str(), (unsigned long long)n);
      return 1;
    }
    // SRC DST SPORT DPORT PROTO [anything else, e.g. the expected rule]
    std::vector<std::string> w = words(line);
    if (w.empty()) continue;
    Fields v{};
    static const std::pair<FieldId, uint64_t> cols[] = {
        {FieldId::IpSrc, 0xffffffffu}, {FieldId::IpDst, 0xffffffffu}, {FieldId::TpSrc, 65535}, {FieldId::TpDst, 65535}, {FieldId::IpProto, 255}};
    if (w.size() < 5) {
      fprintf(stderr, "%s:%llu: error: expected 'SRC DST SPORT DPORT PROTO ...' (decimal), found %zu column%s\n", path.c_str(),
              (unsigned long long)n, w.size(), w.size() == 1 ? "" : "s");
      return 1;
    }
    for (size_t k = 0; k < 5; ++k) {
      uint64_t val;
      if (!parseNumber(w[k], cols[k].second, val) || w[k].find_first_not_of("0123456789") != std::string::npos) {
        fprintf(stderr, "%s:%llu: error: column %zu ('%s') is not a decimal %s (0-%llu)\n", path.c_str(), (unsigned long long)n,
                k + 1, printable(w[k]).c_str(), fieldInfo(cols[k].first).name, (unsigned long long)cols[k].second);
        return 1;
      }
      v[size_t(cols[k].first)] = val;
    }
    v[size_t(FieldId::EthType)] = 0x0800;
    v[size_t(FieldId::IpTtl)] = 64;
    v[size_t(FieldId::InPort)] = inPort;
    pkt::Packet p = pkt::Packet::fromFields(v);
    synth::ExecOutcome o = x.process(p);
    nlohmann::json rules = nlohmann::json::object();
    for (const auto &[k, r] : ruleMap(c, t, o))
      if (!rules.contains(k)) rules[k] = r; // the first time the packet met that rule list
    nlohmann::json cls = nlohmann::json::array();
    for (auto [tab, id] : o.classes) cls.push_back(id);
    nlohmann::json j = {{"line", n}, {"tc", o.classes.front().second}, {"classes", cls}, {"rules", rules}};
    j["verdict"] = o.dropped ? "drop" : "egress";
    if (!o.dropped) j["egress"] = m.portNames[o.egress];
    out += j.dump();
    out += '\n';
    if (out.size() > (1 << 16)) {
      fputs(out.c_str(), stdout);
      out.clear();
    }
  }
  fputs(out.c_str(), stdout);
  return 0;
}

int runExplain(const ExplainOptions &o) {
  if (o.packet.empty() == o.headers.empty()) {
    fprintf(stderr, "metronc explain: error: give exactly one of --packet and --headers\n");
    return 2;
  }
  auto lm = loadModule("explain", o.file);
  if (!lm) return 1;
  const Module &m = *lm->module;
  const Chain *c = selectChain("explain", m, o.chain);
  if (!c) return 1;
  uint64_t inPort = 0;
  bool found = false;
  for (const auto &n : c->nodes) {
    if (n.kind != ChainNode::Ingress || (!o.in.empty() && n.name != o.in)) continue;
    for (uint32_t i = 0; i < m.portNames.size(); ++i)
      if (m.portNames[i] == n.name) inPort = i;
    found = true;
    break;
  }
  if (!found) {
    fprintf(stderr, "metronc explain: error: chain %s has no ingress port '%s'\n", c->name.c_str(), o.in.c_str());
    return 2;
  }
  synth::SynthOptions so;
  so.maxClasses = o.maxClasses;
  synth::ChainTables t = synth::synthesize(m, *c, so);
  std::optional<split::SplitPlan> plan;
  if (!o.device.empty()) {
    if (!o.headers.empty()) {
      fprintf(stderr, "metronc explain: error: --device is used with --packet only\n");
      return 2;
    }
    auto dev = loadDevice("explain", o.device);
    if (!dev) return 2;
    DiagnosticEngine quiet(*lm->sm); // the split's warnings belong to `metronc synth --emit split`
    split::SplitOptions sopt;
    sopt.cores = o.cores;
    plan = split::splitChain(m, t, *dev, sopt, quiet);
  }
  std::string err;
  auto x = synth::Executor::create(m, t, err);
  if (!x) {
    fprintf(stderr, "metronc explain: error: %s\n", err.c_str());
    return 1;
  }
  if (!o.headers.empty()) return explainTrace(m, *c, t, *x, o.headers, inPort);
  Fields v;
  if (std::string e = parsePacketSpec(m, o.packet, v); !e.empty()) {
    fprintf(stderr, "metronc explain: error: --packet: %s\n", e.c_str());
    return 2;
  }
  v[size_t(FieldId::InPort)] = inPort;
  return explainOne(m, *c, *lm->sm, t, *x, v, plan ? &*plan : nullptr);
}

} // namespace

void addExplainCommand(CLI::App &app, std::vector<Command> &cmds) {
  auto o = std::make_shared<ExplainOptions>();
  CLI::App *cmd = app.add_subcommand("explain", "Show what the synthesized chain does with a packet, or with every header of a trace");
  cmd->add_option("file", o->file, "Input .metron file; - reads standard input")->required();
  cmd->add_option("--chain", o->chain, "The chain (default: the only chain of the file)");
  cmd->add_option("--packet", o->packet, "A packet: 'PROTO SRC[:PORT] -> DST[:PORT] [FIELD=VALUE]...' (TTL 64, TCP SYN unless given)");
  cmd->add_option("--headers", o->headers,
                  "A trace file, one header per line 'SRC DST SPORT DPORT PROTO ...' (decimal, ClassBench form); prints one JSON "
                  "object per line");
  cmd->add_option("--in", o->in, "The ingress port the packets arrive on (default: the chain's first ingress)");
  cmd->add_option("--device", o->device, "Also show whether each class is offloaded to this device (as metronc synth --device)");
  cmd->add_option("--cores", o->cores, "Cores for the split plan (as metronc synth --cores)")->check(CLI::Range(1u, 4096u));
  cmd->add_option("--max-classes", o->maxClasses, "As for metronc synth")->check(CLI::Range(1u, 10000000u))->capture_default_str();
  cmds.push_back({cmd, [o] { return runExplain(*o); }});
}

} // namespace metron
