//===- targets/p4/P4.cpp - A P4_16 (v1model) classifier and its table entries ---------------===//
///
/// \file
/// Three printers over one plan of the device rules (see P4.h for the contract):
///
/// - the program: fixed headers, parser, checksum and deparser blocks, plus one ternary table per
///   device table that has rules, with the keys its rules use and one action per distinct action
///   list (kinds and written fields, values as action parameters);
/// - simple_switch_CLI `table_add` lines (bmv2 docs/runtime_CLI.md);
/// - P4Runtime TableEntry messages as JSON (p4/v1/p4runtime.proto), names in place of P4Info ids.
///
/// Keys. A key is one of: `standard_metadata.ingress_port`, the validity of a layer
/// (`hdr.vlan.isValid()`, `hdr.ipv4.isValid()`) or a field. Fields of L4 are read through
/// metadata views (`meta.tp_src`, `meta.tcp_flags`, ...) that hold 0 when the packet lacks the
/// layer, as the packet model reads them; the L4 prerequisite (`proto`) is `hdr.ipv4.protocol`,
/// so a later fragment of a TCP packet is still "protocol 6", with no ports. A rule that matches a
/// field of the VLAN tag or of IPv4 also requires that layer (device semantics, as in the split's
/// classPrerequisites). A key is `range` when some rule has a range that is not one prefix block
/// and every masked match of the table on that field is a prefix; otherwise `ternary`, ranges
/// expanded into prefix blocks (one entry per block).
///
/// Priorities. The IR's larger-wins priority p becomes `tableMaxPriority[table] - p + 1` for
/// simple_switch_CLI (bmv2: the smallest number wins, compared within a table) and `p + 1` for
/// P4Runtime (larger wins, and 0 is not a valid priority for a ternary table).
//===----------------------------------------------------------------------------------------===//
#include "targets/p4/P4.h"

#include "lang/Diagnostics.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>

