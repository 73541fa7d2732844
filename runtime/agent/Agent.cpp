//===- runtime/agent/Agent.cpp - metron-agent: the Metron protocol, request by request ----------===//
///
/// \file
/// See Agent.h for the resources and the order of the checks. The rules of a NIC are checked
/// with the data plane's own NIC model parser (runtime/dataplane/NicModel.h), so a rule the
/// agent accepts is one the data plane will apply.
//===----------------------------------------------------------------------------------------===//
#include "runtime/agent/Agent.h"

#include "runtime/agent/Client.h"
#include "runtime/dataplane/NicModel.h"

#include <openssl/evp.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <set>

namespace metron::agent {
namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string s) {
  for (auto &c : s) c = char(tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Nesting depth of a JSON text (brackets outside strings): hostile input such as a megabyte of
/// '[' is refused before the parser sees it.
size_t jsonDepth(const std::string &s) {
  size_t depth = 0, max = 0;
  bool str = false, esc = false;
  for (char c : s) {
    if (str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') str = false;
    } else if (c == '"') {
      str = true;
    } else if (c == '[' || c == '{') {
      max = std::max(max, ++depth);
    } else if ((c == ']' || c == '}') && depth) {
      --depth;
    }
  }
  return max;
}

constexpr size_t kMaxDepth = 64;

/// Base64 (RFC 4648, padded, no whitespace) to bytes; false on anything else.
bool base64Decode(const std::string &in, std::string &out) {
  if (in.size() % 4) return false;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    bool ok = isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || (c == '=' && i + 2 >= in.size());
    if (!ok) return false;
  }
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') pad = in[in.size() - 2] == '=' ? 2 : 1;
  if (pad == 1 && in[in.size() - 2] == '=') return false;
  out.resize(in.size() / 4 * 3);
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()), reinterpret_cast<const unsigned char *>(in.data()),
                          int(in.size()));
  if (n < 0) return false;
  out.resize(size_t(n) - pad);
  return true;
}

/// Schema checking with the member's path in every message.
struct Schema {
  std::string err;
  bool fail(const std::string &path, const std::string &what) {
    if (err.empty()) err = path + ": " + what;
    return false;
  }
  bool object(const json &j, const std::string &path, std::initializer_list<const char *> known,
              std::initializer_list<const char *> required) {
    if (!j.is_object()) return fail(path, std::string("expected an object, got ") + j.type_name());
    for (auto it = j.begin(); it != j.end(); ++it)
      if (std::none_of(known.begin(), known.end(), [&](const char *k) { return it.key() == k; })) {
        std::string list;
        for (const char *k : known) list += std::string(list.empty() ? "" : ", ") + k;
        return fail(path, "unknown member '" + it.key() + "' (known: " + list + ")");
      }
    for (const char *k : required)
      if (!j.contains(k)) return fail(path, std::string("no \"") + k + "\"");
    return true;
  }
  bool string(const json &j, const std::string &path, std::string &out) {
    if (!j.is_string()) return fail(path, std::string("expected a string, got ") + j.type_name());
    out = j.get<std::string>();
    return true;
  }
  bool unsignedInt(const json &j, const std::string &path, uint64_t lo, uint64_t hi, uint64_t &out) {
    if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<int64_t>() >= 0))
      return fail(path, std::string("expected an integer from ") + std::to_string(lo) + " to " + std::to_string(hi) +
                            ", got " + j.dump());
    out = j.get<uint64_t>();
    if (out < lo || out > hi)
      return fail(path, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " +
                            std::to_string(out));
    return true;
  }
};

/// The Table 4 name of the request a method + resource make ("" when none).
std::string messageOf(const std::string &method, const std::vector<std::string> &seg) {
  if (seg.size() < 2 || seg[0] != "metron") return "";
  const std::string &r = seg[1];
  const bool item = seg.size() == 3;
  if (seg.size() > 3) return "";
  if (r == "server_resources" && !item) return method == "GET" ? "FEATURES_REQ" : "";
  if (r == "server_stats" && !item) return method == "GET" ? "GLOBAL_STATS_REQ" : "";
  if (r == "service_chains") {
    if (!item) return method == "GET" ? "SC_STATS_REQ" : method == "POST" ? "SC_DEPLOY_REQ" : "";
    return method == "GET" ? "SC_STATS_REQ" : method == "PUT" ? "SC_RECONF_REQ" : method == "DELETE" ? "SC_DELETE_REQ" : "";
  }
  if (r == "rules") {
    if (!item) return method == "GET" ? "RULES_MONITOR_REQ" : "";
    return method == "GET"      ? "RULES_MONITOR_REQ"
           : method == "POST"   ? "RULES_INSTALL_REQ"
           : method == "DELETE" ? "RULES_DELETE_REQ"
                                : "";
  }
  if (r == "controllers" && !item)
    return method == "POST" ? "SET_CTRL_REQ" : method == "GET" ? "GET_CTRL_REQ" : method == "DELETE" ? "DEL_CTRL_REQ" : "";
  return "";
}

/// The methods a resource takes, for 405's Allow header ("" when the resource does not exist).
std::string allowedOf(const std::vector<std::string> &seg) {
  std::string allow;
  for (const char *m : {"GET", "POST", "PUT", "DELETE"})
    if (!messageOf(m, seg).empty()) allow += std::string(allow.empty() ? "" : ", ") + m;
  return allow;
}

std::string joinIds(const std::vector<std::string> &v, size_t max = 8) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max) s += ", ... (" + std::to_string(v.size()) + ")";
  return s;
}

} // namespace

