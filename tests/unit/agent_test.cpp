//===- tests/unit/agent_test.cpp - The Metron protocol (Table 4), message by message ------------===//
///
/// Agent::handle() in-process, on a control-only runner (no data plane) or on a runner that
/// fails on demand (the rollback paths). The transport (cpp-httplib, the token file, TLS) and the
/// real data-plane processes are tested by tests/agent/agent.sh against the metron-agent binary.
//===----------------------------------------------------------------------------------------===//
#include "runtime/agent/Agent.h"
#include "runtime/agent/Client.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace metron::agent;

namespace {

const char *kToken = "0123456789abcdef-token";

std::string base64(const std::string &s) { return base64Encode(s); }
std::string sha256(const std::string &s) { return sha256Hex(s); }

/// A real ELF image (small: every deploy encodes it).
const std::string &elf() {
  static std::string e = [] {
    std::ifstream in("/usr/bin/true", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  return e;
}

/// A valid rte_flow rule in the NIC model's format: UDP to \p port goes to queue 0 with mark 1.
json rule(unsigned port, unsigned priority = 0) {
  return {{"group", 0},
          {"priority", priority},
          {"ingress", true},
          {"port", 0},
          {"pattern", {{{"type", "eth"}}, {{"type", "ipv4"}}, {{"type", "udp"}, {"spec", {{"dst", port}}}, {"mask", {{"dst", 65535}}}}}},
          {"actions", {{{"type", "mark"}, {"id", 1}}, {{"type", "queue"}, {"index", 0}}}}};
}

/// Records what it is asked to start; fails the starts it is told to.
struct TestRunner : Runner {
  int starts = 0, stops = 0;
  int failNext = 0; ///< fail this many coming starts
  std::vector<Launch> launched;
  bool start(const Launch &l, std::string &err) override {
    ++starts;
    if (failNext > 0) {
      --failNext;
      err = "exited with status 1 (test)";
      return false;
    }
    launched.push_back(l);
    return true;
  }
  json stop(const std::string &) override {
    ++stops;
    return {{"final", true}};
  }
  ProcessState state(const std::string &) override {
    ProcessState s;
    s.running = true;
    s.pid = 42;
    return s;
  }
  bool dataplane() const override { return true; }
};

Host testHost() {
  Host h;
  h.serverId = "server1";
  for (unsigned c = 1; c <= 4; ++c) h.cores.push_back({c, "GenuineTest", "Test CPU", 2000});
  h.mainCore = 0;
  Nic a;
  a.id = "nic0";
  a.devargs = a.device = "net_null0";
  a.driver = "net_null";
  a.kind = "virtual";
  Nic b = a;
  b.id = "nic1";
  b.devargs = b.device = "net_null1";
  h.nics = {a, b};
  return h;
}

struct AgentProtocol : ::testing::Test {
  std::unique_ptr<Agent> agent;
  TestRunner *runner = nullptr; ///< when made with a TestRunner
  std::vector<std::pair<std::string, json>> registered;
  std::string registerAnswer; ///< "" accepts SERVER_REGISTER

  void make(bool dataplane = false, Limits limits = {}) {
    AgentConfig cfg;
    cfg.host = testHost();
    cfg.token = kToken;
    cfg.advertise = "127.0.0.1:8600";
    cfg.limits = limits;
    std::unique_ptr<Runner> r;
    if (dataplane) {
      auto t = std::make_unique<TestRunner>();
      runner = t.get();
      r = std::move(t);
    } else {
      r = makeControlOnlyRunner();
    }
    agent = std::make_unique<Agent>(cfg, std::move(r), [this](const std::string &h, unsigned p, const json &m) {
      registered.push_back({h + ":" + std::to_string(p), m});
      return registerAnswer;
    });
  }
  void SetUp() override { make(); }

  Response call(const std::string &method, const std::string &path, const std::string &body = "",
                const std::string &token = kToken, const std::string &type = "application/json") {
    Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    if (!type.empty()) r.headers["content-type"] = type;
    return agent->handle(r);
  }
  Response call(const std::string &method, const std::string &path, const json &body) {
    return call(method, path, body.dump());
  }

  json deployBody(const std::string &id, unsigned cores, json ports = {{"port0", "nic0"}, {"port1", "nic1"}}) {
    return {{"id", id},
            {"cores", cores},
            {"ports", ports},
            {"config", {{"executable", base64(elf())}, {"sha256", sha256(elf())}, {"server", "server1"}}}};
  }
  std::vector<std::string> ruleIds(const std::string &nic) {
    Response r = call("GET", "/metron/rules/" + nic);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body.value("rule_ids", std::vector<std::string>{});
  }
  size_t freeCores() { return call("GET", "/metron/server_stats").body.value("free_cores", size_t(0)); }
};

#define EXPECT_REJECTED(resp, code, text)                                                                              \
  do {                                                                                                                 \
    const Response &r_ = (resp);                                                                                       \
    EXPECT_EQ(r_.status, code) << r_.body.dump();                                                                      \
    EXPECT_NE(r_.body.value("error", "").find(text), std::string::npos) << r_.body.dump();                             \
  } while (0)

// ---- authentication, resources, malformed requests ---------------------------------------------

TEST_F(AgentProtocol, EveryRequestNeedsTheBearerToken) {
  for (const char *path : {"/metron/server_resources", "/metron/service_chains", "/metron/nothing", "/"}) {
    Response none = call("GET", path, "", "");
    EXPECT_REJECTED(none, 401, "no bearer token");
    EXPECT_EQ(none.headers["WWW-Authenticate"], "Bearer realm=\"metron-agent\"");
    EXPECT_REJECTED(call("GET", path, "", "0123456789abcdef-tokem"), 401, "wrong token");
    EXPECT_REJECTED(call("GET", path, "", "0123456789abcdef-token-and-more"), 401, "wrong token");
    EXPECT_REJECTED(call("GET", path, "", "0123456789abcdef-toke"), 401, "wrong token");
  }
  Request basic;
  basic.method = "GET";
  basic.path = "/metron/server_resources";
  basic.headers["authorization"] = std::string("Basic ") + kToken;
  EXPECT_EQ(agent->handle(basic).status, 401);
  basic.headers["authorization"] = std::string("bearer ") + kToken; // the scheme is case-insensitive
  EXPECT_EQ(agent->handle(basic).status, 200);
  // A deploy without the token changes nothing.
  EXPECT_EQ(call("POST", "/metron/service_chains", deployBody("a", 1).dump(), "").status, 401);
  EXPECT_EQ(call("GET", "/metron/service_chains").body["service_chains"].size(), 0u);
}

TEST(Token, ComparisonIsExact) {
  EXPECT_TRUE(tokenEquals("abc", "abc"));
  EXPECT_FALSE(tokenEquals("abd", "abc"));
  EXPECT_FALSE(tokenEquals("ab", "abc"));
  EXPECT_FALSE(tokenEquals("abcd", "abc"));
  EXPECT_FALSE(tokenEquals("", ""));
  EXPECT_FALSE(tokenEquals(std::string("ab\0", 3), "ab"));
}

TEST_F(AgentProtocol, UnknownResourcesAndMethods) {
  EXPECT_REJECTED(call("GET", "/metron/servers"), 404, "no resource /metron/servers");
  EXPECT_REJECTED(call("GET", "/metron/service_chains/a/b"), 404, "no resource");
  Response r = call("DELETE", "/metron/server_resources");
  EXPECT_REJECTED(r, 405, "DELETE is not a method of /metron/server_resources");
  EXPECT_EQ(r.headers["Allow"], "GET");
  EXPECT_EQ(call("PUT", "/metron/service_chains").headers["Allow"], "GET, POST");
  EXPECT_EQ(call("POST", "/metron/rules").headers["Allow"], "GET");
}

TEST_F(AgentProtocol, MalformedBodies) {
  EXPECT_REJECTED(call("POST", "/metron/service_chains", "{\"id\": ", kToken), 400, "malformed JSON: ");
  // nlohmann reports a number beyond a double as out_of_range, not parse_error (fuzz_agent).
  EXPECT_REJECTED(call("POST", "/metron/service_chains", "{\"id\": \"a\", \"cores\": 1e788}", kToken), 400,
                  "malformed JSON: number overflow parsing '1e788'");
  EXPECT_REJECTED(call("POST", "/metron/service_chains", "[1,2]", kToken), 400, "expected a JSON object, got array");
  EXPECT_REJECTED(call("POST", "/metron/service_chains", "{}", kToken, "text/plain"), 415, "not 'text/plain'");
  EXPECT_REJECTED(call("POST", "/metron/service_chains", "{}", kToken, ""), 415, "not 'none'");
  EXPECT_EQ(call("POST", "/metron/controllers", std::string("{\"ip\":\"127.0.0.1\",\"port\":1}"), kToken,
                 "application/json; charset=utf-8")
                .status,
            200);
  // Hostile nesting is refused before the parser sees it.
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_REJECTED(call("POST", "/metron/service_chains", "{\"a\":" + deep + "}", kToken), 400, "nested deeper than 64");
  // Brackets inside strings do not count.
  EXPECT_REJECTED(call("POST", "/metron/service_chains", "{\"a\":\"" + std::string(200, '[') + "\"}", kToken), 400,
                  "request: unknown member 'a'");
}

TEST_F(AgentProtocol, OversizedBodyIsRefusedAfterTheToken) {
  Limits l;
  l.maxBody = 1024;
  make(false, l);
  std::string big(2000, ' ');
  EXPECT_REJECTED(call("POST", "/metron/service_chains", big, kToken), 413, "2000 bytes; this agent takes at most 1024");
  EXPECT_EQ(call("POST", "/metron/service_chains", big, "").status, 401);
}

// ---- FEATURES, GLOBAL_STATS ----------------------------------------------------------------------

TEST_F(AgentProtocol, FeaturesDescribeCoresAndNics) {
  Response r = call("GET", "/metron/server_resources");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["message"], "FEATURES_REP");
  EXPECT_EQ(r.body["server_id"], "server1");
  ASSERT_EQ(r.body["cpus"].size(), 4u);
  EXPECT_EQ(r.body["cpus"][0]["vendor"], "GenuineTest");
  EXPECT_EQ(r.body["cpus"][0]["frequency_mhz"], 2000);
  ASSERT_EQ(r.body["nics"].size(), 2u);
  EXPECT_EQ(r.body["nics"][1]["id"], "nic1");
  EXPECT_EQ(r.body["nics"][1]["driver"], "net_null");
  EXPECT_TRUE(r.body["nics"][0].contains("hw_address"));
  EXPECT_TRUE(r.body["nics"][0].contains("tag_map"));
  EXPECT_EQ(r.body["dataplane"], false);
}

TEST_F(AgentProtocol, GlobalStatsCountFreeCores) {
  Response r = call("GET", "/metron/server_stats");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["message"], "GLOBAL_STATS_REP");
  EXPECT_EQ(r.body["free_cores"], 4);
  ASSERT_EQ(call("POST", "/metron/service_chains", deployBody("a", 3)).status, 200);
  r = call("GET", "/metron/server_stats");
  EXPECT_EQ(r.body["free_cores"], 1);
  EXPECT_EQ(r.body["cpus"][0]["chain"], "a");
  EXPECT_EQ(r.body["cpus"][3]["chain"], nullptr);
  EXPECT_EQ(r.body["service_chains"], 1);
}

// ---- SC_DEPLOY / SC_STATS / SC_RECONF / SC_DELETE -------------------------------------------------

TEST_F(AgentProtocol, DeployStatsDelete) {
  json body = deployBody("fw", 2);
  body["rules"] = {{"nic", "nic0"}, {"rules", {{{"id", "fw/0"}, {"rule", rule(53)}}, {{"id", "fw/1"}, {"rule", rule(80, 1)}}}}};
  Response r = call("POST", "/metron/service_chains", body);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["message"], "SC_DEPLOY_REP");
  EXPECT_EQ(r.body["service_chain_id"], "fw");
  EXPECT_EQ(r.body["status"], "deployed");
  EXPECT_EQ(r.body["chain"]["cores"], json({1, 2}));
  EXPECT_EQ(r.body["chain"]["executable_sha256"], sha256(elf()));
  EXPECT_EQ(r.body["chain"]["dataplane"]["state"], "control-only");
  EXPECT_EQ(ruleIds("nic0"), (std::vector<std::string>{"fw/0", "fw/1"}));
  EXPECT_EQ(ruleIds("nic1"), std::vector<std::string>{});

