//===- compiler/driver/DeployCommand.cpp - metronc deploy / status / undeploy --------------------===//
///
/// \file
/// The controller side of the Metron protocol (man/metronc-deploy.1), one command at a time:
///  - deploy: the servers of the topology that have a metron-agent (`agent = "IP:PORT"`) are
///    candidates; Algorithm 1 (compiler/place/Select.h) asks two of them at random for their load
///    (GLOBAL_STATS_REQ) and takes the less loaded that has the cores (or --server pins one);
///    the chain is compiled for that server (synthesis, Algorithm 2, rules, LLVM code), the rules
///    of the switches on its path are installed through ovs-ofctl in one OpenFlow bundle each
///    (`openflow = ...` in the topology), and the chain with its NIC rules goes to the agent
///    (SC_DEPLOY_REQ). A step that fails undoes the steps before it. The time of every step is
///    printed (paper §5.6, Fig. 17).
///  - status: every agent's load and chains.
///  - undeploy: SC_DELETE_REQ to the agent that runs the chain, and the chain's switch rules
///    removed by their cookie.
/// The controller keeps no state of its own: the agents and the switches are the state (a
/// chain's switch rules carry a cookie derived from its ID).
//===----------------------------------------------------------------------------------------===//
#include "compiler/driver/Commands.h"
#include "compiler/driver/Compile.h"
#include "compiler/place/Select.h"
#include "compiler/place/Topology.h"
#include "runtime/agent/Agent.h"
#include "runtime/agent/Client.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace metron {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct DeployOptions {
  std::string input, topology, server, chain, id, tokenFile, out, format = "text", dispatch = "auto";
  std::string cpu = kDefaultCpu; ///< as CompileCmdOptions::cpu: the server's CPU is not this machine's
  unsigned cores = 1;
  uint64_t seed = 0;
  bool seedGiven = false;
  unsigned timeoutMs = 60000;
};

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

/// The 24 bits a chain's switch rules carry in their cookie (bits 40-63): FNV-1a of its ID,
/// never 0 (rules metronc compile prints for `ovs-ofctl` by hand have 0 there).
uint64_t chainCookie(const std::string &id) {
  uint32_t h = 2166136261u;
  for (unsigned char c : id) h = (h ^ c) * 16777619u;
  uint64_t t = (h ^ (h >> 24)) & 0xffffff;
  return (t ? t : 1) << 40;
}
constexpr uint64_t kCookieMask = 0xffffffull << 40;

std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

/// Runs a program, its stderr captured; exit status or -1.
int runCapture(const std::vector<std::string> &args, std::string &output) {
  char path[] = "/tmp/metronc-deploy.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    output = std::string("mkstemp: ") + strerror(errno);
    return -1;
  }
  std::vector<char *> argv;
  for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  posix_spawn_file_actions_adddup2(&fa, fd, 2);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  if (rc == 0)
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  output = ss.str();
  close(fd);
  unlink(path);
  if (rc != 0) {
    output = "cannot run '" + args[0] + "': " + strerror(rc);
    return -1;
  }
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// The switch rules of a chain, with its cookie in bits 40-63 of every flow's cookie.
bool cookieRules(const std::string &in, const std::string &out, uint64_t cookie, size_t &flows, std::string &err) {
  std::ifstream f(in);
  if (!f) {
    err = "cannot read '" + in + "'";
    return false;
  }
  std::ofstream o(out);
  static const std::regex re("cookie=0x([0-9a-fA-F]+)");
  flows = 0;
  for (std::string line; std::getline(f, line);) {
    std::smatch m;
    if (!line.empty() && line[0] != '#') {
      if (!std::regex_search(line, m, re)) {
        err = "'" + in + "': a flow without a cookie: " + line.substr(0, 120);
        return false;
      }
      uint64_t c = std::stoull(m[1].str(), nullptr, 16);
      line = m.prefix().str() + "cookie=" + hex((c & ~kCookieMask) | cookie) + m.suffix().str();
      ++flows;
    }
    o << line << "\n";
  }
  if (!o.flush()) {
    err = "cannot write '" + out + "'";
    return false;
  }
  return true;
}