bool tokenEquals(const std::string &presented, const std::string &expected) {
  // Every byte of the longer one is visited, whatever matches.
  const size_t n = std::max(presented.size(), expected.size());
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char a = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    unsigned char b = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    diff |= a ^ b;
  }
  return diff == 0 && !expected.empty();
}

bool validId(const std::string &s, size_t maxLen, bool slash) {
  if (s.empty() || s.size() > maxLen || s == "." || s == "..") return false;
  for (char c : s)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != ':' && c != '-' && !(slash && c == '/'))
      return false;
  return true;
}

struct Agent::Parsed {
  std::string id;
  uint64_t cores = 0;
  std::vector<unsigned> coreList; ///< the CPUs the request names ("cores": [2, 3]), empty for a count
  std::vector<std::pair<std::string, std::string>> ports;
  std::string executable, sha256;
  std::string rulesNic;
  std::vector<Rule> rules;
  std::string dispatch = "auto";
  json request;
};

Agent::Agent(AgentConfig cfg, std::unique_ptr<Runner> runner, RegisterFn reg)
    : cfg_(std::move(cfg)), runner_(std::move(runner)), register_(std::move(reg)) {
  for (const auto &n : cfg_.host.nics) rules_[n.id];
}

Agent::~Agent() { shutdown(); }

void Agent::shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto &[id, c] : chains_) runner_->stop(id);
  chains_.clear();
  for (auto &[nic, rs] : rules_) rs.clear();
}

Response Agent::reply(const char *msg, json body, int status) const {
  Response r;
  r.status = status;
  json j = {{"message", msg}, {"server_id", cfg_.host.serverId}};
  for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = it.value();
  r.body = std::move(j);
  return r;
}

Response Agent::error(int status, const char *msg, const std::string &why) const {
  Response r;
  r.status = status;
  r.body = {{"server_id", cfg_.host.serverId}, {"error", why}};
  if (msg && *msg) r.body["message"] = msg;
  return r;
}

const Nic *Agent::findNic(const std::string &id) const {
  for (const auto &n : cfg_.host.nics)
    if (n.id == id) return &n;
  return nullptr;
}

std::vector<unsigned> Agent::freeCores() const {
  std::set<unsigned> used;
  for (const auto &[id, c] : chains_) used.insert(c.cpus.begin(), c.cpus.end());
  std::vector<unsigned> free;
  for (const auto &c : cfg_.host.cores)
    if (!used.count(c.id)) free.push_back(c.id);
  return free;
}

Response Agent::handle(const Request &req) {
  // 1. Authentication, before anything about the request is looked at.
  std::string presented;
  if (auto it = req.headers.find("authorization"); it != req.headers.end()) {
    const std::string &v = it->second;
    if (v.size() > 7 && lower(v.substr(0, 7)) == "bearer ") presented = v.substr(7);
  }
  if (!tokenEquals(presented, cfg_.token)) {
    Response r = error(401, "", presented.empty() ? "no bearer token (Authorization: Bearer TOKEN)" : "wrong token");
    r.headers["WWW-Authenticate"] = "Bearer realm=\"metron-agent\"";
    return r;
  }
  // 2. Size.
  if (req.body.size() > cfg_.limits.maxBody)
    return error(413, "", "the body has " + std::to_string(req.body.size()) + " bytes; this agent takes at most " +
                              std::to_string(cfg_.limits.maxBody) + " (--max-body)");
  // 3. The resource and the message.
  std::string path = req.path.substr(0, req.path.find('?'));
  std::vector<std::string> seg;
  for (size_t i = 0; i <= path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) seg.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  const std::string msg = messageOf(req.method, seg);
  if (msg.empty()) {
    std::string allow = allowedOf(seg);
    if (allow.empty()) return error(404, "", "no resource " + path + " (see metron-agent(8))");
    Response r = error(405, "", req.method + " is not a method of " + path + " (allowed: " + allow + ")");
    r.headers["Allow"] = allow;
    return r;
  }
  return route(req, msg, seg);
}

Response Agent::route(const Request &req, const std::string &msg, const std::vector<std::string> &seg) {
  const std::string item = seg.size() == 3 ? seg[2] : "";
  const bool needsBody = req.method == "POST" || req.method == "PUT" || req.method == "DELETE";
  const bool wantsBody = needsBody && !(req.method == "DELETE" && seg[1] == "service_chains");
  json body;
  if (wantsBody) {
    auto ct = req.headers.find("content-type");
    std::string type = ct == req.headers.end() ? "" : lower(ct->second.substr(0, ct->second.find(';')));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    if (type != "application/json")
      return error(415, msg.c_str(), "the body must be JSON (Content-Type: application/json), not '" +
                                         (type.empty() ? std::string("none") : type) + "'");
    if (jsonDepth(req.body) > kMaxDepth)
      return error(400, msg.c_str(), "malformed JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels");
    try {
      body = json::parse(req.body);
    } catch (const json::exception &e) {
      // parse_error for bad syntax, but also out_of_range for a number beyond a double
      // ("1e788", found by fuzz_agent): a client's mistake, 400, not an internal error.
      std::string w = e.what();
      if (size_t p = w.find("] "); p != std::string::npos) w = w.substr(p + 2);
      return error(400, msg.c_str(), "malformed JSON: " + w);
    }
    if (!body.is_object()) return error(400, msg.c_str(), std::string("expected a JSON object, got ") + body.type_name());
  }
  if (msg == "SET_CTRL_REQ") return setCtrl(body); // calls the controller: not under the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (msg == "FEATURES_REQ") return features();
  if (msg == "GLOBAL_STATS_REQ") return globalStats();
  if (msg == "SC_DEPLOY_REQ") return deploy(body);
  if (msg == "SC_STATS_REQ") return item.empty() ? chainList() : chainStats(item);
  if (msg == "SC_RECONF_REQ") return reconf(item, body);
  if (msg == "SC_DELETE_REQ") return remove(item);
  if (msg == "RULES_MONITOR_REQ") return item.empty() ? rulesMonitorAll() : rulesMonitor(item);
  if (msg == "RULES_INSTALL_REQ") return rulesInstall(item, body);
  if (msg == "RULES_DELETE_REQ") return rulesDelete(item, body);
  if (msg == "GET_CTRL_REQ") return getCtrl();
  if (msg == "DEL_CTRL_REQ") return delCtrl(body);
  return error(500, msg.c_str(), "no handler for " + msg);
}