  r = call("GET", "/metron/service_chains/fw");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["message"], "SC_STATS_REP");
  EXPECT_EQ(r.body["chain"]["ports"], json({{"port0", "nic0"}, {"port1", "nic1"}}));
  EXPECT_FALSE(r.body["chain"].contains("executable")) << "the image is not echoed back";
  EXPECT_EQ(call("GET", "/metron/service_chains").body["service_chains"].size(), 1u);

  r = call("DELETE", "/metron/service_chains/fw", "", kToken, "");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["message"], "SC_DELETE_REP");
  EXPECT_EQ(r.body["rules_deleted"], json({"fw/0", "fw/1"}));
  EXPECT_EQ(ruleIds("nic0"), std::vector<std::string>{});
  EXPECT_EQ(freeCores(), 4u);
  EXPECT_REJECTED(call("GET", "/metron/service_chains/fw"), 404, "no chain 'fw'");
  EXPECT_REJECTED(call("DELETE", "/metron/service_chains/fw"), 404, "no chain 'fw'");
}

TEST_F(AgentProtocol, DeployRejectionsChangeNothing) {
  auto rejects = [&](json body, int code, const std::string &text) {
    EXPECT_REJECTED(call("POST", "/metron/service_chains", body), code, text);
    EXPECT_EQ(call("GET", "/metron/service_chains").body["service_chains"].size(), 0u);
    EXPECT_EQ(ruleIds("nic0").size(), 0u);
    EXPECT_EQ(freeCores(), 4u);
  };
  json b = deployBody("a", 1);
  json x = b;
  x.erase("cores");
  rejects(x, 400, "request: no \"cores\"");
  x = b;
  x["colour"] = "red";
  rejects(x, 400, "request: unknown member 'colour'");
  x = b;
  x["id"] = "../etc";
  rejects(x, 400, "id: '../etc' is not a chain ID");
  x = b;
  x["cores"] = -1;
  rejects(x, 400, "cores: expected an integer from 1 to 1024");
  x = b;
  x["cores"] = 5;
  rejects(x, 422, "needs 5 cores; this server gives chains 4");
  x = b;
  x["ports"] = {{"port0", "nic9"}};
  rejects(x, 422, "ports.port0: this server has no NIC 'nic9' (NICs: nic0, nic1)");
  x = b;
  x["ports"] = json::object();
  rejects(x, 400, "ports: expected an object");
  x = b;
  x["config"]["executable"] = "not base64!";
  rejects(x, 400, "config.executable: not base64");
  x = b;
  x["config"]["executable"] = base64("#!/bin/sh\nrm -rf /\n");
  rejects(x, 400, "config.executable: not an ELF executable");
  x = b;
  x["config"]["sha256"] = sha256("something else");
  rejects(x, 400, "config.sha256: does not match the executable");
  x = b;
  x["config"]["executable"] = base64(elf().substr(0, elf().size() / 2));
  rejects(x, 400, "truncated in transit?");
  x = b;
  x["dispatch"] = "magic";
  rejects(x, 400, "dispatch: must be auto, hardware or nic-model");
  x = b;
  x["rules"] = {{"nic", "nic0"}, {"rules", {{{"id", "r0"}, {"rule", rule(53)}}, {{"id", "r1"}, {"rule", {{"group", 0}}}}}}};
  rejects(x, 422, "rule 1: no \"priority\"");
  x["rules"]["rules"][1] = {{"id", "r0"}, {"rule", rule(54)}};
  rejects(x, 409, "rule ID 'r0' is taken on NIC nic0");
  x["rules"]["nic"] = "nic7";
  rejects(x, 422, "rules.nic: 'nic7' is not one of the chain's NICs");
}

