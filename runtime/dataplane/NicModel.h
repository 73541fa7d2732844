//===- runtime/dataplane/NicModel.h - The generated rte_flow rules, applied in software ---*- C++ -*-===//
///
/// \file
/// The NIC model (DESIGN.md §5): on machines without an rte_flow-capable NIC, the data plane
/// applies exactly the rules `metronc compile` wrote for the server's NIC
/// (OUT/rules/<nic>.rte_flow.json, printed by targets/rteflow/RteFlow.cpp; format in
/// targets/rteflow/RteFlow.h) to every packet at rx, and hands it to the queue (= core) they
/// say, with the mark they set and the header writes they make. On a NIC that does support
/// rte_flow the same document is installed instead (install()).
///
/// Semantics (rte_flow's, DPDK 22.11 doc/guides/prog_guide/rte_flow.rst, on the packet model of
/// runtime/packet/Packet.h; values are read from the frame, as a NIC reads them):
///  - Tables. Rules are partitioned by their ingress port (the rule's "port"; apply()'s \p port)
///    and their group. A packet starts in group 0 of its port. In a group, the matching rule
///    with the lowest "priority" number wins; among matching rules of equal priority, the one
///    that comes first in the file wins (rte_flow leaves this undefined; the printer never
///    gives two overlapping rules of one group the same priority unless their actions are
///    equal, targets/Rules.h, so the tie-break only decides which rule index is reported).
///    `jump` continues in the target group with the packet as the rule's actions left it.
///    A packet that no rule of a group matches is not matched by the NIC: NicVerdict::matched
///    is false (the default queue by RSS; the caller decides), whatever earlier groups did
///    (their writes and mark stay applied).
///  - Pattern items, in layer order (a missing lower layer matches anything below):
///    `eth` (dst, src, type, has_vlan), `vlan` (tci, inner_type), `ipv4` (src, dst, tos, ttl,
///    proto), `tcp` (src, dst, flags), `udp` (src, dst), `icmp` (type, code). An item matches
///    only frames that have its header as the packet model parses it: `vlan` an 802.1Q tag
///    (TPID 0x8100, the outer one), `ipv4` a valid IPv4 header, `tcp`/`udp`/`icmp` a complete
///    header of that protocol (not in a non-first fragment). `eth` type (rte_flow: "EtherType
///    or TPID"): followed by a `vlan` item, the TPID (0x8100); otherwise the EtherType after
///    the frame's tag if it has one (the packet model's eth.type, and what mlx5 matches),
///    except that type 0x8100 with a full mask matches the tagged frames ("only tagged packets
///    with the specified TPID will match"). An `eth` item without type or has_vlan matches
///    tagged and untagged frames alike. vlan tci is the whole 16-bit TCI (pcp, DEI, vid),
///    inner_type the EtherType after the tag; ipv4 tos is the whole byte (DSCP << 2 | ECN).
///  - Field matching: (x & mask) == (spec & mask); with "last", (spec & mask) <= (x & mask) <=
///    (last & mask) (a last equal to spec is an exact match; a last below spec is an error). An
///    item with "spec" and no "mask" uses rte_flow's default mask for that item (eth: src, dst;
///    vlan: tci 0x0fff; ipv4: src, dst; tcp/udp: src, dst; icmp: type, code), as rte_flow
///    does, also on the default fields the spec leaves out (they must then be 0); with a
///    "mask" object, fields it leaves out are not matched. A frame shorter than an Ethernet
///    header matches no item (a NIC's MAC drops runts); an empty pattern matches every frame.
///  - Actions, in list order: `set_mac_src|set_mac_dst` (mac_addr), `set_ipv4_src|set_ipv4_dst`
///    (ipv4_addr), `set_ttl` (ttl_value), `set_ipv4_dscp` (dscp_value), `set_tp_src|set_tp_dst`
///    (port), `dec_ttl` (IPv4 only; like rte_flow's DEC_TTL it drops nothing: a TTL of 0
///    becomes 255), `of_set_vlan_vid` (vlan_vid), `of_set_vlan_pcp` (vlan_pcp), `of_push_vlan`
///    (ethertype; the new tag copies the TCI of the outer tag if there is one, else 0, as
///    OpenFlow's push_vlan), `of_pop_vlan`, `mark` (id), and the fate actions `queue` (index),
///    `drop`, `jump` (group), `port_id` (id). Header writes go through pkt::Packet::set, so
///    checksums stay right and a write to a header the frame lacks changes only the field
///    vector; setting the VLAN id or priority of an untagged frame pushes a tag (Packet.h).
///    At most one fate action per rule and one mark. A rule without a fate action takes the
///    packet (matched) but names no queue (NicVerdict::queue -1: the caller's RSS queue);
///    rte_flow leaves that PMD-specific.
/// Anything else — an unknown key, item, field or action, a value wider than its field, an item
/// out of layer order, an egress or transfer rule, a jump that can loop — makes parse() fail
/// with the rule index (from 0, as in the .testpmd file's comments) and what is wrong: the
/// model never guesses. Port numbers are the document's, in apply() and install() alike; the
/// caller maps them to its DPDK ports.
///
/// Lookup (per packet, per group visited): tuple-space search as in Open vSwitch's classifier.
/// The rules of a group are partitioned by shape (the fields they match with which masks, the
/// ranged fields, the headers they need); each shape has a hash table from the masked key to
/// its best rule (and, for ranged fields, the candidates to check in order). Shapes are visited
/// by their best rule, stopping when none left can beat the best match found. Groups of 8
/// shapes or more add OVS-style prefix tracking: tries on ip.src, ip.dst, tp.src and tp.dst give
/// the prefix lengths some rule has for the packet's values, and only the shapes with those
/// lengths are visited (fw1_5K -> router: 19,301 rules in 3 groups, about 7 hash probes per packet).
/// apply() is const and allocates only when a VLAN tag is pushed or popped; any number of
/// threads may apply one model at once.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "runtime/packet/Packet.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct rte_flow;