// ---- FEATURES, GLOBAL_STATS ---------------------------------------------------------------------

Response Agent::features() {
  const Host &h = cfg_.host;
  json cpus = json::array();
  for (const auto &c : h.cores)
    cpus.push_back({{"id", c.id}, {"vendor", c.vendor}, {"model", c.model}, {"frequency_mhz", c.mhz}});
  json nics = json::array();
  for (const auto &n : h.nics) {
    json d = runner_->dataplane() ? json::array({"nic-model"}) : json::array();
    if (runner_->dataplane() && n.kind == "pci") d.push_back("rte_flow (probed when a chain starts)");
    nics.push_back({{"id", n.id},
                    {"device", n.device},
                    {"devargs", n.devargs},
                    {"driver", n.driver},
                    {"port_type", n.kind},
                    {"interface", n.iface.empty() ? json(nullptr) : json(n.iface)},
                    {"hw_address", n.mac.empty() ? json(nullptr) : json(n.mac)},
                    {"speed_mbps", n.speedMbps < 0 ? json(nullptr) : json(n.speedMbps)},
                    {"dispatching", d},
                    {"tag_map", {{"mark", "traffic-class group (rte_flow MARK id)"}, {"queue", "the core that owns it"}}}});
  }
  return reply("FEATURES_REP", {{"manufacturer", h.manufacturer},
                                {"product", h.product},
                                {"serial", h.serial},
                                {"kernel", h.kernel},
                                {"sw_version", h.swVersion},
                                {"cpus", cpus},
                                {"main_core", h.mainCore},
                                {"nics", nics},
                                {"dataplane", runner_->dataplane()},
                                {"limits",
                                 {{"max_body", cfg_.limits.maxBody},
                                  {"max_chains", cfg_.limits.maxChains},
                                  {"max_rules_per_nic", cfg_.limits.maxRulesPerNic}}}});
}

Response Agent::globalStats() {
  // Per core: the load its chain's data plane measured over the last 100 ms (useful cycles /
  // all cycles, paper §5.1); 0 for a free core.
  std::map<unsigned, std::pair<std::string, json>> owner; // cpu → (chain, core stats)
  std::map<std::string, json> nicStats;
  for (const auto &[id, c] : chains_) {
    ProcessState ps = runner_->state(id);
    for (size_t k = 0; k < c.cpus.size(); ++k) {
      json cs = nullptr;
      if (ps.stats.is_object() && ps.stats.contains("cores") && k < ps.stats["cores"].size()) cs = ps.stats["cores"][k];
      owner[c.cpus[k]] = {id, cs};
    }
    if (ps.stats.is_object() && ps.stats.contains("nic"))
      for (const auto &[port, nic] : c.ports) nicStats[nic] = ps.stats["nic"];
  }
  json cpus = json::array();
  double sum = 0;
  for (const auto &c : cfg_.host.cores) {
    auto it = owner.find(c.id);
    json e = {{"id", c.id}, {"chain", nullptr}, {"load", 0.0}};
    if (it != owner.end()) {
      e["chain"] = it->second.first;
      const json &cs = it->second.second;
      if (cs.is_object()) {
        e["load"] = cs.value("load_last_100ms", cs.value("load", 0.0));
        e["packets"] = cs.value("packets", uint64_t(0));
        e["useful_cycles"] = cs.value("useful_cycles", uint64_t(0));
        e["useless_cycles"] = cs.value("useless_cycles", uint64_t(0));
      } else {
        e["load"] = nullptr; // running, nothing measured yet (or control-only)
      }
    }
    if (e["load"].is_number()) sum += e["load"].get<double>();
    cpus.push_back(std::move(e));
  }
  json nics = json::array();
  for (const auto &n : cfg_.host.nics) {
    json e = {{"id", n.id}};
    if (!n.iface.empty()) {
      // The kernel's counters of the interface behind a net_af_packet port.
      for (const char *k : {"rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped"}) {
        FILE *f = fopen(("/sys/class/net/" + n.iface + "/statistics/" + k).c_str(), "r");
        unsigned long long v = 0;
        if (f && fscanf(f, "%llu", &v) == 1) e[k] = v;
        if (f) fclose(f);
      }
    }
    if (auto it = nicStats.find(n.id); it != nicStats.end()) e["dataplane"] = it->second;
    nics.push_back(std::move(e));
  }
  const size_t nfree = freeCores().size();
  return reply("GLOBAL_STATS_REP", {{"cpus", cpus},
                                    {"load", cfg_.host.cores.empty() ? 0.0 : sum / double(cfg_.host.cores.size())},
                                    {"free_cores", nfree},
                                    {"nics", nics},
                                    {"service_chains", chains_.size()}});
}

// ---- service chains -----------------------------------------------------------------------------