TEST_F(AgentProtocol, DeployConflicts) {
  ASSERT_EQ(call("POST", "/metron/service_chains", deployBody("a", 3, {{"p", "nic0"}})).status, 200);
  EXPECT_REJECTED(call("POST", "/metron/service_chains", deployBody("a", 1, {{"p", "nic1"}})), 409,
                  "chain 'a' is deployed already");
  EXPECT_REJECTED(call("POST", "/metron/service_chains", deployBody("b", 2, {{"p", "nic1"}})), 409,
                  "needs 2 cores; 1 of 4 are free");
  EXPECT_REJECTED(call("POST", "/metron/service_chains", deployBody("b", 1, {{"p", "nic0"}})), 409,
                  "NIC 'nic0' is used by chain 'a'");
  Response ok = call("POST", "/metron/service_chains", deployBody("b", 1, {{"p", "nic1"}}));
  ASSERT_EQ(ok.status, 200) << ok.body.dump();
  EXPECT_EQ(ok.body["chain"]["cores"], json({4}));
}

TEST_F(AgentProtocol, DeployOnNamedCores) {
  json a = deployBody("a", 1, {{"p", "nic0"}});
  a["cores"] = {3, 2};
  Response r = call("POST", "/metron/service_chains", a);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["chain"]["cores"], json({3, 2})) << "in the order named: core 0 of the chain on CPU 3";
  json b = deployBody("b", 1, {{"p", "nic1"}});
  b["cores"] = {3};
  EXPECT_REJECTED(call("POST", "/metron/service_chains", b), 409, "cores: CPU 3 is used by chain 'a'");
  b["cores"] = {9};
  EXPECT_REJECTED(call("POST", "/metron/service_chains", b), 422, "cores: CPU 9 is not one this server gives chains (1, 2, 3, 4)");
  b["cores"] = {1, 1};
  EXPECT_REJECTED(call("POST", "/metron/service_chains", b), 400, "cores[1]: CPU 1 is named twice");
  b["cores"] = json::array();
  EXPECT_REJECTED(call("POST", "/metron/service_chains", b), 400, "cores: expected 1 to 1024 CPU numbers");
  // SC_RECONF may keep its own CPUs and take free ones.
  a.erase("id");
  a["cores"] = {2, 1};
  r = call("PUT", "/metron/service_chains/a", a);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["chain"]["cores"], json({2, 1}));
  EXPECT_EQ(freeCores(), 2u);
}