namespace metron::dp {

/// What the NIC did with a packet.
struct NicVerdict {
  bool matched = false;  ///< some rule took the packet (false: the default RSS queue, caller decides)
  bool drop = false;     ///< a `drop` action
  int32_t queue = -1;    ///< the `queue` action's index, -1 when none
  bool hasMark = false;  ///< a `mark` action ran (in any group on the way)
  uint32_t mark = 0;
  int32_t rule = -1;     ///< index (in the file) of the last rule that applied, -1 when none
  int32_t classId = -1;  ///< that rule's "class" (a traffic class id), -1 when null or none
  int32_t outPort = -1;  ///< a `port_id` action's id, -1 when none
  uint32_t jumps = 0;    ///< `jump`s taken
};

class NicModel {
public:
  /// Parses a rules/<nic>.rte_flow.json document (\p name names it in messages, e.g. its
  /// path); nullptr and \p err on anything malformed or unsupported: "NAME: rule 12: pattern
  /// item 1 (ipv4): unsupported field 'tos2' in "spec" (ipv4 fields: src, dst, tos, ttl, proto)".
  /// Also the top-level keys: "kind" must be "nic", rule groups below "groups" when it is given.
  static std::unique_ptr<NicModel> parse(std::string_view json, const std::string &name, std::string &err);
  /// The same for a document already parsed (metron-agent checks rules it holds as JSON).
  static std::unique_ptr<NicModel> parseDocument(const nlohmann::json &doc, const std::string &name, std::string &err);
  /// Reads and parses a file.
  static std::unique_ptr<NicModel> load(const std::string &path, std::string &err);
  ~NicModel(); ///< destroys the flows install() created (on ports that still exist)
  NicModel(const NicModel &) = delete;
  NicModel &operator=(const NicModel &) = delete;

  /// Applies the rules to a packet arriving on NIC port \p port (the document's "port" / rule
  /// "port"); header writes are applied to \p p.
  NicVerdict apply(pkt::Packet &p, uint16_t port) const;
  /// Rules in the document.
  size_t size() const;
  /// Distinct rule shapes (tuple-space subtables) over all ports and groups, for logs and tests.
  size_t shapes() const;

  /// Hardware mode: translates every rule to rte_flow_attr/items/actions and calls
  /// rte_flow_validate (\p validateOnly) or rte_flow_create on DPDK port \p portId, in file
  /// order. On the first failure it destroys what this call created and returns the negative
  /// errno, with \p err naming the rule and DPDK's message (rte_flow_error); 0 when every rule
  /// was accepted. The rules installed are those whose "port" is \p portId, the numbering
  /// apply() uses (-EINVAL when the document has none for it). No fallback: the caller decides.
  int install(uint16_t portId, bool validateOnly, std::string &err);
  /// Destroys the flows install() created on \p portId.
  void uninstall(uint16_t portId);

private:
  struct Impl;
  NicModel();
  std::unique_ptr<Impl> impl_;
  std::unordered_map<uint16_t, std::vector<rte_flow *>> installed_;
};

} // namespace metron::dp