namespace metron::targets::p4 {

using ir::FieldId;
using ir::ValueKind;

namespace {

// ---- keys ---------------------------------------------------------------------------------------

/// Key slots: the fields by FieldId (InPort = standard_metadata.ingress_port), then validities.
constexpr int kVlanValid = int(ir::kNumFields);
constexpr int kIpv4Valid = kVlanValid + 1;
constexpr int kEthValid = kVlanValid + 2; ///< only when a table's rules match nothing at all

/// Slots in the order they appear in a table's key.
std::vector<int> slotOrder() {
  std::vector<int> o = {int(FieldId::InPort), kVlanValid, kIpv4Valid, kEthValid};
  for (size_t f = 0; f < ir::kNumFields; ++f)
    if (FieldId(f) != FieldId::InPort) o.push_back(int(f));
  return o;
}

struct SlotInfo {
  std::string expr; ///< the P4 expression
  std::string name; ///< its @name, the P4Runtime field_name
  unsigned bits;
  ValueKind kind;
};

SlotInfo slotInfo(int slot) {
  switch (slot) {
  case kVlanValid: return {"hdr.vlan.isValid()", "hdr.vlan.$valid$", 1, ValueKind::Int};
  case kIpv4Valid: return {"hdr.ipv4.isValid()", "hdr.ipv4.$valid$", 1, ValueKind::Int};
  case kEthValid: return {"hdr.ethernet.isValid()", "hdr.ethernet.$valid$", 1, ValueKind::Int};
  default: break;
  }
  const ir::FieldInfo &fi = ir::fieldInfo(FieldId(slot));
  auto s = [&](const char *e) { return SlotInfo{e, e, fi.bits, fi.kind}; };
  switch (FieldId(slot)) {
  case FieldId::InPort: return {"standard_metadata.ingress_port", "standard_metadata.ingress_port", 9, ValueKind::Int};
  case FieldId::EthSrc: return s("hdr.ethernet.srcAddr");
  case FieldId::EthDst: return s("hdr.ethernet.dstAddr");
  case FieldId::EthType: return s("meta.eth_type");
  case FieldId::VlanId: return s("hdr.vlan.vid");
  case FieldId::VlanPcp: return s("hdr.vlan.pcp");
  case FieldId::IpSrc: return s("hdr.ipv4.srcAddr");
  case FieldId::IpDst: return s("hdr.ipv4.dstAddr");
  case FieldId::IpProto: return s("hdr.ipv4.protocol");
  case FieldId::IpTtl: return s("hdr.ipv4.ttl");
  case FieldId::IpDscp: return s("hdr.ipv4.dscp");
  case FieldId::TpSrc: return s("meta.tp_src");
  case FieldId::TpDst: return s("meta.tp_dst");
  case FieldId::TcpFlags: return s("meta.tcp_flags");
  case FieldId::IcmpType: return s("meta.icmp_type");
  case FieldId::IcmpCode: return s("meta.icmp_code");
  default: break;
  }
  return s("?");
}

uint64_t maxOf(unsigned bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }
/// A mask whose zero bits are all below its one bits (a prefix), within \p maxv.
bool prefixMask(uint64_t mask, uint64_t maxv) {
  uint64_t inv = ~mask & maxv;
  return (inv & (inv + 1)) == 0;
}

/// What one rule asks of one key slot: (v & mask) == value when hasMask, lo <= v <= hi when
/// hasRange, both when both (after normalize(): a range is kept only when it is not one block).
struct Cons {
  bool hasMask = false, hasRange = false, empty = false;
  uint64_t value = 0, mask = 0, lo = 0, hi = 0;
  bool wildcard() const { return !hasMask && !hasRange && !empty; }
};

Cons exactCons(uint64_t v, unsigned bits) {
  Cons c;
  c.hasMask = true;
  c.mask = maxOf(bits);
  c.value = v & c.mask;
  return c;
}

void normalize(Cons &c, unsigned bits) {
  const uint64_t maxv = maxOf(bits);
  c.mask &= maxv;
  c.value &= c.mask;
  if (c.hasMask && c.mask == 0) c.hasMask = false;
  if (c.hasRange) {
    c.hi = std::min(c.hi, maxv);
    if (c.lo > c.hi) {
      c.empty = true;
      return;
    }
    if (c.lo == 0 && c.hi == maxv) c.hasRange = false;
  }
  if (!c.hasRange) return;
  if (c.hasMask && prefixMask(c.mask, maxv)) { // intersect the prefix block with the range
    c.lo = std::max(c.lo, c.value);
    c.hi = std::min(c.hi, c.value | (~c.mask & maxv));
    c.hasMask = false;
    if (c.lo > c.hi) {
      c.empty = true;
      return;
    }
  }
  auto blocks = split::rangeToPrefixes(c.lo, c.hi, bits);
  if (blocks.size() == 1) { // one aligned block: a masked match
    auto [v, m] = blocks[0];
    if (c.hasMask && ((v ^ c.value) & m & c.mask)) {
      c.empty = true;
      return;
    }
    c.value = (c.value | v) & (c.mask | m);
    c.mask |= m;
    c.hasMask = c.mask != 0;
    c.hasRange = false;
  }
}

/// One key value of one entry.
struct KeyValue {
  bool range = false;
  uint64_t a = 0, b = 0; ///< value and mask, or lo and hi
};

// ---- actions ------------------------------------------------------------------------------------

struct Param {
  std::string name;
  unsigned bits;
  ValueKind kind;
};

std::string fieldIdent(FieldId f) {
  std::string s = ir::fieldInfo(f).name;
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

/// The part of an action list's name one action contributes ("push_vlan", "set_eth_dst").
std::string actionPart(const Action &a) {
  switch (a.kind) {
  case ActionKind::Set: return "set_" + fieldIdent(a.field);
  default: return actionKindName(a.kind);
  }
}

/// The parameter an action takes, if any (its value comes from the rule).
std::optional<Param> actionParam(const Action &a) {
  switch (a.kind) {
  case ActionKind::Jump: return Param{"next_table", 8, ValueKind::Int};
  case ActionKind::Set: {
    const ir::FieldInfo &fi = ir::fieldInfo(a.field);
    return Param{fieldIdent(a.field), fi.bits, fi.kind == ValueKind::Port ? ValueKind::Int : fi.kind};
  }
  case ActionKind::PushVlan: return Param{"vid", 12, ValueKind::Int};
  case ActionKind::Mark: return Param{"mark", 32, ValueKind::Int};
  case ActionKind::Queue: return Param{"queue", 16, ValueKind::Int};
  case ActionKind::Output: return Param{"port", 9, ValueKind::Int};
  default: return std::nullopt;
  }
}

/// One P4 action: a distinct list of action kinds (and written fields).
struct P4Action {
  std::string name;
  std::vector<Action> shape; ///< the first rule's list (values unused)
  std::vector<Param> params; ///< one per action of the list that takes a value, in order
};

std::string actionName(const std::vector<Action> &as) {
  if (as.empty()) return "a_none";
  std::string n = "a";
  for (const auto &a : as) n += "_" + actionPart(a);
  return n;
}

std::vector<Param> actionParams(const std::vector<Action> &as) {
  std::vector<Param> ps;
  std::map<std::string, int> seen;
  for (const auto &a : as)
    if (auto p = actionParam(a)) {
      int n = ++seen[p->name];
      if (n > 1) p->name += "_" + std::to_string(n);
      ps.push_back(*p);
    }
  return ps;
}

uint64_t paramValue(const Action &a, const Param &p) { return a.value & maxOf(p.bits); }

/// The statements of one action of a list, \p param its parameter's name.
std::vector<std::string> actionBody(const Action &a, const std::string &param) {
  switch (a.kind) {
  case ActionKind::Drop: return {"mark_to_drop(standard_metadata);"};
  case ActionKind::Jump: return {"meta.next_table = " + param + ";"};
  case ActionKind::DecTtl:
    return {"meta.ttl_expired = (!hdr.ipv4.isValid() || hdr.ipv4.ttl <= 1) ? 1w1 : 1w0;",
            "hdr.ipv4.ttl = hdr.ipv4.ttl - 1;", "meta.ip_dirty = 1;"};
  case ActionKind::PushVlan: return {"meta.vlan_vid = " + param + ";", "meta.vlan_vid_set = 1;"};
  case ActionKind::PopVlan: return {"meta.vlan_pop = 1;"};
  case ActionKind::Mark: return {"meta.mark = " + param + ";"};
  case ActionKind::Queue: return {"meta.queue = " + param + ";"};
  case ActionKind::Output: return {"standard_metadata.egress_spec = " + param + ";"};
  case ActionKind::Set: break;
  }
  switch (a.field) {
  case FieldId::InPort: return {"standard_metadata.ingress_port = (bit<9>)" + param + ";"};
  case FieldId::EthSrc: return {"hdr.ethernet.srcAddr = " + param + ";"};
  case FieldId::EthDst: return {"hdr.ethernet.dstAddr = " + param + ";"};
  case FieldId::EthType: return {"meta.eth_type = " + param + ";"};
  case FieldId::VlanId: return {"meta.vlan_vid = " + param + ";", "meta.vlan_vid_set = 1;"};
  case FieldId::VlanPcp: return {"meta.vlan_pcp = " + param + ";", "meta.vlan_pcp_set = 1;"};
  case FieldId::IpSrc: return {"hdr.ipv4.srcAddr = " + param + ";", "meta.ip_dirty = 1;", "meta.l4_dirty = 1;"};
  case FieldId::IpDst: return {"hdr.ipv4.dstAddr = " + param + ";", "meta.ip_dirty = 1;", "meta.l4_dirty = 1;"};
  case FieldId::IpProto: return {"hdr.ipv4.protocol = " + param + ";", "meta.ip_dirty = 1;", "meta.l4_dirty = 1;"};
  case FieldId::IpTtl: return {"hdr.ipv4.ttl = " + param + ";", "meta.ip_dirty = 1;"};
  case FieldId::IpDscp: return {"hdr.ipv4.dscp = " + param + ";", "meta.ip_dirty = 1;"};
  case FieldId::TpSrc: return {"meta.tp_src = " + param + ";", "meta.l4_dirty = 1;"};
  case FieldId::TpDst: return {"meta.tp_dst = " + param + ";", "meta.l4_dirty = 1;"};
  case FieldId::TcpFlags: return {"meta.tcp_flags = " + param + ";"};
  case FieldId::IcmpType: return {"meta.icmp_type = " + param + ";"};
  case FieldId::IcmpCode: return {"meta.icmp_code = " + param + ";"};
  default: return {};
  }
}

bool writesVlan(const Action &a) {
  return a.kind == ActionKind::PushVlan ||
         (a.kind == ActionKind::Set && (a.field == FieldId::VlanId || a.field == FieldId::VlanPcp));
}
bool writesTp(const Action &a) {
  return a.kind == ActionKind::Set && (a.field == FieldId::TpSrc || a.field == FieldId::TpDst);
}

// ---- the plan -----------------------------------------------------------------------------------

struct Entry {
  const Rule *rule = nullptr;
  std::vector<KeyValue> keys; ///< one per key of its table
};

struct Table {
  uint32_t id = 0;
  std::vector<int> slots;          ///< its key, in order
  std::vector<bool> rangeKey;      ///< per slot
  std::set<std::string> actions;   ///< names of the P4 actions its rules use
  std::vector<Entry> entries;      ///< in rule order
  uint32_t maxPriority = 0;        ///< tableMaxPriority[id], or the largest of its rules
  bool decTtl = false, popVlan = false, setVlan = false;
};

struct Plan {
  std::map<std::string, P4Action> actions; ///< by name
  std::vector<Table> tables;               ///< by id, only those with rules
  bool writesTp = false;
};

/// The constraints of one rule, by slot (wildcards left out).
std::map<int, Cons> ruleConstraints(const Rule &r) {
  std::map<int, Cons> out;
  auto isIp = [](FieldId f) {
    return f == FieldId::IpSrc || f == FieldId::IpDst || f == FieldId::IpProto || f == FieldId::IpTtl ||
           f == FieldId::IpDscp;
  };
  bool vlan = r.vlan, ipv4 = r.ipv4 || r.proto != 0;
  for (const DeviceMatch &m : r.match) {
    // The target IR's contract (targets/Rules.h), as the other printers enforce it.
    METRON_INTERNAL_ASSERT(m.field != FieldId::InPort, "P4 printer: in_port in a rule's match (Rule::inPort holds it)");
    METRON_INTERNAL_ASSERT(!(m.field == FieldId::IpProto && r.proto != 0),
                           "P4 printer: ip.proto match on a rule whose prerequisites set it");
    int slot = int(m.field);
    unsigned bits = slotInfo(slot).bits;
    Cons c;
    c.hasMask = m.mask != 0;
    c.value = m.value;
    c.mask = m.mask;
    c.hasRange = m.isRange;
    c.lo = m.lo;
    c.hi = m.hi;
    normalize(c, bits);
    if (c.wildcard()) continue;
    out[slot] = c;
    vlan |= m.field == FieldId::VlanId || m.field == FieldId::VlanPcp;
    ipv4 |= isIp(m.field);
  }
  if (r.inPort) out[int(FieldId::InPort)] = exactCons(*r.inPort, 9);
  if (r.proto != 0) out[int(FieldId::IpProto)] = exactCons(r.proto, 8);
  if (vlan) out[kVlanValid] = exactCons(1, 1);
  if (ipv4) out[kIpv4Valid] = exactCons(1, 1);
  return out;
}

/// The values one constraint takes on a key of the given kind: usually one, several when a
/// range is expanded into prefix blocks on a ternary key, none when it admits nothing.
std::vector<KeyValue> keyValues(const Cons *c, bool rangeKey, unsigned bits) {
  const uint64_t maxv = maxOf(bits);
  if (!c || c->wildcard()) return {rangeKey ? KeyValue{true, 0, maxv} : KeyValue{false, 0, 0}};
  if (c->empty) return {};
  if (rangeKey) {
    if (c->hasRange) return {{true, c->lo, c->hi}};
    uint64_t lo = c->value & c->mask; // a prefix mask: the table chose a range key
    return {{true, lo, lo | (~c->mask & maxv)}};
  }
  if (!c->hasRange) return {{false, c->value, c->mask}};
  std::vector<KeyValue> out;
  for (auto [v, m] : split::rangeToPrefixes(c->lo, c->hi, bits)) {
    if (c->hasMask) {
      if ((v ^ c->value) & m & c->mask) continue;
      v |= c->value;
      m |= c->mask;
    }
    out.push_back({false, v & m, m});
  }
  return out;
}

Plan makePlan(const DeviceRules &r) {
  Plan p;
  std::map<uint32_t, std::vector<const Rule *>> byTable;
  for (const Rule &x : r.rules) byTable[x.table].push_back(&x);
  for (auto &[id, rules] : byTable) {
    Table t;
    t.id = id;
    if (id < r.tableMaxPriority.size()) t.maxPriority = r.tableMaxPriority[id];
    for (const Rule *x : rules) t.maxPriority = std::max(t.maxPriority, x->priority);
    std::vector<std::map<int, Cons>> cons;
    std::set<int> used, ranged, masked; // masked: a non-prefix mask (or mask + range) on the slot
    for (const Rule *x : rules) {
      cons.push_back(ruleConstraints(*x));
      for (const auto &[slot, c] : cons.back()) {
        used.insert(slot);
        if (c.hasRange && !c.hasMask) ranged.insert(slot);
        if (c.hasMask && (c.hasRange || !prefixMask(c.mask, maxOf(slotInfo(slot).bits)))) masked.insert(slot);
      }
      std::string name = actionName(x->actions);
      if (!p.actions.count(name)) p.actions[name] = {name, x->actions, actionParams(x->actions)};
      t.actions.insert(name);
      for (const Action &a : x->actions) {
        t.decTtl |= a.kind == ActionKind::DecTtl;
        t.popVlan |= a.kind == ActionKind::PopVlan;
        t.setVlan |= writesVlan(a);
        p.writesTp |= writesTp(a);
      }
    }
    if (used.empty()) used.insert(kEthValid); // a table takes entries only with a key
    for (int slot : slotOrder())
      if (used.count(slot)) {
        t.slots.push_back(slot);
        t.rangeKey.push_back(ranged.count(slot) && !masked.count(slot));
      }
    for (size_t i = 0; i < rules.size(); ++i) {
      // The cross product of the key values (usually one entry per rule).
      std::vector<std::vector<KeyValue>> alts;
      for (size_t k = 0; k < t.slots.size(); ++k) {
        auto it = cons[i].find(t.slots[k]);
        alts.push_back(keyValues(it == cons[i].end() ? nullptr : &it->second, t.rangeKey[k],
                                 slotInfo(t.slots[k]).bits));
      }
      std::vector<std::vector<KeyValue>> rows = {{}};
      for (const auto &a : alts) {
        std::vector<std::vector<KeyValue>> next;
        for (const auto &row : rows)
          for (const auto &v : a) {
            next.push_back(row);
            next.back().push_back(v);
          }
        rows = std::move(next);
      }
      for (auto &row : rows) t.entries.push_back({rules[i], std::move(row)});
    }
    p.tables.push_back(std::move(t));
  }
  return p;
}

// ---- formatting ---------------------------------------------------------------------------------

std::string hexStr(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

/// Big-endian bytes of a \p bits wide value: "0x0a000000" (P4Runtime JSON).
std::string bytesStr(uint64_t v, unsigned bits) {
  unsigned digits = (bits + 7) / 8 * 2;
  char b[40];
  snprintf(b, sizeof b, "0x%0*" PRIx64, int(digits), v & maxOf(bits));
  return b;
}

/// A value as simple_switch_CLI reads it: dotted IPv4, colon MAC, else decimal.
std::string cliValue(uint64_t v, ValueKind k) {
  if (k == ValueKind::IPv4) return ir::ipv4Str(uint32_t(v));
  if (k == ValueKind::Mac) return ir::macStr(v);
  return std::to_string(v);
}

std::string cliMask(uint64_t m, ValueKind k) {
  if (k == ValueKind::IPv4 || k == ValueKind::Mac) return cliValue(m, k);
  return hexStr(m);
}

std::string qualified(const std::string &name) { return "ingress." + name; }
std::string tableName(uint32_t id) { return "metron_t" + std::to_string(id); }

/// Parameter values of a rule's actions, in the order of the action's parameters.
std::vector<std::pair<Param, uint64_t>> paramValues(const Plan &p, const Rule &x) {
  const P4Action &a = p.actions.at(actionName(x.actions));
  std::vector<std::pair<Param, uint64_t>> out;
  size_t i = 0;
  for (const Action &act : x.actions)
    if (actionParam(act)) {
      out.emplace_back(a.params[i], paramValue(act, a.params[i]));
      ++i;
    }
  return out;
}

/// Entries rounded up to a power of two, at least 1024 (p4c's default), so that small changes in
/// the rules leave the program as it was.
uint64_t tableSize(size_t entries) {
  uint64_t s = 1024;
  while (s < entries) s <<= 1;
  return s;
}

// ---- the program --------------------------------------------------------------------------------

const char *kPrologue = R"(// Generated by metronc: a P4_16 program for the v1model architecture (bmv2 simple_switch).
// Tables metron_t<N> are the device tables of the rules; their entries are printed apart, as
// simple_switch_CLI commands and as P4Runtime table entries. The program depends only on the
// fields and the action lists the rules use.
#include <core.p4>
#include <v1model.p4>

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header vlan_t {
    bit<3>  pcp;
    bit<1>  dei;
    bit<12> vid;
    bit<16> etherType;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<6>  dscp;
    bit<2>  ecn;
    bit<16> totalLen;
    bit<16> identification;
    bit<3>  flags;
    bit<13> fragOffset;
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> hdrChecksum;
    bit<32> srcAddr;
    bit<32> dstAddr;
}

header ipv4_options_t {
    varbit<320> options;
}

header tcp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<32> seqNo;
    bit<32> ackNo;
    bit<4>  dataOffset;
    bit<4>  res;
    bit<8>  flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgentPtr;
}

header udp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<16> length;
    bit<16> checksum;
}

header icmp_t {
    bit<8>  icmpType;
    bit<8>  icmpCode;
    bit<16> checksum;
}

struct headers {
    ethernet_t     ethernet;
    vlan_t         vlan;
    ipv4_t         ipv4;
    ipv4_options_t ipv4_options;
    tcp_t          tcp;
    udp_t          udp;
    icmp_t         icmp;
}

// Views of the packet model's fields (metron-lang(7), PACKET MODEL): a field the packet lacks
// reads as 0. eth_type is the EtherType after an 802.1Q tag; tp_src/tp_dst are the TCP or UDP
// ports, so that one key matches both. The rest is the state the actions leave for the code
// between tables.
struct metadata {
    bit<16> eth_type;
    bit<16> tp_src;
    bit<16> tp_dst;
    bit<8>  tcp_flags;
    bit<8>  icmp_type;
    bit<8>  icmp_code;
    bit<16> l4_len;
    bit<8>  next_table;
    bit<1>  ttl_expired;
    bit<1>  ip_dirty;
    bit<1>  l4_dirty;
    bit<1>  vlan_pop;
    bit<1>  vlan_vid_set;
    bit<1>  vlan_pcp_set;
    bit<12> vlan_vid;
    bit<3>  vlan_pcp;
    bit<32> mark;
    bit<16> queue;
}

// Ethernet II, at most one 802.1Q tag, IPv4 when the first byte is version 4 with a header of
// at least 20 bytes, TCP, UDP or ICMP unless the packet is a fragment other than the first.
parser MetronParser(packet_in packet, out headers hdr, inout metadata meta,
                    inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        meta.eth_type = hdr.ethernet.etherType;
        transition select(hdr.ethernet.etherType) {
            0x8100: parse_vlan;
            0x0800: parse_ipv4;
            default: accept;
        }
    }
    state parse_vlan {
        packet.extract(hdr.vlan);
        meta.eth_type = hdr.vlan.etherType;
        transition select(hdr.vlan.etherType) {
            0x0800: parse_ipv4;
            default: accept;
        }
    }
    state parse_ipv4 {
        transition select(packet.lookahead<bit<8>>()) {
            0x45: parse_ipv4_plain;
            0x46 &&& 0xfe: parse_ipv4_options;
            0x48 &&& 0xf8: parse_ipv4_options;
            default: accept;
        }
    }
    state parse_ipv4_plain {
        packet.extract(hdr.ipv4);
        transition parse_l4;
    }
    state parse_ipv4_options {
        packet.extract(hdr.ipv4);
        packet.extract(hdr.ipv4_options, (((bit<32>)hdr.ipv4.ihl) - 5) * 32);
        transition parse_l4;
    }
    state parse_l4 {
        transition select(hdr.ipv4.fragOffset, hdr.ipv4.protocol) {
            (0, 6): parse_tcp;
            (0, 17): parse_udp;
            (0, 1): parse_icmp;
            default: accept;
        }
    }
    state parse_tcp {
        packet.extract(hdr.tcp);
        transition accept;
    }
    state parse_udp {
        packet.extract(hdr.udp);
        transition accept;
    }
    state parse_icmp {
        packet.extract(hdr.icmp);
        transition accept;
    }
}

control MetronVerifyChecksum(inout headers hdr, inout metadata meta) {
    apply { }
}
)";