TEST_F(AgentProtocol, ChainLimit) {
  Limits l;
  l.maxChains = 1;
  make(false, l);
  ASSERT_EQ(call("POST", "/metron/service_chains", deployBody("a", 1, {{"p", "nic0"}})).status, 200);
  EXPECT_REJECTED(call("POST", "/metron/service_chains", deployBody("b", 1, {{"p", "nic1"}})), 409, "at most 1 chains");
}

TEST_F(AgentProtocol, Reconf) {
  json body = deployBody("a", 1, {{"p", "nic0"}});
  body["rules"] = {{"nic", "nic0"}, {"rules", {{{"id", "a/0"}, {"rule", rule(53)}}}}};
  ASSERT_EQ(call("POST", "/metron/service_chains", body).status, 200);
  json next = deployBody("a", 3, {{"p", "nic0"}});
  next.erase("id");
  next["rules"] = {{"nic", "nic0"}, {"rules", {{{"id", "a/0"}, {"rule", rule(54)}}, {{"id", "a/1"}, {"rule", rule(55, 1)}}}}};
  Response r = call("PUT", "/metron/service_chains/a", next);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["message"], "SC_RECONF_REP");
  EXPECT_EQ(r.body["chain"]["cores"], json({1, 2, 3})) << "keeps its own core first";
  EXPECT_EQ(ruleIds("nic0"), (std::vector<std::string>{"a/0", "a/1"}));
  EXPECT_EQ(call("GET", "/metron/rules/nic0").body["rules"][0]["rule"], rule(54));
  EXPECT_REJECTED(call("PUT", "/metron/service_chains/zz", next), 404, "no chain 'zz'");
  next["id"] = "b";
  EXPECT_REJECTED(call("PUT", "/metron/service_chains/a", next), 400, "id: 'b' differs from the chain of the URL ('a')");
  next["id"] = "a";
  next["cores"] = 5;
  EXPECT_REJECTED(call("PUT", "/metron/service_chains/a", next), 422, "needs 5 cores");
}

