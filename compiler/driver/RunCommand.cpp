//===- compiler/driver/RunCommand.cpp - metronc run -------------------------------------------===//
///
/// `metronc run` compiles a chain (as `metronc compile` does, for --topology or an embedded
/// default: one server whose NIC takes every ingress and egress port of the chain), starts the
/// generated data-plane executable on DPDK virtual devices (net_pcap: the capture in, one
/// capture per egress port out) and prints what it did. `--reference` runs the reference
/// interpreter instead (man/metronc-run.1). Both write the same captures, and with --index the
/// input record each output record came from.
//===----------------------------------------------------------------------------------------===//
#include "compiler/driver/Commands.h"
#include "compiler/driver/Compile.h"

#include "compiler/interp/Interpreter.h"
#include "runtime/dataplane/EalFiles.h"
#include "runtime/packet/Pcap.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace metron {

namespace {

struct RunOptions {
  std::string file;
  bool reference = false;
  std::string pcap, out, chain, in;
  bool stats = false;
  std::string statsFormat = "text";
  bool timePasses = false;
  bool index = false;
  bool verbose = false;
  unsigned cores = 1;
  std::string topology, keep, compiled, dispatch = "auto";
  uint32_t maxClasses = 16384;
  std::string cpu = "native";
  std::string processes = "auto";
  std::string flowCache; ///< --flow-cache for the data plane; empty: its default
};

/// The hugepages the data plane gets with secondary processes: whether they are there (a
/// mounted hugetlbfs and at least kSecondaryHugeMiB free), and why not.
constexpr uint64_t kSecondaryHugeMiB = 256;
bool hugepagesUsable(std::string &why) {
  uint64_t freePages = 0, pageKiB = 0;
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t v = 0;
    while (in >> key >> v) {
      if (key == "HugePages_Free:") freePages = v;
      if (key == "Hugepagesize:") pageKiB = v;
      in.ignore(1 << 16, '\n');
    }
  }
  // A hugetlbfs this user can create the hugepage files in (a root-owned mount is not one).
  bool mounted = false, writable = false;
  std::string mount;
  {
    std::ifstream in("/proc/mounts");
    std::string dev, dir, type, rest;
    while (in >> dev >> dir >> type && std::getline(in, rest))
      if (type == "hugetlbfs") {
        mounted = true;
        if (mount.empty()) mount = dir;
        writable = writable || access(dir.c_str(), W_OK) == 0;
      }
  }
  const uint64_t freeMiB = freePages * pageKiB / 1024;
  if (freeMiB < kSecondaryHugeMiB) {
    why = "secondary processes need hugepages and " + std::to_string(freeMiB) + " MiB are free (HugePages_Free " +
          std::to_string(freePages) + ", at least " + std::to_string(kSecondaryHugeMiB) + " MiB wanted)";
    return false;
  }
  if (!mounted) {
    why = "secondary processes need hugepage files, and no hugetlbfs is mounted (mount -t hugetlbfs nodev DIR)";
    return false;
  }
  if (!writable) {
    why = "secondary processes need hugepage files, and this user cannot write in the hugetlbfs " + mount;
    return false;
  }
  why = std::to_string(freeMiB) + " MiB of hugepages are free";
  return true;
}

