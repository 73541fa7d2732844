//===- compiler/place/Topology.cpp - Reading topology files and finding paths ---------------===//
///
/// \file
/// Strict TOML reading of the schema in man/metronc-topology.5, in the manner of
/// compiler/split/Profile.cpp: every table's keys are checked against the keys it may hold,
/// every value's type and range is checked, every required key must be present, and the
/// first problem stops the reading with the position toml++ recorded for the offending key or
/// value and the key as a path ("server[0].nic[1].profile"). Tables are read in a fixed
/// order — top level, switches, servers, links, ingress points, egress points — so that a
/// conflict is reported at the later of the two things that conflict.
///
/// pathToServer is a breadth-first search over the links from the ingress point; see
/// Topology.h.
//===----------------------------------------------------------------------------------------===//
#include "compiler/place/Topology.h"

#include "lang/Diagnostics.h"
#include "lang/Source.h"

#include "compiler/split/TomlNames.h"

#include <toml++/toml.h>

#include <arpa/inet.h>
#include <cmath>
#include <cstdio>
#include <deque>
#include <initializer_list>

namespace metron::place {

std::string PortRef::str() const { return element + ":" + std::to_string(port); }

const Switch *Topology::findSwitch(std::string_view n) const {
  for (const Switch &s : switches)
    if (s.name == n) return &s;
  return nullptr;
}

const Server *Topology::findServer(std::string_view n) const {
  for (const Server &s : servers)
    if (s.name == n) return &s;
  return nullptr;
}

const Nic *Topology::findNic(std::string_view id) const {
  size_t dot = id.find('.');
  if (dot == std::string_view::npos) return nullptr;
  const Server *s = findServer(id.substr(0, dot));
  if (!s) return nullptr;
  for (const Nic &n : s->nics)
    if (n.name == id.substr(dot + 1)) return &n;
  return nullptr;
}

std::optional<PortRef> Topology::peer(const PortRef &p) const {
  for (const Link &l : links) {
    if (l.a == p) return l.b;
    if (l.b == p) return l.a;
  }
  return std::nullopt;
}

std::string TopologyError::str() const {
  std::string s;
  if (!path.empty()) {
    s += path;
    if (line) s += ":" + std::to_string(line) + ":" + std::to_string(column ? column : 1);
    s += ": ";
  }
  s += "error: ";
  if (!key.empty()) s += key + ": ";
  return s + message;
}

namespace {

constexpr uint64_t kMaxTopologyBytes = 1 << 20;
constexpr int64_t kMaxCores = 1024;
constexpr int64_t kMaxPorts = 65535;
constexpr uint64_t kMaxRules = 1ull << 40; // as a profile's `rules`
constexpr size_t kMaxNameLength = 64;

/// Element names: [A-Za-z_][A-Za-z0-9_-]*. Chain ports: identifiers of metron-lang(7),
/// [A-Za-z_][A-Za-z0-9_]*. Both 1 to 64 characters.
bool isName(std::string_view s, bool allowDash) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9') && !(allowDash && c == '-')) return false;
  return true;
}

std::string number(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

std::string indexed(const std::string &array, size_t i) { return array + "[" + std::to_string(i) + "]"; }

/// The directory part of \p path with its trailing '/', or "" (the current directory).
std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

/// "examples/fig8a.toml" -> "fig8a".
std::string baseName(const std::string &path) {
  std::string b = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (b.size() > 5 && b.compare(b.size() - 5, 5, ".toml") == 0) b.resize(b.size() - 5);
  return b;
}

class Reader {
public:
  Reader(const std::string &path, TopologyError &err) : path_(path), err_(err) {}

  bool read(const toml::table &root, Topology &t) {
    t.path = path_;
    t.name = baseName(path_);
    if (!keys(root, "", "the top level", {"name", "cap_thr", "switch", "server", "link", "ingress", "egress"}))
      return false;
    if (const toml::node *n = root.get("name")) {
      if (!n->is_string()) return wrongType(*n, "name", "a string");
      t.name = n->as_string()->get();
      if (!isName(t.name, true)) return badName(*n, "name", t.name);
    }
    if (!capThr(root, "", t.capThr, t.capThr)) return false;

    const toml::array *a;
    if (!arrayOfTables(root, "switch", a)) return false;
    for (size_t i = 0; a && i < a->size(); ++i) {
      Switch s;
      if (!readSwitch(*(*a)[i].as_table(), indexed("switch", i), t, s)) return false;
      t.switches.push_back(std::move(s));
    }
    if (!arrayOfTables(root, "server", a)) return false;
    if (!a || a->empty())
      return failAt(a ? a->source() : root.source(), "server", "a topology needs at least one [[server]]");
    for (size_t i = 0; i < a->size(); ++i) {
      Server s;
      if (!readServer(*(*a)[i].as_table(), indexed("server", i), t, s)) return false;
      t.servers.push_back(std::move(s));
    }
    if (!arrayOfTables(root, "link", a)) return false;
    for (size_t i = 0; a && i < a->size(); ++i)
      if (!readLink(*(*a)[i].as_table(), indexed("link", i), t)) return false;
    if (!arrayOfTables(root, "ingress", a)) return false;
    for (size_t i = 0; a && i < a->size(); ++i)
      if (!readEndpoint(*(*a)[i].as_table(), "ingress", i, t, t.ingress)) return false;
    if (!arrayOfTables(root, "egress", a)) return false;
    for (size_t i = 0; a && i < a->size(); ++i)
      if (!readEndpoint(*(*a)[i].as_table(), "egress", i, t, t.egress)) return false;
    return true;
  }

  bool fail(const toml::node &n, const std::string &key, const std::string &msg) {
    return failAt(n.source(), key, msg);
  }
  bool failAt(const toml::source_region &r, const std::string &key, const std::string &msg) {
    err_.path = path_;
    err_.line = r.begin.line ? r.begin.line : 1;
    err_.column = r.begin.column ? r.begin.column : 1;
    err_.key = key;
    err_.message = msg;
    return false;
  }

private:
  static std::string join(const std::string &table, const std::string &key) {
    return table.empty() ? key : table + "." + key;
  }

  /// Every key of \p t must be in \p allowed; \p what names the table in the message.
  bool keys(const toml::table &t, const std::string &table, const char *what,
            std::initializer_list<const char *> allowed) {
    for (auto &&[k, v] : t) {
      bool ok = false;
      for (const char *a : allowed) ok = ok || k.str() == a;
      if (ok) continue;
      std::string list;
      for (const char *a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      return failAt(k.source(), join(table, printable(k.str())),
                    std::string("unknown key; ") + what + " has the keys " + list);
    }
    return true;
  }

  static const char *typeName(const toml::node &n) { return tomlTypeName(n); }
  bool wrongType(const toml::node &n, const std::string &key, const std::string &want) {
    return fail(n, key, "must be " + want + ", not " + typeName(n));
  }
  bool badName(const toml::node &n, const std::string &key, const std::string &name) {
    return fail(n, key,
                "must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '-', starting with a letter or '_', not \"" +
                    printable(name) + "\"");
  }

  const toml::node *need(const toml::table &t, const std::string &table, const char *key, const char *what) {
    const toml::node *n = t.get(key);
    if (!n) failAt(t.source(), join(table, key), std::string("missing required key '") + key + "' in " + what);
    return n;
  }

  bool str(const toml::table &t, const std::string &table, const char *key, const char *what, std::string &out,
           const toml::node **node = nullptr) {
    const toml::node *n = need(t, table, key, what);
    if (!n) return false;
    if (!n->is_string()) return wrongType(*n, join(table, key), "a string");
    out = n->as_string()->get();
    if (node) *node = n;
    return true;
  }

  /// An optional array of tables at the top level; \p out is null when the key is absent.
  bool arrayOfTables(const toml::table &root, const char *key, const toml::array *&out) {
    out = nullptr;
    const toml::node *n = root.get(key);
    if (!n) return true;
    if (!n->is_array()) return wrongType(*n, key, std::string("an array of tables ([[") + key + "]])");
    const toml::array &a = *n->as_array();
    for (size_t i = 0; i < a.size(); ++i)
      if (!a[i].is_table()) return wrongType(a[i], indexed(key, i), "a table");
    out = &a;
    return true;
  }

  /// An optional integer from 1 to \p max.
  bool integer(const toml::table &t, const std::string &table, const char *key, int64_t max, int64_t &out) {
    const toml::node *n = t.get(key);
    if (!n) return true;
    std::string want = "an integer from 1 to " + std::to_string(max);
    if (!n->is_integer()) return wrongType(*n, join(table, key), want);
    int64_t v = n->as_integer()->get();
    if (v < 1 || v > max) return fail(*n, join(table, key), "must be " + want + ", not " + std::to_string(v));
    out = v;
    return true;
  }

  /// An optional `cap_thr`: a number in (0, 1]; \p out is \p dflt when absent.
  bool capThr(const toml::table &t, const std::string &table, double dflt, double &out) {
    out = dflt;
    const toml::node *n = t.get("cap_thr");
    if (!n) return true;
    std::string key = join(table, "cap_thr");
    const char *want = "a number greater than 0 and at most 1";
    double v;
    if (n->is_integer()) v = double(n->as_integer()->get());
    else if (n->is_floating_point()) v = n->as_floating_point()->get();
    else return wrongType(*n, key, want);
    if (!(v > 0 && v <= 1)) return fail(*n, key, std::string("must be ") + want + ", not " + number(v));
    out = v;
    return true;
  }

  /// A unique element name (switches and servers share one name space).
  bool elementName(const toml::table &t, const std::string &table, const char *what, const Topology &topo,
                   std::string &out) {
    const toml::node *n;
    if (!str(t, table, "name", what, out, &n)) return false;
    if (!isName(out, true)) return badName(*n, join(table, "name"), out);
    for (size_t i = 0; i < topo.switches.size(); ++i)
      if (topo.switches[i].name == out)
        return fail(*n, join(table, "name"), "'" + out + "' is already the name of " + indexed("switch", i));
    for (size_t i = 0; i < topo.servers.size(); ++i)
      if (topo.servers[i].name == out)
        return fail(*n, join(table, "name"), "'" + out + "' is already the name of " + indexed("server", i));
    return true;
  }

  /// `profile`, resolved by split::loadDeviceProfile (a relative path against the directory of
  /// the topology file), of the kind \p kind.
  bool profile(const toml::table &t, const std::string &table, const char *what, split::DeviceProfile::Kind kind,
               split::DeviceProfile &out) {
    std::string arg;
    const toml::node *n;
    if (!str(t, table, "profile", what, arg, &n)) return false;
    std::string key = join(table, "profile");
    bool isPath =
        arg.find('/') != std::string::npos || (arg.size() >= 5 && arg.compare(arg.size() - 5, 5, ".toml") == 0);
    std::string resolved = isPath && arg[0] != '/' ? directoryOf(path_) + arg : arg;
    split::ProfileError pe;
    std::optional<split::DeviceProfile> p = split::loadDeviceProfile(resolved, pe);
    if (!p) {
      std::string where;
      if (!pe.path.empty()) {
        where = pe.path;
        if (pe.line) where += ":" + std::to_string(pe.line) + ":" + std::to_string(pe.column ? pe.column : 1);
        where += ": ";
      }
      return fail(*n, key, where + pe.message);
    }
    if (p->kind != kind) {
      bool wantSwitch = kind == split::DeviceProfile::Switch;
      return fail(
          *n, key,
          "'" + printable(arg) + "' is " + (wantSwitch ? "a NIC" : "a switch") + " profile; " +
              (wantSwitch ? "a switch needs a profile of kind \"switch\"" : "a NIC needs a profile of kind \"nic\""));
    }
    out = std::move(*p);
    return true;
  }

  /// `rules`: optional, 1 to 2^40 or "unbounded", at most what table 0 of the profile holds.
  bool rules(const toml::table &t, const std::string &table, const split::DeviceProfile &p, uint64_t &out) {
    out = p.table0.rules;
    const toml::node *n = t.get("rules");
    if (!n) return true;
    std::string key = join(table, "rules");
    std::string want = "an integer from 1 to " + std::to_string(kMaxRules) + " or \"unbounded\"";
    uint64_t v;
    if (n->is_string()) {
      if (n->as_string()->get() != "unbounded")
        return fail(*n, key, "must be " + want + ", not \"" + printable(n->as_string()->get()) + "\"");
      v = split::kUnbounded;
    } else if (n->is_integer()) {
      int64_t i = n->as_integer()->get();
      if (i < 1 || uint64_t(i) > kMaxRules) return fail(*n, key, "must be " + want + ", not " + std::to_string(i));
      v = uint64_t(i);
    } else {
      return wrongType(*n, key, want);
    }
    if (p.table0.rules != split::kUnbounded && v > p.table0.rules)
      return fail(*n, key,
                  (v == split::kUnbounded ? std::string("\"unbounded\"") : std::to_string(v)) + " is more than the " +
                      std::to_string(p.table0.rules) + " rules table 0 of '" + p.name + "' holds");
    out = v;
    return true;
  }

  bool readSwitch(const toml::table &t, const std::string &table, const Topology &topo, Switch &s) {
    const char *what = "[[switch]]";
    if (!keys(t, table, "a [[switch]]", {"name", "profile", "rules", "cap_thr", "ports", "openflow"})) return false;
    int64_t ports = 0;
    if (!elementName(t, table, what, topo, s.name) ||
        !profile(t, table, what, split::DeviceProfile::Switch, s.profile) || !rules(t, table, s.profile, s.capacity) ||
        !capThr(t, table, topo.capThr, s.capThr) || !integer(t, table, "ports", kMaxPorts, ports))
      return false;
    s.ports = uint32_t(ports);
    if (const toml::node *n = t.get("openflow")) {
      // Where metronc deploy reaches the switch: an ovs-ofctl target.
      if (!n->is_string()) return wrongType(*n, join(table, "openflow"), "a string");
      s.openflow = n->as_string()->get();
      const bool ok = (s.openflow.rfind("unix:", 0) == 0 && s.openflow.size() > 5) ||
                      ((s.openflow.rfind("tcp:", 0) == 0 || s.openflow.rfind("ssl:", 0) == 0) && hostPort(s.openflow.substr(4)));
      if (!ok)
        return fail(*n, join(table, "openflow"),
                    "must be an OpenFlow connection ovs-ofctl takes: \"unix:PATH\" (a bridge's .mgmt socket), "
                    "\"tcp:IP:PORT\" or \"ssl:IP:PORT\", not \"" + printable(s.openflow) + "\"");
    }
    return true;
  }

  /// "IP:PORT" or "[IPv6]:PORT" with a port from 1 to 65535 (names are not resolved).
  static bool hostPort(const std::string &s) {
    size_t c = s.rfind(':');
    if (c == std::string::npos || c == 0 || c + 1 == s.size() || s.size() - c > 6) return false;
    for (size_t i = c + 1; i < s.size(); ++i)
      if (!isdigit(static_cast<unsigned char>(s[i]))) return false;
    const long port = std::stol(s.substr(c + 1));
    std::string h = s.substr(0, c);
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    unsigned char buf[16];
    return port >= 1 && port <= 65535 &&
           (inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1);
  }

  bool readServer(const toml::table &t, const std::string &table, const Topology &topo, Server &s) {
    const char *what = "[[server]]";
    if (!keys(t, table, "a [[server]]", {"name", "cores", "nic", "agent"}) || !elementName(t, table, what, topo, s.name))
      return false;
    if (const toml::node *n = t.get("agent")) {
      // Where metronc deploy reaches the server's metron-agent.
      if (!n->is_string()) return wrongType(*n, join(table, "agent"), "a string");
      s.agent = n->as_string()->get();
      if (!hostPort(s.agent))
        return fail(*n, join(table, "agent"), "must be the IP:PORT of the server's metron-agent, not \"" +
                                                  printable(s.agent) + "\"");
    }
    const toml::node *c = need(t, table, "cores", what);
    if (!c) return false;
    int64_t cores = 0;
    if (!integer(t, table, "cores", kMaxCores, cores)) return false;
    s.cores = unsigned(cores);
    std::string nicKey = join(table, "nic");
    const toml::node *n = t.get("nic");
    if (!n) return failAt(t.source(), nicKey, "server '" + s.name + "' has no NIC; add a [[server.nic]]");
    if (!n->is_array()) return wrongType(*n, nicKey, "an array of tables ([[server.nic]])");
    const toml::array &a = *n->as_array();
    if (a.empty()) return fail(*n, nicKey, "server '" + s.name + "' has no NIC; add a [[server.nic]]");
    for (size_t i = 0; i < a.size(); ++i) {
      std::string nt = indexed(nicKey, i);
      if (!a[i].is_table()) return wrongType(a[i], nt, "a table");
      if (!readNic(*a[i].as_table(), nt, topo, s)) return false;
    }
    return true;
  }

  bool readNic(const toml::table &t, const std::string &table, const Topology &topo, Server &server) {
    const char *what = "[[server.nic]]";
    if (!keys(t, table, "a [[server.nic]]", {"name", "profile", "ports", "rules", "cap_thr"})) return false;
    Nic nic;
    const toml::node *n;
    if (!str(t, table, "name", what, nic.name, &n)) return false;
    if (!isName(nic.name, true)) return badName(*n, join(table, "name"), nic.name);
    for (size_t i = 0; i < server.nics.size(); ++i)
      if (server.nics[i].name == nic.name)
        return fail(*n, join(table, "name"),
                    "'" + nic.name + "' is already the name of NIC " + std::to_string(i) + " of server '" +
                        server.name + "'");
    nic.id = server.name + "." + nic.name;
    int64_t ports = 1;
    if (!profile(t, table, what, split::DeviceProfile::Nic, nic.profile) ||
        !integer(t, table, "ports", kMaxPorts, ports) || !rules(t, table, nic.profile, nic.capacity) ||
        !capThr(t, table, topo.capThr, nic.capThr))
      return false;
    nic.ports = uint32_t(ports);
    server.nics.push_back(std::move(nic));
    return true;
  }

  /// A port reference ("s1:2", "server1.nic0:0") naming an existing port.
  bool portRef(const toml::table &t, const std::string &table, const char *key, const char *what, const Topology &topo,
               PortRef &out) {
    std::string text;
    const toml::node *n;
    if (!str(t, table, key, what, text, &n)) return false;
    std::string k = join(table, key);
    size_t colon = text.rfind(':');
    std::string elem = colon == std::string::npos ? text : text.substr(0, colon);
    std::string digits = colon == std::string::npos ? std::string() : text.substr(colon + 1);
    bool ok = !elem.empty() && !digits.empty() && digits.size() <= 9;
    for (char c : digits) ok = ok && c >= '0' && c <= '9';
    size_t dot = elem.find('.');
    if (ok && dot == std::string::npos) ok = isName(elem, true);
    else if (ok) ok = isName(elem.substr(0, dot), true) && isName(elem.substr(dot + 1), true);
    if (!ok) return fail(*n, k, "bad port reference \"" + printable(text) + "\"; write SWITCH:PORT or SERVER.NIC:PORT");
    uint64_t port = std::stoull(digits);
    if (dot == std::string::npos) {
      if (const Switch *s = topo.findSwitch(elem)) {
        if (port < 1 || (s->ports && port > s->ports) || port > uint64_t(kMaxPorts))
          return fail(*n, k,
                      "port " + std::to_string(port) + " is out of range: " +
                          (s->ports ? "switch '" + elem + "' has " + std::to_string(s->ports) + " port" +
                                          (s->ports == 1 ? "" : "s") + ", numbered from 1"
                                    : std::string("switch ports are numbered from 1 to ") + std::to_string(kMaxPorts)));
      } else if (topo.findServer(elem)) {
        return fail(*n, k,
                    "'" + elem + "' is a server; name a port of one of its NICs, as in \"" + elem + "." +
                        topo.findServer(elem)->nics.front().name + ":0\"");
      } else {
        return fail(*n, k, "unknown element '" + elem + "'");
      }
    } else {
      const Server *srv = topo.findServer(elem.substr(0, dot));
      if (!srv) return fail(*n, k, "unknown element '" + elem + "'");
      const Nic *nic = topo.findNic(elem);
      if (!nic) return fail(*n, k, "server '" + srv->name + "' has no NIC '" + elem.substr(dot + 1) + "'");
      if (port >= nic->ports)
        return fail(*n, k,
                    "port " + std::to_string(port) + " is out of range: NIC '" + elem + "' has " +
                        std::to_string(nic->ports) + " port" + (nic->ports == 1 ? "" : "s") + ", numbered from 0");
    }
    out = PortRef{elem, uint32_t(port)};
    return true;
  }

  bool readLink(const toml::table &t, const std::string &table, Topology &topo) {
    const char *what = "[[link]]";
    Link l;
    if (!keys(t, table, "a [[link]]", {"a", "b"}) || !portRef(t, table, "a", what, topo, l.a) ||
        !portRef(t, table, "b", what, topo, l.b))
      return false;
    if (l.a == l.b)
      return fail(*t.get("b"), join(table, "b"), "a link cannot connect port " + l.a.str() + " to itself");
    for (const char *end : {"a", "b"}) {
      const PortRef &p = *end == 'a' ? l.a : l.b;
      for (size_t i = 0; i < topo.links.size(); ++i)
        if (topo.links[i].a == p || topo.links[i].b == p)
          return fail(*t.get(end), join(table, end), "port " + p.str() + " is already linked by " + indexed("link", i));
    }
    topo.links.push_back(std::move(l));
    return true;
  }

  /// An [[ingress]] or [[egress]] point: a chain port named once, at a port with no link and no
  /// other point of the same direction.
  bool readEndpoint(const toml::table &t, const char *array, size_t index, const Topology &topo,
                    std::vector<Endpoint> &out) {
    std::string table = indexed(array, index);
    std::string what = std::string("[[") + array + "]]";
    std::string desc = std::string("a ") + what;
    if (!keys(t, table, desc.c_str(), {"port", "at"})) return false;
    Endpoint e;
    const toml::node *n;
    if (!str(t, table, "port", what.c_str(), e.chainPort, &n)) return false;
    if (!isName(e.chainPort, false))
      return fail(*n, join(table, "port"),
                  "must be a chain port name: 1 to 64 characters of A-Z, a-z, 0-9, '_', starting with a letter or '_', "
                  "not \"" +
                      printable(e.chainPort) + "\"");
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].chainPort == e.chainPort)
        return fail(*n, join(table, "port"),
                    "chain port '" + e.chainPort + "' already has an " + array + " point (" + indexed(array, i) +
                        ", at " + out[i].at.str() + ")");
    if (!portRef(t, table, "at", what.c_str(), topo, e.at)) return false;
    const toml::node &at = *t.get("at");
    for (size_t i = 0; i < topo.links.size(); ++i)
      if (topo.links[i].a == e.at || topo.links[i].b == e.at)
        return fail(at, join(table, "at"),
                    "port " + e.at.str() + " is linked (" + indexed("link", i) + "); an " + array +
                        " point must be a port with no link");
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].at == e.at)
        return fail(at, join(table, "at"),
                    "port " + e.at.str() + " is already the " + array + " point of '" + out[i].chainPort + "' (" +
                        indexed(array, i) + ")");
    out.push_back(std::move(e));
    return true;
  }

  std::string path_;
  TopologyError &err_;
};

} // namespace

