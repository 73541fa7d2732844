//===- targets/Lower.h - From the split and the placement to device rules -------*- C++ -*-===//
///
/// \file
/// Turns a split (split::SplitPlan for the element Algorithm 2 chose) into the rules of every
/// element on the path to the server (targets/Rules.h), which the printers then write:
///
///  - the classifier (a switch or the server's NIC): per offloaded class, per protocol of its
///    prerequisites, the cross product of its field alternatives, at a priority that keeps the
///    synthesized order; drop, goto the next device table with the group's writes, or the
///    group's device writes + its tag (+ the output towards the server on a switch); below
///    them a default rule that sends everything else to the server untagged;
///  - mirrored rules for the return path of NAPT'ed flows (paper DESIGN §4): each NAPT's port
///    range is split into one contiguous part per core that runs it (NaptPartition); a packet
///    addressed to the NAPT's address and a port of core c's part is tagged for core c, so it
///    meets the mapping that core made. These rules sit just above the class they refine;
///  - path rules on the switches after the classifier: tagged (and untagged) chain traffic
///    from the previous hop goes out towards the server, matching only the tag; on the
///    switches before it (Algorithm 2's setupPath), the chain's traffic goes on towards it;
///  - dispatch rules on the server's NIC when a switch tags: tag → the queue of its core (a VLAN
///    tag also popped and turned into the packet's mark, which the data plane dispatches on);
///  - return rules: what the server sends back leaves by the chain's egress point.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "targets/Rules.h"

#include <cstdint>
#include <string>
#include <vector>

namespace metron::targets {

/// One NAPT element's ports, split between the cores that run it.
struct NaptPartition {
  uint32_t node = 0, element = 0;   ///< the chain node and element index
  std::string nf;                   ///< NF name
  ir::FieldId field = ir::FieldId::IpSrc; ///< the address it rewrites (ip.src: source NAPT)
  uint32_t address = 0;
  uint16_t portLo = 0, portHi = 0;
  struct Part {
    uint32_t core = 0;
    uint16_t lo = 0, hi = 0;
  };
  std::vector<Part> parts; ///< by core, contiguous, covering portLo..portHi
};
std::vector<NaptPartition> naptPartitions(const synth::ChainTables &t, const split::SplitPlan &p);

/// A tag a device puts on packets for the server, and what it stands for.
struct TagUse {
  split::TagKind kind = split::TagKind::Vlan;
  uint64_t value = 0;     ///< VLAN id, MAC TT:TT, queue or mark
  uint32_t group = 0;
  uint32_t core = 0;
  bool napt = false;      ///< a mirrored return-path tag (group's packets for another core)
};

struct Lowering {
  std::vector<DeviceRules> devices;       ///< classifier first, then path switches, then the NIC
  std::vector<TagUse> tags;
  std::vector<NaptPartition> napt;
  std::vector<std::string> warnings;      ///< what could not be expressed (also printed by the driver)
};

/// Where the classifier is and what surrounds it.
struct Site {
  std::string element, profile;
  split::DeviceProfile::Kind kind = split::DeviceProfile::Switch;
  /// The element port each chain ingress port enters by (index: Module::portNames; -1: not here).
  std::vector<int64_t> ingressPort;
  int64_t toServer = -1;        ///< switch: the port towards the server
  std::string toServerName;     ///< "s1:2"
};

/// A switch between the classifier and the server, or the NIC at the end of the path.
struct PathElement {
  std::string element, profile;
  split::DeviceProfile::Kind kind = split::DeviceProfile::Switch;
  const split::DeviceProfile *device = nullptr;
  uint32_t inPort = 0, outPort = 0; ///< chain traffic enters by inPort, leaves by outPort (switches)
  std::string outName;
};

/// An egress point on a switch of the path: traffic from the server (fromServer) leaves by port.
struct ReturnPoint {
  std::string element;     ///< switch
  uint32_t fromServer = 0, port = 0;
  std::string portName;
};

/// \p before: the switches between the ingress and the classifier (Algorithm 2 passed them
/// over): they forward the chain's traffic towards it (setupPath); \p after: the elements
/// between the classifier and the server, the server's NIC last.
Lowering lower(const ir::Module &m, const synth::ChainTables &t, const split::SplitPlan &p, const Site &classifier,
               const std::vector<PathElement> &before, const std::vector<PathElement> &after,
               const std::vector<ReturnPoint> &returns);

} // namespace metron::targets
