//===- runtime/dataplane/Dataplane.cpp - The data-plane executable: ports, cores, stats -------===//
///
/// \file
/// main() of every executable codegen/ links (OUT/bin/<server>): DPDK's EAL, the ports the
/// chain's ingress and egress ports are mapped to, one worker lcore per core of the chain
/// running the generated `metron_core_k` in the shape of DPDK's l3fwd (burst in → dispatch by
/// tag → group → burst out), and the statistics (man/metronc-dataplane.8).
///
/// Dispatch. With `--dispatch hardware` the rte_flow rules of the server's NIC
/// (OUT/rules/<nic>.rte_flow.json) are installed on the ingress port and each worker polls its
/// own rx queue; a rule the port refuses is an error. With `--dispatch nic-model` the main
/// lcore plays the NIC: it receives, applies exactly those rules in software
/// (runtime/dataplane/NicModel.h: header writes, drop, mark, queue) and hands each packet to the
/// ring of the queue's worker; unmatched packets go to the default queue by RSS (a hash of the
/// 5-tuple over the workers, core 0 with one worker). It also transmits what the workers
/// emit, in the order each worker emitted it. `auto` (the default) validates the first rule on
/// the port and says which mode it chose and why.
///
/// Processes (--processes). `threads`: the workers are lcores of this process, each running its
/// core's entry point. `secondary`, the paper's master/slave design: this process (the primary:
/// ports, the NIC model, transmission, statistics) starts, per core, the executable
/// OUT/bin/<server>.core<k> (metronc compile --core-executables: only that core's entry point)
/// as a DPDK secondary process on the lcore the core's thread would have had. They share, in
/// hugepage memory, the mbuf pool, the core's two rings and a memzone (Shared: the stop flag,
/// the core's counters, at the end its per-class counts and stateful counters); each builds its
/// own flow state and rte_acl / rte_lpm tables. Secondary processes map the primary's hugepages
/// and attach to its configuration, so they need hugepages and no --no-huge / --no-shconf /
/// --in-memory; `metronc run --processes auto` chooses them when hugepages are free. A core's
/// process that dies stops the data plane with an error; a primary that dies takes them with it
/// (SIGKILL, and PR_SET_PDEATHSIG when it is killed itself). Only with the NIC model: in
/// hardware dispatch each process would poll its own rx queue, untested here.
///
/// Cycles (paper §5.1): a worker's poll that returns packets and the processing of those packets
/// are useful cycles; an empty poll is useless. The main lcore samples both every 100 ms and
/// reports load = useful / (useful + useless) per interval.
//===----------------------------------------------------------------------------------------===//
#include "runtime/dataplane/Abi.h"
#include "runtime/dataplane/EalFiles.h"
#include "runtime/dataplane/FlowState.h"
#include "runtime/dataplane/NicModel.h"
#include "runtime/dataplane/Runtime.h"
#include "runtime/packet/Packet.h"
#include "runtime/packet/Pcap.h"
#include "runtime/state/Describe.h"
#include "runtime/state/State.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>
#include <vector>

extern "C" const struct mtr_program metron_program;

using nlohmann::json;
using namespace metron;

namespace {

constexpr unsigned kBurst = 32;
static_assert(kBurst <= dp::kMaxRunBurst, "a worker burst goes to dp::runBurst whole");
constexpr unsigned kRingSize = 1024;

volatile std::sig_atomic_t gSignal = 0;
void onSignal(int sig) { gSignal = sig; }

void checkChildren(const char *when);

/// What the NIC loop knows of a packet beyond its bytes: its input index (its position in what
/// the ingress ports received, for --index) and, with --rx-capture, its time and wire length
/// as the capture records them.
struct Meta {
  uint64_t index;
  uint64_t timeNs;
  uint32_t wireLen;
  uint32_t fromCapture; ///< timeNs and wireLen are valid
};
int gMetaOffset = -1;
Meta &meta(rte_mbuf *m) { return *RTE_MBUF_DYNFIELD(m, gMetaOffset, Meta *); }

struct Options {
  std::map<std::string, uint16_t> ports; ///< chain port name -> DPDK port id
  std::string rules;                     ///< rte_flow JSON of the server's NIC
  std::string dispatch = "auto";
  std::string statsJson;                 ///< file
  unsigned statsIntervalMs = 0;          ///< also write statsJson every this often while running
  std::string statsText = "text";        ///< text|json|none on stdout
  bool stopWhenIdle = false;
  bool quiet = false;
  std::map<std::string, std::string> indexOut; ///< egress port name -> file
  std::map<std::string, std::string> rxCapture; ///< ingress port name -> the capture it replays
  unsigned mbufs = 16383;
  uint64_t maxPackets = 0;
  std::string processes = "threads"; ///< threads | secondary
  int secondaryCore = -1;             ///< --secondary-core: this process is that core's secondary
  uint32_t flowCache = dp::kFlowCacheEntries; ///< entries of each stateful element's flow cache
};

/// Which core this process is when it is a secondary process (die() says so), else -1.
int gSecondaryCore = -1;

/// The primary's EAL file prefix when it runs on hugepages (its hugepage files), and its runtime
/// directory when it also has a shared configuration: removed when it ends (EalFiles.h); else
/// empty.
std::string gEalPrefix, gEalRuntimeDir;
/// The runtime directory EAL makes even without a shared configuration: removed when it ends
/// if it is empty (another process of the same prefix may use it).
std::string gRuntimeDirIfEmpty;

/// The per-core processes still running (--processes secondary), by core; -1 once waited for.
std::vector<pid_t> gChildren;

/// Kills and reaps the cores' processes (a primary that dies takes them with it before it
/// removes the files they map).
void killChildren() {
  for (pid_t &pid : gChildren)
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
}

[[noreturn]] void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (gSecondaryCore >= 0) fprintf(stderr, "metron-dataplane (core %d): error: ", gSecondaryCore);
  else fputs("metron-dataplane: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  // No destructors: the runtime's DPDK objects (rte_acl contexts, rings) must not be freed
  // by exit handlers racing with the EAL's own teardown. The hugepage files go (the mappings
  // stay valid until the processes end).
  killChildren();
  dp::removeEalFiles(gEalPrefix, gEalRuntimeDir);
  if (!gRuntimeDirIfEmpty.empty()) rmdir(gRuntimeDirIfEmpty.c_str());
  fflush(nullptr);
  _exit(1);
}

void usage() {
  fputs("usage: EXECUTABLE [EAL options] -- --port NAME=PORT... [--rules FILE.rte_flow.json]\n"
        "       [--dispatch auto|hardware|nic-model] [--stop-when-idle] [--quiet] [--stats text|json|none]\n"
        "       [--stats-json FILE] [--index NAME=FILE]... [--rx-capture NAME=FILE]... [--mbufs N]\n"
        "       [--max-packets N] [--stats-interval MS] [--processes threads|secondary]\n"
        "       [--flow-cache ENTRIES]\n"
        "See metronc-dataplane(8).\n",
        stderr);
}

/// The most entries --flow-cache takes (16 MiB per stateful element and core).
constexpr unsigned long kMaxFlowCache = 1ul << 20;

Options parseOptions(int argc, char **argv) {
  Options o;
  auto need = [&](int &i) -> std::string {
    if (i + 1 >= argc) die("option %s needs a value", argv[i]);
    return argv[++i];
  };
  auto pair = [](const std::string &v, const char *opt) {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) die("%s wants NAME=VALUE, not '%s'", opt, v.c_str());
    return std::make_pair(v.substr(0, eq), v.substr(eq + 1));
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--port") {
      auto [name, id] = pair(need(i), "--port");
      // A port number, or a device name (net_pcap0) resolved by DPDK.
      char *end = nullptr;
      unsigned long v = strtoul(id.c_str(), &end, 10);
      if (!*end && !id.empty()) {
        if (v >= RTE_MAX_ETHPORTS) die("--port %s: %s is not a DPDK port number", name.c_str(), id.c_str());
      } else {
        uint16_t pid = 0;
        if (rte_eth_dev_get_port_by_name(id.c_str(), &pid) != 0)
          die("--port %s: DPDK has no device named '%s' (see the --vdev / -a options)", name.c_str(), id.c_str());
        v = pid;
      }
      o.ports[name] = uint16_t(v);
    } else if (a == "--rules") {
      o.rules = need(i);
    } else if (a == "--dispatch") {
      o.dispatch = need(i);
      if (o.dispatch != "auto" && o.dispatch != "hardware" && o.dispatch != "nic-model")
        die("--dispatch must be auto, hardware or nic-model, not '%s'", o.dispatch.c_str());
    } else if (a == "--quiet") {
      o.quiet = true;
    } else if (a == "--stop-when-idle") {
      o.stopWhenIdle = true;
    } else if (a == "--stats") {
      o.statsText = need(i);
      if (o.statsText != "text" && o.statsText != "json" && o.statsText != "none")
        die("--stats must be text, json or none, not '%s'", o.statsText.c_str());
    } else if (a == "--stats-json") {
      o.statsJson = need(i);
    } else if (a == "--stats-interval") {
      std::string v = need(i);
      char *end = nullptr;
      unsigned long ms = strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end || ms < 10 || ms > 3600000)
        die("--stats-interval wants milliseconds from 10 to 3600000, not '%s'", v.c_str());
      o.statsIntervalMs = unsigned(ms);
    } else if (a == "--index") {
      auto [name, file] = pair(need(i), "--index");
      o.indexOut[name] = file;
    } else if (a == "--rx-capture") {
      auto [name, file] = pair(need(i), "--rx-capture");
      o.rxCapture[name] = file;
    } else if (a == "--mbufs") {
      o.mbufs = unsigned(strtoul(need(i).c_str(), nullptr, 10));
      if (o.mbufs < 1024) die("--mbufs must be at least 1024");
    } else if (a == "--processes") {
      o.processes = need(i);
      if (o.processes != "threads" && o.processes != "secondary")
        die("--processes must be threads or secondary, not '%s'", o.processes.c_str());
    } else if (a == "--secondary-core") {
      std::string v = need(i);
      char *end = nullptr;
      unsigned long k = strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end || k >= RTE_MAX_LCORE) die("--secondary-core wants a core number, not '%s'", v.c_str());
      o.secondaryCore = int(k);
    } else if (a == "--flow-cache") {
      std::string v = need(i);
      char *end = nullptr;
      unsigned long n = strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end || v[0] == '-' || n == 1 || n > kMaxFlowCache || (n & (n - 1)))
        die("--flow-cache wants 0 (no cache) or a power of two from 2 to %lu entries, not '%s'", kMaxFlowCache, v.c_str());
      o.flowCache = uint32_t(n);
    } else if (a == "--max-packets") {
      o.maxPackets = strtoull(need(i).c_str(), nullptr, 10);
    } else if (a == "-h" || a == "--help") {
      usage();
      exit(0);
    } else {
      usage();
      die("unknown option '%s'", a.c_str());
    }
  }
  if (o.statsIntervalMs && o.statsJson.empty()) die("--stats-interval needs --stats-json FILE (the file it rewrites)");
  return o;
}

} // namespace

