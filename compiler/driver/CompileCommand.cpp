//===- compiler/driver/CompileCommand.cpp - metronc compile --------------------------------===//
///
/// \file
/// `metronc compile FILE --topology TOPO.toml -o OUT/`: synthesis, Algorithm 2 placement, the
/// split for the chosen element, the lowering to device rules and the printers. Writes
/// OUT/plan.json and OUT/rules/<element>.<ext> (man/metronc-compile.1). The output directory
/// is written beside OUT and renamed into place at the end, so a failed compile leaves
/// nothing half-done; an existing OUT is replaced only when it holds a plan.json (a previous
/// compile's output) or is empty.
//===----------------------------------------------------------------------------------------===//
#include "compiler/driver/Commands.h"
#include "compiler/driver/Compile.h"

#include "codegen/ClassifierGen.h"
#include "codegen/ProgramGen.h"

#include "compiler/place/Place.h"
#include "compiler/split/Split.h"
#include "compiler/synth/Synth.h"
#include "targets/Lower.h"
#include "targets/openflow/OpenFlow.h"
#include "targets/p4/P4.h"
#include "targets/rteflow/RteFlow.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <fstream>
#include <unistd.h>

namespace metron {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

/// One line of progress on a terminal ("metronc compile: [3/6] split for s1"), rewritten in
/// place and erased at the end; nothing when stderr is not a terminal.
class Progress {
public:
  explicit Progress(bool on) : on_(on) {}
  ~Progress() { done(); }
  void stage(unsigned i, unsigned n, const std::string &what) {
    if (!on_) return;
    fprintf(stderr, "\r\033[Kmetronc compile: [%u/%u] %s", i, n, what.c_str());
    fflush(stderr);
    shown_ = true;
  }
  void done() {
    if (on_ && shown_) fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

private:
  bool on_;
  bool shown_ = false;
};

json writeJson(const synth::WriteExpr &w) {
  json j = {{"field", ir::fieldInfo(w.field).name}};
  switch (w.kind) {
  case synth::WriteExpr::Const: j["kind"] = "const"; break;
  case synth::WriteExpr::DecBy: j["kind"] = "dec"; break;
  case synth::WriteExpr::MacOfIpDst: j["kind"] = "mac_of_ip_dst"; break;
  }
  j["value"] = w.value;
  j["text"] = w.str();
  return j;
}

/// File names for an element: "s1", "server1.nic0" (names are [A-Za-z0-9_.-] by the topology
/// reader), never a path.
std::string fileBase(const std::string &element) {
  std::string s;
  for (char c : element) s += (isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.') ? c : '_';
  return s;
}

bool writeFile(const fs::path &p, const std::string &text, std::string &err) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  f.close();
  if (!f) {
    err = "cannot write " + p.string() + ": " + strerror(errno);
    return false;
  }
  return true;
}

/// Moves the finished \p tmp directory to \p out (see the file comment).
bool commitDir(const fs::path &tmp, const fs::path &out, std::string &err) {
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) {
      err = out.string() + " exists and is not a directory";
      return false;
    }
    bool empty = fs::is_empty(out, ec);
    if (!empty && !fs::exists(out / "plan.json", ec)) {
      err = out.string() + " is not empty and holds no plan.json; refusing to replace it";
      return false;
    }
    fs::path old = out.string() + ".old." + std::to_string(getpid());
    fs::rename(out, old, ec);
    if (ec) {
      err = "cannot move the previous " + out.string() + " aside: " + ec.message();
      return false;
    }
    fs::rename(tmp, out, ec);
    if (ec) {
      std::error_code ec2;
      fs::rename(old, out, ec2);
      err = "cannot move the output into " + out.string() + ": " + ec.message();
      return false;
    }
    fs::remove_all(old, ec);
    return true;
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    err = "cannot move the output into " + out.string() + ": " + ec.message();
    return false;
  }
  return true;
}

} // namespace

/// A dpi element whose Suricata rules have flow keywords (it tracks connections).
static bool tracksFlows(const ir::Element *el) {
  const auto *d = ir::dyn_cast<ir::Dpi>(el);
  if (!d || !d->patterns) return false;
  for (const auto &r : d->patterns->patternRules)
    if (r.flow) return true;
  return false;
}