/// Where a flow takes packets from: its table and in_port ("*" when it matches any port).
struct FlowSpot {
  unsigned table = 0;
  std::string inPort = "*";
  uint64_t cookie = 0;
};

/// The table, in_port and cookie of each flow of an ovs-ofctl flow text (the rule files metronc
/// writes, or `dump-flows --no-names` output).
std::vector<FlowSpot> flowSpots(const std::string &text) {
  static const std::regex cookieRe("cookie=0x([0-9a-fA-F]+)"), tableRe("(^|[ ,])table=([0-9]+)"),
      portRe("(^|[ ,])in_port=([^ ,]+)");
  std::vector<FlowSpot> spots;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find("actions=");
    if (line.empty() || line[0] == '#' || a == std::string::npos) continue;
    const std::string match = line.substr(0, a);
    FlowSpot f;
    std::smatch m;
    if (std::regex_search(match, m, cookieRe)) f.cookie = std::stoull(m[1].str(), nullptr, 16);
    if (std::regex_search(match, m, tableRe)) f.table = unsigned(std::stoul(m[2].str()));
    if (std::regex_search(match, m, portRe)) f.inPort = m[2].str();
    spots.push_back(f);
  }
  return spots;
}

/// A flow of another deployment (or of this ID) that the rules of a chain would disturb.
struct SwitchConflict {
  uint64_t owner = 0; ///< its cookie's bits 40-63; 0: no conflict
  bool sameId = false; ///< the owner is this chain's ID
  unsigned table = 0;
  std::string inPort;
};

/// Whether the rules in \p rulesFile can go onto the switch at \p target without touching what
/// another deployment installed there (the result's owner is then 0). OpenFlow replaces a flow
/// of the same table, priority and match, and flows of one table that take the same in_port
/// interleave by priority: either way the other chain's traffic would be taken (and a failed
/// deploy's undo, which deletes by cookie, would then remove it). So a chain's flows must not
/// share a table and an in_port with any flow of another chain (another cookie in bits 40-63),
/// nor may the switch already hold flows of this chain's own ID (it is deployed, or an
/// undeploy left them). False and \p err when the switch's flows cannot be read.
bool switchConflict(const std::string &target, const std::string &rulesFile, uint64_t cookie, SwitchConflict &out,
                    std::string &err) {
  out = {};
  std::string dump;
  if (runCapture({"ovs-ofctl", "-O", "OpenFlow13", "dump-flows", "--no-names", "--no-stats", target}, dump) != 0) {
    err = "ovs-ofctl dump-flows " + target + ": " + dump;
    return false;
  }
  std::ifstream f(rulesFile);
  std::stringstream ours;
  ours << f.rdbuf();
  const std::vector<FlowSpot> mine = flowSpots(ours.str());
  for (const FlowSpot &o : flowSpots(dump)) {
    const uint64_t owner = o.cookie & kCookieMask;
    if (owner == 0) continue; // not a deployment's (rules installed by hand): the operator's business
    if (owner == cookie) {
      out = {owner, true, o.table, o.inPort};
      return true;
    }
    for (const FlowSpot &m : mine)
      if (m.table == o.table && (m.inPort == o.inPort || m.inPort == "*" || o.inPort == "*")) {
        out = {owner, false, o.table, o.inPort == "*" ? m.inPort : o.inPort};
        return true;
      }
  }
  return true;
}

bool deleteSwitchRules(const std::string &target, uint64_t cookie, std::string &err) {
  std::string out;
  int rc = runCapture({"ovs-ofctl", "-O", "OpenFlow13", "del-flows", target, "cookie=" + hex(cookie) + "/" + hex(kCookieMask)},
                      out);
  if (rc != 0) err = "ovs-ofctl del-flows " + target + ": " + out;
  return rc == 0;
}

struct Step {
  std::string name, detail;
  double ms = 0;
};

void printSteps(const std::vector<Step> &steps, double total) {
  printf("%-34s %10s  %s\n", "step", "ms", "");
  for (const auto &s : steps) printf("%-34s %10.1f  %s\n", s.name.c_str(), s.ms, s.detail.c_str());
  printf("%-34s %10.1f\n", "total", total);
}

