//===- tests/fuzz/fuzz_agent.cpp - libFuzzer target: metron-agent's requests --------------------===//
///
/// The input is one request to metron::agent::Agent::handle(): byte 0 picks the method and
/// resource (every Table 4 message and a few that do not exist), byte 1 the chain or NIC the URL
/// names and whether the token is right, the rest is the body. One agent (control only: no data
/// plane; small limits) lives across inputs, so that requests meet the state earlier ones made.
/// Properties:
///
///  * every response is a JSON object naming the server; an error status has an "error" string;
///  * a refused request (any status but 200) changes nothing: the chains, every NIC's rules and
///    the controllers are the same after it;
///  * the limits hold: at most 4 chains, at most 64 rules per NIC, chain cores never shared.
///
/// A violated property is __builtin_trap(); crashes and sanitizer reports are bugs too.
//===----------------------------------------------------------------------------------------===//
#include "runtime/agent/Agent.h"

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>

using namespace metron::agent;

namespace {

const char *kToken = "fuzz-token-0123456789";

void check(bool ok, const char *what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_agent: property violated: %s\n", what);
    __builtin_trap();
  }
}

Agent &agent() {
  static Agent *a = [] {
    AgentConfig cfg;
    cfg.host.serverId = "fuzz";
    for (unsigned c = 1; c <= 4; ++c) cfg.host.cores.push_back({c, "v", "m", 1000});
    for (const char *id : {"nic0", "nic1"}) {
      Nic n;
      n.id = id;
      n.devargs = n.device = std::string("net_null_") + id;
      n.driver = "net_null";
      n.kind = "virtual";
      cfg.host.nics.push_back(n);
    }
    cfg.token = kToken;
    cfg.advertise = "127.0.0.1:1";
    cfg.limits.maxBody = 64 << 10;
    cfg.limits.maxChains = 4;
    cfg.limits.maxRulesPerNic = 64;
    cfg.limits.maxRulesPerRequest = 64;
    return new Agent(cfg, makeControlOnlyRunner(), [](const std::string &, unsigned port, const json &) {
      return port % 2 ? std::string() : std::string("refused (fuzz)");
    });
  }();
  return *a;
}

Response call(const std::string &method, const std::string &path, const std::string &body = "", bool token = true) {
  Request r;
  r.method = method;
  r.path = path;
  r.body = body;
  if (token) r.headers["authorization"] = std::string("Bearer ") + kToken;
  r.headers["content-type"] = "application/json";
  return agent().handle(r);
}

/// Everything a request may change.
std::string snapshot() {
  json s = {{"chains", call("GET", "/metron/service_chains").body["service_chains"]},
            {"rules0", call("GET", "/metron/rules/nic0").body["rules"]},
            {"rules1", call("GET", "/metron/rules/nic1").body["rules"]},
            {"controllers", call("GET", "/metron/controllers").body["controllers"]}};
  // Deploy times and statistics are not state a request may be refused for changing.
  for (auto &c : s["chains"]) c.erase("deployed_at_ms");
  return s.dump();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  static const char *kRoutes[][2] = {
      {"GET", "/metron/server_resources"}, {"GET", "/metron/server_stats"},   {"GET", "/metron/service_chains"},
      {"POST", "/metron/service_chains"},  {"GET", "/metron/service_chains/"}, {"PUT", "/metron/service_chains/"},
      {"DELETE", "/metron/service_chains/"}, {"GET", "/metron/rules"},        {"GET", "/metron/rules/"},
      {"POST", "/metron/rules/"},          {"DELETE", "/metron/rules/"},      {"POST", "/metron/controllers"},
      {"GET", "/metron/controllers"},      {"DELETE", "/metron/controllers"}, {"PATCH", "/metron/rules/"},
      {"GET", "/metron/../etc/passwd"}};
  static const char *kItems[] = {"a", "b", "nic0", "nic1", "nic9", "zz", "", "a/b"};
  const auto &route = kRoutes[data[0] % (sizeof kRoutes / sizeof kRoutes[0])];
  std::string path = route[1];
  if (path.back() == '/') path += kItems[data[1] % 8];
  const bool token = (data[1] & 0x80) == 0;
  const std::string body(reinterpret_cast<const char *>(data) + 2, size - 2);

  const std::string before = snapshot();
  Response r = call(route[0], path, body, token);
  check(r.body.is_object() && r.body.value("server_id", "") == "fuzz", "a response names the server");
  if (r.status != 200) {
    check(r.body.contains("error") && r.body["error"].is_string() && !r.body["error"].get<std::string>().empty(),
          "an error says why");
    check(snapshot() == before, "a refused request changes nothing");
  }
  if (!token) check(r.status == 401, "no token, no access");
  // Limits.
  json chains = call("GET", "/metron/service_chains").body["service_chains"];
  check(chains.size() <= 4, "at most 4 chains");
  std::set<unsigned> cores;
  for (const auto &c : chains)
    for (const auto &k : c["cores"]) check(cores.insert(k.get<unsigned>()).second, "cores are not shared");
  for (const char *n : {"nic0", "nic1"})
    check(call("GET", std::string("/metron/rules/") + n).body["rule_ids"].size() <= 64, "at most 64 rules per NIC");
  return 0;
}