int runCompile(const CompileCmdOptions &o, CompileResult *result) {
  const bool tty = o.progress == "always" || (o.progress == "auto" && isatty(STDERR_FILENO));
  Progress progress(tty);
  PassTimer timer;
  constexpr unsigned kStages = 6;
  auto wants = [&](const char *f) { return std::find(o.formats.begin(), o.formats.end(), f) != o.formats.end(); };
  if (wants("dataplane") || o.emit == "llvm") {
    std::string cerr;
    if (!codegen::validCpu(o.cpu, cerr)) {
      fprintf(stderr, "metronc %s: error: %s\n", o.cmd, cerr.c_str());
      return 2;
    }
  }

  // The topology: read first (a bad one fails fast), or built for the chain (metronc run).
  std::optional<place::Topology> topo;
  std::string server = o.server;
  auto setTopology = [&](std::optional<place::Topology> tp, const place::TopologyError &terr) {
    if (!tp) {
      progress.done();
      fprintf(stderr, "metronc %s: %s\n", o.cmd, terr.str().c_str());
      return 1;
    }
    topo = std::move(tp);
    if (server.empty()) server = topo->servers.front().name;
    if (!topo->findServer(server)) {
      progress.done();
      std::string names;
      for (const auto &sv : topo->servers) names += (names.empty() ? "" : ", ") + sv.name;
      fprintf(stderr, "metronc %s: error: no server '%s' in topology '%s' (it has: %s)\n", o.cmd, server.c_str(),
              topo->name.c_str(), names.c_str());
      return 2;
    }
    return 0;
  };
  progress.stage(1, kStages, "reading the topology");
  auto t0 = Clock::now();
  if (!o.topology.empty() || !o.defaultTopology) {
    place::TopologyError terr;
    auto tp = place::loadTopology(o.topology, terr);
    if (int rc = setTopology(std::move(tp), terr)) return rc;
    timer.add("topology", t0);
  }

  progress.done(); // (parsing is quick, and its diagnostics must not share the progress line)
  auto lm = loadModule(o.cmd, o.file, [&](const std::string &n, double ms) { timer.addMs(n, ms); });
  if (!lm) return 1;
  const ir::Module &m = *lm->module;
  const ir::Chain *c = selectChain(o.cmd, m, o.chain);
  if (!c) return 1;
  if (!topo) {
    t0 = Clock::now();
    place::TopologyError terr;
    auto tp = place::parseTopology(o.defaultTopology(m, *c), "<default topology>", terr);
    if (int rc = setTopology(std::move(tp), terr)) return rc;
    timer.add("topology", t0);
  }

  progress.stage(2, kStages, "synthesizing chain " + c->name);
  t0 = Clock::now();
  synth::SynthOptions so;
  so.maxClasses = o.maxClasses;
  synth::ChainTables t = synth::synthesize(m, *c, so);
  timer.add("synth", t0);

  progress.stage(3, kStages, "placing the stateless part (Algorithm 2) and splitting");
  t0 = Clock::now();
  DiagnosticEngine diags(*lm->sm);
  std::string err;
  auto pl = place::placeChain(m, t, *topo, server, o.cores, diags, err);
  timer.add("place + split", t0);
  progress.done();
  diags.sortByLocation();
  diags.printText(stderr, useColor("auto"));
  if (!pl) {
    fprintf(stderr, "metronc %s: error: %s\n", o.cmd, err.c_str());
    return 1;
  }
  if (diags.hasErrors()) return 1;

  progress.stage(4, kStages, "lowering to device rules");
  t0 = Clock::now();
  const place::Hop &ch = pl->path[pl->classifier];
  targets::Site site;
  site.element = ch.element;
  site.profile = pl->device.name;
  site.kind = pl->device.kind;
  site.ingressPort.assign(m.portNames.size(), -1);
  // The chain's ingress ports all enter at the first element of the path (placeChain checks):
  // on it, each by its own port; a classifier further along sees them all on its in-port.
  for (const auto &ep : topo->ingress)
    for (size_t i = 0; i < m.portNames.size(); ++i)
      if (m.portNames[i] == ep.chainPort && ep.at.element == pl->path.front().element)
        site.ingressPort[i] = pl->classifier == 0 ? ep.at.port : ch.inPort;
  if (ch.isSwitch) {
    site.toServer = ch.outPort;
    site.toServerName = place::PortRef{ch.element, ch.outPort}.str();
  }
  std::vector<targets::PathElement> before, after;
  for (size_t i = 0; i < pl->path.size(); ++i) {
    if (i == pl->classifier) continue;
    const place::Hop &h = pl->path[i];
    targets::PathElement e;
    e.element = h.element;
    if (h.isSwitch) {
      const place::Switch *s = topo->findSwitch(h.element);
      e.device = &s->profile;
    } else {
      e.device = &topo->findNic(h.element)->profile;
    }
    e.profile = e.device->name;
    e.kind = e.device->kind;
    e.inPort = h.inPort, e.outPort = h.outPort;
    e.outName = place::PortRef{h.element, h.outPort}.str();
    (i < pl->classifier ? before : after).push_back(e);
  }
  // Egress points on a switch of the path: what comes back from the server leaves there.
  std::vector<targets::ReturnPoint> rets;
  std::vector<std::string> warnings;
  for (const auto &ep : topo->egress) {
    bool used = false;
    for (const auto &n : c->nodes) used = used || (n.kind == ir::ChainNode::Egress && n.name == ep.chainPort);
    if (!used) continue;
    // An egress on the server's own NIC needs no rule; one on a switch off the path gets none.
    bool onPath = false;
    for (const auto &h : pl->path) onPath = onPath || h.element == ep.at.element;
    if (!onPath && !topo->findNic(ep.at.element))
      warnings.push_back("egress point " + ep.chainPort + " (" + ep.at.str() + ") is not on the path from the ingress to " +
                         pl->server + ": no return rule is written; the network must route what the server sends there");
    for (size_t j = 0; j < pl->path.size(); ++j) {
      const place::Hop &h = pl->path[j];
      if (!h.isSwitch || h.element != ep.at.element) continue;
      // From the server back along the path to the egress switch, then out of the egress point.
      for (size_t i = j; i < pl->path.size() && pl->path[i].isSwitch; ++i) {
        const place::Hop &x = pl->path[i];
        targets::ReturnPoint r;
        r.element = x.element;
        r.fromServer = x.outPort;
        r.port = i == j ? ep.at.port : x.inPort;
        r.portName = i == j ? ep.at.str()
                            : place::PortRef{x.element, x.inPort}.str() + " (towards egress " + ep.at.str() + ")";
        bool dup = false, clash = false;
        for (const auto &y : rets)
          if (y.element == r.element && y.fromServer == r.fromServer) {
            dup = true;
            clash = clash || y.port != r.port;
          }
        if (clash)
          warnings.push_back("egress points share the link from the server on " + x.element + ": no return rule for " +
                             ep.chainPort + " (the server must steer it)");
        if (!dup) rets.push_back(r);
      }
    }
  }
  targets::Lowering low = targets::lower(m, t, pl->plan, site, before, after, rets);
  for (auto &w : low.warnings) warnings.push_back(w);
  // State that cores do not share: each core keeps its own connection table, token buckets and
  // DPI flow states (Suricata flow keywords), so a connection or a rate-limit key whose packets
  // reach several cores is judged by each core on the packets it sees (NAPT and balancers are
  // per flow and keep a flow on one core).
  if (pl->cores > 1) {
    std::map<std::pair<uint32_t, uint32_t>, std::set<int32_t>> coresOf;
    bool softwareClasses = false;
    for (const auto &ts : pl->plan.tables)
      for (const auto &cs : ts.classes)
        if (!cs.hw) softwareClasses = true;
    for (size_t gi = 0; gi < t.groups.size(); ++gi)
      for (const auto &op : t.groups[gi].omega.ops)
        if (op.kind == synth::Op::Stateful && (ir::dyn_cast<ir::Conntrack>(op.el) || ir::dyn_cast<ir::RateLimit>(op.el) ||
                                               tracksFlows(op.el)))
          coresOf[{op.node, op.element}].insert(pl->plan.groups[gi].core);
    for (const auto &[key, cores] : coresOf) {
      if (cores.size() < 2 && !softwareClasses) continue;
      const ir::Element *el = c->nodes[key.first].nf->elements[key.second].get();
      std::string list;
      for (int32_t k : cores) list += (list.empty() ? "" : ", ") + std::to_string(k);
      warnings.push_back(std::string(ir::dyn_cast<ir::Conntrack>(el) ? "conntrack"
                                     : ir::dyn_cast<ir::RateLimit>(el) ? "ratelimit"
                                                                       : "dpi") +
                         " in " +
                         c->nodes[key.first].name +
                         " keeps its state per core and " +
                         (cores.size() > 1 ? "its traffic classes run on cores " + list
                                           : std::string("software-classified packets reach every core")) +
                         ": a connection or key whose packets reach several cores is judged by each core on the "
                         "packets it sees (use --cores 1 for the exact semantics)");
    }
  }
  timer.add("lower", t0);

  progress.stage(5, kStages, "writing " + o.out);
  t0 = Clock::now();
  fs::path out(o.out);
  fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    progress.done();
    fprintf(stderr, "metronc %s: error: %s: no such directory\n", o.cmd, parent.string().c_str());
    return 1;
  }
  fs::path tmp = parent / ("." + out.filename().string() + ".partial." + std::to_string(getpid()));
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp / "rules", ec)) {
    progress.done();
    fprintf(stderr, "metronc %s: error: cannot create %s: %s\n", o.cmd, tmp.string().c_str(), ec.message().c_str());
    return 1;
  }
  struct Cleanup {
    fs::path p;
    bool keep = false;
    ~Cleanup() {
      std::error_code e;
      if (!keep) fs::remove_all(p, e);
    }
  } cleanup{tmp};

  json devices = json::array();
  double printMs = 0;
  for (size_t di = 0; di < low.devices.size(); ++di) {
    const targets::DeviceRules &d = low.devices[di];
    progress.stage(5, kStages, "writing rules for " + d.element + " (" + std::to_string(di + 1) + " of " +
                                   std::to_string(low.devices.size()) + " elements, " + std::to_string(d.rules.size()) +
                                   " rules)");
    std::string base = fileBase(d.element);
    json files = json::array();
    auto emit = [&](const std::string &ext, const std::function<std::string()> &print) {
      std::string name = "rules/" + base + ext;
      files.push_back(name);
      auto p0 = Clock::now();
      std::string text = print();
      timer.add("print " + name, p0);
      printMs += std::chrono::duration<double, std::milli>(Clock::now() - p0).count();
      return writeFile(tmp / name, text, err);
    };
    bool ok = true;
    if (d.kind == split::DeviceProfile::Switch) {
      if (wants("openflow")) ok = emit(".ofctl", [&] { return targets::openflow::printFlows(d); });
      if (ok && wants("p4"))
        ok = emit(".p4", [&] { return targets::p4::printProgram(d); }) &&
             emit(".p4.cli", [&] { return targets::p4::printCli(d); }) &&
             emit(".p4rt.json", [&] { return targets::p4::printP4Runtime(d); });
    } else {
      targets::rteflow::Options ro;
      ro.port = 0;
      for (const auto &h : pl->path)
        if (h.element == d.element) ro.port = uint16_t(h.inPort);
      if (wants("rte_flow"))
        ok = emit(".testpmd", [&] { return targets::rteflow::printTestpmd(d, ro); }) &&
             emit(".rte_flow.json", [&] { return targets::rteflow::printJson(d, ro); });
    }
    if (!ok) {
      progress.done();
      fprintf(stderr, "metronc %s: error: %s\n", o.cmd, err.c_str());
      return 1;
    }
    json roles = json::object();
    for (auto r : {targets::RuleRole::Class, targets::RuleRole::Mirror, targets::RuleRole::Default,
                   targets::RuleRole::Path, targets::RuleRole::Dispatch, targets::RuleRole::Return,
                   targets::RuleRole::Root})
      if (uint64_t n = d.count(r)) roles[targets::ruleRoleName(r)] = n;
    devices.push_back({{"element", d.element},
                       {"profile", d.profile},
                       {"kind", d.kind == split::DeviceProfile::Switch ? "switch" : "nic"},
                       {"tables", d.tables},
                       {"rules", d.rules.size()},
                       {"roles", roles},
                       {"files", files}});
  }

  // The data plane: the chain's module, optimized, compiled for --cpu and linked with the
  // runtime into bin/<server>.
  json dataplane = nullptr;
  std::string exeRel;
  auto cg0 = Clock::now();
  if (wants("dataplane") || o.emit == "llvm") {
    progress.stage(6, kStages, "generating the data plane of " + pl->server);
    auto g0 = Clock::now();
    llvm::LLVMContext ctx;
    codegen::ProgramInput pin;
    pin.module = &m;
    pin.tables = &t;
    pin.plan = &pl->plan;
    pin.lowering = &low;
    pin.server = pl->server;
    codegen::ProgramStats ps;
    std::string config;
    auto mod = codegen::programModule(ctx, pin, config, ps);
    timer.add("codegen: LLVM IR", g0);
    if (!codegen::setTarget(*mod, o.cpu, err)) {
      progress.done();
      fprintf(stderr, "metronc %s: error: %s\n", o.cmd, err.c_str());
      return 1;
    }
    g0 = Clock::now();
    codegen::optimize(*mod);
    timer.add("codegen: optimize (O2)", g0);
    if (o.emit == "llvm") fputs(codegen::printModule(*mod).c_str(), stdout);
    dataplane = {{"cores", ps.cores},
                 {"groups", ps.groups},
                 {"tables_inline", ps.inlineTables},
                 {"tables_rte_acl", ps.aclTables},
                 {"class_counters", ps.classes},
                 {"stateful_elements", ps.stateful}};
    dataplane["ingress"] = c->portNames(ir::ChainNode::Ingress);
    dataplane["egress"] = c->portNames(ir::ChainNode::Egress);
    if (wants("dataplane")) {
      fs::create_directories(tmp / "bin", ec);
      std::string base = fileBase(pl->server);
      std::string obj = (tmp / "bin" / (base + ".o")).string();
      g0 = Clock::now();
      if (!codegen::emitObject(*mod, obj, o.cpu, err)) {
        progress.done();
        fprintf(stderr, "metronc %s: error: %s\n", o.cmd, err.c_str());
        return 1;
      }
      timer.add("codegen: object", g0);
      progress.stage(6, kStages, "linking bin/" + base);
      g0 = Clock::now();
      if (!codegen::linkExecutable(obj, (tmp / "bin" / base).string(), err)) {
        progress.done();
        fprintf(stderr, "metronc %s: error: %s\n", o.cmd, err.c_str());
        return 1;
      }
      timer.add("link", g0);
      exeRel = "bin/" + base;
      dataplane["executable"] = exeRel;
      dataplane["object"] = "bin/" + base + ".o";
      // Per core, its own executable (only its entry point and the code it reaches): the
      // data plane runs them as DPDK secondary processes with --processes secondary.
      json perCore = json::array();
      for (uint32_t k = 0; o.coreExecutables && k < ps.cores; ++k) {
        const std::string name = base + ".core" + std::to_string(k);
        progress.stage(6, kStages, "linking bin/" + name);
        g0 = Clock::now();
        auto cm = codegen::coreModule(*mod, k, err);
        const std::string cobj = (tmp / "bin" / (name + ".o")).string();
        if (!cm || !codegen::emitObject(*cm, cobj, o.cpu, err)) {
          progress.done();
          fprintf(stderr, "metronc %s: error: %s\n", o.cmd, err.c_str());
          return 1;
        }
        timer.add("codegen: per-core objects", g0);
        g0 = Clock::now();
        if (!codegen::linkExecutable(cobj, (tmp / "bin" / name).string(), err)) {
          progress.done();
          fprintf(stderr, "metronc %s: error: %s\n", o.cmd, err.c_str());
          return 1;
        }
        fs::remove(cobj, ec);
        timer.add("link per-core executables", g0);
        perCore.push_back("bin/" + name);
      }
      if (o.coreExecutables) dataplane["core_executables"] = perCore;
    }
  }
  printMs += std::chrono::duration<double, std::milli>(Clock::now() - cg0).count(); // timed above

  // plan.json
  json plan;
  plan["chain"] = c->name;
  plan["source"] = o.file;
  plan["topology"] = topo->name;
  plan["server"] = pl->server;
  plan["cores"] = pl->cores;
  plan["classifier"] = {{"element", ch.element},
                        {"profile", pl->device.name},
                        {"kind", pl->device.kind == split::DeviceProfile::Switch ? "switch" : "nic"},
                        {"offloaded_classes", pl->plan.offloadedClasses()},
                        {"classes", pl->plan.totalClasses()},
                        {"device_rules", pl->plan.deviceRules()}};
  json sel = json::array();
  for (const auto &cd : pl->candidates)
    sel.push_back({{"element", cd.element},
                   {"profile", cd.profile},
                   {"switch", cd.isSwitch},
                   {"demand", cd.demand},
                   {"offloadable_classes", cd.offloadable},
                   {"capacity", cd.capacity == split::kUnbounded ? json("unbounded") : json(cd.capacity)},
                   {"cap_thr", cd.capThr},
                   {"chosen", cd.chosen},
                   {"why", cd.why}});
  plan["selection"] = sel;
  json path = json::array();
  for (const auto &h : pl->path) {
    json jh = {{"element", h.element}, {"switch", h.isSwitch}, {"in_port", h.inPort}};
    if (h.isSwitch) jh["out_port"] = h.outPort;
    path.push_back(jh);
  }
  plan["path"] = path;
  json tables = json::array();
  for (const auto &ts : pl->plan.tables) {
    json jt = {{"table", ts.table}, {"device_table", ts.deviceTable >= 0 ? json(ts.deviceTable) : json(nullptr)}};
    if (ts.deviceTable < 0) jt["why"] = ts.why;
    json classes = json::array();
    for (const auto &cs : ts.classes) {
      json jc = {{"id", cs.classId}, {"hw", cs.hw}, {"group", cs.group}, {"reason", split::reasonName(cs.reason)}};
      if (cs.hw) {
        jc["action"] = split::hwActionName(cs.action);
        if (cs.action == split::HwAction::Jump) jc["jump_table"] = cs.jumpTable;
        jc["rules"] = cs.rules;
      } else {
        jc["action"] = "software";
        jc["why"] = cs.why;
      }
      classes.push_back(jc);
    }
    jt["classes"] = classes;
    tables.push_back(jt);
  }
  plan["tables"] = tables;
  json groups = json::array();
  for (size_t gi = 0; gi < pl->plan.groups.size(); ++gi) {
    const auto &g = pl->plan.groups[gi];
    json jg = {{"group", g.group}, {"core", g.needsCore ? json(g.core) : json(nullptr)}};
    jg["tag"] = g.tagged ? json{{"kind", split::tagKindName(*g.tagKind)}, {"value", g.tag}} : json(nullptr);
    json hw = json::array(), sw = json::array();
    for (const auto &w : g.hwWrites) hw.push_back(writeJson(w));
    for (const auto &w : g.swWrites) sw.push_back(writeJson(w));
    jg["hw_writes"] = hw;
    jg["sw_writes"] = sw;
    jg["omega"] = t.groups[gi].omega.str(m, *c);
    groups.push_back(jg);
  }
  plan["groups"] = groups;
  json tags = json::array();
  for (const auto &tu : low.tags)
    tags.push_back({{"kind", split::tagKindName(tu.kind)},
                    {"value", tu.value},
                    {"group", tu.group},
                    {"core", tu.core},
                    {"napt_return", tu.napt}});
  plan["tags"] = tags;
  json napt = json::array();
  for (const auto &np : low.napt) {
    json parts = json::array();
    for (const auto &pp : np.parts) parts.push_back({{"core", pp.core}, {"ports", {pp.lo, pp.hi}}});
    napt.push_back({{"nf", np.nf},
                    {"field", ir::fieldInfo(np.field).name},
                    {"address", ir::ipv4Str(np.address)},
                    {"ports", {np.portLo, np.portHi}},
                    {"cores", parts}});
  }
  plan["napt"] = napt;
  plan["devices"] = devices;
  plan["dataplane"] = dataplane;
  plan["warnings"] = warnings;
  if (!writeFile(tmp / "plan.json", plan.dump(1) + "\n", err)) {
    progress.done();
    fprintf(stderr, "metronc %s: error: %s\n", o.cmd, err.c_str());
    return 1;
  }
  if (!commitDir(tmp, out, err)) {
    progress.done();
    fprintf(stderr, "metronc %s: error: %s\n", o.cmd, err.c_str());
    return 1;
  }
  cleanup.keep = true;
  timer.addMs("write", std::chrono::duration<double, std::milli>(Clock::now() - t0).count() - printMs);
  progress.done();

  for (const auto &w : warnings) fprintf(stderr, "metronc %s: warning: %s\n", o.cmd, w.c_str());
  if (result) {
    result->server = pl->server;
    result->chain = c->name;
    result->cores = pl->cores;
    result->classifier = ch.element;
    result->classifierKind = pl->device.kind == split::DeviceProfile::Switch ? "switch" : "nic";
    result->ingress = c->portNames(ir::ChainNode::Ingress);
    result->egress = c->portNames(ir::ChainNode::Egress);
    if (!exeRel.empty()) result->executable = (out / exeRel).string();
    for (size_t di = 0; di < low.devices.size(); ++di)
      if (low.devices[di].kind != split::DeviceProfile::Switch)
        for (const auto &f : devices[di]["files"]) {
          std::string fn = f.get<std::string>();
          if (fn.size() > 14 && fn.compare(fn.size() - 14, 14, ".rte_flow.json") == 0) result->nicRules = (out / fn).string();
        }
      else
        for (const auto &f : devices[di]["files"]) {
          std::string fn = f.get<std::string>();
          if (fn.size() > 6 && fn.compare(fn.size() - 6, 6, ".ofctl") == 0)
            result->switchRules.push_back({low.devices[di].element, (out / fn).string()});
        }
    result->times = timer.times;
  }
  if (o.quiet) {
    if (o.timePasses) timer.print(stderr);
    return 0;
  }
  // One summary line per element on stdout.
  // One summary line per element, on stdout unless stdout carries a stage's output (--emit).
  FILE *summary = o.emit.empty() ? stdout : stderr;
  fprintf(summary, "%s: chain %s on %s (%u cores); classifier %s (%s): %llu of %llu classes offloaded\n", o.out.c_str(),
         c->name.c_str(), pl->server.c_str(), pl->cores, ch.element.c_str(), pl->device.name.c_str(),
         (unsigned long long)pl->plan.offloadedClasses(), (unsigned long long)pl->plan.totalClasses());
  for (size_t di = 0; di < low.devices.size(); ++di) {
    const auto &d = low.devices[di];
    std::string fl;
    for (const auto &f : devices[di]["files"]) fl += " " + f.get<std::string>();
    fprintf(summary, "  %-16s %-14s %7zu rules %s\n", d.element.c_str(), d.profile.c_str(), d.rules.size(), fl.c_str());
  }
  if (o.timePasses) timer.print(stderr);
  return 0;
}