// ---- rollback (a data plane that does not start) -------------------------------------------------

TEST_F(AgentProtocol, DeployThatFailsRollsBack) {
  make(true);
  json body = deployBody("a", 2);
  body["rules"] = {{"nic", "nic0"}, {"rules", {{{"id", "a/0"}, {"rule", rule(53)}}}}};
  runner->failNext = 1;
  EXPECT_REJECTED(call("POST", "/metron/service_chains", body), 502,
                  "the data plane of chain 'a' did not start: exited with status 1 (test) (its 1 rules were removed)");
  EXPECT_EQ(runner->starts, 1);
  EXPECT_EQ(ruleIds("nic0").size(), 0u);
  EXPECT_EQ(freeCores(), 4u);
  EXPECT_EQ(call("GET", "/metron/service_chains").body["service_chains"].size(), 0u);
  // The same request then succeeds, with the rules in the data plane's document.
  Response r = call("POST", "/metron/service_chains", body);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  ASSERT_EQ(runner->launched.size(), 1u);
  const Launch &l = runner->launched[0];
  EXPECT_EQ(l.cpus, (std::vector<unsigned>{1, 2}));
  EXPECT_EQ(l.mainCpu, 0u);
  EXPECT_EQ(l.executable, elf());
  ASSERT_EQ(l.ports.size(), 2u);
  EXPECT_EQ(l.ports[0].second.device, "net_null0");
  json doc = json::parse(l.rules);
  EXPECT_EQ(doc["kind"], "nic");
  EXPECT_EQ(doc["rules"], json::array({rule(53)}));
  EXPECT_EQ(r.body["chain"]["dataplane"]["state"], "running");
}