namespace {

struct Runtime {
  Options opt;
  std::unique_ptr<dp::ProgramRuntime> prog;
  json config;
  uint32_t cores = 1;
  std::vector<std::string> portNames, ingress, egress;
  std::vector<int32_t> chainPortOfDpdk; ///< DPDK port -> Module::portNames index (ingress), -1
  std::vector<int32_t> dpdkOfChainPort; ///< Module::portNames index -> DPDK port, -1
  std::vector<uint16_t> dpdkPorts;      ///< distinct DPDK ports used
  std::vector<uint16_t> ingressDpdk;
  std::unique_ptr<dp::NicModel> nic;
  bool hardware = false;
  std::string modeWhy;
  rte_mempool *pool = nullptr;
  std::vector<std::unique_ptr<mtr_core>> workers; ///< with secondary processes: their rings and lcores only
  std::vector<dp::WorkerCounters> ownCounters; ///< the workers' counters with threads (else in the memzone)
  std::atomic<bool> ownStop{false};
  std::atomic<bool> *stop = &ownStop; ///< the workers stop when it is set (shared with secondary processes)
  // Secondary processes (--processes secondary)
  struct Shared *shared = nullptr;
  const rte_memzone *sharedZone = nullptr;
  std::vector<json> childStateful; ///< per core: what it wrote to SharedCore::stateful
  std::vector<pid_t> pids;         ///< per core: its process
  std::string processesWhy;
  std::map<uint16_t, FILE *> indexFiles; ///< DPDK egress port -> --index file
  // NIC model counters
  uint64_t received = 0, nicDropped = 0, nicMatched = 0, nicUnmatched = 0, emittedTotal = 0, zeroLength = 0, truncated = 0, cutByPort = 0;
  std::vector<bool> pcapPort = std::vector<bool>(RTE_MAX_ETHPORTS, false); ///< net_pcap devices
  std::vector<uint64_t> nicClassCounts; ///< per class slot: packets the NIC rules classified
  std::vector<uint64_t> emittedPerEgress;
  // 10 Hz load samples, per core: the last, the largest and the sum (a data plane that runs for
  // days keeps no history)
  struct LoadAgg { double last = 0, max = 0, sum = 0; };
  std::vector<LoadAgg> load;
  uint64_t loadSamples = 0;
  uint64_t startTsc = 0, endTsc = 0;
};

Runtime R;

/// What the primary process and its per-core secondary processes share (the memzone
/// kSharedZone): the stop flag, each core's counters and state, and at the end each core's
/// per-class counts and its stateful elements' counters.
constexpr const char *kSharedZone = "metron_shared";
constexpr size_t kStatefulJsonBytes = 1 << 16;
enum : uint32_t { kStarting = 0, kReady = 1, kFinished = 2 };
struct SharedCore {
  dp::WorkerCounters counters;
  std::atomic<uint32_t> state;
  char stateful[kStatefulJsonBytes]; ///< at kFinished: the counters of the core's stateful elements, JSON
};
constexpr size_t kMaxChainPorts = 64;
struct alignas(64) Shared {
  uint32_t cores, classes;
  std::atomic<bool> stop;
  /// The primary's port maps (Runtime::chainPortOfDpdk, dpdkOfChainPort): the secondaries do
  /// not see the ports (noVdevsForSecondaries).
  int32_t chainPortOfDpdk[RTE_MAX_ETHPORTS];
  uint32_t chainPorts;
  int32_t dpdkOfChainPort[kMaxChainPorts];
  SharedCore *core() { return reinterpret_cast<SharedCore *>(this + 1); }
  /// The per-class counts of core k (at kFinished).
  uint64_t *classCounts(uint32_t k) { return reinterpret_cast<uint64_t *>(core() + cores) + size_t(k) * classes; }
  static size_t bytes(uint32_t cores, uint32_t classes) {
    return sizeof(Shared) + cores * sizeof(SharedCore) + size_t(cores) * classes * sizeof(uint64_t);
  }
};
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free,
              "shared between processes");

// ---- set-up ------------------------------------------------------------------------------------

void loadProgram() {
  std::string err;
  R.prog = dp::ProgramRuntime::create(metron_program, err);
  if (!R.prog) die("%s", err.c_str());
  R.prog->setFlowCacheEntries(R.opt.flowCache);
  R.config = R.prog->config();
  R.cores = R.prog->cores();
  R.portNames = R.prog->portNames();
  R.ingress = R.prog->ingress();
  R.egress = R.prog->egress();
}

void buildWorkers() {
  R.ownCounters = std::vector<dp::WorkerCounters>(R.cores);
  for (uint32_t k = 0; k < R.cores; ++k) {
    std::string err;
    auto c = R.prog->makeCore(k, err);
    if (!c) die("%s", err.c_str());
    c->counters = &R.ownCounters[k];
    R.workers.push_back(std::move(c));
  }
}

/// The chain's ports and the DPDK ports they are given.
void mapPorts() {
  R.dpdkOfChainPort.assign(R.portNames.size(), -1);
  R.chainPortOfDpdk.assign(RTE_MAX_ETHPORTS, -1);
  auto chainIndex = [](const std::string &n) {
    auto it = std::find(R.portNames.begin(), R.portNames.end(), n);
    return int32_t(it - R.portNames.begin());
  };
  for (const auto &[name, id] : R.opt.ports) {
    bool known = std::find(R.ingress.begin(), R.ingress.end(), name) != R.ingress.end() ||
                 std::find(R.egress.begin(), R.egress.end(), name) != R.egress.end();
    if (!known) die("--port %s: the chain has no port of that name", name.c_str());
    if (!rte_eth_dev_is_valid_port(id)) die("--port %s=%u: DPDK has no port %u (see the --vdev / -a options)", name.c_str(), id, id);
    R.dpdkOfChainPort[size_t(chainIndex(name))] = id;
    if (std::find(R.dpdkPorts.begin(), R.dpdkPorts.end(), id) == R.dpdkPorts.end()) R.dpdkPorts.push_back(id);
  }
  for (const auto &n : R.ingress) {
    int32_t ci = chainIndex(n);
    if (R.dpdkOfChainPort[size_t(ci)] < 0) die("chain ingress port %s has no DPDK port: add --port %s=N", n.c_str(), n.c_str());
    uint16_t id = uint16_t(R.dpdkOfChainPort[size_t(ci)]);
    if (R.chainPortOfDpdk[id] >= 0) die("DPDK port %u is given to two ingress ports", id);
    R.chainPortOfDpdk[id] = ci;
    R.ingressDpdk.push_back(id);
  }
  for (const auto &n : R.egress)
    if (R.dpdkOfChainPort[size_t(chainIndex(n))] < 0) die("chain egress port %s has no DPDK port: add --port %s=N", n.c_str(), n.c_str());
  R.emittedPerEgress.assign(R.portNames.size(), 0);
}