void addCompileCommand(CLI::App &app, std::vector<Command> &cmds) {
  auto o = std::make_shared<CompileCmdOptions>();
  CLI::App *cmd = app.add_subcommand(
      "compile", "Compile a chain for a topology: place its stateless part (Algorithm 2) and write the device rules");
  cmd->add_option("file", o->file, "Input .metron file; - reads standard input")->required();
  cmd->add_option("--topology", o->topology, "The topology file (metronc-topology(5))")->required();
  cmd->add_option("-o,--output", o->out, "Output directory: plan.json and rules/ (replaced atomically)")->required();
  cmd->add_option("--chain", o->chain, "The chain to compile (needed when the file has several)");
  cmd->add_option("--server", o->server, "The server that runs the stateful part (default: the topology's first)");
  cmd->add_option("--cores", o->cores, "Cores the groups are spread over (default: the server's cores)")
      ->check(CLI::Range(1u, 4096u));
  cmd->add_option("--max-classes", o->maxClasses,
                  "Largest table a composition may produce; beyond it the next classification becomes its own table")
      ->check(CLI::Range(1u, 10000000u))
      ->capture_default_str();
  cmd->add_option("--progress", o->progress, "Show the stage being run on stderr: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  cmd->add_option("--formats", o->formats,
                  "What to write: openflow and p4 rules for switches, rte_flow for NICs, dataplane: the server's "
                  "executable bin/SERVER (comma-separated)")
      ->delimiter(',')
      ->check(CLI::IsMember({"openflow", "p4", "rte_flow", "dataplane"}))
      ->capture_default_str();
  cmd->add_option("--cpu", o->cpu,
                  "The CPU the data plane is compiled for, as for clang -march (default corei7, the instruction set "
                  "Debian's DPDK is built for; native: this machine's)")
      ->capture_default_str();
  cmd->add_flag("--core-executables", o->coreExecutables,
                "Also link bin/SERVER.coreK for each core: the per-core DPDK secondary processes the data plane runs "
                "with --processes secondary (metronc-dataplane(8))");
  cmd->add_option("--emit", o->emit, "Also print a stage's output on stdout: llvm (the optimized data-plane module)")
      ->check(CLI::IsMember({"llvm"}));
  cmd->add_flag("--time-passes", o->timePasses, "Print the time spent in each stage on stderr");
  cmds.push_back({cmd, [o] { return runCompile(*o, nullptr); }});
}

} // namespace metron