TEST_F(AgentProtocol, ReconfThatFailsRestartsThePreviousConfiguration) {
  make(true);
  json body = deployBody("a", 1, {{"p", "nic0"}});
  body["rules"] = {{"nic", "nic0"}, {"rules", {{{"id", "a/0"}, {"rule", rule(53)}}}}};
  ASSERT_EQ(call("POST", "/metron/service_chains", body).status, 200);
  json next = deployBody("a", 2, {{"p", "nic0"}});
  next["rules"] = {{"nic", "nic0"}, {"rules", {{{"id", "a/9"}, {"rule", rule(99)}}}}};
  runner->failNext = 1;
  EXPECT_REJECTED(call("PUT", "/metron/service_chains/a", next), 502, "the previous configuration was restarted");
  EXPECT_EQ(runner->stops, 1);
  EXPECT_EQ(runner->starts, 3); // deploy, failed reconf, restart
  EXPECT_EQ(ruleIds("nic0"), std::vector<std::string>{"a/0"});
  Response s = call("GET", "/metron/service_chains/a");
  EXPECT_EQ(s.body["chain"]["cores"], json({1}));
  EXPECT_EQ(json::parse(runner->launched.back().rules)["rules"], json::array({rule(53)}));
  // Both failing: the chain is gone, and so are its rules and cores.
  runner->failNext = 2;
  EXPECT_REJECTED(call("PUT", "/metron/service_chains/a", next), 500, "so the chain is gone");
  EXPECT_EQ(ruleIds("nic0").size(), 0u);
  EXPECT_EQ(freeCores(), 4u);
  EXPECT_EQ(call("GET", "/metron/service_chains/a").status, 404);
}

// ---- RULES_INSTALL / RULES_MONITOR / RULES_DELETE -------------------------------------------------

TEST_F(AgentProtocol, RulesInstallMonitorDelete) {
  json req = {{"rules", {{{"id", "r1"}, {"rule", rule(53)}}, {{"id", "r2"}, {"rule", rule(80, 1)}}}}};
  Response r = call("POST", "/metron/rules/nic1", req);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["message"], "RULES_INSTALL_REP");
  EXPECT_EQ(r.body["nic_id"], "nic1");
  EXPECT_EQ(r.body["rule_ids"], json({"r1", "r2"}));
  r = call("GET", "/metron/rules/nic1");
  EXPECT_EQ(r.body["message"], "RULES_MONITOR_REP");
  EXPECT_EQ(r.body["rule_ids"], json({"r1", "r2"}));
  EXPECT_EQ(r.body["rules"][1]["rule"], rule(80, 1));
  r = call("GET", "/metron/rules");
  EXPECT_EQ(r.body["nics"], json({{"nic0", json::array()}, {"nic1", {"r1", "r2"}}}));
  r = call("DELETE", "/metron/rules/nic1", json{{"rule_ids", {"r1"}}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["message"], "RULES_DELETE_REP");
  EXPECT_EQ(r.body["rule_ids"], json({"r1"}));
  EXPECT_EQ(ruleIds("nic1"), std::vector<std::string>{"r2"});
}