void setupPorts() {
  mapPorts();
  R.pool = rte_pktmbuf_pool_create("metron_mbufs", R.opt.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, int(rte_socket_id()));
  if (!R.pool) die("cannot create a pool of %u mbufs: %s (raise -m or lower --mbufs)", R.opt.mbufs, rte_strerror(rte_errno));

  const uint16_t queues = R.hardware ? uint16_t(R.cores) : 1;
  for (uint16_t id : R.dpdkPorts) {
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(id, &info); rc != 0) die("port %u: rte_eth_dev_info_get: %s", id, rte_strerror(-rc));
    R.pcapPort[id] = info.driver_name && std::string(info.driver_name) == "net_pcap";
    rte_eth_conf conf{};
    if (int rc = rte_eth_dev_configure(id, queues, queues, &conf); rc != 0)
      die("port %u: rte_eth_dev_configure with %u queues: %s", id, queues, rte_strerror(-rc));
    for (uint16_t q = 0; q < queues; ++q) {
      if (int rc = rte_eth_rx_queue_setup(id, q, 1024, rte_eth_dev_socket_id(id), nullptr, R.pool); rc != 0)
        die("port %u: rx queue %u: %s", id, q, rte_strerror(-rc));
      if (int rc = rte_eth_tx_queue_setup(id, q, 1024, rte_eth_dev_socket_id(id), nullptr); rc != 0)
        die("port %u: tx queue %u: %s", id, q, rte_strerror(-rc));
    }
  }
  static const rte_mbuf_dynfield meta = {"metron_meta", sizeof(Meta), alignof(Meta), 0};
  gMetaOffset = rte_mbuf_dynfield_register(&meta);
  if (gMetaOffset < 0) die("cannot register the metron_meta mbuf field: %s", rte_strerror(rte_errno));
}

/// Chooses hardware dispatch or the NIC model (and installs the rules in hardware mode).
void chooseDispatch() {
  if (!R.opt.rules.empty()) {
    std::string err;
    R.nic = dp::NicModel::load(R.opt.rules, err);
    if (!R.nic) die("%s", err.c_str());
  }
  if (R.opt.dispatch == "nic-model") {
    R.modeWhy = "requested (--dispatch nic-model)";
    return;
  }
  if (!R.nic) {
    if (R.opt.dispatch == "hardware") die("--dispatch hardware needs the NIC's rules (--rules FILE.rte_flow.json)");
    R.modeWhy = "no NIC rules were given: every packet is unmatched (RSS)";
    return;
  }
  // Validate on the (single) ingress port before configuring queues for hardware.
  uint16_t port = 0;
  for (const auto &[name, id] : R.opt.ports)
    if (std::find(R.ingress.begin(), R.ingress.end(), name) != R.ingress.end()) port = id;
  std::string err;
  int rc = R.nic->install(port, /*validateOnly=*/true, err);
  if (rc == 0) {
    R.hardware = true;
    R.modeWhy = "port " + std::to_string(port) + " accepts the rules (rte_flow_validate)";
    return;
  }
  if (R.opt.dispatch == "hardware") die("--dispatch hardware: port %u refuses the NIC rules: %s", port, err.c_str());
  // The driver's answer to the first rule, without the file and rule the long message names.
  std::string answer = err;
  if (size_t at = answer.find("rte_flow_validate on port"); at != std::string::npos)
    if (size_t colon = answer.find(": ", at); colon != std::string::npos) answer = answer.substr(colon + 2);
  rte_eth_dev_info info{};
  std::string driver = rte_eth_dev_info_get(port, &info) == 0 && info.driver_name ? info.driver_name : "?";
  R.modeWhy = "port " + std::to_string(port) + " (" + driver + ") refuses rte_flow rules: " + answer;
}

// ---- the data path ---------------------------------------------------------------------------

/// Copies \p len bytes of \p data into \p m (one segment when it fits, else a chain).
bool writeFrame(rte_mbuf *m, const uint8_t *data, size_t len) {
  if (m->nb_segs > 1) {
    rte_pktmbuf_free(m->next);
    m->next = nullptr;
    m->nb_segs = 1;
  }
  rte_pktmbuf_reset_headroom(m);
  m->data_len = 0;
  m->pkt_len = 0;
  rte_mbuf *seg = m;
  size_t off = 0;
  while (off < len) {
    uint16_t room = uint16_t(rte_pktmbuf_tailroom(seg));
    if (room == 0) {
      rte_mbuf *n = rte_pktmbuf_alloc(R.pool);
      if (!n) return false;
      seg->next = n;
      seg = n;
      ++m->nb_segs;
      continue;
    }
    uint16_t k = uint16_t(std::min<size_t>(room, len - off));
    memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len), data + off, k);
    seg->data_len = uint16_t(seg->data_len + k);
    m->pkt_len += k;
    off += k;
  }
  return true;
}

/// Reads the frame of \p m (linearizing a chained one into \p scratch).
const uint8_t *frameOf(rte_mbuf *m, std::vector<uint8_t> &scratch) {
  if (m->nb_segs == 1) return rte_pktmbuf_mtod(m, const uint8_t *);
  scratch.resize(m->pkt_len);
  return static_cast<const uint8_t *>(rte_pktmbuf_read(m, 0, m->pkt_len, scratch.data()));
}

/// The packet's time for stateful elements, in nanoseconds: the capture's (--rx-capture), else
/// the TSC's when the core takes the packet. Not a port's rx timestamp: DPDK leaves its unit to
/// the driver (rte_mbuf_dyn.h: "not normalized"; net_pcap's are microseconds, a ConnectX's
/// clock ticks), and reading it as nanoseconds would stretch every idle timeout and rate.
uint64_t timestampOf(rte_mbuf *m) {
  if (!R.hardware && meta(m).fromCapture) return meta(m).timeNs;
  return uint64_t(double(rte_rdtsc()) * 1e9 / double(rte_get_tsc_hz()));
}

/// Points \p p at the frame of \p m: in place for a one-segment mbuf (nothing is copied; a VLAN
/// push may use the headroom), else a copy of the linearized chain; false when it cannot be read.
bool loadPacket(pkt::Packet &p, rte_mbuf *m, std::vector<uint8_t> &scratch, uint32_t wire, uint64_t ts, uint16_t inPort) {
  if (m->nb_segs == 1) {
    p.attach(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, rte_pktmbuf_headroom(m), wire, ts, inPort);
    return true;
  }
  const uint8_t *data = frameOf(m, scratch);
  if (!data) return false;
  p.assign(data, m->pkt_len, wire, ts, inPort);
  return true;
}

/// Makes \p m carry the frame of \p p after its writes: nothing to do for a view but a VLAN
/// push (the frame starts earlier in the headroom), else a copy back.
bool storePacket(rte_mbuf *m, const pkt::Packet &p) {
  if (p.isView()) {
    size_t pushed = size_t(rte_pktmbuf_mtod(m, const uint8_t *) - p.data());
    return pushed == 0 || rte_pktmbuf_prepend(m, uint16_t(pushed)) != nullptr;
  }
  return writeFrame(m, p.data(), p.size());
}