json stepsJson(const std::vector<Step> &steps) {
  json a = json::array();
  for (const auto &s : steps) a.push_back({{"step", s.name}, {"ms", s.ms}, {"detail", s.detail}});
  return a;
}

std::optional<place::Topology> readTopology(const char *cmd, const std::string &path) {
  place::TopologyError terr;
  auto t = place::loadTopology(path, terr);
  if (!t) fprintf(stderr, "metronc %s: %s\n", cmd, terr.str().c_str());
  return t;
}

int runDeploy(const DeployOptions &o) {
  const auto tStart = Clock::now();
  std::vector<Step> steps;
  auto fail = [](const std::string &m, int rc = 1) {
    fprintf(stderr, "metronc deploy: error: %s\n", m.c_str());
    return rc;
  };
  const bool tty = isatty(STDERR_FILENO);
  auto progress = [&](const std::string &m) {
    if (tty) fprintf(stderr, "\r\033[K[deploy] %s", m.c_str());
  };
  auto progressDone = [&] {
    if (tty) fprintf(stderr, "\r\033[K");
  };

  // 1. Topology, token, the chain's source.
  auto t0 = Clock::now();
  auto topo = readTopology("deploy", o.topology);
  if (!topo) return 2;
  std::string token, err;
  if (!agent::readTokenFile(o.tokenFile, "--token-file", token, err)) return fail(err, 2);
  std::string source = o.input, chainName = o.chain;
  if (fs::is_directory(o.input)) {
    // OUT/ of metronc compile: the chain and its source are in plan.json.
    std::ifstream pf(o.input + "/plan.json");
    json plan = json::parse(pf, nullptr, false);
    if (!pf || plan.is_discarded() || !plan.contains("source") || !plan.contains("chain"))
      return fail("'" + o.input + "' is a directory without a readable plan.json (the output of metronc compile)", 2);
    source = plan["source"].get<std::string>();
    if (chainName.empty()) chainName = plan["chain"].get<std::string>();
  }
  std::vector<int> candidates;
  for (size_t i = 0; i < topo->servers.size(); ++i)
    if (!topo->servers[i].agent.empty()) candidates.push_back(int(i));
  if (candidates.empty())
    return fail("no server of topology '" + topo->name + "' has an agent (agent = \"IP:PORT\" in its [[server]])", 2);
  steps.push_back({"topology", o.topology, msSince(t0)});

  // 2. The server: pinned, or Algorithm 1 over the agents.
  t0 = Clock::now();
  std::string server = o.server;
  std::vector<std::string> queries;
  if (!server.empty()) {
    const place::Server *s = topo->findServer(server);
    if (!s) return fail("--server: no server '" + server + "' in topology '" + topo->name + "'", 2);
    if (s->agent.empty()) return fail("--server: server '" + server + "' has no agent in the topology", 2);
    queries.push_back("pinned with --server");
  } else {
    std::mt19937_64 rng(o.seedGiven ? o.seed : std::random_device{}());
    auto query = [&](int k) {
      const place::Server &s = topo->servers[size_t(candidates[size_t(k)])];
      progress("asking " + s.name + " for its load");
      agent::AgentClient c(s.agent, token, o.timeoutMs);
      agent::AgentReply r = c.call("GET", "/metron/server_stats");
      place::ServerLoad l;
      l.name = s.name;
      l.nics = unsigned(s.nics.size());
      if (!r.error.empty()) {
        l.cores = 0; // unreachable: fits nothing
        queries.push_back(s.name + ": " + r.error);
        return l;
      }
      l.cores = unsigned(r.body.value("cpus", json::array()).size());
      const unsigned free = r.body.value("free_cores", 0u);
      l.usedCores = l.cores >= free ? l.cores - free : 0;
      char b[160];
      snprintf(b, sizeof b, "%s: %u of %u cores free", s.name.c_str(), free, l.cores);
      queries.push_back(b);
      return l;
    };
    int k = place::selectServer(candidates.size(), query, 1, o.cores, rng);
    progressDone();
    if (k < 0) {
      std::string why;
      for (const auto &q : queries) why += "\n  " + q;
      return fail("no server with an agent has " + std::to_string(o.cores) + " free core" + (o.cores == 1 ? "" : "s") +
                  " (Algorithm 1 asked " + std::to_string(queries.size()) + "):" + why);
    }
    server = topo->servers[size_t(candidates[size_t(k)])].name;
  }
  std::string asked;
  for (const auto &q : queries) asked += (asked.empty() ? "" : "; ") + q;
  steps.push_back({"server selection", server + (o.server.empty() ? " by Algorithm 1 [" : " [") + asked + "]", msSince(t0)});
  const place::Server &srv = *topo->findServer(server);

  // 3. Compile for it: synthesis, Algorithm 2, rules, the data plane.
  progress("compiling chain for " + server);
  t0 = Clock::now();
  std::string out = o.out;
  bool tempOut = false;
  if (out.empty()) {
    char tmpl[] = "/tmp/metronc-deploy-out.XXXXXX";
    if (!mkdtemp(tmpl)) return fail(std::string("cannot create a scratch directory: ") + strerror(errno));
    out = std::string(tmpl) + "/out";
    tempOut = true;
  }
  struct Scratch {
    std::string dir;
    ~Scratch() {
      std::error_code ec;
      if (!dir.empty()) fs::remove_all(dir, ec);
    }
  } scratch{tempOut ? fs::path(out).parent_path().string() : ""};
  CompileCmdOptions co;
  co.file = source;
  co.topology = o.topology;
  co.out = out;
  co.chain = chainName;
  co.server = server;
  co.cores = o.cores;
  co.cpu = o.cpu;
  co.quiet = true;
  co.progress = "never";
  co.formats = {"openflow", "rte_flow", "dataplane"};
  co.cmd = "deploy";
  CompileResult cr;
  if (int rc = runCompile(co, &cr)) {
    progressDone();
    return rc;
  }
  progressDone();
  double synthMs = 0, translateMs = 0, codegenMs = 0, otherMs = 0;
  for (const auto &[n, ms] : cr.times) {
    if (n == "synth") synthMs += ms;
    else if (n == "place + split" || n == "lower" || n.rfind("print", 0) == 0) translateMs += ms;
    else if (n.rfind("codegen", 0) == 0 || n == "link") codegenMs += ms;
    else otherMs += ms; // reading, parsing, checking, the topology, writing OUT/
  }
  const std::string id = o.id.empty() ? cr.chain : o.id;
  if (!agent::validId(id, 64, false)) return fail("--id: '" + id + "' is not a chain ID (1-64 of A-Z a-z 0-9 _ . : -)", 2);
  steps.push_back({"compile", "chain " + cr.chain + " for " + server + ", " + std::to_string(cr.cores) + " core" +
                                  (cr.cores == 1 ? "" : "s") + "; classifier " + cr.classifier,
                   msSince(t0)});
  steps.push_back({"  synthesis", "", synthMs});
  steps.push_back({"  placement + rules (Algorithm 2)", "", translateMs});
  steps.push_back({"  code generation + link", "", codegenMs});
  steps.push_back({"  parse, check, write", "", otherMs});
  if (cr.classifierKind != "nic") {
    // The switch tags with VLAN IDs, which the NIC's rules pop and turn into the data plane's
    // marks; a MAC tag replaced eth.dst, which nothing can restore.
    std::ifstream pf(out + "/plan.json");
    json plan = json::parse(pf, nullptr, false);
    for (const auto &t : plan.is_object() ? plan.value("tags", json::array()) : json::array())
      if (t.value("kind", "") == "mac")
        return fail("Algorithm 2 put the classifier of chain " + cr.chain + " on switch '" + cr.classifier +
                    "', which tags with " + t.value("kind", "?") + " tags; the data plane can take a switch's VLAN tags "
                    "only (a MAC tag replaces eth.dst for good), so nothing was deployed");
  }
  if (cr.executable.empty()) return fail("the compile wrote no data-plane executable");

  // The chain's ports on the server's NICs: where each port's traffic reaches the server.
  json ports = json::object();
  std::string firstNic;
  for (const auto &p : cr.ingress) {
    std::string perr;
    auto path = place::pathToServer(*topo, p, server, perr);
    if (path.empty()) return fail("chain port " + p + ": " + perr);
    const std::string nic = path.back().element.substr(server.size() + 1);
    ports[p] = nic;
    if (firstNic.empty()) firstNic = nic;
  }
  for (const auto &p : cr.egress) {
    std::string nic = firstNic;
    for (const auto &e : topo->egress)
      if (e.chainPort == p && e.at.element.rfind(server + ".", 0) == 0) nic = e.at.element.substr(server.size() + 1);
    ports[p] = nic;
  }

  // 4. Switch rules, one bundle per switch; undone if a later step fails.
  const uint64_t cookie = chainCookie(id);
  std::vector<std::string> installed; // ovs-ofctl targets
  auto undoSwitches = [&] {
    for (const auto &target : installed) {
      std::string e;
      if (!deleteSwitchRules(target, cookie, e)) fprintf(stderr, "metronc deploy: warning: %s\n", e.c_str());
    }
  };
  // Every switch is checked before any is changed, so a refusal leaves nothing to undo.
  for (const auto &[sw, file] : cr.switchRules) {
    const place::Switch *s = topo->findSwitch(sw);
    if (!s || s->openflow.empty())
      return fail("switch '" + sw + "' is on the chain's path but has no `openflow` target in the topology");
    progress("reading the flows of " + sw);
    SwitchConflict c;
    std::string dumpErr;
    const bool read = switchConflict(s->openflow, file, cookie, c, dumpErr);
    progressDone();
    if (!read) return fail(dumpErr);
    std::string why;
    if (c.owner && c.sameId) {
      why = "it already holds flows with this chain ID's cookie " + hex(cookie) + "/" + hex(kCookieMask) +
            " (the ID is deployed, or an undeploy left them: `metronc undeploy` it first)";
    } else if (c.owner) {
      // Which deployment that is: the chain, of those the agents run, whose ID gives that cookie.
      std::string name = "another deployment";
      for (const auto &srv2 : topo->servers) {
        if (srv2.agent.empty()) continue;
        agent::AgentReply l = agent::AgentClient(srv2.agent, token, o.timeoutMs).call("GET", "/metron/service_chains");
        if (!l.error.empty() || !l.body.is_object() || !l.body.contains("service_chains")) continue;
        for (const auto &ch : l.body["service_chains"])
          if (ch.is_object() && ch.contains("id") && ch["id"].is_string() &&
              chainCookie(ch["id"].get<std::string>()) == c.owner)
            name = "chain '" + ch["id"].get<std::string>() + "' (on " + srv2.name + ")";
      }
      why = "the flows of " + name + " (cookie " + hex(c.owner) + "/" + hex(kCookieMask) + ") take in_port " + c.inPort +
            " in table " + std::to_string(c.table) +
            ", as this chain's would: it would take that chain's traffic (undeploy it, or give this chain another "
            "ingress port)";
    }
    if (!why.empty()) return fail("switch " + sw + " (" + s->openflow + "): " + why + "; nothing was deployed");
  }
  for (const auto &[sw, file] : cr.switchRules) {
    const place::Switch *s = topo->findSwitch(sw);
    t0 = Clock::now();
    progress("installing the rules of " + sw);
    size_t flows = 0;
    const std::string cooked = file + ".deploy";
    std::string out2;
    if (!cookieRules(file, cooked, cookie, flows, err)) {
      progressDone();
      undoSwitches();
      return fail(err);
    }
    int rc = runCapture({"ovs-ofctl", "-O", "OpenFlow13", "--bundle", "add-flows", s->openflow, cooked}, out2);
    progressDone();
    if (rc != 0) {
      undoSwitches();
      return fail("installing the rules of switch " + sw + " (" + s->openflow + "): ovs-ofctl: " + out2 +
                  " (the bundle was not committed)");
    }
    installed.push_back(s->openflow);
    steps.push_back({"switch " + sw, std::to_string(flows) + " flows in one bundle, cookie " + hex(cookie) + "/" +
                                         hex(kCookieMask),
                     msSince(t0)});
  }

  // 5. The server: SC_DEPLOY_REQ with the executable and the NIC's rules.
  t0 = Clock::now();
  progress("deploying to the agent of " + server);
  json req;
  {
    std::ifstream ef(cr.executable, std::ios::binary);
    std::stringstream ss;
    ss << ef.rdbuf();
    const std::string exe = ss.str();
    req = {{"id", id},
           {"cores", cr.cores},
           {"ports", ports},
           {"dispatch", o.dispatch},
           {"config",
            {{"executable", agent::base64Encode(exe)}, {"sha256", agent::sha256Hex(exe)}, {"server", server}, {"chain", cr.chain}}}};
  }
  size_t nicRules = 0;
  if (!cr.nicRules.empty()) {
    std::ifstream rf(cr.nicRules);
    json doc = json::parse(rf, nullptr, false);
    if (doc.is_discarded() || !doc.contains("rules")) {
      undoSwitches();
      return fail("cannot read '" + cr.nicRules + "'");
    }
    // The document names its element: "server.nic" (the NIC's own rules, or its dispatch by the
    // switch's tags).
    const std::string element = doc.value("element", "");
    if (element.rfind(server + ".", 0) != 0) {
      undoSwitches();
      return fail("'" + cr.nicRules + "' is not the rules of a NIC of " + server + " (element '" + element + "')");
    }
    json rules = json::array();
    for (size_t i = 0; i < doc["rules"].size(); ++i) rules.push_back({{"id", id + "/" + std::to_string(i)}, {"rule", doc["rules"][i]}});
    nicRules = rules.size();
    req["rules"] = {{"nic", element.substr(server.size() + 1)}, {"rules", std::move(rules)}};
  }
  agent::AgentClient client(srv.agent, token, o.timeoutMs);
  agent::AgentReply r = client.call("POST", "/metron/service_chains", &req);
  progressDone();
  if (!r.error.empty()) {
    undoSwitches();
    return fail("SC_DEPLOY_REQ: " + r.error + (installed.empty() ? "" : " (the switch rules were removed)"));
  }
  const json &ch = r.body.value("chain", json::object());
  std::string coresGiven;
  for (const auto &c : ch.value("cores", json::array())) coresGiven += (coresGiven.empty() ? "" : ",") + std::to_string(c.get<unsigned>());
  steps.push_back({"server configuration (SC_DEPLOY)", server + " at " + srv.agent + ": cores " + coresGiven + ", " +
                                                          std::to_string(nicRules) + " NIC rules, pid " +
                                                          std::to_string(ch.value("dataplane", json::object()).value("pid", -1)),
                   msSince(t0)});
  const double total = msSince(tStart);
  if (o.format == "json") {
    json j = {{"id", id},          {"chain", cr.chain}, {"server", server},        {"agent", srv.agent},
              {"classifier", cr.classifier}, {"cores", ch.value("cores", json::array())}, {"ports", ports},
              {"switch_cookie", hex(cookie)}, {"steps", stepsJson(steps)},             {"total_ms", total}};
    printf("%s\n", j.dump(1).c_str());
  } else {
    printf("deployed chain %s as '%s' on %s (agent %s, cores %s); classifier %s\n", cr.chain.c_str(), id.c_str(),
           server.c_str(), srv.agent.c_str(), coresGiven.c_str(), cr.classifier.c_str());
    printSteps(steps, total);
  }
  return 0;
}