std::string joined(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string replaceAll(std::string s, const std::string &from, const std::string &to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

/// The ingress the capture enters by (--in, default the first) and --out's %e for several
/// egress ports; 0, or 2 after the message.
int checkPorts(const RunOptions &o, const std::string &chain, const std::vector<std::string> &ingress,
               const std::vector<std::string> &egress, std::string &inName) {
  inName = o.in.empty() ? ingress.front() : o.in;
  if (std::find(ingress.begin(), ingress.end(), inName) == ingress.end()) {
    fprintf(stderr, "metronc run: error: '%s' is not an ingress port of chain '%s' (its ingress ports: %s)\n",
            inName.c_str(), chain.c_str(), joined(ingress).c_str());
    return 2;
  }
  if (egress.size() > 1 && o.out.find("%e") == std::string::npos) {
    fprintf(stderr,
            "metronc run: error: chain '%s' has %zu egress ports (%s): --out must contain %%e, which is replaced by each "
            "port name (one capture per port)\n",
            chain.c_str(), egress.size(), joined(egress).c_str());
    return 2;
  }
  return 0;
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

int runCompiled(const RunOptions &o);

int runRun(const RunOptions &o) {
  const char *cmd = "run";
  if (!o.reference) return runCompiled(o);
  PassTimer timer;
  auto lm = loadModule(cmd, o.file, [&](const std::string &pass, double ms) { timer.addMs(pass, ms); });
  if (!lm) return 1;
  const ir::Module &m = *lm->module;
  const ir::Chain *chain = selectChain(cmd, m, o.chain);
  if (!chain) return 1;

  // Ports: the ingress the capture enters by, and one output file per egress.
  Totals t;
  t.egress = chain->portNames(ir::ChainNode::Egress);
  std::string inName;
  if (int rc = checkPorts(o, chain->name, chain->portNames(ir::ChainNode::Ingress), t.egress, inName)) return rc;
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
  std::vector<std::unique_ptr<std::ofstream>> indexes;
  struct RemoveOnError { // the .idx.tmp files of a run that fails (the writers remove theirs)
    std::vector<std::string> paths;
    ~RemoveOnError() {
      for (const auto &p : paths) std::remove(p.c_str());
    }
  } partialIndexes;
  for (const auto &e : t.egress) {
    outPaths.push_back(replaceAll(o.out, "%e", e));
    auto w = pkt::PcapWriter::create(outPaths.back(), err);
    if (!w) {
      fprintf(stderr, "metronc run: error: %s\n", err.c_str());
      return 1;
    }
    writers.push_back(std::move(w));
    if (o.index) {
      partialIndexes.paths.push_back(outPaths.back() + ".idx.tmp");
      indexes.push_back(std::make_unique<std::ofstream>(outPaths.back() + ".idx.tmp", std::ios::binary | std::ios::trunc));
      if (!*indexes.back()) {
        fprintf(stderr, "metronc run: error: cannot write '%s.idx': %s\n", outPaths.back().c_str(), strerror(errno));
        return 1;
      }
    }
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
    if (o.index) {
      uint64_t idx = reader->recordsRead() - 1; // little-endian on every machine DPDK runs on
      indexes[slot]->write(reinterpret_cast<const char *>(&idx), sizeof idx);
    }
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
  for (size_t i = 0; i < indexes.size(); ++i) {
    std::error_code ec;
    if (indexes[i]->close(), !*indexes[i]) ec = std::make_error_code(std::errc::io_error);
    else std::filesystem::rename(outPaths[i] + ".idx.tmp", outPaths[i] + ".idx", ec);
    if (ec) {
      fprintf(stderr, "metronc run: error: cannot write '%s.idx': %s\n", outPaths[i].c_str(), ec.message().c_str());
      return 1;
    }
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

/// The embedded default topology of `metronc run`: one server with the chain's cores and one
/// ConnectX-5 NIC whose ports are the chain's ingress ports, then its egress ports.
std::string defaultTopology(const ir::Chain &c, unsigned cores) {
  const std::vector<std::string> in = c.portNames(ir::ChainNode::Ingress), out = c.portNames(ir::ChainNode::Egress);
  std::string t = "name = \"run-default\"\n\n[[server]]\nname = \"server1\"\ncores = " + std::to_string(cores) +
                  "\n\n  [[server.nic]]\n  name = \"nic0\"\n  profile = \"connectx-5\"\n  ports = " +
                  std::to_string(in.size() + out.size()) + "\n";
  size_t port = 0;
  for (const auto &n : in) t += "\n[[ingress]]\nport = \"" + n + "\"\nat = \"server1.nic0:" + std::to_string(port++) + "\"\n";
  for (const auto &n : out) t += "\n[[egress]]\nport = \"" + n + "\"\nat = \"server1.nic0:" + std::to_string(port++) + "\"\n";
  return t;
}

/// Runs \p argv, waiting for it; its exit status, or -1 with \p err.
int spawnWait(const std::vector<std::string> &args, std::string &err) {
  std::vector<char *> argv;
  for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (int rc = posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ); rc != 0) {
    err = "cannot start '" + args[0] + "': " + strerror(rc);
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      err = std::string("waitpid: ") + strerror(errno);
      return -1;
    }
  if (WIFSIGNALED(status)) {
    err = "'" + args[0] + "' was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return -1;
  }
  return WEXITSTATUS(status);
}

/// A pcap file with a header and no record: the rx side of an egress port's net_pcap device.
bool writeEmptyPcap(const std::string &path, std::string &err) {
  auto w = pkt::PcapWriter::create(path, err);
  return w && w->commit(err);
}

int runCompiled(const RunOptions &o) {
  namespace fs = std::filesystem;
  PassTimer timer;
  auto t0 = Clock::now();
  // Scratch space: the compile output (kept with --keep) and the runtime's files.
  std::string scratch;
  {
    const char *tmpdir = getenv("TMPDIR");
    std::string t = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/metronc-run.XXXXXX";
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back(0);
    if (!mkdtemp(buf.data())) {
      fprintf(stderr, "metronc run: error: cannot create a scratch directory from '%s': %s\n", t.c_str(),
              strerror(errno));
      return 1;
    }
    scratch = buf.data();
  }
  struct Cleanup {
    std::string dir;
    std::vector<std::string> files;
    ~Cleanup() {
      std::error_code ec;
      for (const auto &f : files) fs::remove(f, ec);
      fs::remove_all(dir, ec);
    }
  } cleanup{scratch, {}};

  // Per-core processes when hugepages are there (the paper's design), else threads.
  std::string processes = o.processes, processesWhy;
  {
    const bool usable = hugepagesUsable(processesWhy);
    if (processes == "secondary" && !usable) {
      fprintf(stderr, "metronc run: error: --processes secondary: %s\n", processesWhy.c_str());
      return 1;
    }
    if (processes == "auto") processes = usable ? "secondary" : "threads";
    else processesWhy = "requested (--processes " + processes + ")";
  }

  CompileCmdOptions co;
  co.cmd = "run";
  co.coreExecutables = processes == "secondary";
  co.file = o.file;
  co.chain = o.chain;
  co.topology = o.topology;
  co.cores = o.cores;
  co.maxClasses = o.maxClasses;
  co.cpu = o.cpu;
  co.progress = "never";
  co.quiet = true;
  co.formats = {"rte_flow", "dataplane"};
  co.out = o.keep.empty() ? scratch + "/out" : o.keep;
  co.timePasses = false;
  const unsigned cores = o.cores;
  co.defaultTopology = [cores](const ir::Module &, const ir::Chain &c) { return defaultTopology(c, cores); };
  CompileResult cr;
  if (!o.compiled.empty()) {
    // A previous compile's output (metronc compile, or run --keep): no compilation.
    const std::string planPath = o.compiled + "/plan.json";
    try {
      std::ifstream in(planPath);
      if (!in) throw std::runtime_error("cannot open '" + planPath + "': " + strerror(errno));
      auto plan = nlohmann::json::parse(in);
      const auto &dp = plan.at("dataplane");
      if (dp.is_null() || !dp.contains("executable"))
        throw std::runtime_error("'" + planPath + "' has no data plane: compile with --formats including dataplane");
      if (!o.chain.empty() && plan.at("chain").get<std::string>() != o.chain)
        throw std::runtime_error("'" + o.compiled + "' holds chain '" + plan.at("chain").get<std::string>() + "', not '" +
                                 o.chain + "'");
      cr.server = plan.at("server").get<std::string>();
      cr.chain = plan.at("chain").get<std::string>();
      cr.cores = plan.at("cores").get<unsigned>();
      cr.classifier = plan.at("classifier").at("element").get<std::string>();
      cr.classifierKind = plan.at("classifier").at("kind").get<std::string>();
      cr.executable = o.compiled + "/" + dp.at("executable").get<std::string>();
      if (processes == "secondary" && dp.value("core_executables", nlohmann::json::array()).size() != cr.cores) {
        if (o.processes == "secondary")
          throw std::runtime_error("'" + o.compiled + "' has no per-core executables for --processes secondary: compile "
                                   "with --core-executables");
        processes = "threads";
        processesWhy = "'" + o.compiled + "' was compiled without --core-executables";
      }
      cr.ingress = dp.at("ingress").get<std::vector<std::string>>();
      cr.egress = dp.at("egress").get<std::vector<std::string>>();
      for (const auto &d : plan.at("devices"))
        if (d.at("kind") == "nic")
          for (const auto &f : d.at("files")) {
            std::string fn = f.get<std::string>();
            if (fn.size() > 14 && fn.compare(fn.size() - 14, 14, ".rte_flow.json") == 0) cr.nicRules = o.compiled + "/" + fn;
          }
    } catch (const std::exception &e) {
      fprintf(stderr, "metronc run: error: --compiled: %s\n", e.what());
      return 1;
    }
    // FILE must still be the chain's source: it is checked, and must declare the chain.
    auto lm = loadModule("run", o.file, {}, /*warnings=*/false);
    if (!lm) return 1;
    if (!selectChain("run", *lm->module, cr.chain)) return 1;
  } else if (int rc = runCompile(co, &cr)) {
    return rc;
  }
  timer.add("compile", t0);
  if (cr.classifierKind != "nic") {
    fprintf(stderr,
            "metronc run: error: in this topology the classifier is switch '%s'; metronc run emulates only the "
            "server's NIC (use a topology where the NIC classifies, or metronc deploy to run with the switch)\n",
            cr.classifier.c_str());
    return 2;
  }

  // Ports: the capture enters by one ingress port; each egress port writes its own capture.
  std::string inName;
  if (int rc = checkPorts(o, cr.chain, cr.ingress, cr.egress, inName)) return rc;
  std::string err;
  // The capture is read by the port (net_pcap) and, in step, by the runtime (--rx-capture),
  // which stops the run at a corrupt record with the reader's message; an unreadable file is
  // refused here, before DPDK would only say that it could not create the device.
  if (!pkt::PcapReader::open(o.pcap, err)) {
    fprintf(stderr, "metronc run: error: %s\n", err.c_str());
    return 1;
  }
  const std::string empty = scratch + "/empty.pcap";
  if (!writeEmptyPcap(empty, err)) {
    fprintf(stderr, "metronc run: error: %s\n", err.c_str());
    return 1;
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) cpus = 1;
  std::string lcores;
  for (unsigned k = 0; k <= cr.cores; ++k)
    lcores += (k ? "," : "") + std::to_string(k) + "@" + std::to_string(k % unsigned(cpus));
  std::vector<std::string> args = {cr.executable, "--lcores=" + lcores, "--no-pci", "--log-level=4", "--no-telemetry"};
  // Secondary processes attach to the primary's configuration and hugepages, under a file
  // prefix of this run's own; everything DPDK leaves under it is removed after the run, however
  // the data plane ended (EalFiles.h).
  struct EalFilesCleanup {
    std::string prefix;
    ~EalFilesCleanup() {
      if (!prefix.empty()) dp::removeEalFiles(prefix, dp::ealRuntimeDir(prefix));
    }
  } ealFiles;
  if (processes == "secondary") {
    ealFiles.prefix = "metronc-run-" + std::to_string(getpid());
    args.push_back("--file-prefix=" + ealFiles.prefix);
  } else {
    args.insert(args.end(), {"--no-huge", "--no-shconf", "-m", "1024"});
  }
  std::vector<std::string> app = {"--", "--quiet", "--rules", cr.nicRules, "--dispatch", o.dispatch, "--processes", processes, "--stop-when-idle",
                                  "--stats", o.stats && o.statsFormat == "text" ? "text" : "none", "--stats-json",
                                  scratch + "/stats.json"};
  if (!o.flowCache.empty()) app.insert(app.end(), {"--flow-cache", o.flowCache});
  std::vector<std::string> outPaths;
  unsigned dev = 0;
  for (const auto &n : cr.ingress) {
    std::string name = "net_pcap" + std::to_string(dev++);
    args.push_back("--vdev=" + name + ",rx_pcap=" + (n == inName ? o.pcap : empty) + ",tx_pcap=/dev/null");
    app.insert(app.end(), {"--port", n + "=" + name});
    if (n == inName) app.insert(app.end(), {"--rx-capture", n + "=" + o.pcap});
  }
  for (const auto &n : cr.egress) {
    std::string name = "net_pcap" + std::to_string(dev++);
    outPaths.push_back(replaceAll(o.out, "%e", n));
    cleanup.files.push_back(outPaths.back() + ".tmp");
    args.push_back("--vdev=" + name + ",rx_pcap=" + empty + ",tx_pcap=" + outPaths.back() + ".tmp");
    app.insert(app.end(), {"--port", n + "=" + name});
    if (o.index) {
      cleanup.files.push_back(outPaths.back() + ".idx.tmp");
      app.insert(app.end(), {"--index", n + "=" + outPaths.back() + ".idx.tmp"});
    }
  }
  args.insert(args.end(), app.begin(), app.end());
  if (o.verbose) {
    std::string line;
    for (const auto &a : args) line += (line.empty() ? "" : " ") + a;
    fprintf(stderr, "metronc run: %s\n", line.c_str());
  }
  t0 = Clock::now();
  fflush(stdout);
  int rc = spawnWait(args, err);
  timer.add("run the data plane", t0);
  if (rc != 0) {
    if (rc < 0) fprintf(stderr, "metronc run: error: %s\n", err.c_str());
    else fprintf(stderr, "metronc run: error: the data plane (%s) exited with status %d\n", cr.executable.c_str(), rc);
    return 1;
  }
  for (size_t i = 0; i < outPaths.size(); ++i) {
    std::error_code ec;
    fs::rename(outPaths[i] + ".tmp", outPaths[i], ec);
    if (!ec && o.index) fs::rename(outPaths[i] + ".idx.tmp", outPaths[i] + ".idx", ec);
    if (ec) {
      fprintf(stderr, "metronc run: error: cannot move the output into '%s': %s\n", outPaths[i].c_str(), ec.message().c_str());
      return 1;
    }
  }
  nlohmann::json st;
  try {
    std::ifstream in(scratch + "/stats.json");
    st = nlohmann::json::parse(in);
    uint64_t read = st["nic"]["received"].get<uint64_t>(), emitted = 0;
    std::string per;
    for (const auto &n : cr.egress) {
      uint64_t e = st["emitted"].value(n, uint64_t(0));
      emitted += e;
      per += (per.empty() ? "" : ", ") + n + " " + std::to_string(e);
    }
    fprintf(stderr,
            "metronc run: %llu packets read, %llu emitted (%s), %llu dropped; %llu truncated, %llu skipped; %u core%s, "
            "dispatch: %s (%s); processes: %s (%s)\n",
            (unsigned long long)read, (unsigned long long)emitted, per.c_str(), (unsigned long long)(read - emitted),
            (unsigned long long)st["nic"].value("truncated", uint64_t(0)),
            (unsigned long long)st["nic"].value("zero_length_skipped", uint64_t(0)), cr.cores, cr.cores == 1 ? "" : "s",
            st["dispatch"]["mode"].get<std::string>().c_str(), st["dispatch"]["why"].get<std::string>().c_str(),
            processes.c_str(), processesWhy.c_str());
  } catch (const std::exception &e) {
    fprintf(stderr, "metronc run: error: the data plane's statistics are unreadable: %s\n", e.what());
    return 1;
  }
  // Per core, always (the per-class table comes with --stats).
  for (const auto &c : st["cores"]) {
    fprintf(stderr, "  core %u: %llu packets, %llu emitted, %.0f cycles/packet, load %.2f (%.2f at most over 100 ms)\n",
            c["core"].get<unsigned>(), (unsigned long long)c["packets"].get<uint64_t>(),
            (unsigned long long)c["emitted"].get<uint64_t>(), c["cycles_per_packet"].get<double>(),
            c["load"].get<double>(), c["load_max_100ms"].get<double>());
  }
  // Tables classified in software by a DPDK library (rte_lpm, rte_acl), with -v.
  if (o.verbose && st.contains("tables"))
    for (const auto &t : st["tables"]) fprintf(stderr, "  %s\n", t.get<std::string>().c_str());
  // Flow caches of the stateful elements (runtime/dataplane/FlowState.h), with -v.
  if (o.verbose && st.contains("stateful"))
    for (const auto &e : st["stateful"])
      if (e.contains("flow_cache")) {
        uint64_t hits = e["flow_cache"].value("hits", uint64_t(0)), misses = e["flow_cache"].value("misses", uint64_t(0));
        char share[32] = "no lookups";
        if (hits + misses) snprintf(share, sizeof share, "%.1f%% hits", 100.0 * double(hits) / double(hits + misses));
        fprintf(stderr, "  %s (%s) on core %u: flow cache %llu hits, %llu misses (%s)\n", e.value("nf", "").c_str(),
                e.value("kind", "").c_str(), e.value("core", 0u), (unsigned long long)hits, (unsigned long long)misses,
                share);
      }
  if (uint64_t cut = st["nic"].value("cut_by_port", uint64_t(0)))
    fprintf(stderr,
            "metronc run: warning: %llu emitted frame%s longer than %llu bytes %s cut to that length by net_pcap's "
            "writer (its largest frame)\n",
            (unsigned long long)cut, cut == 1 ? "" : "s",
            (unsigned long long)st["nic"].value("cut_by_port_above", uint64_t(0)), cut == 1 ? "was" : "were");
  if (o.stats && o.statsFormat == "json") printf("%s\n", st.dump(2).c_str());
  if (o.timePasses) timer.print(stderr);
  return 0;
}

} // namespace

void addRunCommand(CLI::App &app, std::vector<Command> &cmds) {
  auto ro = std::make_shared<RunOptions>();
  CLI::App *run = app.add_subcommand("run", "Run a packet capture through a chain and write what it emits; exit 0 on "
                                            "success, 1 on errors, 2 on usage errors");
  run->add_option("file", ro->file, "The .metron file (- reads standard input)")->required();
  CLI::Option *reference = run->add_flag("--reference", ro->reference,
                "Run the reference interpreter (NF by NF, as written) instead of the compiled data plane");
  CLI::Option *topology = run->add_option("--topology", ro->topology,
                  "Compile for this topology (default: one server whose NIC carries every port of the chain)");
  CLI::Option *cores = run->add_option("--cores", ro->cores, "Cores of the data plane (default 1)")->check(CLI::Range(1u, 64u));
  auto *keep = run->add_option("--keep", ro->keep, "Keep the compile output (plan.json, rules/, bin/) in this directory");
  CLI::Option *compiled =
      run->add_option("--compiled", ro->compiled,
                      "Run a previous compile's output (metronc compile, or run --keep) instead of compiling FILE")
          ->excludes(keep);
  CLI::Option *dispatch = run->add_option("--dispatch", ro->dispatch,
                  "How packets reach the cores: hardware (the NIC's rte_flow rules), nic-model (the same rules "
                  "applied in software), auto (hardware when the port accepts the rules)")
      ->check(CLI::IsMember({"auto", "hardware", "nic-model"}))
      ->capture_default_str();
  CLI::Option *processes = run->add_option("--processes", ro->processes,
                  "How the cores run: secondary (a DPDK secondary process per core, on hugepages), threads (one "
                  "process), auto (secondary when hugepages are free and a hugetlbfs is mounted)")
      ->check(CLI::IsMember({"auto", "threads", "secondary"}))
      ->capture_default_str();
  CLI::Option *flowCache = run->add_option("--flow-cache", ro->flowCache,
                  "Entries of each stateful element's flow cache per core: 0 (none) or a power of two up to "
                  "1048576 (default 8192; metronc-dataplane(8))")
      ->check([](const std::string &v) -> std::string {
        char *end = nullptr;
        unsigned long n = strtoul(v.c_str(), &end, 10);
        if (v.empty() || *end || v[0] == '-' || n == 1 || n > (1ul << 20) || (n & (n - 1)))
          return "0 (no cache) or a power of two from 2 to 1048576";
        return "";
      });
  run->add_flag("-v,--verbose", ro->verbose, "Print the data plane's command line");
  CLI::Option *maxClasses =
      run->add_option("--max-classes", ro->maxClasses, "As for metronc compile")->check(CLI::Range(1u, 10000000u));
  CLI::Option *cpu = run->add_option("--cpu", ro->cpu,
                  "As for metronc compile; the default is native, as the data plane runs on this machine")
      ->capture_default_str();
  run->add_flag("--index", ro->index,
                "Also write OUT.idx beside each output capture: per record, the 0-based index (uint64, little "
                "endian) of the input record it came from");
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
  // Options of the compiled data plane mean nothing to the interpreter, and a compiled output
  // has its topology, cores and bound already.
  for (CLI::Option *opt : {topology, cores, keep, compiled, dispatch, maxClasses, cpu, processes, flowCache})
    reference->excludes(opt);
  for (CLI::Option *opt : {topology, cores, maxClasses, cpu}) compiled->excludes(opt);
  cmds.push_back({run, [ro] { return runRun(*ro); }});
}

} // namespace metron