/// Runs the burst in[0..n) through core \p c (dispatch by tag; table 0 classified for the
/// untagged packets of the burst at once: dp::runBurst); the mbufs to send go to out[], the
/// others are freed. The number sent.
unsigned processBurst(mtr_core *c, rte_mbuf **in, unsigned n, rte_mbuf **out, pkt::Packet *slots,
                      std::vector<uint8_t> &scratch) {
  uint32_t tags[kBurst];
  for (unsigned i = 0; i < n; ++i) tags[i] = (in[i]->ol_flags & RTE_MBUF_F_RX_FDIR_ID) ? in[i]->hash.fdir.hi : MTR_UNTAGGED;
  unsigned nout = 0;
  auto load = [&](uint32_t i, pkt::Packet &p) {
    rte_mbuf *mb = in[i];
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(in[i + 1], void *));
    const int32_t inPort = R.chainPortOfDpdk[mb->port];
    const uint32_t wire = !R.hardware && meta(mb).fromCapture ? meta(mb).wireLen : mb->pkt_len;
    return loadPacket(p, mb, scratch, wire, timestampOf(mb), uint16_t(inPort < 0 ? 0 : inPort));
  };
  auto done = [&](uint32_t i, pkt::Packet *p, int32_t e) {
    rte_mbuf *mb = in[i];
    if (!p || e < 0 || size_t(e) >= R.dpdkOfChainPort.size() || R.dpdkOfChainPort[size_t(e)] < 0 || !storePacket(mb, *p)) {
      rte_pktmbuf_free(mb);
      return;
    }
    mb->port = uint16_t(R.dpdkOfChainPort[size_t(e)]);
    mb->ol_flags &= ~RTE_MBUF_F_RX_FDIR_ID;
    out[nout++] = mb;
  };
  dp::runBurst(*c, n, tags, slots, load, done);
  return nout;
}

/// A worker: l3fwd's loop, from the worker's ring (NIC model) or its rx queues (hardware).
int workerMain(void *arg) {
  mtr_core *c = static_cast<mtr_core *>(arg);
  dp::WorkerCounters &k = *c->counters;
  rte_mbuf *in[kBurst], *out[kBurst];
  std::vector<uint8_t> scratch;
  std::vector<pkt::Packet> slots(dp::kMaxRunBurst);
  uint64_t useful = 0, useless = 0, packets = 0, dropped = 0, emitted = 0, polls = 0;
  while (!R.stop->load(std::memory_order_relaxed)) {
    uint64_t t0 = rte_rdtsc();
    unsigned n = 0;
    if (R.hardware) {
      for (uint16_t port : R.ingressDpdk) {
        n = rte_eth_rx_burst(port, uint16_t(c->id), in, kBurst);
        if (n) break;
      }
    } else {
      n = rte_ring_dequeue_burst(c->in, reinterpret_cast<void **>(in), kBurst, nullptr);
    }
    ++polls;
    if (n == 0) {
      useless += rte_rdtsc() - t0;
      k.useless.store(useless, std::memory_order_relaxed);
      k.polls.store(polls, std::memory_order_relaxed);
      continue;
    }
    const unsigned nout = processBurst(c, in, n, out, slots.data(), scratch);
    dropped += n - nout;
    packets += n;
    emitted += nout;
    if (R.hardware) {
      for (unsigned i = 0; i < nout; ++i) {
        // One packet at a time keeps the per-port grouping simple; the hardware path is the
        // one these machines cannot exercise (no rte_flow NIC).
        while (rte_eth_tx_burst(out[i]->port, uint16_t(c->id), &out[i], 1) == 0 && !R.stop->load(std::memory_order_relaxed)) {
        }
      }
    } else {
      unsigned sent = 0;
      while (sent < nout) sent += rte_ring_enqueue_burst(c->out, reinterpret_cast<void **>(out + sent), nout - sent, nullptr);
    }
    useful += rte_rdtsc() - t0;
    k.useful.store(useful, std::memory_order_relaxed);
    k.packets.store(packets, std::memory_order_release);
    k.dropped.store(dropped, std::memory_order_relaxed);
    k.emitted.store(emitted, std::memory_order_relaxed);
    k.polls.store(polls, std::memory_order_relaxed);
  }
  return 0;
}

/// The NIC: receive, apply the rules, hand to the queue's worker; and transmit.
struct NicLoop {
  std::vector<uint64_t> enqueued; ///< per worker
  pkt::Packet packet;
  std::vector<uint8_t> scratch;
  uint64_t seq = 0;
  bool inputDone = false;
  unsigned emptyPolls = 0;

  /// Per DPDK port, the capture it replays (--rx-capture): read in step with the port.
  std::map<uint16_t, std::unique_ptr<pkt::PcapReader>> captures;
  pkt::Packet record;
  uint64_t zeroLength = 0, truncated = 0;

  explicit NicLoop() : enqueued(R.cores, 0) {
    for (const auto &[name, file] : R.opt.rxCapture) {
      auto it = R.opt.ports.find(name);
      if (it == R.opt.ports.end() || std::find(R.ingress.begin(), R.ingress.end(), name) == R.ingress.end())
        die("--rx-capture %s: not an ingress port given with --port", name.c_str());
      std::string err;
      auto r = pkt::PcapReader::open(file, err);
      if (!r) die("--rx-capture %s: %s", name.c_str(), err.c_str());
      captures[it->second] = std::move(r);
    }
  }

  /// Reads the record of the capture that the port just delivered as \p m: its time and wire
  /// length (net_pcap gives microseconds and the captured length only). Zero-length records,
  /// which carry no packet, are not packets to the reference either (PcapReader): false.
  bool fromCapture(uint16_t port, rte_mbuf *m) {
    auto it = captures.find(port);
    Meta &mt = meta(m);
    mt.fromCapture = 0;
    if (it == captures.end()) return true;
    if (m->pkt_len == 0) {
      ++zeroLength;
      return false;
    }
    if (!it->second->next(record)) {
      if (!it->second->error().empty()) die("%s", it->second->error().c_str());
      die("port %u delivered more packets than its capture holds", port);
    }
    if (record.frame().size() != m->pkt_len)
      die("port %u and its capture disagree on record %llu: %u bytes delivered, %zu captured", port,
          (unsigned long long)it->second->recordsRead(), m->pkt_len, record.frame().size());
    mt.timeNs = record.timestampNs;
    mt.wireLen = record.wireLen;
    if (record.wireLen > record.frame().size()) ++truncated;
    mt.fromCapture = 1;
    return true;
  }

  /// At the end: a capture with records left means the port stopped early (a record libpcap
  /// could not read): the capture's own error says which.
  void checkCapturesDone() {
    for (auto &[port, r] : captures)
      if (r->next(record) || !r->error().empty())
        die("%s", r->error().empty() ? ("port " + std::to_string(port) + " stopped before the end of its capture").c_str()
                                     : r->error().c_str());
  }

  /// The default queue of an unmatched packet: symmetric RSS (both directions of a connection
  /// on one core, as conntrack and NAPT need): a hash of the 5-tuple with its two endpoints in
  /// canonical order.
  uint32_t rssQueue(const pkt::Packet &p) const {
    if (R.cores == 1) return 0;
    uint64_t a = p.get(ir::FieldId::IpSrc) << 16 | p.get(ir::FieldId::TpSrc);
    uint64_t b = p.get(ir::FieldId::IpDst) << 16 | p.get(ir::FieldId::TpDst);
    if (a > b) std::swap(a, b);
    uint8_t key[17];
    key[0] = uint8_t(p.get(ir::FieldId::IpProto));
    for (int i = 0; i < 8; ++i) {
      key[1 + i] = uint8_t(a >> (8 * i));
      key[9 + i] = uint8_t(b >> (8 * i));
    }
    return state::crc32c(key, sizeof key) % R.cores;
  }