bool Agent::parseChain(const json &body, const std::string *id, Parsed &p, Response &err) {
  const char *msg = id ? "SC_RECONF_REQ" : "SC_DEPLOY_REQ";
  Schema s;
  auto bad = [&](int status = 400) {
    err = error(status, msg, s.err);
    return false;
  };
  if (!s.object(body, "request", {"id", "cores", "ports", "config", "rules", "dispatch"},
                id ? std::initializer_list<const char *>{"cores", "ports", "config"}
                   : std::initializer_list<const char *>{"id", "cores", "ports", "config"}))
    return bad();
  if (body.contains("id")) {
    if (!s.string(body["id"], "id", p.id)) return bad();
    if (!validId(p.id, 64, false))
      return s.fail("id", "'" + p.id + "' is not a chain ID (1-64 of A-Z a-z 0-9 _ . : -)"), bad();
    if (id && p.id != *id)
      return s.fail("id", "'" + p.id + "' differs from the chain of the URL ('" + *id + "')"), bad();
  }
  if (id) p.id = *id;
  if (body["cores"].is_array()) {
    // The CPUs themselves (pinning), rather than how many.
    const json &a = body["cores"];
    if (a.empty() || a.size() > 1024) return s.fail("cores", "expected 1 to 1024 CPU numbers"), bad();
    for (size_t i = 0; i < a.size(); ++i) {
      uint64_t c = 0;
      if (!s.unsignedInt(a[i], "cores[" + std::to_string(i) + "]", 0, 65535, c)) return bad();
      if (std::find(p.coreList.begin(), p.coreList.end(), unsigned(c)) != p.coreList.end())
        return s.fail("cores[" + std::to_string(i) + "]", "CPU " + std::to_string(c) + " is named twice"), bad();
      p.coreList.push_back(unsigned(c));
    }
    p.cores = p.coreList.size();
  } else if (!s.unsignedInt(body["cores"], "cores", 1, 1024, p.cores)) {
    return bad();
  }
  const json &ports = body["ports"];
  if (!ports.is_object() || ports.empty())
    return s.fail("ports", "expected an object from chain port names to NIC IDs ({\"port0\": \"nic0\"})"), bad();
  for (auto it = ports.begin(); it != ports.end(); ++it) {
    std::string nic;
    if (!s.string(it.value(), "ports." + it.key(), nic)) return bad();
    p.ports.push_back({it.key(), nic});
  }
  const json &cfg = body["config"];
  if (!s.object(cfg, "config", {"executable", "sha256", "server", "chain", "cpu"}, {"executable", "sha256"})) return bad();
  std::string b64;
  if (!s.string(cfg["executable"], "config.executable", b64) || !s.string(cfg["sha256"], "config.sha256", p.sha256))
    return bad();
  for (const char *k : {"server", "chain", "cpu"})
    if (cfg.contains(k) && !cfg[k].is_string()) return s.fail(std::string("config.") + k, "expected a string"), bad();
  if (!base64Decode(b64, p.executable))
    return s.fail("config.executable", "not base64 (RFC 4648, padded, without line breaks)"), bad();
  if (p.executable.size() < 4 || p.executable.compare(0, 4, "\x7f" "ELF") != 0)
    return s.fail("config.executable", "not an ELF executable (the file metronc compile wrote as OUT/bin/SERVER)"), bad();
  if (sha256Hex(p.executable) != lower(p.sha256))
    return s.fail("config.sha256", "does not match the executable (" + std::to_string(p.executable.size()) +
                                       " bytes with SHA-256 " + sha256Hex(p.executable) + "): truncated in transit?"),
           bad();
  if (body.contains("dispatch")) {
    if (!s.string(body["dispatch"], "dispatch", p.dispatch)) return bad();
    if (p.dispatch != "auto" && p.dispatch != "hardware" && p.dispatch != "nic-model")
      return s.fail("dispatch", "must be auto, hardware or nic-model, not '" + p.dispatch + "'"), bad();
  }
  if (body.contains("rules")) {
    const json &r = body["rules"];
    if (!s.object(r, "rules", {"nic", "rules"}, {"nic", "rules"}) || !s.string(r["nic"], "rules.nic", p.rulesNic))
      return bad();
    if (!r["rules"].is_array()) return s.fail("rules.rules", "expected an array of {\"id\", \"rule\"}"), bad();
    if (r["rules"].size() > cfg_.limits.maxRulesPerRequest)
      return s.fail("rules.rules", std::to_string(r["rules"].size()) + " rules; at most " +
                                       std::to_string(cfg_.limits.maxRulesPerRequest) + " per request"),
             bad(413);
    for (size_t i = 0; i < r["rules"].size(); ++i) {
      const json &e = r["rules"][i];
      const std::string at = "rules.rules[" + std::to_string(i) + "]";
      Rule rule;
      if (!s.object(e, at, {"id", "rule"}, {"id", "rule"}) || !s.string(e["id"], at + ".id", rule.id)) return bad();
      if (!validId(rule.id, 128, true)) return s.fail(at + ".id", "'" + rule.id + "' is not a rule ID"), bad();
      rule.rule = e["rule"];
      rule.owner = p.id;
      p.rules.push_back(std::move(rule));
    }
  }
  // What is kept of the request: everything but the executable and the rules (held apart).
  p.request = json::object();
  for (auto it = body.begin(); it != body.end(); ++it)
    if (it.key() != "config" && it.key() != "rules") p.request[it.key()] = it.value();
  for (auto it = cfg.begin(); it != cfg.end(); ++it)
    if (it.key() != "executable") p.request["config"][it.key()] = it.value();
  p.request["config"]["executable_bytes"] = p.executable.size();
  if (!p.rules.empty()) p.request["rules"] = {{"nic", p.rulesNic}, {"count", p.rules.size()}};
  p.request["id"] = p.id;
  return true;
}

