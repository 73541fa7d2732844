//===- runtime/agent/Agent.h - metron-agent: the server side of the Metron protocol -*- C++ -*-===//
///
/// \file
/// The server side of the Metron protocol (paper Appendix A, Table 4) as plain request →
/// response functions: Agent::handle() takes an HTTP request (method, path, headers, body) and
/// returns the response, without sockets, so that every message and every rejection is testable
/// in-process; runtime/agent/main.cpp puts it behind cpp-httplib (man/metron-agent.8).
///
/// Resources (JSON over HTTP; names after the original agent's REST surface under /metron/):
///
///   GET    /metron/server_resources        FEATURES_REQ      → FEATURES_REP
///   GET    /metron/server_stats            GLOBAL_STATS_REQ  → GLOBAL_STATS_REP
///   GET    /metron/service_chains          SC_STATS_REQ of every chain
///   POST   /metron/service_chains          SC_DEPLOY_REQ     → SC_DEPLOY_REP
///   GET    /metron/service_chains/ID       SC_STATS_REQ      → SC_STATS_REP
///   PUT    /metron/service_chains/ID       SC_RECONF_REQ     → SC_RECONF_REP
///   DELETE /metron/service_chains/ID       SC_DELETE_REQ     → SC_DELETE_REP
///   GET    /metron/rules                   RULES_MONITOR_REQ of every NIC
///   GET    /metron/rules/NIC               RULES_MONITOR_REQ → RULES_MONITOR_REP
///   POST   /metron/rules/NIC               RULES_INSTALL_REQ → RULES_INSTALL_REP
///   DELETE /metron/rules/NIC               RULES_DELETE_REQ  → RULES_DELETE_REP
///   POST   /metron/controllers             SET_CTRL_REQ      → SET_CTRL_REP (+ SERVER_REGISTER)
///   GET    /metron/controllers             GET_CTRL_REQ      → GET_CTRL_REP
///   DELETE /metron/controllers             DEL_CTRL_REQ      → DEL_CTRL_REP
///
/// Every reply names its Table 4 message ("message") and the server ("server_id"); the server
/// ID of the request is the agent addressed, so it is not repeated in bodies. SERVER_REGISTER is
/// the one message the agent sends: POST http://CONTROLLER/metron/server_register, at start
/// (--controller) and on SET_CTRL_REQ; the controller answers it by asking FEATURES_REQ.
///
/// Rejections (body {"error": "...", "message": "<the request's Table 4 name>"}), checked in this
/// order, before anything changes: 401 no or wrong bearer token (compared in constant time),
/// 413 body over the limit, 404 unknown resource / chain / NIC, 405 method, 415 not JSON, 400
/// malformed JSON or a schema error (naming the member: "rules[3].rule: ..."), 409 conflicts
/// (chain exists, cores busy, rule ID taken, NIC in use by a running data plane), 422 a body
/// that is well formed but names what the server lacks (a NIC, too many cores) or rules the NIC
/// model refuses, 500/502 a data plane that did not start (with its log's last lines). A request
/// that fails leaves the agent as it was: SC_DEPLOY installs its rules, writes and starts the
/// data plane, and on any failure removes the rules and stops the process (rollback).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace metron::agent {

using json = nlohmann::json;

/// An HTTP request as the transport hands it over. Header names are lower case.
struct Request {
  std::string method, path, body;
  std::map<std::string, std::string> headers;
};

struct Response {
  int status = 200;
  json body = json::object();
  std::map<std::string, std::string> headers;
};

/// A CPU core the agent may give to chains.
struct Core {
  unsigned id = 0; ///< the OS's CPU number
  std::string vendor, model;
  double mhz = 0;  ///< 0 when unknown
};

/// A DPDK port the agent owns (--nic ID=DEVARGS).
struct Nic {
  std::string id;      ///< the name the protocol uses ("nic0")
  std::string devargs; ///< as given: "net_af_packet0,iface=veth1" or a PCI address
  std::string device;  ///< DPDK's device name: devargs up to the first comma
  std::string driver;  ///< "net_af_packet", or the kernel driver of a PCI device
  std::string kind;    ///< "virtual" or "pci"
  std::string iface;   ///< kernel interface behind it ("" when none)
  std::string mac;     ///< hardware address ("" when unknown)
  int64_t speedMbps = -1; ///< -1 when unknown
};

/// What the agent found about its host (Host.cpp discovers it).
struct Host {
  std::string serverId;
  std::string manufacturer, product, serial, kernel, swVersion;
  std::vector<Core> cores; ///< the cores chains may use (--cores)
  unsigned mainCore = 0;   ///< where every data plane's main lcore runs (--main-core)
  std::vector<Nic> nics;
};

struct Limits {
  size_t maxBody = 64u << 20;    ///< bytes; the executable travels base64-encoded
  size_t maxChains = 64;
  size_t maxRulesPerNic = 100000;
  size_t maxRulesPerRequest = 100000;
};

/// How a chain's data plane is started: the executable metronc compile wrote for this server,
/// on these CPUs and NICs.
struct Launch {
  std::string id;
  std::string executable;           ///< the ELF image (bytes)
  std::vector<unsigned> cpus;       ///< worker CPUs, in core order
  unsigned mainCpu = 0;
  std::vector<std::pair<std::string, Nic>> ports; ///< chain port name → NIC
  std::string rules;                ///< the rte_flow document of the NIC with rules ("" when none)
  std::string dispatch = "auto";    ///< the data plane's --dispatch
};

/// A chain's data plane as the runner sees it.
struct ProcessState {
  bool running = false;
  int64_t pid = -1;
  std::string exit;   ///< "exited with status 1", "killed by signal 9 (Killed)", "" while running
  json stats;         ///< the data plane's last statistics (null when none yet)
  std::string logTail;
};

