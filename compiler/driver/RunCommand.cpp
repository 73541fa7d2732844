//===- compiler/driver/RunCommand.cpp - metronc run -------------------------------------------===//
///
/// `metronc run --reference` runs a capture through the reference interpreter and writes what
/// each egress port emits to a capture (man/metronc-run.1). The compiled data plane will be the
/// default once it exists; until then --reference is required.
//===----------------------------------------------------------------------------------------===//
#include "compiler/driver/Commands.h"

#include "compiler/interp/Interpreter.h"
#include "runtime/packet/Pcap.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace metron {

namespace {

struct RunOptions {
  std::string file;
  bool reference = false;
  std::string pcap, out, chain, in;
  bool stats = false;
  std::string statsFormat = "text";
  bool timePasses = false;
};

std::string joined(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string replaceAll(std::string s, const std::string &from, const std::string &to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

struct Totals {
  uint64_t read = 0, dropped = 0, truncated = 0, skipped = 0;
  std::vector<std::string> egress; ///< egress port names, in chain order
  std::vector<uint64_t> emitted;   ///< per egress
};

void printStatsText(const std::vector<interp::NFCounters> &nfs) {
  std::vector<std::array<std::string, 3>> rows = {{"nf", "counter", "value"}};
  for (const auto &c : nfs) {
    rows.push_back({c.nf, "in", std::to_string(c.in)});
    rows.push_back({c.nf, "dropped", std::to_string(c.dropped)});
    for (const auto &[port, n] : c.out) rows.push_back({c.nf, "out:" + port, std::to_string(n)});
    for (const auto &[name, n] : c.elements) rows.push_back({c.nf, name, std::to_string(n)});
  }
  size_t w0 = 0, w1 = 0, w2 = 0;
  for (const auto &r : rows) {
    w0 = std::max(w0, r[0].size());
    w1 = std::max(w1, r[1].size());
    w2 = std::max(w2, r[2].size());
  }
  for (const auto &r : rows) printf("%-*s  %-*s  %*s\n", int(w0), r[0].c_str(), int(w1), r[1].c_str(), int(w2), r[2].c_str());
}

void printStatsJson(const ir::Chain &chain, const Totals &t, const std::vector<interp::NFCounters> &nfs) {
  nlohmann::ordered_json j;
  j["chain"] = chain.name;
  auto &pk = j["packets"];
  pk["read"] = t.read;
  pk["dropped"] = t.dropped;
  pk["emitted"] = nlohmann::ordered_json::object();
  for (size_t i = 0; i < t.egress.size(); ++i) pk["emitted"][t.egress[i]] = t.emitted[i];
  pk["truncated"] = t.truncated;
  pk["skipped"] = t.skipped;
  j["nfs"] = nlohmann::ordered_json::array();
  for (const auto &c : nfs) {
    nlohmann::ordered_json n;
    n["nf"] = c.nf;
    n["in"] = c.in;
    n["dropped"] = c.dropped;
    n["out"] = nlohmann::ordered_json::object();
    for (const auto &[port, v] : c.out) n["out"][port] = v;
    n["elements"] = nlohmann::ordered_json::object();
    for (const auto &[name, v] : c.elements) n["elements"][name] = v;
    j["nfs"].push_back(std::move(n));
  }
  printf("%s\n", j.dump(2).c_str());
}

int runRun(const RunOptions &o) {
  const char *cmd = "run";
  if (!o.reference) {
    fprintf(stderr, "metronc run: error: the compiled data plane is not built yet (issue 5); use --reference\n");
    return 2;
  }
  PassTimer timer;
  auto lm = loadModule(cmd, o.file, [&](const std::string &pass, double ms) { timer.addMs(pass, ms); });
  if (!lm) return 1;
  const ir::Module &m = *lm->module;
  const ir::Chain *chain = selectChain(cmd, m, o.chain);
  if (!chain) return 1;

  // Ports: the ingress the capture enters by, and one output file per egress.
  Totals t;
  std::vector<std::string> ingress;
  for (const auto &n : chain->nodes) {
    if (n.kind == ir::ChainNode::Ingress) ingress.push_back(n.name);
    if (n.kind == ir::ChainNode::Egress) t.egress.push_back(n.name);
  }
  std::string inName = o.in.empty() ? ingress.front() : o.in;
  if (std::find(ingress.begin(), ingress.end(), inName) == ingress.end()) {
    fprintf(stderr, "metronc run: error: '%s' is not an ingress port of chain '%s' (its ingress ports: %s)\n",
            inName.c_str(), chain->name.c_str(), joined(ingress).c_str());
    return 2;
  }
  if (t.egress.size() > 1 && o.out.find("%e") == std::string::npos) {
    fprintf(stderr,
            "metronc run: error: chain '%s' has %zu egress ports (%s): --out must contain %%e, which is replaced by each "
            "port name (one capture per port)\n",
            chain->name.c_str(), t.egress.size(), joined(t.egress).c_str());
    return 2;
  }
  uint16_t inPort = 0;
  std::vector<int> slotOfPort(m.portNames.size(), -1); // Module::portNames index -> egress slot
  for (size_t i = 0; i < m.portNames.size(); ++i) {
    if (m.portNames[i] == inName) inPort = uint16_t(i);
    for (size_t k = 0; k < t.egress.size(); ++k)
      if (m.portNames[i] == t.egress[k]) slotOfPort[i] = int(k);
  }

  auto t0 = Clock::now();
  std::string err;
  auto reader = pkt::PcapReader::open(o.pcap, err);
  if (!reader) {
    fprintf(stderr, "metronc run: error: %s\n", err.c_str());
    return 1;
  }
  auto interp = interp::Interpreter::create(m, *chain, err);
  if (!interp) {
    fprintf(stderr, "metronc run: error: %s\n", err.c_str());
    return 1;
  }
  std::vector<std::unique_ptr<pkt::PcapWriter>> writers;
  std::vector<std::string> outPaths;
  for (const auto &e : t.egress) {
    outPaths.push_back(replaceAll(o.out, "%e", e));
    auto w = pkt::PcapWriter::create(outPaths.back(), err);
    if (!w) {
      fprintf(stderr, "metronc run: error: %s\n", err.c_str());
      return 1;
    }
    writers.push_back(std::move(w));
  }
  t.emitted.assign(t.egress.size(), 0);
  timer.add("set up the interpreter", t0);

  t0 = Clock::now();
  pkt::Packet p;
  while (reader->next(p)) {
    p.setInPort(inPort);
    interp::Outcome out = interp->process(p);
    if (out.dropped) {
      ++t.dropped;
      continue;
    }
    size_t slot = size_t(slotOfPort[out.egress]);
    if (!writers[slot]->write(p)) {
      fprintf(stderr, "metronc run: error: cannot write packet %llu to '%s.tmp'\n",
              (unsigned long long)reader->recordsRead(), outPaths[slot].c_str());
      return 1;
    }
    ++t.emitted[slot];
  }
  if (!reader->error().empty()) {
    fprintf(stderr, "metronc run: error: %s\n", reader->error().c_str());
    return 1;
  }
  for (auto &w : writers)
    if (!w->commit(err)) {
      fprintf(stderr, "metronc run: error: %s\n", err.c_str());
      return 1;
    }
  timer.add("run", t0);
  t.read = reader->recordsRead();
  t.truncated = reader->truncatedRecords();
  t.skipped = reader->skippedRecords();

  std::string emitted;
  uint64_t total = 0;
  for (size_t i = 0; i < t.egress.size(); ++i) {
    emitted += (i ? ", " : "") + t.egress[i] + " " + std::to_string(t.emitted[i]);
    total += t.emitted[i];
  }
  fprintf(stderr, "metronc run: %llu packets read, %llu emitted (%s), %llu dropped; %llu truncated, %llu skipped\n",
          (unsigned long long)t.read, (unsigned long long)total, emitted.c_str(), (unsigned long long)t.dropped,
          (unsigned long long)t.truncated, (unsigned long long)t.skipped);
  if (o.stats) {
    if (o.statsFormat == "json") printStatsJson(*chain, t, interp->counters());
    else printStatsText(interp->counters());
  }
  if (o.timePasses) timer.print(stderr);
  return 0;
}

} // namespace

void addRunCommand(CLI::App &app, std::vector<Command> &cmds) {
  auto ro = std::make_shared<RunOptions>();
  CLI::App *run = app.add_subcommand("run", "Run a packet capture through a chain and write what it emits; exit 0 on "
                                            "success, 1 on errors, 2 on usage errors");
  run->add_option("file", ro->file, "The .metron file (- reads standard input)")->required();
  run->add_flag("--reference", ro->reference, "Run the reference interpreter (NF by NF, as written); required for now");
  run->add_option("--pcap", ro->pcap, "Input capture (pcap or pcapng, Ethernet)")->required();
  run->add_option("--out", ro->out,
                  "Output capture; with several egress ports it must contain %e, replaced by each port name")
      ->required();
  run->add_option("--chain", ro->chain, "The chain to run (needed when the file has several)");
  run->add_option("--in", ro->in, "The ingress port the capture enters by (default: the chain's first)");
  CLI::Option *stats = run->add_flag("--stats", ro->stats, "Print per-NF counters on standard output after the run");
  run->add_option("--stats-format", ro->statsFormat, "With --stats: an aligned text table or a JSON document")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str()
      ->needs(stats);
  run->add_flag("--time-passes", ro->timePasses, "Print the time spent in each stage on stderr");
  cmds.push_back({run, [ro] { return runRun(*ro); }});
}

} // namespace metron