const char *kEpilogue = R"(
control MetronEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t standard_metadata) {
    apply { }
}

// Checksums are recomputed only for packets whose covered fields an action wrote.
control MetronComputeChecksum(inout headers hdr, inout metadata meta) {
    apply {
        update_checksum(hdr.ipv4.isValid() && !hdr.ipv4_options.isValid() && meta.ip_dirty == 1,
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn, hdr.ipv4.totalLen,
              hdr.ipv4.identification, hdr.ipv4.flags, hdr.ipv4.fragOffset, hdr.ipv4.ttl,
              hdr.ipv4.protocol, hdr.ipv4.srcAddr, hdr.ipv4.dstAddr },
            hdr.ipv4.hdrChecksum, HashAlgorithm.csum16);
        update_checksum(hdr.ipv4.isValid() && hdr.ipv4_options.isValid() && meta.ip_dirty == 1,
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn, hdr.ipv4.totalLen,
              hdr.ipv4.identification, hdr.ipv4.flags, hdr.ipv4.fragOffset, hdr.ipv4.ttl,
              hdr.ipv4.protocol, hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, hdr.ipv4_options.options },
            hdr.ipv4.hdrChecksum, HashAlgorithm.csum16);
        update_checksum_with_payload(hdr.tcp.isValid() && meta.l4_dirty == 1,
            { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, 8w0, hdr.ipv4.protocol, meta.l4_len,
              hdr.tcp.srcPort, hdr.tcp.dstPort, hdr.tcp.seqNo, hdr.tcp.ackNo, hdr.tcp.dataOffset,
              hdr.tcp.res, hdr.tcp.flags, hdr.tcp.window, hdr.tcp.urgentPtr },
            hdr.tcp.checksum, HashAlgorithm.csum16);
        update_checksum_with_payload(hdr.udp.isValid() && hdr.udp.checksum != 0 && meta.l4_dirty == 1,
            { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, 8w0, hdr.ipv4.protocol, hdr.udp.length,
              hdr.udp.srcPort, hdr.udp.dstPort, hdr.udp.length },
            hdr.udp.checksum, HashAlgorithm.csum16);
    }
}