  /// One rx burst per ingress port; false when nothing came.
  bool receive() {
    rte_mbuf *bufs[kBurst];
    bool any = false;
    for (uint16_t port : R.ingressDpdk) {
      unsigned n = rte_eth_rx_burst(port, 0, bufs, kBurst);
      if (!n) continue;
      any = true;
      for (unsigned i = 0; i < n; ++i) {
        rte_mbuf *m = bufs[i];
        if (R.opt.maxPackets && R.received >= R.opt.maxPackets) { // --max-packets: the rest is not read
          rte_pktmbuf_free(m);
          continue;
        }
        if (!fromCapture(port, m)) {
          rte_pktmbuf_free(m);
          continue;
        }
        meta(m).index = seq++;
        ++R.received;
        if (!loadPacket(packet, m, scratch, m->pkt_len, 0, uint16_t(R.chainPortOfDpdk[port]))) {
          ++R.nicDropped;
          rte_pktmbuf_free(m);
          continue;
        }
        uint32_t q = 0;
        if (R.nic) {
          dp::NicVerdict v = R.nic->apply(packet, port);
          if (v.matched) {
            ++R.nicMatched;
            if (v.rule >= 0) countRule(v);
          } else {
            ++R.nicUnmatched;
          }
          if (v.drop) {
            ++R.nicDropped;
            rte_pktmbuf_free(m);
            continue;
          }
          q = v.queue >= 0 ? uint32_t(v.queue) : rssQueue(packet);
          if (v.hasMark) {
            m->hash.fdir.hi = v.mark;
            m->ol_flags |= RTE_MBUF_F_RX_FDIR | RTE_MBUF_F_RX_FDIR_ID;
          }
          // The rules' header writes (set_ipv4_src ...) are part of what the NIC delivers.
          if (!storePacket(m, packet)) {
            ++R.nicDropped;
            rte_pktmbuf_free(m);
            continue;
          }
        } else {
          ++R.nicUnmatched;
          q = rssQueue(packet);
        }
        if (q >= R.cores) die("the NIC rules send a packet to queue %u; the chain was compiled for %u cores", q, R.cores);
        // Back-pressure, never a drop. A core's process that died would never drain its ring:
        // checked about once a millisecond (a waitpid per spin would be a system call each).
        for (uint64_t nextCheck = 0; rte_ring_enqueue(R.workers[q]->in, m) != 0;) {
          transmit();
          if (R.shared && rte_rdtsc() >= nextCheck) {
            checkChildren("while the data plane ran");
            nextCheck = rte_rdtsc() + rte_get_tsc_hz() / 1000;
          }
        }
        ++enqueued[q];
      }
      if (R.opt.maxPackets && R.received >= R.opt.maxPackets) {
        inputDone = true;
        break;
      }
    }
    return any;
  }

  void countRule(const dp::NicVerdict &v) {
    if (v.classId < 0) return;
    int32_t slot = R.prog->slotOfClass(uint32_t(v.classId));
    if (slot >= 0) {
      if (R.nicClassCounts.empty()) R.nicClassCounts.assign(metron_program.classes, 0);
      ++R.nicClassCounts[size_t(slot)];
    }
  }

  /// Drains every worker's out ring to the egress ports, in each worker's order.
  void transmit() {
    rte_mbuf *bufs[kBurst];
    for (auto &w : R.workers) {
      unsigned n;
      while ((n = rte_ring_dequeue_burst(w->out, reinterpret_cast<void **>(bufs), kBurst, nullptr)) != 0)
        for (unsigned i = 0; i < n; ++i) {
          rte_mbuf *m = bufs[i];
          uint16_t port = m->port;
          uint64_t idx = meta(m).index;
          ++R.emittedTotal;
          // net_pcap writes at most RTE_ETHER_MAX_JUMBO_FRAME_LEN bytes of a frame (its snap
          // length): counted, and said in the statistics, rather than cut unseen.
          if (m->pkt_len > RTE_ETHER_MAX_JUMBO_FRAME_LEN && R.pcapPort[port]) ++R.cutByPort;
          if (int32_t ci = chainOfEgress(port); ci >= 0) ++R.emittedPerEgress[size_t(ci)];
          while (rte_eth_tx_burst(port, 0, &m, 1) == 0) {
          }
          if (auto it = R.indexFiles.find(port); it != R.indexFiles.end()) fwrite(&idx, sizeof idx, 1, it->second);
        }
    }
  }

  static int32_t chainOfEgress(uint16_t port) {
    for (size_t i = 0; i < R.dpdkOfChainPort.size(); ++i)
      if (R.dpdkOfChainPort[i] == int32_t(port) &&
          std::find(R.egress.begin(), R.egress.end(), R.portNames[i]) != R.egress.end())
        return int32_t(i);
    return -1;
  }

  bool drained() const {
    for (uint32_t k = 0; k < R.cores; ++k)
      if (R.workers[k]->counters->packets.load(std::memory_order_acquire) != enqueued[k] || !rte_ring_empty(R.workers[k]->out))
        return false;
    return true;
  }
};

void sampleLoad(std::vector<uint64_t> &lastUseful, std::vector<uint64_t> &lastUseless) {
  R.load.resize(R.cores);
  for (uint32_t k = 0; k < R.cores; ++k) {
    uint64_t u = R.workers[k]->counters->useful.load(std::memory_order_relaxed);
    uint64_t v = R.workers[k]->counters->useless.load(std::memory_order_relaxed);
    uint64_t du = u - lastUseful[k], dv = v - lastUseless[k];
    const double l = du + dv ? double(du) / double(du + dv) : 0.0;
    R.load[k].last = l;
    R.load[k].max = std::max(R.load[k].max, l);
    R.load[k].sum += l;
    lastUseful[k] = u;
    lastUseless[k] = v;
  }
  ++R.loadSamples;
}

// ---- statistics ------------------------------------------------------------------------------

/// A stateful element's counters (the reference's own: Dataplane == reference) and, apart, its
/// flow cache's hits and misses when it has one.
json stateJson(const state::ElementState &s) {
  json c = json::object();
  for (const auto &[name, v] : s.counters()) c[name] = v;
  json o = {{"counters", c}};
  uint64_t hits, misses;
  if (dp::flowCacheCounts(s, hits, misses)) o["flow_cache"] = {{"hits", hits}, {"misses", misses}};
  return o;
}

/// The statistics. \p live: while the workers run (--stats-interval), only what the main lcore
/// owns or reads atomically — not the per-class and per-element counters, which the workers
/// write without synchronisation and which come with the final statistics.
json statsJson(bool live = false) {
  json j;
  j["live"] = live;
  j["chain"] = R.config.value("chain", "");
  j["server"] = R.config.value("server", "");
  j["dispatch"] = {{"mode", R.hardware ? "hardware" : "nic-model"}, {"why", R.modeWhy}, {"rules", R.nic ? R.nic->size() : 0}};
  j["processes"] = {{"mode", R.shared ? "secondary" : "threads"}, {"why", R.processesWhy}};
  if (R.shared) {
    j["processes"]["pids"] = json::array();
    for (pid_t pid : R.pids) j["processes"]["pids"].push_back(pid);
  }
  j["tables"] = json::array();
  for (const auto &t : R.prog->tables()) j["tables"].push_back(t.describe());
  const double secs = double((live ? rte_rdtsc() : R.endTsc) - R.startTsc) / double(rte_get_tsc_hz());
  j["seconds"] = secs;
  j["tsc_hz"] = rte_get_tsc_hz();
  j["nic"] = {{"received", R.received}, {"matched", R.nicMatched}, {"unmatched", R.nicUnmatched}, {"dropped", R.nicDropped},
              {"zero_length_skipped", R.zeroLength}, {"truncated", R.truncated},
              {"cut_by_port", R.cutByPort}, {"cut_by_port_above", RTE_ETHER_MAX_JUMBO_FRAME_LEN}};
  json cores = json::array();
  for (uint32_t k = 0; k < R.cores; ++k) {
    const dp::WorkerCounters &c = *R.workers[k]->counters;
    uint64_t u = c.useful.load(), v = c.useless.load(), n = c.packets.load();
    const Runtime::LoadAgg agg = k < R.load.size() ? R.load[k] : Runtime::LoadAgg{};
    cores.push_back({{"core", k},
                     {"lcore", R.workers[k]->lcore},
                     {"packets", n},
                     {"dropped", c.dropped.load()},
                     {"emitted", c.emitted.load()},
                     {"useful_cycles", u},
                     {"useless_cycles", v},
                     {"cycles_per_packet", n ? double(u) / double(n) : 0.0},
                     {"load", u + v ? double(u) / double(u + v) : 0.0},
                     {"load_last_100ms", agg.last},
                     {"load_max_100ms", agg.max},
                     {"load_mean_100ms", R.loadSamples ? agg.sum / double(R.loadSamples) : 0.0}});
  }
  j["cores"] = cores;
  j["load_samples"] = R.loadSamples;
  json egress = json::object();
  for (size_t i = 0; i < R.portNames.size(); ++i)
    if (std::find(R.egress.begin(), R.egress.end(), R.portNames[i]) != R.egress.end())
      egress[R.portNames[i]] = R.emittedPerEgress[i];
  j["emitted"] = egress;
  if (live) return j;
  json classes = json::array();
  const auto &cl = R.config.at("classes");
  for (size_t s = 0; s < cl.size(); ++s) {
    uint64_t sw = 0;
    for (uint32_t k = 0; k < R.cores; ++k) sw += R.shared ? R.shared->classCounts(k)[s] : R.workers[k]->classCounts[s];
    uint64_t hw = R.nicClassCounts.empty() ? 0 : R.nicClassCounts[s];
    if (!sw && !hw) continue;
    classes.push_back({{"table", cl[s].at("table")}, {"class", cl[s].at("class")}, {"group", cl[s].at("group")},
                       {"software", sw}, {"nic", hw}});
  }
  j["classes"] = classes;
  json st = json::array();
  const auto &sd = R.config.at("stateful");
  for (size_t s = 0; s < sd.size(); ++s)
    for (uint32_t k = 0; k < R.cores; ++k) {
      json c = R.shared ? R.childStateful.at(k).at(s) : stateJson(*R.workers[k]->states[s]);
      c["nf"] = sd[s].value("nf", "");
      c["kind"] = sd[s].value("kind", "");
      c["core"] = k;
      st.push_back(c);
    }
  j["stateful"] = st;
  return j;
}