std::string Agent::nicDocument(const std::string &nic) const {
  json d = {{"element", cfg_.host.serverId + "." + nic}, {"profile", "metron-agent"}, {"kind", "nic"}, {"rules", json::array()}};
  auto it = rules_.find(nic);
  if (it != rules_.end())
    for (const auto &r : it->second) d["rules"].push_back(r.rule);
  return d.dump();
}

bool Agent::validateNic(const std::string &nic, const std::vector<Rule> &rules, std::string &err) const {
  json d = {{"element", nic}, {"kind", "nic"}, {"rules", json::array()}};
  json &a = d["rules"];
  a.get_ref<json::array_t &>().reserve(rules.size());
  for (const auto &r : rules) a.push_back(r.rule);
  return dp::NicModel::parseDocument(d, "the rules of " + nic, err) != nullptr;
}

/// What a deploy or reconfiguration of chain \p p names must exist here (its NICs; its rules'
/// NIC among them; rules the NIC model takes) and be free: NICs no other chain uses, rule IDs
/// no other rule of the NIC has. \p self: the chain being reconfigured ("" for a deploy),
/// whose NICs and rules count as free.
bool Agent::checkChain(const Parsed &p, const std::string &self, Response &err, const char *msg) {
  std::set<std::string> nicsUsed;
  for (const auto &[port, nic] : p.ports) {
    if (!findNic(nic)) {
      std::vector<std::string> have;
      for (const auto &n : cfg_.host.nics) have.push_back(n.id);
      err = error(422, msg, "ports." + port + ": this server has no NIC '" + nic + "' (NICs: " +
                                (have.empty() ? std::string("none") : joinIds(have)) + ")");
      return false;
    }
    nicsUsed.insert(nic);
  }
  if (!p.rulesNic.empty() && !nicsUsed.count(p.rulesNic)) {
    err = error(422, msg, "rules.nic: '" + p.rulesNic + "' is not one of the chain's NICs (ports)");
    return false;
  }
  for (const auto &[cid, c] : chains_)
    if (cid != self)
      for (const auto &[port, nic] : c.ports)
        if (nicsUsed.count(nic)) {
          err = error(409, msg, "NIC '" + nic + "' is used by chain '" + cid + "'");
          return false;
        }
  if (p.rulesNic.empty()) return true;
  std::vector<Rule> held;
  for (const auto &r : rules_[p.rulesNic])
    if (self.empty() || r.owner != self) held.push_back(r);
  std::set<std::string> ids;
  for (const auto &r : held) ids.insert(r.id);
  for (const auto &r : p.rules)
    if (!ids.insert(r.id).second) {
      err = error(409, msg, "rule ID '" + r.id + "' is taken on NIC " + p.rulesNic);
      return false;
    }
  std::string why;
  if (!checkRules(p.rulesNic, held, p.rules, why)) {
    err = error(422, msg, why);
    return false;
  }
  return true;
}