// ---- status / undeploy -------------------------------------------------------------------------

struct StatusOptions {
  std::string topology, tokenFile, format = "text", id;
  unsigned timeoutMs = 10000;
};

/// The topology and the token of status and undeploy; false after printing why (exit 2).
bool readInputs(const char *cmd, const StatusOptions &o, std::optional<place::Topology> &topo, std::string &token) {
  topo = readTopology(cmd, o.topology);
  if (!topo) return false;
  std::string err;
  if (!agent::readTokenFile(o.tokenFile, "--token-file", token, err)) {
    fprintf(stderr, "metronc %s: error: %s\n", cmd, err.c_str());
    return false;
  }
  return true;
}

int runStatus(const StatusOptions &o) {
  std::optional<place::Topology> topo;
  std::string token;
  if (!readInputs("status", o, topo, token)) return 2;
  json all = json::array();
  bool unreachable = false;
  for (const auto &s : topo->servers) {
    json e = {{"server", s.name}, {"agent", s.agent.empty() ? json(nullptr) : json(s.agent)}};
    if (!s.agent.empty()) {
      agent::AgentClient c(s.agent, token, o.timeoutMs);
      agent::AgentReply g = c.call("GET", "/metron/server_stats"), l;
      if (g.error.empty()) l = c.call("GET", "/metron/service_chains");
      if (!g.error.empty() || !l.error.empty()) {
        e["error"] = g.error.empty() ? l.error : g.error;
        unreachable = true;
      } else {
        e["stats"] = g.body;
        e["chains"] = l.body.value("service_chains", json::array());
      }
    }
    all.push_back(std::move(e));
  }
  if (o.format == "json") {
    printf("%s\n", json({{"topology", topo->name}, {"servers", all}}).dump(1).c_str());
    return unreachable ? 1 : 0;
  }
  printf("%-12s %-22s %-7s %-6s %-12s %-10s %s\n", "server", "agent", "cores", "free", "load", "chains", "");
  for (const auto &e : all) {
    if (e["agent"].is_null()) {
      printf("%-12s %-22s (no agent in the topology)\n", e["server"].get<std::string>().c_str(), "-");
      continue;
    }
    if (e.contains("error")) {
      printf("%-12s %-22s unreachable: %s\n", e["server"].get<std::string>().c_str(), e["agent"].get<std::string>().c_str(),
             e["error"].get<std::string>().c_str());
      continue;
    }
    const json &st = e["stats"];
    printf("%-12s %-22s %-7zu %-6u %-12.3f %-10zu\n", e["server"].get<std::string>().c_str(),
           e["agent"].get<std::string>().c_str(), st.value("cpus", json::array()).size(), st.value("free_cores", 0u),
           st.value("load", 0.0), e["chains"].size());
    for (const auto &c : e["chains"]) {
      std::string cores;
      for (const auto &k : c.value("cores", json::array())) cores += (cores.empty() ? "" : ",") + std::to_string(k.get<unsigned>());
      const json &dp = c.value("dataplane", json::object());
      const json &stats = c.value("stats", json());
      uint64_t rx = stats.is_object() ? stats.value("nic", json::object()).value("received", uint64_t(0)) : 0;
      printf("  chain %-16s cores %-8s %-14s %llu packets received\n", c.value("id", "").c_str(), cores.c_str(),
             dp.value("state", "").c_str(), static_cast<unsigned long long>(rx));
    }
  }
  return unreachable ? 1 : 0;
}