/// Writes \p j to --stats-json so that a reader never sees half a file (metron-agent reads it
/// while the data plane runs).
void writeStatsFile(const json &j) {
  const std::string tmp = R.opt.statsJson + ".tmp";
  FILE *f = fopen(tmp.c_str(), "w");
  if (!f) die("cannot write '%s': %s", tmp.c_str(), strerror(errno));
  fputs(j.dump(1).c_str(), f);
  fputc('\n', f);
  if (fclose(f) != 0 || rename(tmp.c_str(), R.opt.statsJson.c_str()) != 0)
    die("cannot write '%s': %s", R.opt.statsJson.c_str(), strerror(errno));
}

void printStatsText(const json &j) {
  printf("dispatch: %s (%s)\n", j["dispatch"]["mode"].get<std::string>().c_str(), j["dispatch"]["why"].get<std::string>().c_str());
  printf("processes: %s (%s)\n", j["processes"]["mode"].get<std::string>().c_str(), j["processes"]["why"].get<std::string>().c_str());
  printf("nic: %llu received, %llu matched by its rules, %llu unmatched, %llu dropped\n",
         (unsigned long long)R.received, (unsigned long long)R.nicMatched, (unsigned long long)R.nicUnmatched,
         (unsigned long long)R.nicDropped);
  printf("%-5s %6s %12s %10s %12s %14s %14s %11s %6s %8s\n", "core", "lcore", "packets", "dropped", "emitted", "useful cyc",
         "useless cyc", "cyc/packet", "load", "max@10Hz");
  for (const auto &c : j["cores"])
    printf("%-5u %6u %12llu %10llu %12llu %14llu %14llu %11.1f %6.3f %8.3f\n", c["core"].get<unsigned>(),
           c["lcore"].get<unsigned>(), (unsigned long long)c["packets"].get<uint64_t>(),
           (unsigned long long)c["dropped"].get<uint64_t>(), (unsigned long long)c["emitted"].get<uint64_t>(),
           (unsigned long long)c["useful_cycles"].get<uint64_t>(), (unsigned long long)c["useless_cycles"].get<uint64_t>(),
           c["cycles_per_packet"].get<double>(), c["load"].get<double>(), c["load_max_100ms"].get<double>());
  printf("%-6s %-8s %-6s %12s %12s\n", "table", "class", "group", "software", "nic");
  for (const auto &c : j["classes"])
    printf("%-6u %-8u %-6u %12llu %12llu\n", c["table"].get<unsigned>(), c["class"].get<unsigned>(),
           c["group"].get<unsigned>(), (unsigned long long)c["software"].get<uint64_t>(),
           (unsigned long long)c["nic"].get<uint64_t>());
}

// ---- per-core secondary processes (--processes secondary) -------------------------------------

/// The EAL options of this process's command line (argv before rte_eal_init), for its secondaries.
std::vector<std::string> gEalArgs;

std::string ringName(const char *dir, uint32_t k) { return std::string("metron_") + dir + std::to_string(k); }

int probeAction(const rte_mp_msg *, const void *) { return 0; }

std::string selfExecutable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) die("cannot read /proc/self/exe: %s", strerror(errno));
  buf[n] = 0;
  return buf;
}

/// The executable of core k's process: OUT/bin/<server>.core<k>, beside this one.
std::string coreExecutable(uint32_t k) { return selfExecutable() + ".core" + std::to_string(k); }

/// Checks that EAL can have secondary processes and sets up what they share: the memzone, the
/// counters and the stop flag. The workers are only their rings and lcores here.
void prepareSecondaries() {
  if (!rte_eal_has_hugepages())
    die("--processes secondary: secondary processes map the primary's hugepages, and EAL runs with --no-huge "
        "(reserve hugepages and drop --no-huge, or use --processes threads)");
  if (rte_mp_action_register("metron_probe", probeAction) != 0) {
    if (rte_errno == ENOTSUP)
      die("--processes secondary: EAL runs without a shared configuration (--no-shconf or --in-memory), which "
          "secondary processes attach to");
    die("--processes secondary: rte_mp_action_register: %s", rte_strerror(rte_errno));
  }
  rte_mp_action_unregister("metron_probe");
  for (uint32_t k = 0; k < R.cores; ++k) {
    const std::string exe = coreExecutable(k);
    if (access(exe.c_str(), X_OK) != 0)
      die("--processes secondary: core %u's executable '%s': %s (metronc compile links bin/SERVER.coreK beside "
          "bin/SERVER)", k, exe.c_str(), strerror(errno));
  }
  const uint32_t classes = metron_program.classes;
  R.sharedZone = rte_memzone_reserve(kSharedZone, Shared::bytes(R.cores, classes), int(rte_socket_id()), 0);
  if (!R.sharedZone) die("cannot reserve the memzone %s: %s", kSharedZone, rte_strerror(rte_errno));
  memset(R.sharedZone->addr, 0, R.sharedZone->len);
  R.shared = static_cast<Shared *>(R.sharedZone->addr);
  R.shared->cores = R.cores;
  R.shared->classes = classes;
  R.stop = &R.shared->stop;
  for (uint32_t k = 0; k < R.cores; ++k) {
    auto c = std::make_unique<mtr_core>();
    c->id = k;
    c->counters = &R.shared->core()[k].counters;
    R.workers.push_back(std::move(c));
  }
  R.childStateful.assign(R.cores, json());
}

/// DPDK's vdev bus hands a secondary process the primary's virtual devices, and the secondary
/// probes them with the primary's arguments: net_pcap would open the output captures again,
/// truncating them (O_TRUNC), and read the inputs a second time. The cores' processes use no
/// port (the primary receives and transmits), so the primary answers their vdev scan with none:
/// its reply to the bus's "bus_vdev_mp" request, in the layout of drivers/bus/vdev/vdev.c's
/// struct vdev_param (DPDK 22.11: type VDEV_SCAN_REP = 3, the number of devices sent).
struct VdevScanReply {
  int type;
  int num;
  char name[RTE_DEV_NAME_MAX_LEN];
};
int noVdevs(const rte_mp_msg *msg, const void *peer) {
  rte_mp_msg reply{};
  snprintf(reply.name, sizeof reply.name, "%s", msg->name);
  reply.len_param = sizeof(VdevScanReply);
  VdevScanReply r{};
  r.type = 3;
  r.num = 0;
  memcpy(reply.param, &r, sizeof r);
  return rte_mp_reply(&reply, static_cast<const char *>(peer));
}
void noVdevsForSecondaries() {
  rte_mp_action_unregister("bus_vdev_mp");
  if (rte_mp_action_register("bus_vdev_mp", noVdevs) != 0)
    die("cannot answer the secondary processes' device scan: %s", rte_strerror(rte_errno));
}

/// "a,b,c": the CPUs lcore \p lcore of this process runs on.
std::string cpusOf(unsigned lcore) {
  rte_cpuset_t set = rte_lcore_cpuset(lcore);
  std::string s;
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) s += (s.empty() ? "" : ",") + std::to_string(cpu);
  return s;
}

/// The EAL options a secondary process takes from the primary's command line.
std::vector<std::string> forwardedEalArgs() {
  static const char *const withValue[] = {"--huge-dir", "-a", "--allow", "-b", "--block", "-d", "--driver-path",
                                          "--iova-mode", "--log-level", "--base-virtaddr"};
  static const char *const flags[] = {"--no-pci", "--no-telemetry"};
  std::vector<std::string> out;
  for (size_t i = 0; i < gEalArgs.size(); ++i) {
    const std::string &a = gEalArgs[i];
    if (a == "--") break;
    for (const char *f : flags)
      if (a == f) out.push_back(a);
    for (const char *o : withValue) {
      const std::string opt = o;
      if (a == opt && i + 1 < gEalArgs.size()) {
        out.push_back(a);
        out.push_back(gEalArgs[++i]);
      } else if (a.rfind(opt + "=", 0) == 0) {
        out.push_back(a);
      }
    }
  }
  return out;
}