/// Starts, supervises and stops data planes. ProcessRunner (Runner.cpp) spawns the executables;
/// ControlOnlyRunner (--no-dataplane) starts nothing and says so.
class Runner {
public:
  virtual ~Runner() = default;
  /// Starts \p l and waits until its data plane runs (its first statistics) or fails; on
  /// failure nothing of it is left and \p err says why (with the log's last lines).
  virtual bool start(const Launch &l, std::string &err) = 0;
  /// Stops the chain (SIGTERM, then SIGKILL after a grace period); its final statistics.
  virtual json stop(const std::string &id) = 0;
  virtual ProcessState state(const std::string &id) = 0;
  virtual bool dataplane() const = 0;
};

std::unique_ptr<Runner> makeControlOnlyRunner();
/// \p stateDir holds each chain's executable, rules, log and statistics (made 0700);
/// \p ealArgs are added to every data plane's EAL options ("--no-huge -m 512" without hugepages);
/// \p startTimeoutMs bounds the wait for a data plane's first statistics.
std::unique_ptr<Runner> makeProcessRunner(const std::string &stateDir, std::vector<std::string> ealArgs,
                                          unsigned startTimeoutMs);

/// Sends SERVER_REGISTER to a controller; "" on success, else why not. Replaceable in tests.
using RegisterFn = std::function<std::string(const std::string &host, unsigned port, const json &msg)>;
/// The real one: POST http://HOST:PORT/metron/server_register with \p token as bearer.
RegisterFn httpRegister(std::string token, unsigned timeoutMs);

struct AgentConfig {
  Host host;
  std::string token;      ///< the bearer token every request must carry
  std::string advertise;  ///< ADDR:PORT controllers reach this agent at
  Limits limits;
};

class Agent {
public:
  Agent(AgentConfig cfg, std::unique_ptr<Runner> runner, RegisterFn reg);
  ~Agent();
  Response handle(const Request &req);
  /// SET_CTRL without a request (--controller at start); the status string of SET_CTRL_REP.
  std::string associate(const std::string &host, unsigned port);
  /// Stops every chain and removes their rules (agent shutdown).
  void shutdown();
  const AgentConfig &config() const { return cfg_; }

private:
  struct Rule {
    std::string id;
    json rule;
    std::string owner; ///< the chain that installed it with SC_DEPLOY ("" for RULES_INSTALL)
  };
  struct Chain {
    std::string id;
    json request;               ///< the deploy request without the executable
    std::string executable;
    std::string sha256;
    std::vector<unsigned> cpus;
    std::vector<std::pair<std::string, std::string>> ports; ///< chain port → NIC id
    std::string rulesNic;       ///< the NIC its rules are on ("" when none)
    std::vector<std::string> ruleIds;
    std::string dispatch;
    int64_t deployedAtMs = 0;
  };
  struct Controller {
    std::string host;
    unsigned port = 0;
    std::string status;
  };
  struct Parsed; // a validated deploy / reconf request

  Response route(const Request &req, const std::string &msg, const std::vector<std::string> &seg);
  Response features();
  Response globalStats();
  Response chainList();
  Response deploy(const json &body);
  Response chainStats(const std::string &id);
  Response reconf(const std::string &id, const json &body);
  Response remove(const std::string &id);
  Response rulesMonitor(const std::string &nic);
  Response rulesMonitorAll();
  Response rulesInstall(const std::string &nic, const json &body);
  Response rulesDelete(const std::string &nic, const json &body);
  Response setCtrl(const json &body);
  Response getCtrl();
  Response delCtrl(const json &body);

  bool parseChain(const json &body, const std::string *id, Parsed &out, Response &err);
  bool startChain(Chain &c, const Parsed &p, Response &err, const char *msg);
  json chainJson(const Chain &c);
  std::string nicDocument(const std::string &nic) const;
  bool validateNic(const std::string &nic, const std::vector<Rule> &rules, std::string &err) const;
  bool checkChain(const Parsed &p, const std::string &self, Response &err, const char *msg);
  bool pickCores(const Parsed &p, const std::vector<unsigned> &free, const std::vector<unsigned> &prefer,
                 std::vector<unsigned> &out, Response &err, const char *msg) const;
  bool checkRules(const std::string &nic, const std::vector<Rule> &held, const std::vector<Rule> &add, std::string &err) const;
  const Nic *findNic(const std::string &id) const;
  std::string dataplaneOwner(const std::string &nic) const;
  std::vector<unsigned> freeCores() const;
  Response reply(const char *msg, json body = json::object(), int status = 200) const;
  Response error(int status, const char *msg, const std::string &why) const;

  AgentConfig cfg_;
  std::unique_ptr<Runner> runner_;
  RegisterFn register_;
  std::mutex mu_; ///< the state below; held for a whole request except controller calls
  std::map<std::string, Chain> chains_;
  std::map<std::string, std::vector<Rule>> rules_; ///< NIC id → rules, in install order
  std::vector<Controller> controllers_;
};

/// Constant-time comparison of a presented token with the expected one.
bool tokenEquals(const std::string &presented, const std::string &expected);
/// Chain and rule IDs: 1–64 (rules: 1–128) of [A-Za-z0-9_.:-] ('/' too for rules), not "." or "..".
bool validId(const std::string &s, size_t maxLen, bool slash);

/// Discovers the host: cores from /proc/cpuinfo (restricted to \p cores when not empty), NICs
/// from \p nics (ID=DEVARGS) and sysfs. False and \p err on a bad --nic or --cores.
bool discoverHost(const std::string &serverId, const std::vector<std::string> &nics, const std::string &cores,
                  unsigned mainCore, Host &out, std::string &err);

} // namespace metron::agent
