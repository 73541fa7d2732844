//===- runtime/state/Describe.cpp - Stateful elements as JSON ---------------------------------===//
#include "runtime/state/Describe.h"

#include <algorithm>
#include <iterator>

namespace metron::state {

using nlohmann::json;
using namespace ir;

namespace {

/// PatternRule::BufferCheck::Absent in JSON.
const std::string kAbsentNames[] = {"present", "only", "or_else"};

json fieldList(const std::vector<FieldId> &fs) {
  json a = json::array();
  for (FieldId f : fs) a.push_back(fieldInfo(f).name);
  return a;
}

/// Reads j[key] as T; false and err when it is missing or of another type.
template <typename T> bool get(const json &j, const char *key, T &out, std::string &err) {
  auto it = j.find(key);
  if (it == j.end()) {
    err = std::string("missing \"") + key + "\"";
    return false;
  }
  try {
    out = it->get<T>();
  } catch (const json::exception &e) {
    err = std::string("\"") + key + "\": " + e.what();
    return false;
  }
  return true;
}

bool getField(const json &j, const char *key, FieldId &out, std::string &err) {
  std::string name;
  if (!get(j, key, name, err)) return false;
  auto f = fieldByName(name);
  if (!f) {
    err = std::string("\"") + key + "\": unknown field '" + name + "'";
    return false;
  }
  out = *f;
  return true;
}

bool getFields(const json &j, const char *key, std::vector<FieldId> &out, std::string &err) {
  std::vector<std::string> names;
  if (!get(j, key, names, err)) return false;
  for (const auto &n : names) {
    auto f = fieldByName(n);
    if (!f) {
      err = std::string("\"") + key + "\": unknown field '" + n + "'";
      return false;
    }
    out.push_back(*f);
  }
  return true;
}

} // namespace

json describeElement(const Element &e) {
  if (auto *n = dyn_cast<Napt>(&e))
    return {{"kind", "napt"}, {"field", fieldInfo(n->field).name}, {"address", n->address},
            {"ports", {n->portLo, n->portHi}}, {"timeout", n->timeoutSec}};
  if (auto *b = dyn_cast<Balance>(&e))
    return {{"kind", "balance"}, {"policy", b->policy == Balance::Hash ? "hash" : "round_robin"},
            {"field", fieldInfo(b->field).name}, {"backends", b->backends}};
  if (auto *mo = dyn_cast<Monitor>(&e)) return {{"kind", "monitor"}, {"key", fieldList(mo->key)}, {"timeout", mo->timeoutSec}};
  if (auto *c = dyn_cast<Conntrack>(&e)) return {{"kind", "conntrack"}, {"timeout", c->timeoutSec}, {"strict", c->strict}};
  if (auto *r = dyn_cast<RateLimit>(&e))
    return {{"kind", "ratelimit"}, {"packets", r->packets}, {"rate", r->rate}, {"burst", r->burst}, {"key", fieldList(r->key)}};
  if (auto *d = dyn_cast<Dpi>(&e)) {
    json pats = json::array();
    json rules = json::array();
    if (d->patterns) {
      for (const auto &p : d->patterns->patterns) {
        json pj = {{"id", p.id}, {"regex", p.regex}, {"flags", p.flags}, {"line", p.line}};
        if (p.buffer) pj["buffer"] = PatternRule::bufferName(PatternRule::Buffer(p.buffer));
        pats.push_back(std::move(pj));
      }
      // Suricata rules (compiler/import/Suricata.cpp): conditions and contents by pattern index.
      for (const auto &r : d->patterns->patternRules) {
        json contents = json::array();
        for (const auto &c : r.contents) contents.push_back({c.pattern, c.negated});
        json src = json::array(), dst = json::array(), sport = json::array(), dport = json::array();
        for (const auto &[a, m] : r.src.nets) src.push_back({a, m});
        for (const auto &[a, m] : r.dst.nets) dst.push_back({a, m});
        for (const auto &[lo, hi] : r.sport.ranges) sport.push_back({lo, hi});
        for (const auto &[lo, hi] : r.dport.ranges) dport.push_back({lo, hi});
        rules.push_back({{"sid", r.sid}, {"line", r.line}, {"proto", r.proto}, {"bidirectional", r.bidirectional},
                         {"flow", r.flow}, {"src", {{"negated", r.src.negated}, {"nets", src}}},
                         {"dst", {{"negated", r.dst.negated}, {"nets", dst}}},
                         {"sport", {{"negated", r.sport.negated}, {"ranges", sport}}},
                         {"dport", {{"negated", r.dport.negated}, {"ranges", dport}}}, {"contents", contents}});
        if (r.http) rules.back()["http"] = true;
        if (!r.checks.empty()) {
          json checks = json::array();
          for (const auto &k : r.checks)
            checks.push_back({{"buffer", PatternRule::bufferName(k.buffer)}, {"absent", kAbsentNames[k.absent]},
                              {"bsize", {k.bsizeLo, k.bsizeHi}}});
          rules.back()["checks"] = checks;
        }
      }
    }
    json j = {{"kind", "dpi"}, {"set", d->patternSet}, {"patterns", pats}};
    if (!rules.empty()) j["rules"] = rules;
    return j;
  }
  return {{"kind", elementKindName(e.kind)}};
}

DescribedElement elementFromJson(const json &j, std::string &err) {
  DescribedElement out;
  std::string kind;
  if (!j.is_object()) {
    err = "an element description must be an object";
    return out;
  }
  if (!get(j, "kind", kind, err)) return out;
  SourceRange none{};
  if (kind == "napt") {
    auto n = std::make_unique<Napt>(none);
    std::array<uint16_t, 2> ports{};
    if (!getField(j, "field", n->field, err) || !get(j, "address", n->address, err) || !get(j, "ports", ports, err) ||
        !get(j, "timeout", n->timeoutSec, err))
      return out;
    if (ports[0] > ports[1]) {
      err = "\"ports\": the range is empty";
      return out;
    }
    n->portLo = ports[0];
    n->portHi = ports[1];
    out.element = std::move(n);
  } else if (kind == "balance") {
    auto b = std::make_unique<Balance>(none);
    std::string policy;
    if (!get(j, "policy", policy, err) || !getField(j, "field", b->field, err) || !get(j, "backends", b->backends, err))
      return out;
    if (policy != "hash" && policy != "round_robin") {
      err = "\"policy\": '" + policy + "' is neither hash nor round_robin";
      return out;
    }
    if (b->backends.empty()) {
      err = "\"backends\": empty";
      return out;
    }
    b->policy = policy == "hash" ? Balance::Hash : Balance::RoundRobin;
    out.element = std::move(b);
  } else if (kind == "monitor") {
    auto mo = std::make_unique<Monitor>(none);
    if (!getFields(j, "key", mo->key, err) || !get(j, "timeout", mo->timeoutSec, err)) return out;
    out.element = std::move(mo);
  } else if (kind == "conntrack") {
    auto c = std::make_unique<Conntrack>(none);
    if (!get(j, "timeout", c->timeoutSec, err) || !get(j, "strict", c->strict, err)) return out;
    out.element = std::move(c);
  } else if (kind == "ratelimit") {
    auto r = std::make_unique<RateLimit>(none);
    if (!get(j, "packets", r->packets, err) || !get(j, "rate", r->rate, err) || !get(j, "burst", r->burst, err) ||
        !getFields(j, "key", r->key, err))
      return out;
    out.element = std::move(r);
  } else if (kind == "dpi") {
    auto d = std::make_unique<Dpi>(none);
    auto imp = std::make_unique<Import>();
    imp->kind = Import::Patterns;
    if (!get(j, "set", d->patternSet, err)) return out;
    imp->name = d->patternSet;
    auto it = j.find("patterns");
    if (it == j.end() || !it->is_array()) {
      err = "\"patterns\": missing or not an array";
      return out;
    }
    for (const auto &pj : *it) {
      Pattern p;
      if (!pj.is_object() || !get(pj, "id", p.id, err) || !get(pj, "regex", p.regex, err) || !get(pj, "flags", p.flags, err)) {
        if (err.empty()) err = "a pattern must be an object";
        err = "\"patterns\": " + err;
        return out;
      }
      if (pj.contains("line") && !get(pj, "line", p.line, err)) {
        err = "\"patterns\": " + err;
        return out;
      }
      if (pj.contains("buffer")) {
        std::string name;
        PatternRule::Buffer b{};
        if (!get(pj, "buffer", name, err) || !PatternRule::bufferOf(name, b)) {
          err = "\"patterns\": " + (err.empty() ? "unknown buffer '" + name + "'" : err);
          return out;
        }
        p.buffer = b;
      }
      imp->patterns.push_back(std::move(p));
    }
    if (auto rj = j.find("rules"); rj != j.end()) {
      if (!rj->is_array()) {
        err = "\"rules\": not an array";
        return out;
      }
      try {
        for (const auto &x : *rj) {
          PatternRule r;
          r.sid = x.at("sid").get<uint32_t>();
          r.line = x.at("line").get<uint32_t>();
          r.proto = x.at("proto").get<uint8_t>();
          r.bidirectional = x.at("bidirectional").get<bool>();
          r.flow = x.at("flow").get<uint8_t>();
          auto addrs = [](const json &a, PatternRule::AddrSet &set) {
            set.negated = a.at("negated").get<bool>();
            for (const auto &n : a.at("nets")) set.nets.push_back({n.at(0).get<uint32_t>(), n.at(1).get<uint32_t>()});
          };
          auto ports = [](const json &a, PatternRule::PortSet &set) {
            set.negated = a.at("negated").get<bool>();
            for (const auto &n : a.at("ranges")) set.ranges.push_back({n.at(0).get<uint16_t>(), n.at(1).get<uint16_t>()});
          };
          addrs(x.at("src"), r.src);
          addrs(x.at("dst"), r.dst);
          ports(x.at("sport"), r.sport);
          ports(x.at("dport"), r.dport);
          for (const auto &c : x.at("contents")) {
            PatternRule::Content k{c.at(0).get<uint32_t>(), c.at(1).get<bool>()};
            if (k.pattern >= imp->patterns.size()) {
              err = "\"rules\": rule " + std::to_string(r.sid) + " names pattern " + std::to_string(k.pattern) +
                    " of " + std::to_string(imp->patterns.size());
              return out;
            }
            r.contents.push_back(k);
          }
          r.http = x.value("http", false);
          if (auto cj = x.find("checks"); cj != x.end())
            for (const auto &c : *cj) {
              PatternRule::BufferCheck k;
              const std::string name = c.at("buffer").get<std::string>(), absent = c.at("absent").get<std::string>();
              const auto a = std::find(std::begin(kAbsentNames), std::end(kAbsentNames), absent);
              if (!PatternRule::bufferOf(name, k.buffer) || a == std::end(kAbsentNames)) {
                err = "\"rules\": rule " + std::to_string(r.sid) + ": a check with buffer '" + name + "' and absent '" +
                      absent + "' (buffers: http.uri ...; absent: present, only, or_else)";
                return out;
              }
              k.absent = PatternRule::BufferCheck::Absent(a - std::begin(kAbsentNames));
              k.bsizeLo = c.at("bsize").at(0).get<uint32_t>();
              k.bsizeHi = c.at("bsize").at(1).get<uint32_t>();
              r.checks.push_back(k);
            }
          imp->patternRules.push_back(std::move(r));
        }
      } catch (const json::exception &e) {
        err = std::string("\"rules\": ") + e.what();
        return out;
      }
    }
    d->patterns = imp.get();
    out.patterns = std::move(imp);
    out.element = std::move(d);
  } else {
    err = "\"kind\": '" + kind + "' is not a stateful element the data plane runs";
  }
  return out;
}

} // namespace metron::state
