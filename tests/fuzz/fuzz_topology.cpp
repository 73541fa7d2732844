//===- tests/fuzz/fuzz_topology.cpp - libFuzzer target: topology files (TOML) ---------------===//
///
/// The input is the text of a topology file (man/metronc-topology.5), parsed by
/// metron::place::parseTopology, the function loadTopology uses. It must never crash nor let an
/// exception out; a rejected input must come with a non-empty message, and an accepted one must
/// satisfy what Topology.h promises (unique names, resolvable port references in range, no port
/// used twice, ingress and egress points on free ports). pathToServer is then asked for every
/// ingress point and every server: it must return either an error or a path that follows the
/// links from the ingress point to a NIC of that server. LLVMFuzzerInitialize checks once that
/// the shipped examples (examples/*.toml) are accepted.
//===----------------------------------------------------------------------------------------===//
#include "compiler/place/Topology.h"

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>

namespace {

using namespace metron::place;

void check(bool ok, const char *what, const std::string &detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_topology: property violated: %s %s\n", what, detail.c_str());
    __builtin_trap();
  }
}

/// The port exists: a switch port from 1 (to `ports` when declared), a NIC port below `ports`.
bool portExists(const Topology &t, const PortRef &p) {
  if (const Switch *s = t.findSwitch(p.element)) return p.port >= 1 && (s->ports == 0 || p.port <= s->ports);
  if (const Nic *n = t.findNic(p.element)) return p.port < n->ports;
  return false;
}

void checkPath(const Topology &t, const Endpoint &in, const Server &server, const std::vector<Hop> &path) {
  check(!path.empty(), "an empty path without an error");
  check(path.size() <= t.switches.size() + 1, "a path longer than the switches allow");
  check(path.front().element == in.at.element && path.front().inPort == in.at.port,
        "the path does not start at the ingress point", in.at.str());
  std::set<std::string> seen;
  for (size_t i = 0; i < path.size(); ++i) {
    const Hop &h = path[i];
    bool last = i + 1 == path.size();
    check(h.isSwitch == !last, "only the last hop is a NIC", h.element);
    check(seen.insert(h.element).second, "a path visits an element twice", h.element);
    if (!last) {
      check(t.findSwitch(h.element) != nullptr, "a switch hop names no switch", h.element);
      check(h.outPort != h.inPort, "a switch sends traffic back where it came from", h.element);
      auto next = t.peer(PortRef{h.element, h.outPort});
      check(next && next->element == path[i + 1].element && next->port == path[i + 1].inPort,
            "consecutive hops are not linked", h.element);
    } else {
      const Nic *n = t.findNic(h.element);
      check(n != nullptr, "the last hop names no NIC", h.element);
      check(h.element.rfind(server.name + ".", 0) == 0, "the path ends at a NIC of another server", h.element);
    }
  }
}

void checkAccepted(const Topology &t) {
  check(!t.servers.empty(), "accepted a topology without a server");
  check(t.capThr > 0 && t.capThr <= 1, "top-level cap_thr out of (0, 1]");
  std::set<std::string> names;
  for (const Switch &s : t.switches) {
    check(names.insert(s.name).second, "duplicate element name", s.name);
    check(s.profile.kind == metron::split::DeviceProfile::Switch, "a switch with a NIC profile", s.name);
    check(s.capacity >= 1, "a switch with no capacity", s.name);
    check(s.capThr > 0 && s.capThr <= 1, "switch cap_thr out of (0, 1]", s.name);
  }
  for (const Server &s : t.servers) {
    check(names.insert(s.name).second, "duplicate element name", s.name);
    check(s.cores >= 1 && s.cores <= 1024, "cores out of range", s.name);
    check(!s.nics.empty(), "a server without a NIC", s.name);
    std::set<std::string> nics;
    for (const Nic &n : s.nics) {
      check(nics.insert(n.name).second, "duplicate NIC name", n.id);
      check(n.id == s.name + "." + n.name, "NIC id is not server.nic", n.id);
      check(t.findNic(n.id) == &n, "findNic does not find a NIC", n.id);
      check(n.profile.kind == metron::split::DeviceProfile::Nic, "a NIC with a switch profile", n.id);
      check(n.capacity >= 1 && n.ports >= 1, "a NIC with no capacity or no port", n.id);
      check(n.capThr > 0 && n.capThr <= 1, "NIC cap_thr out of (0, 1]", n.id);
    }
  }
  std::set<std::string> linked;
  for (const Link &l : t.links) {
    check(portExists(t, l.a) && portExists(t, l.b), "a link to a port that does not exist",
          l.a.str() + " " + l.b.str());
    check(!(l.a == l.b), "a link from a port to itself", l.a.str());
    check(linked.insert(l.a.str()).second && linked.insert(l.b.str()).second, "a port in two links",
          l.a.str() + " " + l.b.str());
    check(t.peer(l.a) && *t.peer(l.a) == l.b, "peer() does not follow a link", l.a.str());
  }
  for (const auto *points : {&t.ingress, &t.egress}) {
    std::set<std::string> ports, at;
    for (const Endpoint &e : *points) {
      check(!e.chainPort.empty() && ports.insert(e.chainPort).second, "a chain port with two points", e.chainPort);
      check(portExists(t, e.at), "an ingress or egress point at a port that does not exist", e.at.str());
      check(!linked.count(e.at.str()), "an ingress or egress point at a linked port", e.at.str());
      check(at.insert(e.at.str()).second, "two points of one direction at one port", e.at.str());
    }
  }
  for (const Endpoint &in : t.ingress)
    for (const Server &s : t.servers) {
      std::string err;
      std::vector<Hop> path = pathToServer(t, in.chainPort, s.name, err);
      if (path.empty()) check(!err.empty(), "no path and no error");
      else {
        check(err.empty(), "a path with an error", err);
        checkPath(t, in, s, path);
      }
    }
  std::string err;
  check(pathToServer(t, "no_such_chain_port_at_all_xyz", t.servers[0].name, err).empty() && !err.empty(),
        "a path from a chain port without an ingress point");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  for (const char *name : {"fig8a", "fig8b", "fig13"}) {
    TopologyError err;
    auto t = loadTopology(std::string(METRON_SOURCE_DIR) + "/examples/" + name + ".toml", err);
    check(t.has_value(), "a shipped example is rejected:", err.str());
    checkAccepted(*t);
    std::string perr;
    check(!pathToServer(*t, "port0", t->servers[0].name, perr).empty(), "no path in a shipped example:", perr);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  TopologyError err;
  auto t = parseTopology(text, "fuzz.toml", err);
  if (!t) {
    check(!err.message.empty(), "an input was rejected with an empty message");
    check(!err.str().empty(), "an input was rejected with an empty error string");
    return 0;
  }
  check(err.message.empty(), "an accepted input left an error message");
  check(t->path == "fuzz.toml", "the topology does not record its path");
  checkAccepted(*t);
  return 0;
}