int runUndeploy(const StatusOptions &o) {
  std::optional<place::Topology> topo;
  std::string token, err;
  if (!readInputs("undeploy", o, topo, token)) return 2;
  if (!agent::validId(o.id, 64, false)) {
    fprintf(stderr, "metronc undeploy: error: '%s' is not a chain ID\n", o.id.c_str());
    return 2;
  }
  int rc = 0;
  bool found = false;
  for (const auto &s : topo->servers) {
    if (s.agent.empty()) continue;
    agent::AgentClient c(s.agent, token, o.timeoutMs);
    agent::AgentReply r = c.call("DELETE", "/metron/service_chains/" + o.id);
    if (r.status == 404) continue;
    if (!r.error.empty()) {
      fprintf(stderr, "metronc undeploy: error: %s\n", r.error.c_str());
      rc = 1;
      continue;
    }
    found = true;
    const json &fs = r.body.value("final_stats", json());
    uint64_t rx = fs.is_object() ? fs.value("nic", json::object()).value("received", uint64_t(0)) : 0;
    printf("undeployed '%s' from %s (%zu NIC rules deleted; %llu packets received)\n", o.id.c_str(), s.name.c_str(),
           r.body.value("rules_deleted", json::array()).size(), static_cast<unsigned long long>(rx));
  }
  for (const auto &sw : topo->switches) {
    if (sw.openflow.empty()) continue;
    if (!deleteSwitchRules(sw.openflow, chainCookie(o.id), err)) {
      fprintf(stderr, "metronc undeploy: error: %s\n", err.c_str());
      rc = 1;
    } else {
      printf("removed the switch rules of '%s' from %s (cookie %s/%s)\n", o.id.c_str(), sw.name.c_str(),
             hex(chainCookie(o.id)).c_str(), hex(kCookieMask).c_str());
    }
  }
  if (!found && rc == 0) {
    fprintf(stderr, "metronc undeploy: error: no agent of topology '%s' runs a chain '%s'\n", topo->name.c_str(), o.id.c_str());
    return 1;
  }
  return rc;
}

} // namespace