std::string exitText(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by ") + strsignal(WTERMSIG(status));
  return "stopped";
}

/// Dies when a core's process has exited (\p when: "before it was ready", "while running").
void checkChildren(const char *when) {
  for (uint32_t k = 0; k < R.cores; ++k) {
    int status = 0;
    if (gChildren[k] > 0 && waitpid(gChildren[k], &status, WNOHANG) == gChildren[k]) {
      gChildren[k] = -1;
      die("core %u's process (%s) %s %s", k, coreExecutable(k).c_str(), exitText(status).c_str(), when);
    }
  }
}

/// Starts core k's process on the lcore its thread would have had, and waits until every one
/// runs its loop.
void startSecondaries() {
  const std::string rundir = rte_eal_get_runtime_dir();
  const std::string prefix = rundir.substr(rundir.find_last_of('/') + 1);
  const std::vector<std::string> fwd = forwardedEalArgs();
  gChildren.assign(R.cores, -1);
  const pid_t self = getpid();
  if (R.portNames.size() > kMaxChainPorts) die("--processes secondary: the chain has more than %zu ports", kMaxChainPorts);
  for (size_t i = 0; i < RTE_MAX_ETHPORTS; ++i) R.shared->chainPortOfDpdk[i] = R.chainPortOfDpdk[i];
  R.shared->chainPorts = uint32_t(R.portNames.size());
  for (size_t i = 0; i < R.portNames.size(); ++i) R.shared->dpdkOfChainPort[i] = R.dpdkOfChainPort[i];
  noVdevsForSecondaries();
  for (auto &w : R.workers) {
    const uint32_t k = w->id;
    std::vector<std::string> args = {coreExecutable(k), "--proc-type=secondary", "--file-prefix=" + prefix,
                                     "--lcores=" + std::to_string(w->lcore) + "@(" + cpusOf(w->lcore) + ")"};
    args.insert(args.end(), fwd.begin(), fwd.end());
    args.insert(args.end(), {"--", "--secondary-core", std::to_string(k), "--flow-cache", std::to_string(R.opt.flowCache)});
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) die("cannot start core %u's process: fork: %s", k, strerror(errno));
    if (pid == 0) {
      // Stopped with the primary, however it ends.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != self) _exit(1);
      execv(argv[0], argv.data());
      static const char msg[] = "metron-dataplane: error: cannot run a core's executable\n";
      (void)!write(2, msg, sizeof msg - 1);
      _exit(127);
    }
    gChildren[k] = pid;
    R.pids.push_back(pid);
  }
  const uint64_t deadline = rte_rdtsc() + 120 * rte_get_tsc_hz();
  for (uint32_t k = 0; k < R.cores; ++k)
    while (R.shared->core()[k].state.load(std::memory_order_acquire) != kReady) {
      checkChildren("before it was ready");
      if (gSignal) die("stopped by %s while the cores' processes started", strsignal(gSignal));
      if (rte_rdtsc() > deadline) die("core %u's process (pid %d) was not ready after 120 s", k, int(gChildren[k]));
      usleep(1000);
    }
}

/// After the stop flag: waits for every core's process and reads what it counted.
void joinSecondaries() {
  const uint64_t deadline = rte_rdtsc() + 60 * rte_get_tsc_hz();
  for (uint32_t k = 0; k < R.cores; ++k) {
    int status = 0;
    pid_t r;
    while ((r = waitpid(gChildren[k], &status, WNOHANG)) == 0) {
      if (rte_rdtsc() > deadline) die("core %u's process (pid %d) did not stop within 60 s", k, int(gChildren[k]));
      usleep(1000);
    }
    if (r < 0) die("waiting for core %u's process: %s", k, strerror(errno));
    gChildren[k] = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      die("core %u's process (%s) %s", k, coreExecutable(k).c_str(), exitText(status).c_str());
    SharedCore &sc = R.shared->core()[k];
    if (sc.state.load(std::memory_order_acquire) != kFinished) die("core %u's process stopped without its counters", k);
    try {
      R.childStateful[k] = json::parse(std::string(sc.stateful, strnlen(sc.stateful, kStatefulJsonBytes)));
    } catch (const json::exception &e) {
      die("core %u's process left unreadable counters: %s", k, e.what());
    }
  }
}

/// main() of core k's process: attaches to what the primary set up, runs the core's loop until
/// the primary says stop, and leaves its counters in the shared memzone.
int secondaryMain() {
  const uint32_t k = uint32_t(R.opt.secondaryCore);
  gSecondaryCore = int(k);
  // The primary decides when to stop (it drains the rings first); if it dies, SIGTERM ends this.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_DFL);
  if (rte_eal_process_type() != RTE_PROC_SECONDARY)
    die("--secondary-core is for the per-core processes the data plane starts itself (--processes secondary)");
  loadProgram();
  if (k >= R.cores) die("the chain has %u cores, not %u", R.cores, k + 1);
  if (!metron_program.entries[k]) die("this executable has no entry point for core %u", k);
  const rte_memzone *mz = rte_memzone_lookup(kSharedZone);
  if (!mz) die("no primary process shares the memzone %s", kSharedZone);
  R.shared = static_cast<Shared *>(mz->addr);
  if (R.shared->cores != R.cores || R.shared->classes != metron_program.classes)
    die("the primary process runs another program (%u cores, %u classes)", R.shared->cores, R.shared->classes);
  R.pool = rte_mempool_lookup("metron_mbufs");
  gMetaOffset = rte_mbuf_dynfield_lookup("metron_meta", nullptr);
  if (!R.pool || gMetaOffset < 0) die("the primary process has no mbuf pool or metron_meta field");
  if (R.shared->chainPorts != R.portNames.size()) die("the primary process runs another program (%u ports)", R.shared->chainPorts);
  R.chainPortOfDpdk.assign(R.shared->chainPortOfDpdk, R.shared->chainPortOfDpdk + RTE_MAX_ETHPORTS);
  R.dpdkOfChainPort.assign(R.shared->dpdkOfChainPort, R.shared->dpdkOfChainPort + R.shared->chainPorts);
  std::string err;
  auto c = R.prog->makeCore(k, err);
  if (!c) die("%s", err.c_str());
  SharedCore &sc = R.shared->core()[k];
  c->counters = &sc.counters;
  c->lcore = rte_lcore_id();
  c->in = rte_ring_lookup(ringName("in", k).c_str());
  c->out = rte_ring_lookup(ringName("out", k).c_str());
  if (!c->in || !c->out) die("the primary process has no rings for core %u", k);
  R.stop = &R.shared->stop;
  sc.state.store(kReady, std::memory_order_release);
  workerMain(c.get());
  std::copy(c->classCounts.begin(), c->classCounts.end(), R.shared->classCounts(k));
  json st = json::array();
  for (const auto &s : c->states) st.push_back(stateJson(*s));
  const std::string text = st.dump();
  if (text.size() >= kStatefulJsonBytes) die("the counters of core %u's stateful elements exceed %zu bytes", k, kStatefulJsonBytes);
  memcpy(sc.stateful, text.c_str(), text.size() + 1);
  sc.state.store(kFinished, std::memory_order_release);
  c.reset();
  R.prog->releaseDpdk();
  rte_eal_cleanup();
  fflush(nullptr);
  _exit(0);
}

} // namespace

/// The address the primary maps its hugepage memory at with secondary processes (unless
/// --base-virtaddr says another): the secondaries must map it at the same address, and the
/// address EAL picks by default, near the top of the primary's mmap area, was found taken in a
/// secondary (its libraries, AddressSanitizer's mappings) in one CI run of an ASan build. This
/// one is above AddressSanitizer's shadow memory and below its allocator (0x600000000000) and the
/// areas the kernel gives programs and mmap on x86-64.
constexpr const char *kSecondaryBaseVirtaddr = "--base-virtaddr=0x200000000000";

/// argv for rte_eal_init: as given, plus kSecondaryBaseVirtaddr when the application's options
/// (after "--") ask for secondary processes and EAL's do not name a base address.
std::vector<char *> ealArgv(int argc, char **argv) {
  std::vector<char *> out(argv, argv + argc);
  bool secondary = false, base = false;
  int dash = argc;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--" && dash == argc) dash = i;
    else if (i < dash && a.rfind("--base-virtaddr", 0) == 0) base = true;
    else if (i > dash && a == "--processes" && i + 1 < argc && std::string(argv[i + 1]) == "secondary")
      secondary = true;
  }
  if (secondary && !base) out.insert(out.begin() + 1, const_cast<char *>(kSecondaryBaseVirtaddr));
  out.push_back(nullptr);
  return out;
}