/// The cores a chain gets: the CPUs it names (each one this agent gives chains, and free), or
/// p.cores of the free ones, those in \p prefer first.
bool Agent::pickCores(const Parsed &p, const std::vector<unsigned> &free, const std::vector<unsigned> &prefer,
                      std::vector<unsigned> &out, Response &err, const char *msg) const {
  const size_t have = cfg_.host.cores.size();
  auto isFree = [&](unsigned c) { return std::find(free.begin(), free.end(), c) != free.end(); };
  if (!p.coreList.empty()) {
    for (unsigned c : p.coreList) {
      if (std::none_of(cfg_.host.cores.begin(), cfg_.host.cores.end(), [&](const Core &k) { return k.id == c; })) {
        std::vector<std::string> ids;
        for (const auto &k : cfg_.host.cores) ids.push_back(std::to_string(k.id));
        err = error(422, msg, "cores: CPU " + std::to_string(c) + " is not one this server gives chains (" +
                                  joinIds(ids, 16) + ")");
        return false;
      }
      if (!isFree(c)) {
        std::string by;
        for (const auto &[cid, ch] : chains_)
          if (std::find(ch.cpus.begin(), ch.cpus.end(), c) != ch.cpus.end()) by = cid;
        err = error(409, msg, "cores: CPU " + std::to_string(c) + " is used by chain '" + by + "'");
        return false;
      }
    }
    out = p.coreList;
    return true;
  }
  if (p.cores > have) {
    err = error(422, msg, "the chain needs " + std::to_string(p.cores) + " cores; this server gives chains " +
                              std::to_string(have));
    return false;
  }
  if (free.size() < p.cores) {
    err = error(409, msg, "the chain needs " + std::to_string(p.cores) + " cores; " + std::to_string(free.size()) +
                              " of " + std::to_string(have) + " are free");
    return false;
  }
  out.clear();
  for (unsigned c : prefer)
    if (out.size() < p.cores && isFree(c)) out.push_back(c);
  for (unsigned c : free)
    if (out.size() < p.cores && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  return true;
}

/// New rules for a NIC: alone (so that an error's rule index is the request's), then with the
/// rules the NIC holds when it holds some (jumps between them).
bool Agent::checkRules(const std::string &nic, const std::vector<Rule> &held, const std::vector<Rule> &add,
                       std::string &err) const {
  if (!validateNic(nic, add, err)) return false;
  if (held.empty()) return true;
  std::vector<Rule> all = held;
  all.insert(all.end(), add.begin(), add.end());
  return validateNic(nic, all, err);
}

/// Installs the parsed chain's rules, starts its data plane; on failure removes what it did.
bool Agent::startChain(Chain &c, const Parsed &p, Response &err, const char *msg) {
  auto &nicRules = rules_[p.rulesNic];
  const size_t before = p.rulesNic.empty() ? 0 : nicRules.size();
  if (!p.rulesNic.empty()) nicRules.insert(nicRules.end(), p.rules.begin(), p.rules.end());
  Launch l;
  l.id = p.id;
  l.executable = p.executable;
  l.cpus = c.cpus;
  l.mainCpu = cfg_.host.mainCore;
  for (const auto &[port, nic] : p.ports) l.ports.push_back({port, *findNic(nic)});
  if (!p.rulesNic.empty() && runner_->dataplane()) l.rules = nicDocument(p.rulesNic);
  l.dispatch = p.dispatch;
  std::string why;
  if (!runner_->start(l, why)) {
    if (!p.rulesNic.empty()) nicRules.resize(before); // rollback: the rules go too
    err = error(502, msg, "the data plane of chain '" + p.id + "' did not start: " + why +
                              (p.rules.empty() ? "" : " (its " + std::to_string(p.rules.size()) + " rules were removed)"));
    return false;
  }
  c.id = p.id;
  c.request = p.request;
  c.executable = p.executable;
  c.sha256 = lower(p.sha256);
  c.ports = p.ports;
  c.rulesNic = p.rulesNic;
  c.ruleIds.clear();
  for (const auto &r : p.rules) c.ruleIds.push_back(r.id);
  c.dispatch = p.dispatch;
  c.deployedAtMs = nowMs();
  return true;
}

Response Agent::deploy(const json &body) {
  const char *msg = "SC_DEPLOY_REQ";
  Parsed p;
  Response err;
  if (!parseChain(body, nullptr, p, err)) return err;
  if (chains_.count(p.id)) return error(409, msg, "chain '" + p.id + "' is deployed already (SC_RECONF_REQ changes it)");
  if (chains_.size() >= cfg_.limits.maxChains)
    return error(409, msg, "this agent runs at most " + std::to_string(cfg_.limits.maxChains) + " chains (--max-chains)");
  if (!checkChain(p, "", err, msg)) return err;
  Chain c;
  if (!pickCores(p, freeCores(), {}, c.cpus, err, msg)) return err;
  if (!startChain(c, p, err, msg)) return err;
  chains_[p.id] = c;
  return reply("SC_DEPLOY_REP", {{"service_chain_id", p.id}, {"status", "deployed"}, {"chain", chainJson(chains_[p.id])}});
}

json Agent::chainJson(const Chain &c) {
  ProcessState ps = runner_->state(c.id);
  json ports = json::object();
  for (const auto &[port, nic] : c.ports) ports[port] = nic;
  json j = {{"id", c.id},
            {"cores", c.cpus},
            {"main_core", cfg_.host.mainCore},
            {"ports", ports},
            {"executable_sha256", c.sha256},
            {"dispatch", c.dispatch},
            {"rules", {{"nic", c.rulesNic.empty() ? json(nullptr) : json(c.rulesNic)}, {"ids", c.ruleIds}}},
            {"deployed_at_ms", c.deployedAtMs}};
  if (!runner_->dataplane()) {
    j["dataplane"] = {{"state", "control-only"}, {"why", "metron-agent runs with --no-dataplane"}};
  } else {
    j["dataplane"] = {{"state", ps.running ? "running" : "exited"}, {"pid", ps.pid}};
    if (!ps.running) j["dataplane"]["exit"] = ps.exit;
    if (!ps.running && !ps.logTail.empty()) j["dataplane"]["log_tail"] = ps.logTail;
  }
  j["stats"] = ps.stats;
  return j;
}

Response Agent::chainList() {
  json all = json::array();
  for (const auto &[id, c] : chains_) all.push_back(chainJson(c));
  return reply("SC_STATS_REP", {{"service_chains", all}});
}

Response Agent::chainStats(const std::string &id) {
  auto it = chains_.find(id);
  if (it == chains_.end()) return error(404, "SC_STATS_REQ", "no chain '" + id + "' on this server");
  return reply("SC_STATS_REP", {{"service_chain_id", id}, {"chain", chainJson(it->second)}});
}

Response Agent::reconf(const std::string &id, const json &body) {
  const char *msg = "SC_RECONF_REQ";
  auto it = chains_.find(id);
  if (it == chains_.end()) return error(404, msg, "no chain '" + id + "' on this server");
  Parsed p;
  Response err;
  if (!parseChain(body, &id, p, err)) return err;
  Chain &old = it->second;
  // As SC_DEPLOY, but the chain's own cores, NICs and rules count as free.
  if (!checkChain(p, id, err, msg)) return err;
  std::vector<unsigned> free = freeCores();
  free.insert(free.end(), old.cpus.begin(), old.cpus.end());
  std::sort(free.begin(), free.end());
  // Keep the chain on its own cores where it can (its flow state is gone either way).
  Chain next;
  if (!pickCores(p, free, old.cpus, next.cpus, err, msg)) return err;
  // Its current rules, to take out and to put back if the new configuration fails.
  std::vector<Rule> oldRules;
  if (!old.rulesNic.empty()) {
    auto &v = rules_[old.rulesNic];
    for (const auto &r : v)
      if (r.owner == id) oldRules.push_back(r);
  }
  auto without = [&](const std::string &nic) {
    std::vector<Rule> v;
    for (const auto &r : rules_[nic])
      if (r.owner != id) v.push_back(r);
    return v;
  };
  // Replace: stop the old data plane, take its rules out, start the new one.
  json finalStats = runner_->stop(id);
  if (!old.rulesNic.empty()) rules_[old.rulesNic] = without(old.rulesNic);
  Response fail;
  if (!startChain(next, p, fail, msg)) {
    // Put the previous configuration back.
    Parsed back;
    back.id = id;
    back.cores = old.cpus.size();
    back.ports = old.ports;
    back.executable = old.executable;
    back.sha256 = old.sha256;
    back.rulesNic = old.rulesNic;
    back.rules = oldRules;
    back.dispatch = old.dispatch;
    back.request = old.request;
    Chain again;
    again.cpus = old.cpus;
    Response e2;
    if (startChain(again, back, e2, msg)) {
      again.deployedAtMs = old.deployedAtMs;
      chains_[id] = again;
      fail.body["error"] = fail.body["error"].get<std::string>() + "; the previous configuration was restarted";
    } else {
      chains_.erase(id);
      fail.status = 500;
      fail.body["error"] = fail.body["error"].get<std::string>() +
                           "; restarting the previous configuration failed too, so the chain is gone: " +
                           e2.body["error"].get<std::string>();
    }
    return fail;
  }
  chains_[id] = next;
  return reply("SC_RECONF_REP", {{"service_chain_id", id},
                                 {"status", "reconfigured"},
                                 {"previous_stats", finalStats},
                                 {"chain", chainJson(chains_[id])}});
}

Response Agent::remove(const std::string &id) {
  auto it = chains_.find(id);
  if (it == chains_.end()) return error(404, "SC_DELETE_REQ", "no chain '" + id + "' on this server");
  json finalStats = runner_->stop(id);
  std::vector<std::string> deleted;
  if (!it->second.rulesNic.empty()) {
    auto &v = rules_[it->second.rulesNic];
    std::vector<Rule> keep;
    for (auto &r : v) (r.owner == id ? deleted.push_back(r.id) : keep.push_back(r));
    v = std::move(keep);
  }
  chains_.erase(it);
  return reply("SC_DELETE_REP",
               {{"service_chain_id", id}, {"status", "deleted"}, {"rules_deleted", deleted}, {"final_stats", finalStats}});
}

// ---- NIC rules ----------------------------------------------------------------------------------

Response Agent::rulesMonitor(const std::string &nic) {
  if (!findNic(nic)) return error(404, "RULES_MONITOR_REQ", "this server has no NIC '" + nic + "'");
  json ids = json::array(), rules = json::array();
  for (const auto &r : rules_[nic]) {
    ids.push_back(r.id);
    rules.push_back({{"id", r.id}, {"rule", r.rule}, {"chain", r.owner.empty() ? json(nullptr) : json(r.owner)}});
  }
  return reply("RULES_MONITOR_REP", {{"nic_id", nic}, {"rule_ids", ids}, {"rules", rules}});
}

Response Agent::rulesMonitorAll() {
  json all = json::object();
  for (const auto &n : cfg_.host.nics) {
    json ids = json::array();
    for (const auto &r : rules_[n.id]) ids.push_back(r.id);
    all[n.id] = ids;
  }
  return reply("RULES_MONITOR_REP", {{"nics", all}});
}

/// The chain whose data plane owns \p nic ("" when none, or without data planes): its NIC model
/// loaded the rules when it started, so they cannot change under it.
std::string Agent::dataplaneOwner(const std::string &nic) const {
  if (!runner_->dataplane()) return "";
  for (const auto &[id, c] : chains_)
    for (const auto &[port, n] : c.ports)
      if (n == nic) return id;
  return "";
}

Response Agent::rulesInstall(const std::string &nic, const json &body) {
  const char *msg = "RULES_INSTALL_REQ";
  if (!findNic(nic)) return error(404, msg, "this server has no NIC '" + nic + "'");
  Schema s;
  if (!s.object(body, "request", {"rules"}, {"rules"})) return error(400, msg, s.err);
  const json &rs = body["rules"];
  if (!rs.is_array() || rs.empty()) return error(400, msg, "rules: expected a non-empty array of {\"id\", \"rule\"}");
  if (rs.size() > cfg_.limits.maxRulesPerRequest)
    return error(413, msg, "rules: " + std::to_string(rs.size()) + " rules; at most " +
                               std::to_string(cfg_.limits.maxRulesPerRequest) + " per request");
  std::vector<Rule> add;
  std::set<std::string> ids;
  for (const auto &r : rules_[nic]) ids.insert(r.id);
  for (size_t i = 0; i < rs.size(); ++i) {
    const std::string at = "rules[" + std::to_string(i) + "]";
    Rule r;
    if (!s.object(rs[i], at, {"id", "rule"}, {"id", "rule"}) || !s.string(rs[i]["id"], at + ".id", r.id))
      return error(400, msg, s.err);
    if (!validId(r.id, 128, true)) return error(400, msg, at + ".id: '" + r.id + "' is not a rule ID");
    if (!ids.insert(r.id).second) return error(409, msg, at + ".id: rule ID '" + r.id + "' is taken on NIC " + nic);
    r.rule = rs[i]["rule"];
    add.push_back(std::move(r));
  }
  if (std::string o = dataplaneOwner(nic); !o.empty())
    return error(409, msg, "NIC '" + nic + "' belongs to the running data plane of chain '" + o +
                               "', which loaded its rules when it started: change them with SC_RECONF_REQ");
  if (rules_[nic].size() + add.size() > cfg_.limits.maxRulesPerNic)
    return error(409, msg, "NIC '" + nic + "' would hold " + std::to_string(rules_[nic].size() + add.size()) +
                               " rules; at most " + std::to_string(cfg_.limits.maxRulesPerNic));
  std::string why;
  if (!checkRules(nic, rules_[nic], add, why)) return error(422, msg, why);
  json installed = json::array();
  for (const auto &r : add) installed.push_back(r.id);
  auto &v = rules_[nic];
  v.insert(v.end(), add.begin(), add.end());
  return reply("RULES_INSTALL_REP", {{"nic_id", nic}, {"rule_ids", installed}});
}

Response Agent::rulesDelete(const std::string &nic, const json &body) {
  const char *msg = "RULES_DELETE_REQ";
  if (!findNic(nic)) return error(404, msg, "this server has no NIC '" + nic + "'");
  Schema s;
  if (!s.object(body, "request", {"rule_ids"}, {"rule_ids"})) return error(400, msg, s.err);
  const json &ids = body["rule_ids"];
  if (!ids.is_array() || ids.empty()) return error(400, msg, "rule_ids: expected a non-empty array of rule IDs");
  std::set<std::string> del;
  std::vector<std::string> unknown, owned;
  auto &v = rules_[nic];
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string id;
    if (!s.string(ids[i], "rule_ids[" + std::to_string(i) + "]", id)) return error(400, msg, s.err);
    auto it = std::find_if(v.begin(), v.end(), [&](const Rule &r) { return r.id == id; });
    if (it == v.end()) unknown.push_back(id);
    else if (!it->owner.empty() && chains_.count(it->owner)) owned.push_back(id + " (chain " + it->owner + ")");
    del.insert(id);
  }
  if (!unknown.empty()) return error(404, msg, "NIC '" + nic + "' has no rule " + joinIds(unknown) + "; nothing was deleted");
  if (!owned.empty())
    return error(409, msg, "rules " + joinIds(owned) + " belong to a deployed chain: SC_DELETE_REQ or SC_RECONF_REQ removes them");
  if (std::string o = dataplaneOwner(nic); !o.empty())
    return error(409, msg, "NIC '" + nic + "' belongs to the running data plane of chain '" + o + "'");
  json deleted = json::array();
  std::vector<Rule> keep;
  for (auto &r : v) (del.count(r.id) ? deleted.push_back(r.id) : keep.push_back(r));
  v = std::move(keep);
  return reply("RULES_DELETE_REP", {{"nic_id", nic}, {"rule_ids", deleted}});
}