void addDeployCommands(CLI::App &app, std::vector<Command> &cmds) {
  auto o = std::make_shared<DeployOptions>();
  CLI::App *cmd = app.add_subcommand(
      "deploy", "Place a chain (Algorithm 1 over the topology's agents, Algorithm 2), compile it, install its switch "
                "rules and deploy it to the chosen server's metron-agent; print each step's time");
  cmd->add_option("input", o->input, "The chain's .metron file, or an OUT/ directory of metronc compile")->required();
  cmd->add_option("--topology", o->topology, "The topology (servers with `agent`, switches with `openflow`)")->required();
  cmd->add_option("--token-file", o->tokenFile, "The agents' bearer token (first line; mode 0600)")->required();
  cmd->add_option("--server", o->server, "Pin the server (no Algorithm 1)");
  cmd->add_option("--chain", o->chain, "The chain (needed when the file has several)");
  cmd->add_option("--id", o->id, "The deployment's ID (default: the chain's name)");
  cmd->add_option("--cores", o->cores, "Cores the chain needs")->capture_default_str()->check(CLI::Range(1u, 1024u));
  cmd->add_option("-o,--output", o->out, "Keep the compile output here (default: a scratch directory, removed)");
  cmd->add_option("--cpu", o->cpu, "The CPU the data plane is compiled for (as for metronc compile; the server's, "
                                    "not this machine's)")
      ->capture_default_str();
  cmd->add_option("--dispatch", o->dispatch, "The data plane's --dispatch")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "hardware", "nic-model"}));
  cmd->add_option("--seed", o->seed, "Seed of Algorithm 1's random choices (default: random)")
      ->each([o](const std::string &) { o->seedGiven = true; });
  cmd->add_option("--timeout", o->timeoutMs, "ms to wait for an agent")->capture_default_str()->check(CLI::Range(100u, 600000u));
  cmd->add_option("--format", o->format, "text or json")->capture_default_str()->check(CLI::IsMember({"text", "json"}));
  cmds.push_back({cmd, [o] { return runDeploy(*o); }});

  auto s = std::make_shared<StatusOptions>();
  CLI::App *st = app.add_subcommand("status", "Ask every agent of the topology for its load and chains");
  st->add_option("--topology", s->topology, "The topology")->required();
  st->add_option("--token-file", s->tokenFile, "The agents' bearer token")->required();
  st->add_option("--format", s->format, "text or json")->capture_default_str()->check(CLI::IsMember({"text", "json"}));
  st->add_option("--timeout", s->timeoutMs, "ms to wait for each agent")->capture_default_str()->check(CLI::Range(100u, 600000u));
  cmds.push_back({st, [s] { return runStatus(*s); }});

  auto u = std::make_shared<StatusOptions>();
  CLI::App *un = app.add_subcommand("undeploy", "Stop a deployed chain and remove its NIC and switch rules");
  un->add_option("id", u->id, "The deployment's ID")->required();
  un->add_option("--topology", u->topology, "The topology")->required();
  un->add_option("--token-file", u->tokenFile, "The agents' bearer token")->required();
  un->add_option("--timeout", u->timeoutMs, "ms to wait for each agent")->capture_default_str()->check(CLI::Range(100u, 600000u));
  cmds.push_back({un, [u] { return runUndeploy(*u); }});
}

} // namespace metron