control MetronDeparser(packet_out packet, in headers hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.vlan);
        packet.emit(hdr.ipv4);
        packet.emit(hdr.ipv4_options);
        packet.emit(hdr.tcp);
        packet.emit(hdr.udp);
        packet.emit(hdr.icmp);
    }
}

V1Switch(MetronParser(), MetronVerifyChecksum(), ingress(), MetronEgress(), MetronComputeChecksum(),
         MetronDeparser()) main;
)";

/// What runs after a table: the TTL verdict and the VLAN tag changes its actions asked for.
void afterTable(std::string &o, const Table &t, const std::string &ind) {
  if (t.decTtl) {
    o += ind + "if (meta.ttl_expired == 1) {\n";
    o += ind + "    mark_to_drop(standard_metadata);\n";
    o += ind + "    exit;\n";
    o += ind + "}\n";
  }
  if (t.popVlan) {
    o += ind + "if (meta.vlan_pop == 1) {\n";
    o += ind + "    if (hdr.vlan.isValid()) {\n";
    o += ind + "        hdr.ethernet.etherType = hdr.vlan.etherType;\n";
    o += ind + "        hdr.vlan.setInvalid();\n";
    o += ind + "    }\n";
    o += ind + "    meta.vlan_pop = 0;\n";
    o += ind + "}\n";
  }
  if (t.setVlan) {
    o += ind + "if (meta.vlan_vid_set == 1 || meta.vlan_pcp_set == 1) {\n";
    o += ind + "    if (!hdr.vlan.isValid()) {\n";
    o += ind + "        hdr.vlan.setValid();\n";
    o += ind + "        hdr.vlan.pcp = 0;\n";
    o += ind + "        hdr.vlan.dei = 0;\n";
    o += ind + "        hdr.vlan.vid = 0;\n";
    o += ind + "        hdr.vlan.etherType = hdr.ethernet.etherType;\n";
    o += ind + "        hdr.ethernet.etherType = 0x8100;\n";
    o += ind + "    }\n";
    o += ind + "    if (meta.vlan_vid_set == 1) {\n";
    o += ind + "        hdr.vlan.vid = meta.vlan_vid;\n";
    o += ind + "    }\n";
    o += ind + "    if (meta.vlan_pcp_set == 1) {\n";
    o += ind + "        hdr.vlan.pcp = meta.vlan_pcp;\n";
    o += ind + "    }\n";
    o += ind + "    meta.vlan_vid_set = 0;\n";
    o += ind + "    meta.vlan_pcp_set = 0;\n";
    o += ind + "}\n";
  }
}

} // namespace