// ---- controllers --------------------------------------------------------------------------------

static bool parseController(const json &body, const char *msg, std::string &host, unsigned &port, std::string &err) {
  Schema s;
  std::string ip;
  uint64_t p = 0;
  if (!s.object(body, "request", {"ip", "port"}, {"ip", "port"}) || !s.string(body["ip"], "ip", ip) ||
      !s.unsignedInt(body["port"], "port", 1, 65535, p)) {
    err = s.err;
    return false;
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) != 1 && inet_pton(AF_INET6, ip.c_str(), buf) != 1) {
    err = "ip: '" + ip + "' is not an IPv4 or IPv6 address";
    return false;
  }
  (void)msg;
  host = ip;
  port = unsigned(p);
  return true;
}

std::string Agent::associate(const std::string &host, unsigned port) {
  json msg = {{"message", "SERVER_REGISTER"}, {"server_id", cfg_.host.serverId}};
  size_t colon = cfg_.advertise.rfind(':');
  msg["ip"] = cfg_.advertise.substr(0, colon);
  msg["port"] = colon == std::string::npos ? 0 : std::stoul(cfg_.advertise.substr(colon + 1));
  std::string why = register_ ? register_(host, port, msg) : "no way to reach a controller";
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(controllers_.begin(), controllers_.end(),
                         [&](const Controller &c) { return c.host == host && c.port == port; });
  if (!why.empty()) return why;
  if (it == controllers_.end()) controllers_.push_back({host, port, "registered"});
  else it->status = "registered";
  return "";
}