std::optional<Topology> parseTopology(std::string_view text, const std::string &path, TopologyError &err) {
  err = {};
  if (text.size() > kMaxTopologyBytes) {
    err.path = path;
    err.message = "the topology is larger than 1 MiB (" + std::to_string(text.size()) + " bytes)";
    return std::nullopt;
  }
  std::optional<toml::table> parsed = parseTomlOrError(text, path, err);
  if (!parsed) return std::nullopt;
  const toml::table &root = *parsed;
  Topology t;
  Reader r(path, err);
  if (!r.read(root, t)) return std::nullopt;
  return t;
}

std::optional<Topology> loadTopology(const std::string &path, TopologyError &err) {
  err = {};
  SourceManager sm;
  std::string reason;
  FileID id = sm.readFile(path, kMaxTopologyBytes, reason);
  if (!id) {
    err.path = path;
    err.message = "cannot read the topology: " + reason;
    return std::nullopt;
  }
  return parseTopology(sm.file(id).text, path, err);
}

std::vector<Hop> pathToServer(const Topology &t, const std::string &chainPort, const std::string &server,
                              std::string &err) {
  err.clear();
  const Endpoint *in = nullptr;
  for (const Endpoint &e : t.ingress)
    if (e.chainPort == chainPort) in = &e;
  if (!in) {
    err = "no ingress point for chain port '" + printable(chainPort) + "' in topology '" + t.name + "'";
    return {};
  }
  if (!t.findServer(server)) {
    err = "no server '" + printable(server) + "' in topology '" + t.name + "'";
    return {};
  }
  auto onServer = [&](const std::string &element) { return element.compare(0, server.size() + 1, server + ".") == 0; };
  std::string unreachable =
      "server '" + server + "' is not reachable from ingress '" + chainPort + "' (" + in->at.str() + ")";

  // A NIC is a terminal: traffic that enters one does not leave it towards the network.
  if (!t.findSwitch(in->at.element)) {
    if (onServer(in->at.element)) return {Hop{in->at.element, false, in->at.port, 0}};
    err = unreachable;
    return {};
  }

  // Breadth-first over switches; a switch's links are tried in file order, so the path found is
  // the one with the fewest hops and, among those, the lexicographically first sequence of links.
  size_t n = t.switches.size();
  auto index = [&](const std::string &name) {
    for (size_t i = 0; i < n; ++i)
      if (t.switches[i].name == name) return i;
    return n;
  };
  struct Visit {
    bool seen = false;
    uint32_t inPort = 0;
    size_t from = SIZE_MAX; ///< the switch before this one
    uint32_t fromPort = 0;  ///< the port of `from` towards this one
  };
  std::vector<Visit> v(n);
  size_t start = index(in->at.element);
  v[start] = Visit{true, in->at.port, SIZE_MAX, 0};
  std::deque<size_t> queue{start};
  auto path = [&](size_t last, uint32_t outPort, const PortRef &nic) {
    std::vector<Hop> hops{Hop{nic.element, false, nic.port, 0}};
    for (size_t s = last; s != SIZE_MAX; s = v[s].from) {
      hops.push_back(Hop{t.switches[s].name, true, v[s].inPort, outPort});
      outPort = v[s].fromPort;
    }
    return std::vector<Hop>(hops.rbegin(), hops.rend());
  };
  while (!queue.empty()) {
    size_t u = queue.front();
    queue.pop_front();
    const std::string &name = t.switches[u].name;
    for (const Link &l : t.links) {
      for (int side = 0; side < 2; ++side) {
        const PortRef &here = side == 0 ? l.a : l.b, &there = side == 0 ? l.b : l.a;
        if (here.element != name || here.port == v[u].inPort) continue;
        size_t w = index(there.element);
        if (w == n) {
          if (onServer(there.element)) return path(u, here.port, there);
          continue;
        }
        if (v[w].seen) continue;
        v[w] = Visit{true, there.port, u, here.port};
        queue.push_back(w);
      }
    }
  }
  err = unreachable;
  return {};
}

} // namespace metron::place