std::string printProgram(const DeviceRules &r) {
  Plan p = makePlan(r);
  std::string o = kPrologue;
  o += "\ncontrol ingress(inout headers hdr, inout metadata meta, inout standard_metadata_t standard_metadata) {\n";
  for (const auto &[name, a] : p.actions) {
    o += "    action " + name + "(";
    for (size_t i = 0; i < a.params.size(); ++i)
      o += (i ? ", " : "") + std::string("bit<") + std::to_string(a.params[i].bits) + "> " + a.params[i].name;
    o += ") {\n";
    size_t pi = 0;
    std::set<std::string> flags; // "meta.ip_dirty = 1;" once per action
    for (const Action &act : a.shape) {
      std::string param = actionParam(act) ? a.params[pi++].name : "";
      for (const auto &s : actionBody(act, param))
        if (s.find("_dirty = 1;") == std::string::npos || flags.insert(s).second) o += "        " + s + "\n";
    }
    o += "    }\n";
  }
  for (const Table &t : p.tables) {
    o += "    table " + tableName(t.id) + " {\n";
    o += "        key = {\n";
    for (size_t k = 0; k < t.slots.size(); ++k) {
      SlotInfo si = slotInfo(t.slots[k]);
      o += "            " + si.expr + ": " + (t.rangeKey[k] ? "range" : "ternary") + " @name(\"" + si.name + "\");\n";
    }
    o += "        }\n";
    o += "        actions = {\n";
    for (const auto &a : t.actions) o += "            " + a + ";\n";
    o += "            @defaultonly NoAction;\n";
    o += "        }\n";
    o += "        const default_action = NoAction();\n";
    o += "        size = " + std::to_string(tableSize(t.entries.size())) + ";\n";
    o += "    }\n";
  }
  o += "    apply {\n";
  o += "        mark_to_drop(standard_metadata); // a packet that no action sends out is dropped\n";
  for (const char *f : {"tp_src", "tp_dst", "tcp_flags", "icmp_type", "icmp_code", "l4_len", "next_table",
                        "ttl_expired", "ip_dirty", "l4_dirty", "vlan_pop", "vlan_vid_set", "vlan_pcp_set"})
    o += std::string("        meta.") + f + " = 0;\n";
  o += R"(        if (hdr.ipv4.isValid()) {
            meta.l4_len = hdr.ipv4.totalLen - (((bit<16>)hdr.ipv4.ihl) << 2);
        }
        if (hdr.tcp.isValid()) {
            meta.tp_src = hdr.tcp.srcPort;
            meta.tp_dst = hdr.tcp.dstPort;
            meta.tcp_flags = hdr.tcp.flags;
        } else if (hdr.udp.isValid()) {
            meta.tp_src = hdr.udp.srcPort;
            meta.tp_dst = hdr.udp.dstPort;
        }
        if (hdr.icmp.isValid()) {
            meta.icmp_type = hdr.icmp.icmpType;
            meta.icmp_code = hdr.icmp.icmpCode;
        }
)";
  for (const Table &t : p.tables) {
    if (t.id == 0) {
      o += "        " + tableName(t.id) + ".apply();\n";
      afterTable(o, t, "        ");
      continue;
    }
    o += "        if (meta.next_table == " + std::to_string(t.id) + ") {\n";
    o += "            " + tableName(t.id) + ".apply();\n";
    afterTable(o, t, "            ");
    o += "        }\n";
  }
  if (p.writesTp)
    o += R"(        if (hdr.tcp.isValid()) {
            hdr.tcp.srcPort = meta.tp_src;
            hdr.tcp.dstPort = meta.tp_dst;
        } else if (hdr.udp.isValid()) {
            hdr.udp.srcPort = meta.tp_src;
            hdr.udp.dstPort = meta.tp_dst;
        }
)";
  o += "    }\n";
  o += "}\n";
  o += kEpilogue;
  return o;
}