Response Agent::setCtrl(const json &body) {
  std::string host, err;
  unsigned port = 0;
  if (!parseController(body, "SET_CTRL_REQ", host, port, err)) return error(400, "SET_CTRL_REQ", err);
  std::string why = associate(host, port);
  if (!why.empty())
    return error(502, "SET_CTRL_REQ", "SERVER_REGISTER to " + host + ":" + std::to_string(port) + " failed: " + why +
                                          "; the controller was not associated");
  return reply("SET_CTRL_REP", {{"status", "registered"}, {"controller", {{"ip", host}, {"port", port}}}});
}

Response Agent::getCtrl() {
  json cs = json::array();
  for (const auto &c : controllers_) cs.push_back({{"ip", c.host}, {"port", c.port}, {"status", c.status}});
  return reply("GET_CTRL_REP", {{"controllers", cs}});
}

Response Agent::delCtrl(const json &body) {
  std::string host, err;
  unsigned port = 0;
  if (!parseController(body, "DEL_CTRL_REQ", host, port, err)) return error(400, "DEL_CTRL_REQ", err);
  auto it = std::find_if(controllers_.begin(), controllers_.end(),
                         [&](const Controller &c) { return c.host == host && c.port == port; });
  if (it == controllers_.end())
    return error(404, "DEL_CTRL_REQ", "controller " + host + ":" + std::to_string(port) + " is not associated");
  controllers_.erase(it);
  return reply("DEL_CTRL_REP", {{"status", "disassociated"}, {"controller", {{"ip", host}, {"port", port}}}});
}

} // namespace metron::agent