TEST_F(AgentProtocol, RulesRejections) {
  json one = {{"rules", {{{"id", "r1"}, {"rule", rule(53)}}}}};
  EXPECT_REJECTED(call("POST", "/metron/rules/nic9", one), 404, "this server has no NIC 'nic9'");
  EXPECT_REJECTED(call("GET", "/metron/rules/nic9"), 404, "no NIC 'nic9'");
  EXPECT_REJECTED(call("DELETE", "/metron/rules/nic9", json{{"rule_ids", {"r1"}}}), 404, "no NIC 'nic9'");
  EXPECT_REJECTED(call("POST", "/metron/rules/nic0", json{{"rules", json::array()}}), 400, "non-empty array");
  EXPECT_REJECTED(call("POST", "/metron/rules/nic0", json{{"rules", {{{"id", "r 1"}, {"rule", rule(1)}}}}}), 400,
                  "rules[0].id: 'r 1' is not a rule ID");
  EXPECT_REJECTED(call("POST", "/metron/rules/nic0", json{{"rules", {{{"rule", rule(1)}}}}}), 400, "rules[0]: no \"id\"");
  // The NIC model's parser judges the rules; a bad one anywhere refuses the whole request.
  json bad = {{"rules", {{{"id", "ok"}, {"rule", rule(53)}}, {{"id", "bad"}, {"rule", rule(54)}}}}};
  bad["rules"][1]["rule"]["actions"][1]["type"] = "teleport";
  EXPECT_REJECTED(call("POST", "/metron/rules/nic0", bad), 422, "rule 1: ");
  EXPECT_EQ(ruleIds("nic0").size(), 0u);
  json loop = {{"rules",
                {{{"id", "j0"}, {"rule", {{"group", 0}, {"priority", 0}, {"ingress", true}, {"port", 0}, {"pattern", json::array()},
                                          {"actions", {{{"type", "jump"}, {"group", 1}}}}}}},
                 {{"id", "j1"}, {"rule", {{"group", 1}, {"priority", 0}, {"ingress", true}, {"port", 0}, {"pattern", json::array()},
                                          {"actions", {{{"type", "jump"}, {"group", 0}}}}}}}}}};
  EXPECT_REJECTED(call("POST", "/metron/rules/nic0", loop), 422, "closes a loop of jumps");
  ASSERT_EQ(call("POST", "/metron/rules/nic0", one).status, 200);
  EXPECT_REJECTED(call("POST", "/metron/rules/nic0", one), 409, "rule ID 'r1' is taken on NIC nic0");
  json dup = {{"rules", {{{"id", "r2"}, {"rule", rule(1)}}, {{"id", "r2"}, {"rule", rule(2)}}}}};
  EXPECT_REJECTED(call("POST", "/metron/rules/nic0", dup), 409, "rule ID 'r2' is taken");
  EXPECT_EQ(ruleIds("nic0"), std::vector<std::string>{"r1"});
  // Deleting: every ID must exist, or nothing is deleted.
  EXPECT_REJECTED(call("DELETE", "/metron/rules/nic0", json{{"rule_ids", {"r1", "r7"}}}), 404,
                  "NIC 'nic0' has no rule r7; nothing was deleted");
  EXPECT_EQ(ruleIds("nic0"), std::vector<std::string>{"r1"});
  EXPECT_REJECTED(call("DELETE", "/metron/rules/nic0", json{{"ids", {"r1"}}}), 400, "unknown member 'ids'");
}

TEST_F(AgentProtocol, RulesOfADeployedChainBelongToIt) {
  json body = deployBody("a", 1, {{"p", "nic0"}});
  body["rules"] = {{"nic", "nic0"}, {"rules", {{{"id", "a/0"}, {"rule", rule(53)}}}}};
  ASSERT_EQ(call("POST", "/metron/service_chains", body).status, 200);
  EXPECT_REJECTED(call("DELETE", "/metron/rules/nic0", json{{"rule_ids", {"a/0"}}}), 409, "belong to a deployed chain");
  EXPECT_EQ(call("GET", "/metron/rules/nic0").body["rules"][0]["chain"], "a");
}