std::string printCli(const DeviceRules &r) {
  Plan p = makePlan(r);
  std::string o;
  for (const Table &t : p.tables)
    for (const Entry &e : t.entries) {
      const Rule &x = *e.rule;
      o += "table_add " + qualified(tableName(t.id)) + " " + qualified(actionName(x.actions));
      for (size_t k = 0; k < t.slots.size(); ++k) {
        SlotInfo si = slotInfo(t.slots[k]);
        const KeyValue &v = e.keys[k];
        if (v.range) o += " " + cliValue(v.a, si.kind) + "->" + cliValue(v.b, si.kind);
        else if (v.b == 0) o += " 0&&&0"; // the CLI's "any value"
        else o += " " + cliValue(v.a & v.b, si.kind) + "&&&" + cliMask(v.b, si.kind);
      }
      o += " =>";
      for (const auto &[param, value] : paramValues(p, x)) o += " " + cliValue(value, param.kind);
      o += " " + std::to_string(t.maxPriority - x.priority + 1) + "\n";
    }
  return o;
}

std::string printP4Runtime(const DeviceRules &r) {
  // Written by hand, one entry per line: nlohmann::json's tree and pretty printer cost ~30 µs
  // per entry, the rest of compile a few. Every string here is an identifier, a qualified
  // name or a hex literal: nothing needs escaping except the element and profile names.
  Plan p = makePlan(r);
  auto str = [](const std::string &v) { return nlohmann::json(v).dump(); };
  std::string out = "{\n  \"element\": " + str(r.element) + ",\n  \"profile\": " + str(r.profile) +
                    ",\n  \"table_entries\": [";
  bool first = true;
  for (const Table &t : p.tables)
    for (const Entry &e : t.entries) {
      const Rule &x = *e.rule;
      out += first ? "\n    " : ",\n    ";
      first = false;
      out += "{\"table_name\":\"" + qualified(tableName(t.id)) + "\",\"match\":[";
      bool firstMatch = true;
      for (size_t k = 0; k < t.slots.size(); ++k) {
        SlotInfo si = slotInfo(t.slots[k]);
        const KeyValue &v = e.keys[k];
        std::string m;
        if (v.range) {
          if (v.a == 0 && v.b == maxOf(si.bits)) continue; // "don't care" is omitted
          m = "\"range\":{\"low\":\"" + bytesStr(v.a, si.bits) + "\",\"high\":\"" + bytesStr(v.b, si.bits) + "\"}";
        } else {
          if (v.b == 0) continue;
          m = "\"ternary\":{\"value\":\"" + bytesStr(v.a & v.b, si.bits) + "\",\"mask\":\"" +
              bytesStr(v.b, si.bits) + "\"}";
        }
        out += (firstMatch ? "" : ",") + std::string("{\"field_name\":\"") + si.name + "\"," + m + "}";
        firstMatch = false;
      }
      out += "],\"action\":{\"action\":{\"action_name\":\"" + qualified(actionName(x.actions)) + "\",\"params\":[";
      bool firstParam = true;
      for (const auto &[param, value] : paramValues(p, x)) {
        out += (firstParam ? "" : ",") + std::string("{\"param_name\":\"") + param.name + "\",\"value\":\"" +
               bytesStr(value, param.bits) + "\"}";
        firstParam = false;
      }
      out += "]}},\"priority\":" + std::to_string(uint64_t(x.priority) + 1) + ",\"metadata\":\"" +
             bytesStr(x.cookie(), 64) + "\"}";
    }
  out += first ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

} // namespace metron::targets::p4