int main(int argc, char **argv) {
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  std::vector<char *> eal = ealArgv(argc, argv);
  argc = int(eal.size()) - 1;
  argv = eal.data();
  gEalArgs.assign(argv + 1, argv + argc);
  int used = rte_eal_init(argc, argv);
  if (used < 0) die("cannot initialise DPDK's EAL: %s", rte_strerror(rte_errno));
  argc -= used;
  argv += used;
  argv[0] = const_cast<char *>("metron-dataplane");
  if (rte_eal_process_type() == RTE_PROC_PRIMARY) gRuntimeDirIfEmpty = rte_eal_get_runtime_dir();
  R.opt = parseOptions(argc, argv);
  if (R.opt.secondaryCore >= 0) return secondaryMain();
  // Hugepage files are left with or without a shared configuration; the runtime directory's
  // files only with one.
  if (rte_eal_has_hugepages()) {
    const std::string dir = rte_eal_get_runtime_dir();
    gEalPrefix = dir.substr(dir.find_last_of('/') + 1);
    if (rte_mp_action_register("metron_probe", probeAction) == 0) {
      rte_mp_action_unregister("metron_probe");
      gEalRuntimeDir = dir;
    }
  }
  if (rte_eal_process_type() != RTE_PROC_PRIMARY)
    die("a secondary process is one of the per-core processes the data plane starts itself (--processes secondary)");
  loadProgram();
  // With secondary processes the primary keeps the lcores their threads would have had: the
  // processes run on them (DPDK's per-lcore state, e.g. mempool caches, is per lcore id).
  if (rte_lcore_count() < R.cores + 1)
    die("the chain runs on %u cores plus the main lcore: give EAL %u lcores (e.g. -l 0-%u), not %u", R.cores, R.cores + 1,
        R.cores, rte_lcore_count());
  const bool secondaries = R.opt.processes == "secondary";
  if (secondaries) {
    prepareSecondaries();
    R.processesWhy = "one process per core (bin/SERVER.coreK), DPDK secondary processes of this one";
  } else {
    buildWorkers();
    R.processesWhy = "one process, a thread per core";
  }
  chooseDispatch();
  if (secondaries && R.hardware)
    die("--processes secondary runs with the NIC model only: in hardware dispatch each process would poll its own "
        "rx queue, which these machines cannot test (use --dispatch nic-model)");
  setupPorts();
  for (const auto &[name, file] : R.opt.indexOut) {
    auto it = std::find(R.portNames.begin(), R.portNames.end(), name);
    if (it == R.portNames.end() || std::find(R.egress.begin(), R.egress.end(), name) == R.egress.end())
      die("--index %s: the chain has no egress port of that name", name.c_str());
    FILE *f = fopen(file.c_str(), "wb");
    if (!f) die("--index %s: cannot write '%s': %s", name.c_str(), file.c_str(), strerror(errno));
    R.indexFiles[uint16_t(R.dpdkOfChainPort[size_t(it - R.portNames.begin())])] = f;
  }
  if (R.hardware && !R.indexFiles.empty()) die("--index needs the NIC model (the workers transmit directly in hardware mode)");
  if (!R.hardware)
    for (auto &w : R.workers) {
      std::string n = ringName("in", w->id), o = ringName("out", w->id);
      w->in = rte_ring_create(n.c_str(), kRingSize, int(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
      w->out = rte_ring_create(o.c_str(), kRingSize, int(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (!w->in || !w->out) die("cannot create the rings of core %u: %s", w->id, rte_strerror(rte_errno));
    }
  for (uint16_t id : R.dpdkPorts)
    if (int rc = rte_eth_dev_start(id); rc != 0) die("port %u: rte_eth_dev_start: %s", id, rte_strerror(-rc));
  if (R.hardware) {
    // On the started port (some drivers take rules only then); a refused rule is an error,
    // and install() has removed the ones it created.
    std::string err;
    uint16_t port = R.ingressDpdk.front();
    if (R.nic->install(port, false, err) != 0) die("installing the NIC rules on port %u: %s", port, err.c_str());
  }

  if (!R.opt.quiet) {
    fprintf(stderr, "metron-dataplane: chain %s on %u core%s; dispatch: %s (%s)\n", R.config.value("chain", "").c_str(), R.cores,
          R.cores == 1 ? "" : "s", R.hardware ? "hardware" : "nic-model", R.modeWhy.c_str());
    fprintf(stderr, "metron-dataplane: processes: %s (%s)\n", secondaries ? "secondary" : "threads", R.processesWhy.c_str());
    for (const auto &t : R.prog->tables()) fprintf(stderr, "metron-dataplane: %s\n", t.describe().c_str());
  }
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (auto &w : R.workers) {
    w->lcore = lcore;
    lcore = rte_get_next_lcore(lcore, 1, 0);
  }
  if (secondaries) startSecondaries();
  R.startTsc = rte_rdtsc();
  if (!secondaries)
    for (auto &w : R.workers)
      if (int rc = rte_eal_remote_launch(workerMain, w.get(), w->lcore); rc != 0)
        die("cannot launch core %u on lcore %u", w->id, w->lcore);

  NicLoop nic;
  std::vector<uint64_t> lastUseful(R.cores, 0), lastUseless(R.cores, 0);
  const uint64_t hz = rte_get_tsc_hz(), every = hz / 10;
  uint64_t nextSample = R.startTsc + every;
  const uint64_t statsEvery = R.opt.statsIntervalMs * (hz / 1000);
  uint64_t nextStats = R.startTsc + statsEvery;
  if (statsEvery && !R.opt.statsJson.empty()) writeStatsFile(statsJson(true)); // "running" (metron-agent waits for it)
  while (!gSignal) {
    bool got = false;
    if (!R.hardware && !nic.inputDone) got = nic.receive();
    if (!R.hardware) nic.transmit();
    uint64_t now = rte_rdtsc();
    if (now >= nextSample) {
      sampleLoad(lastUseful, lastUseless);
      nextSample += every;
      if (secondaries) checkChildren("while the data plane ran");
    }
    if (statsEvery && now >= nextStats && !R.opt.statsJson.empty()) {
      writeStatsFile(statsJson(true));
      nextStats = now + statsEvery;
    }
    if (R.opt.stopWhenIdle && !R.hardware) {
      // A capture replayed by net_pcap ends for good: many empty polls in a row, nothing left
      // in the rings, every worker caught up.
      nic.emptyPolls = got ? 0 : nic.emptyPolls + 1;
      if ((nic.inputDone || nic.emptyPolls > 10000) && nic.drained()) break;
    }
    if (R.hardware) rte_pause();
  }
  R.stop->store(true);
  if (secondaries) joinSecondaries();
  else rte_eal_mp_wait_lcore();
  if (!R.hardware) nic.transmit();
  if (!gSignal && !R.hardware && !R.opt.maxPackets) nic.checkCapturesDone();
  R.zeroLength = nic.zeroLength;
  R.truncated = nic.truncated;
  R.endTsc = rte_rdtsc();
  sampleLoad(lastUseful, lastUseless);
  if (R.hardware && R.nic) R.nic->uninstall(R.ingressDpdk.front());
  for (uint16_t id : R.dpdkPorts) {
    rte_eth_dev_stop(id);
    rte_eth_dev_close(id);
  }
  for (auto &[port, f] : R.indexFiles)
    if (fclose(f) != 0) die("cannot write an --index file: %s", strerror(errno));
  json j = statsJson();
  if (gSignal) j["stopped_by"] = strsignal(gSignal);
  if (!R.opt.statsJson.empty()) writeStatsFile(j);
  if (R.opt.statsText == "text") printStatsText(j);
  else if (R.opt.statsText == "json") printf("%s\n", j.dump(1).c_str());
  // DPDK objects go before the EAL does.
  R.prog->releaseDpdk();
  R.nic.reset();
  for (auto &w : R.workers) {
    rte_ring_free(w->in);
    rte_ring_free(w->out);
  }
  R.workers.clear();
  rte_mempool_free(R.pool);
  if (R.sharedZone) rte_memzone_free(R.sharedZone);
  rte_eal_cleanup();
  dp::removeEalFiles(gEalPrefix, gEalRuntimeDir);
  if (!gRuntimeDirIfEmpty.empty()) rmdir(gRuntimeDirIfEmpty.c_str());
  fflush(nullptr);
  _exit(0);
}