TEST_F(AgentProtocol, RulesOfANicARunningDataPlaneOwns) {
  make(true);
  ASSERT_EQ(call("POST", "/metron/service_chains", deployBody("a", 1, {{"p", "nic0"}})).status, 200);
  EXPECT_REJECTED(call("POST", "/metron/rules/nic0", json{{"rules", {{{"id", "x"}, {"rule", rule(1)}}}}}), 409,
                  "belongs to the running data plane of chain 'a'");
  EXPECT_EQ(call("POST", "/metron/rules/nic1", json{{"rules", {{{"id", "x"}, {"rule", rule(1)}}}}}).status, 200);
}

TEST_F(AgentProtocol, RuleLimitPerNic) {
  Limits l;
  l.maxRulesPerNic = 2;
  make(false, l);
  json three = {{"rules", {{{"id", "a"}, {"rule", rule(1)}}, {{"id", "b"}, {"rule", rule(2)}}, {{"id", "c"}, {"rule", rule(3)}}}}};
  EXPECT_REJECTED(call("POST", "/metron/rules/nic0", three), 409, "would hold 3 rules; at most 2");
}

// ---- SET_CTRL / GET_CTRL / DEL_CTRL (and SERVER_REGISTER) -----------------------------------------

TEST_F(AgentProtocol, Controllers) {
  Response r = call("POST", "/metron/controllers", json{{"ip", "10.0.0.9"}, {"port", 6653}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["message"], "SET_CTRL_REP");
  EXPECT_EQ(r.body["status"], "registered");
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0].first, "10.0.0.9:6653");
  EXPECT_EQ(registered[0].second["message"], "SERVER_REGISTER");
  EXPECT_EQ(registered[0].second["server_id"], "server1");
  EXPECT_EQ(registered[0].second["ip"], "127.0.0.1");
  EXPECT_EQ(registered[0].second["port"], 8600);
  r = call("GET", "/metron/controllers");
  EXPECT_EQ(r.body["message"], "GET_CTRL_REP");
  EXPECT_EQ(r.body["controllers"], json::parse(R"([{"ip":"10.0.0.9","port":6653,"status":"registered"}])"));
  r = call("DELETE", "/metron/controllers", json{{"ip", "10.0.0.9"}, {"port", 6653}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["message"], "DEL_CTRL_REP");
  EXPECT_REJECTED(call("DELETE", "/metron/controllers", json{{"ip", "10.0.0.9"}, {"port", 6653}}), 404, "is not associated");
  EXPECT_EQ(call("GET", "/metron/controllers").body["controllers"].size(), 0u);
}

TEST_F(AgentProtocol, ControllerRejections) {
  EXPECT_REJECTED(call("POST", "/metron/controllers", json{{"ip", "controller.example"}, {"port", 1}}), 400,
                  "ip: 'controller.example' is not an IPv4 or IPv6 address");
  EXPECT_REJECTED(call("POST", "/metron/controllers", json{{"ip", "::1"}, {"port", 70000}}), 400,
                  "port: expected an integer from 1 to 65535");
  EXPECT_REJECTED(call("POST", "/metron/controllers", json{{"ip", "::1"}}), 400, "no \"port\"");
  registerAnswer = "no answer (Connection)";
  EXPECT_REJECTED(call("POST", "/metron/controllers", json{{"ip", "::1"}, {"port", 9}}), 502,
                  "SERVER_REGISTER to ::1:9 failed: no answer (Connection); the controller was not associated");
  EXPECT_EQ(call("GET", "/metron/controllers").body["controllers"].size(), 0u);
}

TEST(Ids, ValidIds) {
  EXPECT_TRUE(validId("fw-1.a:b_c", 64, false));
  EXPECT_FALSE(validId("", 64, false));
  EXPECT_FALSE(validId("..", 64, false));
  EXPECT_FALSE(validId("a/b", 64, false));
  EXPECT_TRUE(validId("a/b", 64, true));
  EXPECT_FALSE(validId(std::string(65, 'a'), 64, false));
  EXPECT_FALSE(validId("a b", 64, false));
  EXPECT_FALSE(validId("a\nb", 64, false));
}

} // namespace
