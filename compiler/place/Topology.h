//===- compiler/place/Topology.h - The network a chain is compiled for ----------*- C++ -*-===//
///
/// \file
/// A topology file (TOML, man/metronc-topology.5) names the switches (a device profile, a rule
/// capacity, CAP_THR), the servers (cores and NICs, each NIC with a profile), the links
/// between element ports, and where each chain ingress/egress port meets the network. The
/// compiler uses it to pick the element that runs the stateless part (paper Algorithm 2,
/// compiler/place/Place.h) and to write the path, dispatch and return rules.
///
/// Port references: "s1:2" is port 2 of switch s1; "server1.nic0:0" is port 0 of NIC nic0 of
/// server server1. Ports are numbered from 0 on NICs and from 1 on switches (OpenFlow).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/split/Profile.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace metron::place {

/// A port of a switch or NIC: element is a switch name or "server.nic".
struct PortRef {
  std::string element;
  uint32_t port = 0;
  std::string str() const; ///< "s1:2"
  bool operator==(const PortRef &o) const { return element == o.element && port == o.port; }
};

struct Switch {
  std::string name;
  split::DeviceProfile profile;
  uint64_t capacity = 0;   ///< rules available to chains: `rules` of the file, else the profile's table-0 rules
  double capThr = 1.0;     ///< CAP_THR: the fraction of the capacity one chain may take
  uint32_t ports = 0;      ///< 0: not declared (any port number is accepted)
  std::string openflow;    ///< `openflow`: the ovs-ofctl target metronc deploy installs rules through ("" none)
};

struct Nic {
  std::string name;        ///< "nic0"
  std::string id;          ///< "server1.nic0"
  split::DeviceProfile profile;
  uint64_t capacity = 0;
  double capThr = 1.0;
  uint32_t ports = 1;
};

struct Server {
  std::string name;
  unsigned cores = 1;
  std::string agent;       ///< `agent`: IP:PORT of its metron-agent ("" none)
  std::vector<Nic> nics;
};

struct Link {
  PortRef a, b;
};

/// A chain port (its name in the .metron file) and the element port where it meets the network.
struct Endpoint {
  std::string chainPort;
  PortRef at;
};

struct Topology {
  std::string name;        ///< `name` of the file, else its base name
  std::string path;
  double capThr = 1.0;     ///< default CAP_THR (top-level `cap_thr`)
  std::vector<Switch> switches;
  std::vector<Server> servers;
  std::vector<Link> links;
  std::vector<Endpoint> ingress, egress;

  const Switch *findSwitch(std::string_view name) const;
  const Server *findServer(std::string_view name) const;
  const Nic *findNic(std::string_view id) const; ///< "server1.nic0"
  /// The port at the other end of the link attached to \p p, if any.
  std::optional<PortRef> peer(const PortRef &p) const;
};

/// One element on the way from an ingress point to a server, with the ports the traffic uses.
struct Hop {
  std::string element;     ///< switch name or NIC id
  bool isSwitch = true;
  uint32_t inPort = 0;     ///< where the chain's traffic enters this element
  uint32_t outPort = 0;    ///< switches: the port towards the next hop (unused on the NIC)
};

/// The shortest path (fewest hops; ties broken by the order of `links` in the file) from the
/// ingress point of \p chainPort to a NIC of \p server: switches in order, the NIC last.
/// Empty with \p err set when there is none.
std::vector<Hop> pathToServer(const Topology &t, const std::string &chainPort, const std::string &server,
                              std::string &err);

/// A topology that cannot be used: where and why (the form of split::ProfileError).
struct TopologyError {
  std::string path;
  uint32_t line = 0, column = 0;
  std::string key;
  std::string message;
  std::string str() const; ///< "fig8a.toml:12:1: error: link[2].b: unknown element 's9'"
};

/// Parses topology text. Profiles are resolved by split::loadDeviceProfile, a relative path
/// against the directory of \p path.
std::optional<Topology> parseTopology(std::string_view text, const std::string &path, TopologyError &err);
/// Reads and parses a file (1 MiB cap).
std::optional<Topology> loadTopology(const std::string &path, TopologyError &err);

} // namespace metron::place
